"""Referrals' own settings (prefix KOOP_REFERRALS_): the deadline windows and how often the
deadline watch runs, configurable so that a test or a pilot need not wait a week."""

from __future__ import annotations

from datetime import timedelta
from functools import cache

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class ReferralSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="KOOP_REFERRALS_", extra="ignore")

    # Time an institution has to accept or decline a referral.
    accept_hours: float = Field(default=7 * 24, gt=0)
    # How often the deadline watch looks for overdue referrals and waiting recommendations.
    watch_seconds: float = Field(default=30.0, gt=0)

    @property
    def acceptance_window(self) -> timedelta:
        return timedelta(hours=self.accept_hours)


@cache
def referral_settings() -> ReferralSettings:
    return ReferralSettings()
