"""Settings from the environment (prefix KOOP_), with defaults for a developer machine."""

from __future__ import annotations

import os
from functools import cache

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

# Default HTTP port of each service; KOOP_<SERVICE>_PORT overrides it.
DEFAULT_PORTS = {"intake": 8101, "diagnosis": 8102, "referrals": 8103, "reporting": 8104}


class Settings(BaseSettings):
    """What every service and the `kooperacja` command share."""

    model_config = SettingsConfigDict(env_prefix="KOOP_", extra="ignore")

    amqp_url: str = "amqp://guest:guest@127.0.0.1:5672/"
    # The PostgreSQL server; each service owns a database `kooperacja_<service>` on it
    # unless KOOP_<SERVICE>_DATABASE_URL names another.
    postgres_url: str = "postgresql://postgres@127.0.0.1:5432"
    database_prefix: str = "kooperacja"
    region: str = Field(default="06", pattern=r"^\d{2}$")
    exchange: str = "kooperacja.events"
    http_host: str = "127.0.0.1"
    # A message that fails this many times goes to the service's dead-letter queue.
    max_attempts: int = Field(default=5, ge=1, le=50)
    prefetch: int = Field(default=64, ge=1, le=10_000)
    outbox_batch: int = Field(default=500, ge=1, le=10_000)
    outbox_poll_seconds: float = Field(default=1.0, gt=0)
    jwt_secret: str = "kooperacja-local-development-secret-change-me"
    jwt_public_key: str = ""  # PEM, or a path to one; when set, RS256 tokens are accepted
    jwt_private_key: str = ""  # PEM or path; only `kooperacja token` uses it
    jwt_algorithms: list[str] = ["HS256", "RS256"]
    jwt_issuer: str = "kooperacja-local"
    jwt_audience: str = "kooperacja"
    log_level: str = "INFO"

    def database_url(self, service: str) -> str:
        override = os.environ.get(f"KOOP_{service.upper()}_DATABASE_URL")
        return override or f"{self.postgres_url.rstrip('/')}/{self.database_prefix}_{service}"

    def http_port(self, service: str) -> int:
        return int(os.environ.get(f"KOOP_{service.upper()}_PORT") or DEFAULT_PORTS[service])

    def base_url(self, service: str) -> str:
        return f"http://{self.http_host}:{self.http_port(service)}"


@cache
def get_settings() -> Settings:
    return Settings()
