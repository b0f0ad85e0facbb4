"""The end-to-end tests' stack and API harness live in tests/stack.py (shared with the browser
tests; its fixtures are registered by tests/conftest.py); the classes are re-exported here."""

from tests.stack import Api, Stack

__all__ = ["Api", "Stack"]
