"""The partnership service's own settings (prefix KOOP_PARTNERSHIP_)."""

from __future__ import annotations

from functools import cache

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class PartnershipSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="KOOP_PARTNERSHIP_", extra="ignore")

    # On its first start the service reads the event log once for the institution directory
    # and referrals' earlier PZK memberships (the upgrade path); off skips it.
    catch_up: bool = True
    # How long the catch-up waits for the next message of the log before it gives up (and
    # tries again later).
    catch_up_idle_seconds: float = Field(default=30.0, gt=0)
    catch_up_retry_seconds: float = Field(default=60.0, gt=0)


@cache
def partnership_settings() -> PartnershipSettings:
    return PartnershipSettings()
