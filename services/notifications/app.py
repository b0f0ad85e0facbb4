"""Wiring of the notifications service."""

from pathlib import Path

from services.notifications.api import build_api
from services.notifications.handlers import handlers
from services.notifications.jobs import remind_follow_ups
from services.notifications.settings import notification_settings
from shared.idempotency import forget_old_answers
from shared.mail import mail_job
from shared.runtime import ServiceSpec

spec = ServiceSpec(
    name="notifications",
    migrations=Path(__file__).parent / "migrations",
    build_api=build_api,
    handlers=handlers,
    jobs=[mail_job, remind_follow_ups, forget_old_answers],
    catch_up=notification_settings().catch_up,
)
