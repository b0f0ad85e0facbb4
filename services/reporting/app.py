"""Wiring of the reporting service."""

from pathlib import Path

from services.reporting.api import build_api
from services.reporting.handlers import handlers
from shared.runtime import ServiceSpec

spec = ServiceSpec(
    name="reporting",
    migrations=Path(__file__).parent / "migrations",
    build_api=build_api,
    handlers=handlers,
)
