"""Benchmarks with their own commands; never part of the test suite."""
