"""The web front's own settings (prefix KOOP_WEB_): its port, the session cookie, the sign-in."""

from __future__ import annotations

from functools import cache

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class WebSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="KOOP_WEB_", extra="ignore")

    # The browser only sends the cookie over https; off for plain-http localhost development.
    cookie_secure: bool = True
    # A session ends after this long idle, and never outlives the token it holds.
    session_idle_seconds: int = Field(default=30 * 60, ge=1)
    # How long a token signed by the development sign-in lives.
    dev_token_seconds: int = Field(default=8 * 3600, ge=1)
    # OpenID Connect: the region's identity provider (authorization code with PKCE).
    oidc_issuer: str = ""
    oidc_client_id: str = ""
    oidc_client_secret: str = ""
    oidc_scope: str = "openid profile"
    # Which token of the provider's answer the services get: "access_token" (a JWT, as most
    # providers issue) or "id_token" (for a provider whose access tokens are opaque).
    oidc_bearer: str = Field(default="access_token", pattern="^(access_token|id_token)$")
    # The address the provider sends the browser back to; derived from the request when empty.
    public_url: str = ""
    # Connections to the web front's own database (the sessions) per process.
    database_pool: int = Field(default=10, ge=1, le=100)
    # Seconds to wait for a service's answer.
    api_timeout: float = Field(default=15.0, gt=0)

    @property
    def oidc_configured(self) -> bool:
        return bool(self.oidc_issuer and self.oidc_client_id)


@cache
def get_web_settings() -> WebSettings:
    return WebSettings()
