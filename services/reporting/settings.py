"""Reporting's own settings (KOOP_REPORTING_*), beside the shared ones."""

from __future__ import annotations

from functools import cache

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from services.reporting.event_log import stream_url_of
from shared.settings import get_settings


class ReportingSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="KOOP_REPORTING_", extra="ignore")

    # Counts below this are withheld from analysts and from exports (small-cell suppression).
    min_cell: int = Field(default=5, ge=1, le=1000)
    # The secret from which every record's cell key is derived (HMAC-SHA256, disclosure.py).
    # Required in production; changing it changes every perturbation (no rebuild needed).
    cell_key_secret: str = ""
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


# Perturbs the figures on a developer machine only: it is public (it is in this file).
DEVELOPMENT_CELL_KEY_SECRET = "kooperacja-local-development-cell-key-secret"
MIN_CELL_KEY_SECRET_BYTES = 32


class MissingCellKeySecret(RuntimeError):
    """Reporting refuses to start in production without its own cell-key secret."""


def cell_key_secret(development: bool | None = None) -> bytes:
    """The secret of the record keys: KOOP_REPORTING_CELL_KEY_SECRET, or in development the
    public one. In production a missing, short or public secret stops the service, since
    whoever knows it can undo the perturbation."""
    if development is None:
        development = get_settings().development  # KOOP_ENV; unset is production
    secret = reporting_settings().cell_key_secret
    if development:
        return (secret or DEVELOPMENT_CELL_KEY_SECRET).encode()
    if not secret or secret == DEVELOPMENT_CELL_KEY_SECRET:
        raise MissingCellKeySecret(
            "KOOP_ENV is production: set KOOP_REPORTING_CELL_KEY_SECRET "
            f"(at least {MIN_CELL_KEY_SECRET_BYTES} random bytes, kept by reporting only)"
        )
    if len(secret.encode()) < MIN_CELL_KEY_SECRET_BYTES:
        raise MissingCellKeySecret(
            f"KOOP_REPORTING_CELL_KEY_SECRET is shorter than {MIN_CELL_KEY_SECRET_BYTES} bytes"
        )
    return secret.encode()
