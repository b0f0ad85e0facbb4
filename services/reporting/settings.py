"""Reporting's own settings (KOOP_REPORTING_*), beside the shared ones."""

from __future__ import annotations

from functools import cache

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from services.reporting.event_log import stream_url_of


class ReportingSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="KOOP_REPORTING_", extra="ignore")

    # Counts below this are withheld from analysts and from exports (small-cell suppression).
    min_cell: int = Field(default=5, ge=1, le=1000)
    # Events applied per statement batch when rebuilding from the event log.
    rebuild_batch: int = Field(default=5000, ge=1, le=100_000)
    # The event log over the stream protocol (plugin rabbitmq_stream): empty = the host, user
    # and virtual host of KOOP_AMQP_URL on port 5552; "off" = read it over AMQP only. When the
    # port cannot be used, a rebuild reads over AMQP (slower) and logs why.
    stream_url: str = ""

    def event_log_url(self, amqp_url: str) -> str | None:
        if self.stream_url == "off":
            return None
        return self.stream_url or stream_url_of(amqp_url)


@cache
def reporting_settings() -> ReportingSettings:
    return ReportingSettings()
