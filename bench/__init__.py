"""Benchmarks with their own command (`python -m bench`); never part of the test suite."""
