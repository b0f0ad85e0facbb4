"""Wiring of the partnership service."""

from pathlib import Path

from services.partnership.api import build_api
from services.partnership.catch_up import catch_up_once
from services.partnership.handlers import handlers
from shared.idempotency import forget_old_answers
from shared.runtime import ServiceSpec

spec = ServiceSpec(
    name="partnership",
    migrations=Path(__file__).parent / "migrations",
    build_api=build_api,
    handlers=handlers,
    jobs=[catch_up_once, forget_old_answers],
)
