"""What tests share: builders of request bodies, one way to wait for a condition with a deadline,
and one way to wait for a service process to be ready. The client harness with `as_(role,
scope)` is `tests.stack.Api` (end-to-end and browser tests)."""

from tests.support.builders import a_child, a_household, a_person, an_institution
from tests.support.waiting import eventually, wait_ready, wait_until

__all__ = [
    "a_child",
    "a_household",
    "a_person",
    "an_institution",
    "eventually",
    "wait_ready",
    "wait_until",
]
