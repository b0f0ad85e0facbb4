"""Settings from the environment (prefix KOOP_), with defaults for a developer machine."""

from __future__ import annotations

import os
from enum import StrEnum
from functools import cache

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

# Default HTTP port of each service; KOOP_<SERVICE>_PORT overrides it.
DEFAULT_PORTS = {
    "intake": 8101,
    "diagnosis": 8102,
    "referrals": 8103,
    "reporting": 8104,
    "partnership": 8105,
    "notifications": 8106,
}
# The web front (services/web) owns no data and consumes no events; KOOP_WEB_PORT overrides it.
WEB_PORT = 8100

# Signs and checks tokens on a developer machine only: it is public (it is in this file), so
# outside development it never validates a token, and a service refuses to start with it.
DEVELOPMENT_SECRET = "kooperacja-local-development-secret-change-me"
MIN_SECRET_BYTES = 32  # RFC 7518 §3.2: an HS256 key at least as long as the hash

# The largest event a consumer takes, and the broker's max_message_size (deploy/local/infra.sh,
# deploy/compose, deploy/kubernetes). Legitimate events are a few kilobytes: the largest kind,
# diagnosis.completed.v1, is 15 KB with 100 recommendations and 30 institutions (about 150 bytes
# a recommendation), so 1 MiB holds some 6,700 recommendations and still bounds a consumer's
# memory (prefetch 64 × 1 MiB).
MAX_EVENT_BYTES = 1_048_576


class Environment(StrEnum):
    """KOOP_ENV. Unset is production: development conveniences must be asked for."""

    PRODUCTION = "production"
    DEVELOPMENT = "development"


class InsecureConfiguration(RuntimeError):
    """A setting that would let forged tokens in; a service refuses to start with it."""


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
    # An event larger than this is dead-lettered unread (KOOP_MAX_EVENT_BYTES).
    max_event_bytes: int = Field(default=MAX_EVENT_BYTES, ge=1024, le=134_217_728)
    outbox_batch: int = Field(default=500, ge=1, le=10_000)
    outbox_poll_seconds: float = Field(default=1.0, gt=0)
    # HS256 key; empty means the built-in development secret, in development only
    jwt_secret: str = ""
    # PEM, or a path to one; when set, only asymmetric tokens (RS256) are accepted
    jwt_public_key: str = ""
    jwt_private_key: str = ""  # PEM or path; only `kooperacja token` uses it
    jwt_algorithms: list[str] = ["HS256", "RS256"]
    jwt_issuer: str = "kooperacja-local"
    jwt_audience: str = "kooperacja"
    # The identity provider's key set (RS256 tokens), and where its tokens carry role and scope.
    jwt_jwks_url: str = ""
    jwt_jwks_lifespan: int = Field(default=300, ge=1)
    jwt_role_claim: str = "role"
    jwt_gmina_claim: str = "gmina"
    jwt_powiat_claim: str = "powiat"
    jwt_region_claim: str = "region"
    jwt_institution_claim: str = "institution"
    log_level: str = "INFO"
    # production unless set: `deploy/local/run.sh`, `test.sh` and `kooperacja up` set development
    env: Environment = Environment.PRODUCTION

    @property
    def development(self) -> bool:
        return self.env is Environment.DEVELOPMENT

    @property
    def asymmetric_keys(self) -> bool:
        """Whether tokens come from an identity provider's key pair, configured or from its
        JWKS (then no shared secret)."""
        return bool(self.jwt_public_key or self.jwt_jwks_url)

    def hs_secret(self) -> str:
        """The HS256 key in force: none when a public key is configured (only asymmetric
        algorithms then), the built-in one in development only."""
        if self.asymmetric_keys:
            return ""
        if self.development:
            return self.jwt_secret or DEVELOPMENT_SECRET
        return "" if self.jwt_secret == DEVELOPMENT_SECRET else self.jwt_secret

    def accepted_algorithms(self) -> list[str]:
        """With a public key only asymmetric algorithms; otherwise only HMAC ones."""
        if self.asymmetric_keys:
            return [a for a in self.jwt_algorithms if a[:2] in {"RS", "PS", "ES"}]
        return [a for a in self.jwt_algorithms if a.startswith("HS")]

    def check_security(self) -> None:
        """Refuse what would let forged tokens in: in production an explicitly set secret of
        at least 32 bytes that is not the built-in one, or a public key."""
        if self.development:
            return
        where = "KOOP_ENV is production (unset means production)"
        if self.asymmetric_keys:
            if not self.accepted_algorithms():
                raise InsecureConfiguration(
                    f"{where}: KOOP_JWT_ALGORITHMS names no asymmetric algorithm for the key"
                )
            return
        if not self.jwt_secret:
            raise InsecureConfiguration(
                f"{where}: set KOOP_JWT_PUBLIC_KEY (the identity provider's key) or "
                f"KOOP_JWT_SECRET (at least {MIN_SECRET_BYTES} random bytes)"
            )
        if self.jwt_secret == DEVELOPMENT_SECRET:
            raise InsecureConfiguration(
                f"{where}: KOOP_JWT_SECRET is the public development secret; set your own"
            )
        if len(self.jwt_secret.encode()) < MIN_SECRET_BYTES:
            raise InsecureConfiguration(
                f"{where}: KOOP_JWT_SECRET is shorter than {MIN_SECRET_BYTES} bytes"
            )
        if not self.accepted_algorithms():
            raise InsecureConfiguration(f"{where}: KOOP_JWT_ALGORITHMS names no HMAC algorithm")

    def database_url(self, service: str) -> str:
        override = os.environ.get(f"KOOP_{service.upper()}_DATABASE_URL")
        return override or f"{self.postgres_url.rstrip('/')}/{self.database_prefix}_{service}"

    def http_port(self, service: str) -> int:
        given = os.environ.get(f"KOOP_{service.upper()}_PORT")
        if given:
            return int(given)
        return WEB_PORT if service == "web" else DEFAULT_PORTS[service]

    def base_url(self, service: str) -> str:
        """Where another process reaches `service`'s HTTP API: KOOP_<SERVICE>_URL where the
        services run on other hosts (Kubernetes: http://intake:8101), else this host's port."""
        given = os.environ.get(f"KOOP_{service.upper()}_URL")
        if given:
            return given.rstrip("/")
        return f"http://{self.http_host}:{self.http_port(service)}"


@cache
def get_settings() -> Settings:
    return Settings()
