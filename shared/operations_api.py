"""Every service's operator API (role operator): its readiness, outbox backlog, its queue's
depth and consumers and its dead letters — to inspect, replay or purge. What `kooperacja status`
and `kooperacja dlq` show, for the web front's "Stan systemu" page, which never talks to the
broker itself."""

from __future__ import annotations

from typing import Any

import aio_pika
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from shared.auth import Principal, Role, requires
from shared.dead_letters import dead_letters, queue_stat
from shared.idempotency import IdempotencyKey, fingerprint, once
from shared.topology import dead_letter_queue_name, queue_name

router = APIRouter(prefix="/api/v1/admin", tags=["operations"])


class QueueOut(BaseModel):
    queue: str
    messages: int | None = Field(description="waiting messages; null when the queue is missing")
    consumers: int | None


class ServiceStatusOut(BaseModel):
    service: str
    ready: bool
    checks: dict[str, bool]
    outbox_backlog: int | None
    queue: QueueOut
    dead_letter_queue: QueueOut


class DeadLetterOut(BaseModel):
    message_id: str | None
    event_id: str | None
    type: str | None
    routing_key: str | None
    error: str | None
    attempts: int | None
    failed_at: str | None
    body: str = Field(description="the envelope (events carry codes and ids only), cut at 2000")


class DeadLetterActionIn(BaseModel):
    message_id: str | None = Field(
        default=None, max_length=200, description="only this message (or event) id; all if absent"
    )


class DeadLetterActionOut(BaseModel):
    count: int
    messages: list[DeadLetterOut]


def _service(request: Request) -> tuple[str, str]:
    ctx = request.app.state.ctx
    return ctx.name, ctx.settings.amqp_url


@router.get("/status", response_model=ServiceStatusOut)
async def service_status(
    request: Request, _: Principal = requires(Role.OPERATOR)
) -> dict[str, Any]:
    """This service's readiness, outbox backlog, queue depth and consumers, dead letters."""
    name, amqp_url = _service(request)
    check = getattr(request.app.state, "ready_check", None)
    checks = await check() if check else {}
    backlog = getattr(request.app.state, "outbox_backlog", None)
    connection = await aio_pika.connect(amqp_url)
    try:
        own = await queue_stat(connection, queue_name(name))
        dead = await queue_stat(connection, dead_letter_queue_name(name))
    finally:
        await connection.close()
    return {
        "service": name,
        "ready": all(checks.values()),
        "checks": checks,
        "outbox_backlog": await backlog() if backlog else None,
        "queue": own,
        "dead_letter_queue": dead,
    }


@router.get("/dead-letters", response_model=list[DeadLetterOut])
async def list_dead_letters(
    request: Request, _: Principal = requires(Role.OPERATOR)
) -> list[dict[str, Any]]:
    """The messages this service could not handle, with the error; they stay where they are."""
    name, amqp_url = _service(request)
    return await dead_letters(amqp_url, name, action="list")


async def _act(
    request: Request,
    action: str,
    body: DeadLetterActionIn,
    principal: Principal,
    key: str | None,
) -> JSONResponse:
    name, amqp_url = _service(request)

    async def act() -> DeadLetterActionOut:
        done = await dead_letters(amqp_url, name, action=action, message_id=body.message_id)
        return DeadLetterActionOut(count=len(done), messages=done)

    request_hash = fingerprint(f"POST /admin/dead-letters/{action}", body)
    return await once(request.app.state.ctx.pool, principal, key, request_hash, 200, act)


@router.post("/dead-letters/replay", response_model=DeadLetterActionOut)
async def replay_dead_letters(
    request: Request,
    body: DeadLetterActionIn,
    idempotency_key: IdempotencyKey = None,
    principal: Principal = requires(Role.OPERATOR),
) -> JSONResponse:
    """Send dead letters back to this service's own queue (only it sees them again)."""
    return await _act(request, "replay", body, principal, idempotency_key)


@router.post("/dead-letters/purge", response_model=DeadLetterActionOut)
async def purge_dead_letters(
    request: Request,
    body: DeadLetterActionIn,
    idempotency_key: IdempotencyKey = None,
    principal: Principal = requires(Role.OPERATOR),
) -> JSONResponse:
    """Drop dead letters for good."""
    return await _act(request, "purge", body, principal, idempotency_key)
