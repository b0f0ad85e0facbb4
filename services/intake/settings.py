"""Intake's own settings (prefix KOOP_INTAKE_): how long personal data of a closed case is kept
and how often the retention job looks, configurable per deployment and for tests."""

from __future__ import annotations

from functools import cache

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class IntakeSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="KOOP_INTAKE_", extra="ignore")

    # Days after a case's closing when its personal data is anonymised (five years by default).
    retention_days: int = Field(default=1825, ge=0)
    # How often the retention job runs; cases are few, an hour is soon enough.
    retention_every_seconds: float = Field(default=3600.0, gt=0)
    # Cases anonymised per transaction, so one pass never holds many locks for long.
    retention_batch: int = Field(default=200, ge=1)


@cache
def intake_settings() -> IntakeSettings:
    """Read once per process, as every service's own settings are (`<service>_settings()`)."""
    return IntakeSettings()
