"""The notifications service on the real runtime, on a vhost of its own so that its event log
holds only what this test publishes: events published before the service first starts reach it
from the log (catch-up), later ones from its queue, each effect once whatever the order and
however often an event arrives; inboxes by role and scope; read marks; the mail outbox."""

from __future__ import annotations

import asyncio
import subprocess
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime
from typing import Any
from uuid import UUID, uuid4

import aio_pika
import asyncpg
import httpx
import pytest

from services.notifications.app import spec
from services.notifications.jobs import remind_follow_ups
from shared.auth import Role, issue_token
from shared.codes import CaseOutcome, SupportType
from shared.envelope import CONTENT_TYPE, Envelope, wrap
from shared.events import (
    CaseClosed,
    CaseFollowUpRecorded,
    CaseReopened,
    Event,
    SupportAssigned,
    SupportOverdue,
)
from shared.outbox import Origin
from shared.runtime import ServiceContext, ServiceRuntime
from shared.settings import Settings
from shared.teryt import terc
from shared.topology import declare_event_log, declare_exchange
from tests.conftest import NAMESPACE, PORT_BASE
from tests.integration.conftest import eventually, start_runtime

pytestmark = pytest.mark.integration

VHOST = f"{NAMESPACE}_notifications"
PORT = PORT_BASE + 28  # clear of the other integration tests' ports
GMINA, NEIGHBOUR = "0601042", "0601052"
PLACE = terc().gmina(GMINA).place


class _OwnSettings(Settings):
    def http_port(self, service: str) -> int:
        return PORT


def _rabbitmqctl(*args: str) -> None:
    subprocess.run(["rabbitmqctl", "-q", *args], check=True, capture_output=True, timeout=60)


def _fresh_vhost() -> None:
    subprocess.run(["rabbitmqctl", "-q", "delete_vhost", VHOST], capture_output=True)
    _rabbitmqctl("add_vhost", VHOST)
    _rabbitmqctl("set_permissions", "-p", VHOST, "guest", ".*", ".*", ".*")


def _overdue(case: UUID, stage: str = "acceptance", gmina: str = GMINA) -> SupportOverdue:
    return SupportOverdue(
        referral_id=uuid4(),
        case_id=case,
        place=terc().gmina(gmina).place,
        support_type=SupportType.PSYCHOLOGIST,
        institution_id=uuid4(),
        stage=stage,
    )


def _assigned(institution: UUID) -> SupportAssigned:
    return SupportAssigned(
        referral_id=uuid4(),
        recommendation_id=uuid4(),
        case_id=uuid4(),
        place=PLACE,
        support_type=SupportType.MEALS,
        institution_id=institution,
        sector="social_assistance",
        attempt=1,
        accept_by=datetime(2026, 12, 6, tzinfo=UTC),
    )


class Harness:
    def __init__(self, settings: Settings, amqp: aio_pika.abc.AbstractRobustConnection) -> None:
        self.settings = settings
        self.amqp = amqp
        self.http = httpx.AsyncClient(timeout=30)
        self.pool: asyncpg.Pool | None = None

    async def publish(self, *items: Event | Envelope) -> list[Envelope]:
        channel = await self.amqp.channel(publisher_confirms=True)
        exchange = await declare_exchange(channel, self.settings.exchange)
        await declare_event_log(channel, self.settings.exchange)
        sent = []
        for item in items:
            envelope = item if isinstance(item, Envelope) else wrap(item, region="06", service="t")
            await exchange.publish(
                aio_pika.Message(
                    body=envelope.to_bytes(),
                    content_type=CONTENT_TYPE,
                    delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
                ),
                routing_key=envelope.routing_key,
            )
            sent.append(envelope)
        await channel.close()
        return sent

    async def settle(self, envelopes: list[Envelope]) -> None:
        assert self.pool is not None
        ids = list({e.id for e in envelopes})

        async def handled() -> bool:
            assert self.pool is not None
            n = await self.pool.fetchval(
                "SELECT count(*) FROM inbox WHERE event_id = ANY($1::uuid[])", ids
            )
            return bool(n == len(ids))

        await eventually(handled, within=60, what="the events to be handled")

    def who(self, role: Role, subject: str = "", **scope: Any) -> dict[str, str]:
        token = issue_token(self.settings, subject=subject or f"it-{role}", role=role, **scope)
        return {"Authorization": f"Bearer {token}"}

    async def call(self, method: str, path: str, who: dict[str, str], **kw: Any) -> httpx.Response:
        return await self.http.request(
            method, f"http://127.0.0.1:{PORT}/api/v1{path}", headers=who, **kw
        )

    async def inbox(self, who: dict[str, str], **params: Any) -> dict[str, Any]:
        r = await self.call("GET", "/notifications", who, params=params)
        assert r.status_code == 200, r.text
        return r.json()  # type: ignore[no-any-return]


async def _run(settings: Settings) -> tuple[ServiceRuntime, asyncio.Task[None]]:
    runtime = ServiceRuntime(spec, settings)
    amqp = await aio_pika.connect_robust(settings.amqp_url)
    try:
        task = await start_runtime(runtime, amqp)
    finally:
        await amqp.close()
    return runtime, task


async def _stop(runtime: ServiceRuntime, task: asyncio.Task[None]) -> None:
    runtime.stopping.set()
    await asyncio.wait_for(task, timeout=30)


@pytest.fixture
async def harness() -> AsyncIterator[Harness]:
    await asyncio.to_thread(_fresh_vhost)
    settings = _OwnSettings(
        amqp_url=f"amqp://guest:guest@127.0.0.1:5672/{VHOST}",
        database_prefix=f"{NAMESPACE}_ntf{uuid4().hex[:6]}",
    )
    amqp = await aio_pika.connect_robust(settings.amqp_url)
    h = Harness(settings, amqp)
    try:
        yield h
    finally:
        await h.http.aclose()
        if h.pool is not None:
            await h.pool.close()
        await amqp.close()
        await asyncio.to_thread(
            subprocess.run, ["rabbitmqctl", "-q", "delete_vhost", VHOST], capture_output=True
        )


async def test_first_start_catches_up_from_the_event_log_and_nothing_counts_twice(
    harness: Harness,
) -> None:
    institution = uuid4()
    # Before the service ever ran: these events are in the log only, in no queue of its own.
    past = await harness.publish(_overdue(uuid4()), _assigned(institution), _overdue(uuid4()))
    runtime, task = await _run(harness.settings)
    try:
        harness.pool = await asyncpg.create_pool(
            harness.settings.database_url("notifications"), min_size=1, max_size=2
        )
        # While it catches up: new events, and the past ones again (a producer's redelivery).
        live = await harness.publish(_overdue(uuid4()), *past, past[0])
        await harness.settle(past + live)

        async def caught_up() -> bool:
            assert harness.pool is not None
            n = await harness.pool.fetchval(
                "SELECT count(*) FROM event_log_catch_up WHERE finished_at IS NULL"
            )
            return bool(n == 0)

        await eventually(caught_up, within=60, what="the catch-up to finish")
        coordinator = harness.who(Role.COORDINATOR, gmina=GMINA)
        inbox = await harness.inbox(coordinator)
        overdue_cases = sorted(str(e.subject) for e in (past[0], past[2], live[0]))
        assert sorted(n["case_id"] for n in inbox["items"]) == overdue_cases
        assert inbox["total"] == 3 and inbox["unread"] == 3
        staff = harness.who(Role.INSTITUTION_STAFF, institution=institution)
        assert [n["kind"] for n in (await harness.inbox(staff))["items"]] == ["referral_received"]
    finally:
        await _stop(runtime, task)

    # A second start reads nothing from the log again: the catch-up is done for every key.
    runtime, task = await _run(harness.settings)
    try:
        more = await harness.publish(_overdue(uuid4()))
        await harness.settle(more)
        assert harness.pool is not None
        handled = await harness.pool.fetchval("SELECT count(*) FROM inbox")
        assert handled == len({e.id for e in past + live + more})
        assert (await harness.inbox(harness.who(Role.COORDINATOR, gmina=GMINA)))["total"] == 4
    finally:
        await _stop(runtime, task)


async def test_inboxes_follow_role_and_scope_and_reading_marks_read(harness: Harness) -> None:
    runtime, task = await _run(harness.settings)
    try:
        harness.pool = await asyncpg.create_pool(
            harness.settings.database_url("notifications"), min_size=1, max_size=2
        )
        case = uuid4()
        sent = await harness.publish(_overdue(case), _overdue(uuid4(), gmina=NEIGHBOUR))
        await harness.settle(sent)
        mine = harness.who(Role.COORDINATOR, subject="marek", gmina=GMINA)
        powiat = harness.who(Role.COORDINATOR, subject="powiat", powiat=GMINA[:4])
        neighbour = harness.who(Role.COORDINATOR, subject="sasiad", gmina=NEIGHBOUR)
        caseworker = harness.who(Role.CASEWORKER, gmina=GMINA)
        [n] = (await harness.inbox(mine))["items"]
        assert n["case_id"] == str(case) and n["read_at"] is None
        assert (await harness.inbox(powiat))["total"] == 2
        assert (await harness.inbox(neighbour))["total"] == 1
        assert (await harness.inbox(caseworker))["total"] == 0
        # Another gmina's notification is not found for this coordinator.
        [theirs] = (await harness.inbox(neighbour))["items"]
        r = await harness.call("GET", f"/notifications/{theirs['notification_id']}", mine)
        assert r.status_code == 404
        # Reading marks it read, for this person only.
        r = await harness.call("GET", f"/notifications/{n['notification_id']}", mine)
        assert r.status_code == 200 and r.json()["read_at"] is not None
        assert (await harness.inbox(mine))["unread"] == 0
        assert (await harness.inbox(powiat))["unread"] == 2
        r = await harness.call(
            "POST",
            f"/notifications/{n['notification_id']}/read",
            {**powiat, "Idempotency-Key": "k1"},
        )
        assert r.status_code == 200, r.text
        assert (await harness.inbox(powiat, unread="true"))["total"] == 1
    finally:
        await _stop(runtime, task)


async def test_follow_ups_come_from_the_last_closing_in_any_order_and_twice(
    harness: Harness,
) -> None:
    runtime, task = await _run(harness.settings)
    try:
        harness.pool = await asyncpg.create_pool(
            harness.settings.database_url("notifications"), min_size=1, max_size=2
        )
        early, late = uuid4(), uuid4()
        closed_1 = CaseClosed(
            case_id=late,
            place=PLACE,
            closed_on=date(2026, 1, 10),
            outcome=CaseOutcome.COMPLETED_SUCCESSFULLY,
            round=1,
        )
        reopened = CaseReopened(case_id=late, place=PLACE, reopened_on=date(2026, 2, 1), round=2)
        closed_2 = closed_1.model_copy(update={"closed_on": date(2026, 3, 1), "round": 2})
        other = closed_1.model_copy(update={"case_id": early})
        # The 3 months' follow-up of `early` recorded already, before its closing arrives.
        recorded = CaseFollowUpRecorded(
            case_id=early,
            place=PLACE,
            round=1,
            closed_on=date(2026, 1, 10),
            months=3,
            recorded_on=date(2026, 4, 12),
            sustained=True,
        )
        # The reopening first, the closing of round 1 after it, everything twice.
        envelopes = [wrap(e, region="06", service="t") for e in (reopened, closed_1, closed_2)]
        sent = await harness.publish(recorded, *envelopes, *reversed(envelopes), other)
        await harness.settle(sent)
        rows = await harness.pool.fetch(
            "SELECT case_id, round, months, due_on FROM follow_ups ORDER BY case_id, months"
        )
        by_case = {(r["case_id"], r["round"], r["months"]): r["due_on"] for r in rows}
        assert by_case == {
            (late, 2, 3): date(2026, 6, 1),
            (late, 2, 6): date(2026, 9, 1),
            (early, 1, 3): date(2026, 4, 10),
            (early, 1, 6): date(2026, 7, 10),
        }
        # All these are due by now: the job turns each into one notification.
        await remind_follow_ups.pass_(runtime_ctx(runtime, harness.pool))
        await remind_follow_ups.pass_(runtime_ctx(runtime, harness.pool))
        caseworker = harness.who(Role.CASEWORKER, gmina=GMINA)
        inbox = await harness.inbox(caseworker)
        assert sorted((n["case_id"], n["details"]["months"]) for n in inbox["items"]) == sorted(
            [(str(late), "3"), (str(late), "6"), (str(early), "6")]
        )
    finally:
        await _stop(runtime, task)


def runtime_ctx(runtime: ServiceRuntime, pool: asyncpg.Pool) -> ServiceContext:
    return ServiceContext("notifications", runtime.settings, pool, Origin("06", "notifications"))
