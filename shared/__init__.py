"""Kooperacja's common library: event contracts, topology, outbox/inbox, database, auth, settings."""
