"""Notifications' HTTP routes: a person's inbox (a page at a time, unread first counted),
reading one (which marks it read), marking read, and the e-mail preferences."""

from __future__ import annotations

import json
from datetime import date, datetime
from typing import Annotated, Any
from uuid import UUID

import asyncpg
from fastapi import APIRouter, Depends, FastAPI, Query
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from services.notifications import domain, store
from shared.auth import Principal, Role, requires
from shared.errors import InvalidInput, NotFound
from shared.http import create_api
from shared.idempotency import IdempotencyKey, answer, fingerprint, replay
from shared.paging import Offset
from shared.runtime import ServiceContext, context

router = APIRouter(prefix="/api/v1", tags=["notifications"])
Ctx = Annotated[ServiceContext, Depends(context)]
# Who has an inbox: the roles notifications are addressed to.
Reader = requires(Role.CASEWORKER, Role.COORDINATOR, Role.INSTITUTION_STAFF)
# An address as RFC 5321 bounds it; one @, no spaces or control characters, nothing else.
EMAIL_PATTERN = r"^[^@\s\x00-\x1f\x7f]{1,64}@[A-Za-z0-9.-]{1,253}\.[A-Za-z]{2,63}$"


class NotificationOut(BaseModel):
    """A notification: its kind, the case (id and reference) and codes; no personal data."""

    notification_id: UUID
    kind: domain.Kind
    title: str = Field(description="what it is, in Polish")
    gmina: str
    case_id: UUID
    case_reference: str = Field(description="the case's reference in messages (not personal)")
    institution_id: UUID | None
    referral_id: UUID | None
    diagnosis_id: UUID | None
    details: dict[str, str] = Field(description="codes: support_type, stage, outcome, months")
    occurred_on: date | None
    created_at: datetime
    read_at: datetime | None


class InboxOut(BaseModel):
    items: list[NotificationOut]
    total: int
    unread: int
    limit: int
    offset: int


class PreferencesIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    email: str | None = Field(
        default=None, max_length=254, pattern=EMAIL_PATTERN, description="where e-mails go"
    )
    email_kinds: list[domain.Kind] = Field(
        default_factory=list, max_length=20, description="kinds also sent by e-mail"
    )


class PreferencesOut(BaseModel):
    email: str | None
    email_kinds: list[domain.Kind]
    available_kinds: list[domain.Kind] = Field(description="the kinds this role receives")


def _out(row: asyncpg.Record) -> NotificationOut:
    kind = domain.Kind(row["kind"])
    details = row["details"]
    return NotificationOut(
        notification_id=row["notification_id"],
        kind=kind,
        title=domain.TITLES[kind],
        gmina=row["gmina"],
        case_id=row["case_id"],
        case_reference=domain.case_reference(row["case_id"]),
        institution_id=row["institution_id"],
        referral_id=row["referral_id"],
        diagnosis_id=row["diagnosis_id"],
        details=json.loads(details) if isinstance(details, str) else dict(details),
        occurred_on=row["occurred_on"],
        created_at=row["created_at"],
        read_at=row["read_at"],
    )


@router.get("/notifications", response_model=InboxOut)
async def list_notifications(
    ctx: Ctx,
    principal: Principal = Reader,
    unread: bool = Query(default=False, description="only those not read yet"),
    limit: int = Query(default=50, ge=1, le=200),
    offset: Offset = 0,
) -> InboxOut:
    async with ctx.pool.acquire() as conn:
        rows, total, unread_count = await store.inbox(
            conn, principal, unread_only=unread, limit=limit, offset=offset
        )
    return InboxOut(
        items=[_out(r) for r in rows], total=total, unread=unread_count, limit=limit, offset=offset
    )


@router.get("/notifications/{notification_id}", response_model=NotificationOut)
async def read_notification(
    notification_id: UUID, ctx: Ctx, principal: Principal = Reader
) -> NotificationOut:
    """One notification of the reader's inbox; reading it marks it read."""
    async with ctx.pool.acquire() as conn, conn.transaction():
        row = await store.one_of(conn, principal, notification_id)
        if row is None:
            raise NotFound("notification_not_found", "nie ma takiego powiadomienia")
        await store.mark_read(conn, principal.subject, notification_id)
        row = await store.one_of(conn, principal, notification_id)
    assert row is not None
    return _out(row)


@router.post("/notifications/{notification_id}/read", response_model=NotificationOut)
async def mark_read(
    notification_id: UUID,
    ctx: Ctx,
    idempotency_key: IdempotencyKey = None,
    principal: Principal = Reader,
) -> Any:
    """Mark a notification read (as reading it does)."""
    request_hash = fingerprint(f"read:{notification_id}", None)
    async with ctx.pool.acquire() as conn, conn.transaction():
        if (replayed := await replay(conn, principal, idempotency_key, request_hash)) is not None:
            return replayed
        if await store.one_of(conn, principal, notification_id) is None:
            raise NotFound("notification_not_found", "nie ma takiego powiadomienia")
        await store.mark_read(conn, principal.subject, notification_id)
        row = await store.one_of(conn, principal, notification_id)
        assert row is not None
        return await answer(conn, principal, idempotency_key, request_hash, 200, _out(row))


def _preferences_out(row: asyncpg.Record | None, principal: Principal) -> PreferencesOut:
    available = domain.kinds_for(str(principal.role))
    if row is None:
        return PreferencesOut(email=None, email_kinds=[], available_kinds=available)
    return PreferencesOut(
        email=row["email"],
        email_kinds=[domain.Kind(k) for k in row["kinds"] if k in set(available)],
        available_kinds=available,
    )


@router.get("/preferences", response_model=PreferencesOut)
async def get_preferences(ctx: Ctx, principal: Principal = Reader) -> PreferencesOut:
    async with ctx.pool.acquire() as conn:
        row = await store.preferences(conn, principal.subject)
    return _preferences_out(row, principal)


@router.put("/preferences", response_model=PreferencesOut)
async def put_preferences(
    body: PreferencesIn, ctx: Ctx, principal: Principal = Reader
) -> JSONResponse | PreferencesOut:
    """Which kinds also come by e-mail, and to which address; the e-mails follow the role and
    scope of the token they were set with."""
    available = set(domain.kinds_for(str(principal.role)))
    for i, kind in enumerate(body.email_kinds):
        if kind not in available:
            raise InvalidInput(
                "kind_not_for_role",
                f"powiadomienia „{domain.TITLES[kind]}” nie są wysyłane tej roli",
                field=f"email_kinds[{i}]",
            )
    if body.email_kinds and body.email is None:
        raise InvalidInput(
            "email_missing", "podaj adres e-mail, na który wysyłać powiadomienia", field="email"
        )
    kinds = sorted({k.value for k in body.email_kinds})
    async with ctx.pool.acquire() as conn, conn.transaction():
        row = await store.save_preferences(conn, principal, body.email, kinds)
    return _preferences_out(row, principal)


def build_api() -> FastAPI:
    app = create_api(
        "notifications",
        description="Powiadomienia: skrzynka każdej osoby, odczytanie i wybór powiadomień "
        "wysyłanych e-mailem.",
    )
    app.include_router(router)
    return app
