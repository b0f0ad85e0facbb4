"""Notifications' own settings (prefix KOOP_NOTIFICATIONS_)."""

from __future__ import annotations

from functools import cache

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class NotificationSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="KOOP_NOTIFICATIONS_", extra="ignore")

    # The web front's address as people reach it: e-mails link to a notification there.
    public_url: str = "http://127.0.0.1:8100"
    # How often due follow-ups become notifications.
    follow_up_every_seconds: float = Field(default=300.0, gt=0)
    # Catch up from the event log on the first start (and for a newly bound event type).
    catch_up: bool = True


@cache
def notification_settings() -> NotificationSettings:
    return NotificationSettings()
