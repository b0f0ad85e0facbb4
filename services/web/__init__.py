"""The web front: Polish pages for every role, server-rendered, over the four services' APIs."""
