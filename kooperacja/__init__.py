"""The `kooperacja` command: runs and operates the services over HTTP and the broker only."""
