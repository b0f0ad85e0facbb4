"""Referrals' own settings (prefix KOOP_REFERRALS_): the deadline windows and how often the
deadline watch runs, configurable so that a test or a pilot need not wait a week."""

from __future__ import annotations

from datetime import timedelta
from functools import cache

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

# Public (it is in this file): signs links on a developer machine only.
DEVELOPMENT_LINK_SECRET = b"kooperacja-development-referral-link-secret"


class ReferralSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="KOOP_REFERRALS_", extra="ignore")

    # Time an institution has to accept or decline a referral.
    accept_hours: float = Field(default=7 * 24, gt=0)
    # How often the deadline watch looks for overdue referrals and waiting recommendations.
    watch_seconds: float = Field(default=30.0, gt=0)

    # Signs the links e-mailed to institutions (at least 32 bytes). Empty: the development
    # secret in development; in production no link is made or accepted until it is set.
    link_secret: str = ""
    # How long an e-mailed link lasts: long enough to accept and later record completion.
    link_days: float = Field(default=120, gt=0)
    # The web front's address as institutions reach it: the links point there.
    public_url: str = "http://127.0.0.1:8100"

    def link_key(self, development: bool) -> bytes:
        if self.link_secret:
            return self.link_secret.encode()
        return DEVELOPMENT_LINK_SECRET if development else b""

    @property
    def acceptance_window(self) -> timedelta:
        return timedelta(hours=self.accept_hours)


@cache
def referral_settings() -> ReferralSettings:
    return ReferralSettings()
