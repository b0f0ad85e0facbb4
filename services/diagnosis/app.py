"""Wiring of the diagnosis service."""

from pathlib import Path

from services.diagnosis.api import build_api
from services.diagnosis.handlers import handlers
from shared.idempotency import forget_old_answers
from shared.runtime import ServiceSpec

spec = ServiceSpec(
    name="diagnosis",
    migrations=Path(__file__).parent / "migrations",
    build_api=build_api,
    handlers=handlers,
    jobs=[forget_old_answers],
)
