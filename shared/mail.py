"""E-mail through SMTP, sent from a mail outbox: a message is a row written in the transaction
of what caused it, and a job sends what is due. A failing SMTP server delays mail, never the
service: each failure is counted (`kooperacja_mail_failures_total`) and the row tried again
after a pause that doubles (30 s up to an hour); after `KOOP_SMTP_MAX_ATTEMPTS` it is kept as
failed. A service that mails keeps, in its own database, the table

    CREATE TABLE mail_outbox (
        mail_id uuid PRIMARY KEY, recipient text NOT NULL, subject text NOT NULL,
        body text NOT NULL, created_at timestamptz NOT NULL DEFAULT now(),
        next_attempt_at timestamptz NOT NULL DEFAULT now(), attempts int NOT NULL DEFAULT 0,
        sent_at timestamptz, failed_at timestamptz, last_error text);

Delivery is at least once: a row is leased while it is sent, so two instances never send it at
once; a process that dies after the server took the message and before the row was marked
sends it again when the lease ends.
"""

from __future__ import annotations

import asyncio
import logging
import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from enum import StrEnum
from functools import cache
from typing import TYPE_CHECKING
from uuid import UUID

import asyncpg
from prometheus_client import Counter, Gauge
from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from shared.jobs import every

if TYPE_CHECKING:
    from shared.runtime import ServiceContext

log = logging.getLogger(__name__)

MAIL_SENT = Counter("kooperacja_mail_sent_total", "E-mails the SMTP server accepted", ["service"])
MAIL_FAILURES = Counter(
    "kooperacja_mail_failures_total", "Attempts to send an e-mail that failed", ["service"]
)
MAIL_GAVE_UP = Counter(
    "kooperacja_mail_given_up_total", "E-mails given up after the last attempt", ["service"]
)
MAIL_BACKLOG = Gauge("kooperacja_mail_backlog", "E-mails waiting to be sent", ["service"])
LEASE_SECONDS = 300


@dataclass(frozen=True)
class Mail:
    subject: str
    body: str


class Tls(StrEnum):
    NONE = "none"  # only for a relay on the same host or a test server
    STARTTLS = "starttls"
    IMPLICIT = "implicit"  # SMTPS, usually port 465


class MailSettings(BaseSettings):
    """KOOP_SMTP_*: the SMTP server. Without a host nothing is sent and mail waits."""

    model_config = SettingsConfigDict(env_prefix="KOOP_SMTP_", extra="ignore")

    host: str = ""
    port: int = Field(default=587, ge=1, le=65535)
    username: str = ""
    password: str = ""
    tls: Tls = Tls.STARTTLS
    # A CA bundle to verify the server with, for a server of a private CA; else the system's.
    ca_file: str = ""
    sender: str = "kooperacja@localhost"
    timeout_seconds: float = Field(default=20.0, gt=0)
    max_attempts: int = Field(default=25, ge=1)
    # The first pause after a failure; each further failure doubles it, up to an hour.
    retry_seconds: float = Field(default=30.0, gt=0)
    send_every_seconds: float = Field(default=5.0, gt=0)
    batch: int = Field(default=20, ge=1, le=1000)


@cache
def mail_settings() -> MailSettings:
    return MailSettings()


def case_reference(case_id: UUID) -> str:
    """How an e-mail names a case without naming the family: intake gives cases no number of
    their own in any event, so the first eight hexadecimal digits of the case's random id
    ("3F2A-9C1B"), which is no personal data and which staff find on the case's page."""
    digits = case_id.hex[:8].upper()
    return f"{digits[:4]}-{digits[4:]}"


def backoff_seconds(attempts: int, first: float = 30.0) -> float:
    """The pause after the `attempts`-th failure: `first` (30 s) doubling, at most an hour."""
    return float(min(first * 2 ** max(0, min(attempts, 30) - 1), 3600))


async def enqueue(
    tx: asyncpg.Connection, mail_id: UUID, recipient: str, subject: str, body: str
) -> bool:
    """Add a message to the outbox in the caller's transaction; False when that id is there
    already (the same message asked for twice is sent once)."""
    status = await tx.execute(
        """INSERT INTO mail_outbox (mail_id, recipient, subject, body) VALUES ($1, $2, $3, $4)
           ON CONFLICT (mail_id) DO NOTHING""",
        mail_id,
        recipient,
        subject,
        body,
    )
    return status == "INSERT 0 1"


def _message(settings: MailSettings, recipient: str, subject: str, body: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = settings.sender
    message["To"] = recipient
    message["Subject"] = subject
    message.set_content(body)
    return message


def _tls_context(settings: MailSettings) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=settings.ca_file or None)


def send_now(settings: MailSettings, message: EmailMessage) -> None:
    """One message over one SMTP session (blocking: run it in a thread)."""
    if settings.tls is Tls.IMPLICIT:
        smtp: smtplib.SMTP = smtplib.SMTP_SSL(
            settings.host,
            settings.port,
            timeout=settings.timeout_seconds,
            context=_tls_context(settings),
        )
    else:
        smtp = smtplib.SMTP(settings.host, settings.port, timeout=settings.timeout_seconds)
    with smtp:
        smtp.ehlo()
        if settings.tls is Tls.STARTTLS:
            smtp.starttls(context=_tls_context(settings))
            smtp.ehlo()
        if settings.username:
            smtp.login(settings.username, settings.password)
        smtp.send_message(message)


async def send_due(pool: asyncpg.Pool, service: str, settings: MailSettings) -> int:
    """Send one batch of due mail; returns how many were tried. Each row is leased first, so
    that the SMTP conversation holds no transaction and no other instance sends it."""
    if not settings.host:
        return 0
    rows = await pool.fetch(
        """UPDATE mail_outbox SET next_attempt_at = now() + make_interval(secs => $2)
           WHERE mail_id IN (
               SELECT mail_id FROM mail_outbox
               WHERE sent_at IS NULL AND failed_at IS NULL AND next_attempt_at <= now()
               ORDER BY next_attempt_at LIMIT $1 FOR UPDATE SKIP LOCKED)
           RETURNING mail_id, recipient, subject, body, attempts""",
        settings.batch,
        float(LEASE_SECONDS),
    )
    for row in rows:
        message = _message(settings, row["recipient"], row["subject"], row["body"])
        try:
            await asyncio.to_thread(send_now, settings, message)
        except (OSError, smtplib.SMTPException, ValueError) as exc:
            await _failed(pool, service, settings, row, f"{type(exc).__name__}: {exc}")
            continue
        await pool.execute(
            "UPDATE mail_outbox SET sent_at = now() WHERE mail_id = $1", row["mail_id"]
        )
        MAIL_SENT.labels(service).inc()
    return len(rows)


async def _failed(
    pool: asyncpg.Pool, service: str, settings: MailSettings, row: asyncpg.Record, error: str
) -> None:
    MAIL_FAILURES.labels(service).inc()
    attempts = row["attempts"] + 1
    give_up = attempts >= settings.max_attempts
    log.warning(
        "%s: mail %s not sent (attempt %d of %d): %s",
        service,
        row["mail_id"],
        attempts,
        settings.max_attempts,
        error,
    )
    if give_up:
        MAIL_GAVE_UP.labels(service).inc()
    await pool.execute(
        """UPDATE mail_outbox SET attempts = $2, last_error = $3,
               next_attempt_at = now() + make_interval(secs => $4),
               failed_at = CASE WHEN $5 THEN now() END
           WHERE mail_id = $1""",
        row["mail_id"],
        attempts,
        error[:2000],
        backoff_seconds(attempts, settings.retry_seconds),
        give_up,
    )


async def backlog(pool: asyncpg.Pool) -> int:
    return int(
        await pool.fetchval(
            "SELECT count(*) FROM mail_outbox WHERE sent_at IS NULL AND failed_at IS NULL"
        )
    )


def expose(service: str) -> None:
    """The series from the start, at 0, so an alert on failures sees them before the first."""
    for metric in (MAIL_SENT, MAIL_FAILURES, MAIL_GAVE_UP, MAIL_BACKLOG):
        metric.labels(service)


@every(lambda: mail_settings().send_every_seconds, name="send_mail")
async def mail_job(ctx: ServiceContext) -> int:
    """A pass of the mail job (ServiceSpec.jobs of a service with a mail outbox): everything
    due, then the backlog gauge. A failing SMTP server fails single mails, counted and retried;
    anything else failing fails the pass, which the job runner counts and retries."""
    expose(ctx.name)
    settings = mail_settings()
    sent = 0
    while (tried := await send_due(ctx.pool, ctx.name, settings)) > 0:
        sent += tried
    MAIL_BACKLOG.labels(ctx.name).set(await backlog(ctx.pool))
    return sent
