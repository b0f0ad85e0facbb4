"""Benchmarks with their own commands (`python -m bench`, `python -m bench.rebuild`);
never part of the test suite."""
