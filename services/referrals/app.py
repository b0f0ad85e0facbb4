"""Wiring of the referrals service."""

from pathlib import Path

from services.referrals.api import build_api
from services.referrals.deadlines import watch_deadlines
from services.referrals.handlers import handlers
from shared.idempotency import forget_old_answers
from shared.mail import mail_job
from shared.runtime import ServiceSpec

spec = ServiceSpec(
    name="referrals",
    migrations=Path(__file__).parent / "migrations",
    build_api=build_api,
    handlers=handlers,
    jobs=[watch_deadlines, forget_old_answers, mail_job],
)
