"""The routes an e-mailed link opens, for an institution without an account: what the referral
is, and its answers (accept; decline with a reason, "no capacity" and "could not contact the
family" among them; record completion). The link token travels in the `X-Referral-Link` header,
never in these addresses. It is checked before anything else: signature, purpose and expiry,
then the link's referral and institution against the referral as it stands (a referral that
went to another institution is no longer this link's). Accepting leaves the link good for
recording completion; a decline or the completion uses it up. Every answer and every refused
try is audited in referrals."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated, Any
from uuid import UUID

import asyncpg
from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse
from fastapi.security import APIKeyHeader
from pydantic import BaseModel, ConfigDict, Field

from services.referrals import answers, institution_links, links, store
from services.referrals.domain import ReferralState
from shared.auth import Principal, Role, Unauthenticated
from shared.codes import DeclineReason, SupportOutcome
from shared.errors import DomainError
from shared.idempotency import IdempotencyKey, answer, fingerprint, replay
from shared.mail import case_reference
from shared.runtime import ServiceContext, context

router = APIRouter(prefix="/api/v1/referral-link", tags=["referral link"])
Ctx = Annotated[ServiceContext, Depends(context)]
# Declares the link's header in OpenAPI (Swagger's Authorize); read below, so a missing one
# gets our own problem answer.
LINK_HEADER = APIKeyHeader(
    name="X-Referral-Link",
    scheme_name="referral_link",
    auto_error=False,
    description="The token of the link e-mailed to the institution with its referral",
)


class LinkGone(DomainError):
    status = 410
    title = "Odnośnik nieaktualny"


class LinkedReferralOut(BaseModel):
    """What the institution sees through the link: codes and dates, no personal data."""

    referral_id: UUID
    case_reference: str = Field(description="the case's reference in e-mails")
    gmina: str
    support_type: str
    state: ReferralState
    accept_by: datetime | None
    complete_by: datetime | None
    link_expires_on: date
    can: list[str] = Field(description="answers the link allows now: accept, decline, complete")


class LinkDecline(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: DeclineReason


class LinkCompletion(BaseModel):
    model_config = ConfigDict(extra="forbid")
    outcome: SupportOutcome


def _allowed(state: str) -> list[str]:
    if state == ReferralState.ASSIGNED:
        return ["accept", "decline"]
    if state == ReferralState.ACCEPTED:
        return ["complete"]
    return []


async def _refused(
    ctx: ServiceContext, action: str, exc: DomainError, link: dict[str, Any] | None = None
) -> DomainError:
    """Write a refused try to the audit, in a transaction of its own (the request's rolls back)."""
    async with ctx.pool.acquire() as conn:
        await institution_links.audit(
            conn,
            action=action,
            result=f"refused:{exc.code}",
            link_id=link["link_id"] if link else None,
            referral_id=link["referral_id"] if link else None,
            institution_id=link["institution_id"] if link else None,
        )
    return exc


async def verified_link(
    request: Request, token: Annotated[str | None, Depends(LINK_HEADER)] = None
) -> links.Link:
    """The link's signature, purpose and expiry: checked before the body is looked at."""
    ctx: ServiceContext = request.app.state.ctx
    action = request.url.path.rsplit("/", 1)[-1]
    action = action if action in {"accept", "decline", "complete"} else "read"
    if not token:
        raise await _refused(
            ctx, action, Unauthenticated("link_missing", "send the link's token in X-Referral-Link")
        )
    try:
        return links.verify(institution_links.link_key(), token, datetime.now(UTC))
    except links.LinkRefused as refused:
        raise await _refused(ctx, action, Unauthenticated(refused.code, refused.detail)) from None


Verified = Annotated[links.Link, Depends(verified_link)]


async def _open_link(
    conn: asyncpg.Connection, ctx: ServiceContext, claims: links.Link, action: str
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The link and its referral, both locked, once the link is still good; else 401 or 410."""
    link = await institution_links.link_row(conn, claims.link_id)
    if link is None:
        raise await _refused(ctx, action, Unauthenticated("link_invalid", "the link is not valid"))
    if link["expires_at"] <= datetime.now(UTC):
        expired = Unauthenticated("link_expired", "the link has expired")
        raise await _refused(ctx, action, expired, link)
    if link["used_at"] is not None:
        raise await _refused(ctx, action, LinkGone("link_used", "the link has been used"), link)
    ref = await answers.lock_referral(
        conn, link["referral_id"], frees_place=action in {"decline", "complete"}
    )
    if ref is None or ref["institution_id"] != link["institution_id"]:
        raise await _refused(
            ctx, action, LinkGone("link_outdated", "the referral is no longer yours"), link
        )
    return link, ref


def _principal(link: dict[str, Any]) -> Principal:
    """Whom the link stands for: the institution's staff, for this link alone (its
    idempotency keys and audit are the link's own)."""
    return Principal(
        subject=f"referral-link:{link['link_id']}",
        role=Role.INSTITUTION_STAFF,
        institution=link["institution_id"],
    )


def _out(ref: dict[str, Any], link: dict[str, Any]) -> LinkedReferralOut:
    return LinkedReferralOut(
        referral_id=ref["referral_id"],
        case_reference=case_reference(ref["case_id"]),
        gmina=ref["gmina"].strip(),
        support_type=ref["support_type"],
        state=ReferralState(ref["state"]),
        accept_by=ref["accept_by"],
        complete_by=ref["complete_by"],
        link_expires_on=link["expires_at"].date(),
        can=[] if link["used_at"] else _allowed(ref["state"]),
    )


@router.get("", response_model=LinkedReferralOut)
async def linked_referral(ctx: Ctx, claims: Verified) -> LinkedReferralOut:
    async with ctx.pool.acquire() as conn, conn.transaction():
        link, ref = await _open_link(conn, ctx, claims, "read")
        return _out(ref, link)


async def _answer(
    request: Request,
    ctx: ServiceContext,
    claims: links.Link,
    key: str | None,
    action: str,
    body: BaseModel | None,
) -> JSONResponse:
    request_hash = fingerprint(f"POST {request.url.path}", body)
    async with ctx.pool.acquire() as conn, conn.transaction():
        link, ref = await _open_link(conn, ctx, claims, action)
        principal = _principal(link)
        if first := await replay(conn, principal, key, request_hash):
            return first
        try:
            if action == "accept":
                await answers.accept(conn, ctx.origin, ref)
                await conn.execute(
                    "UPDATE referral_links SET accepted_at = now() WHERE link_id = $1",
                    link["link_id"],
                )
            elif action == "decline":
                assert isinstance(body, LinkDecline)
                await answers.decline(conn, ctx.origin, ref, body.reason)
            else:
                assert isinstance(body, LinkCompletion)
                await answers.complete(conn, ctx.origin, ref, body.outcome)
        except DomainError as exc:
            raise await _refused(ctx, action, exc, link) from None
        if action != "accept":
            await conn.execute(
                "UPDATE referral_links SET used_at = now() WHERE link_id = $1", link["link_id"]
            )
        detail = getattr(body, "reason", None) or getattr(body, "outcome", None)
        await institution_links.audit(
            conn,
            action=action,
            result="done",
            link_id=link["link_id"],
            referral_id=ref["referral_id"],
            institution_id=link["institution_id"],
            detail=str(detail) if detail else None,
        )
        now = await store.get_referral(conn, ref["referral_id"])
        fresh = await institution_links.link_row(conn, link["link_id"])
        assert now is not None and fresh is not None
        return await answer(conn, principal, key, request_hash, 200, _out(now, fresh))


@router.post("/accept", response_model=LinkedReferralOut)
async def accept_by_link(
    request: Request,
    ctx: Ctx,
    claims: Verified,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    return await _answer(request, ctx, claims, idempotency_key, "accept", None)


@router.post("/decline", response_model=LinkedReferralOut)
async def decline_by_link(
    request: Request,
    body: LinkDecline,
    ctx: Ctx,
    claims: Verified,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    return await _answer(request, ctx, claims, idempotency_key, "decline", body)


@router.post("/complete", response_model=LinkedReferralOut)
async def complete_by_link(
    request: Request,
    body: LinkCompletion,
    ctx: Ctx,
    claims: Verified,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    return await _answer(request, ctx, claims, idempotency_key, "complete", body)
