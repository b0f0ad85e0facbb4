"""Kooperacja's common library: event contracts, topology, outbox, inbox, db, auth, settings."""
