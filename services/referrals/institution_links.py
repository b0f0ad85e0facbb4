"""A partner institution without users still closes the loop: each referral assigned to an
institution with a contact address is e-mailed there with a link (services/referrals/links.py)
through which it accepts, declines with a reason, or records completion without an account.
The link row and the mail are written in the transaction that assigns the referral; every
answer through a link, and every refused try, is written to `referral_link_audit`."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4, uuid5

import asyncpg

from services.referrals import links
from services.referrals.settings import referral_settings
from shared import mail
from shared.settings import get_settings


def link_key() -> bytes:
    return referral_settings().link_key(get_settings().development)


def page_url(token: str) -> str:
    return f"{referral_settings().public_url.rstrip('/')}/odpowiedz/{token}"


def referral_mail(
    reference: str, url: str, accept_by: datetime | None, expires: datetime
) -> mail.Mail:
    """The e-mail of a new referral: the case's reference, the deadline and the link, nothing
    of the family (not even the kind of support, which may hint at a health matter)."""
    lines = [
        "Dzień dobry,",
        "",
        f"Państwa instytucja otrzymała skierowanie w systemie Kooperacja (sprawa {reference}).",
    ]
    if accept_by is not None:
        lines.append(f"Prosimy o przyjęcie albo odmowę do {accept_by:%d.%m.%Y}.")
    lines += [
        "",
        "Szczegóły i odpowiedź (bez logowania):",
        url,
        "",
        f"Odnośnik jest ważny do {expires:%d.%m.%Y} i służy tylko do odpowiedzi na to skierowanie;",
        "przez niego zapiszą też Państwo realizację wsparcia. Nie przekazuj go dalej.",
        "",
        "Wiadomość wysłana automatycznie; nie zawiera danych osobowych.",
    ]
    return mail.Mail(
        subject=f"Kooperacja: nowe skierowanie (sprawa {reference})", body="\n".join(lines)
    )


async def offer(
    tx: asyncpg.Connection,
    referral_id: UUID,
    case_id: UUID,
    institution_id: UUID,
    accept_by: datetime | None,
) -> None:
    """E-mail the referral to its institution's contact address with a link, if it has one
    and links are enabled."""
    key = link_key()
    address = await tx.fetchval(
        "SELECT contact_email FROM institutions WHERE institution_id = $1", institution_id
    )
    if not key or not address:
        return
    link_id = uuid4()
    expires = datetime.now(UTC) + timedelta(days=referral_settings().link_days)
    await tx.execute(
        """INSERT INTO referral_links (link_id, referral_id, institution_id, expires_at)
           VALUES ($1, $2, $3, $4)""",
        link_id,
        referral_id,
        institution_id,
        expires,
    )
    url = page_url(links.sign(key, link_id, expires))
    message = referral_mail(mail.case_reference(case_id), url, accept_by, expires)
    await mail.enqueue(tx, uuid5(link_id, "referral-mail"), address, message.subject, message.body)


async def link_row(conn: asyncpg.Connection, link_id: UUID) -> dict[str, Any] | None:
    row = await conn.fetchrow("SELECT * FROM referral_links WHERE link_id = $1 FOR UPDATE", link_id)
    return dict(row) if row else None


async def audit(
    conn: asyncpg.Connection,
    *,
    action: str,
    result: str,
    link_id: UUID | None = None,
    referral_id: UUID | None = None,
    institution_id: UUID | None = None,
    detail: str | None = None,
) -> None:
    await conn.execute(
        """INSERT INTO referral_link_audit
               (link_id, referral_id, institution_id, action, result, detail)
           VALUES ($1, $2, $3, $4, $5, $6)""",
        link_id,
        referral_id,
        institution_id,
        action,
        result,
        detail,
    )
