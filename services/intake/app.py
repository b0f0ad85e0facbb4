"""Wiring of the intake service."""

from pathlib import Path

from services.intake.api import build_api
from services.intake.handlers import handlers
from services.intake.retention import retention_job
from shared.idempotency import forget_old_answers
from shared.runtime import ServiceSpec

spec = ServiceSpec(
    name="intake",
    migrations=Path(__file__).parent / "migrations",
    build_api=build_api,
    handlers=handlers,
    jobs=[forget_old_answers, retention_job],
)
