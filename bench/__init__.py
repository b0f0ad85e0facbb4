"""Benchmarks with their own commands (`python -m bench`, `python -m bench.rebuild`);
never part of the test suite."""

import os

# Benchmarks run the services on this machine with the built-in token secret.
os.environ.setdefault("KOOP_ENV", "development")
