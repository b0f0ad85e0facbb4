"""Reporting's own settings (KOOP_REPORTING_*), beside the shared ones."""

from __future__ import annotations

from functools import cache

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class ReportingSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="KOOP_REPORTING_", extra="ignore")

    # Counts below this are withheld from analysts and from exports (small-cell suppression).
    min_cell: int = Field(default=5, ge=1, le=1000)
    # Events applied per statement batch when rebuilding from the event log.
    rebuild_batch: int = Field(default=2000, ge=1, le=100_000)


@cache
def reporting_settings() -> ReportingSettings:
    return ReportingSettings()
