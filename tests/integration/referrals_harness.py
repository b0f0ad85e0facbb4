"""The referrals service as its own process on a RabbitMQ vhost, databases and port of its own,
so that its tests publish events only it consumes, and can stop and start it like an operator.

Import `referrals_fixture` and `referrals_process_fixture` into a test module to use them."""

from __future__ import annotations

import itertools
import os
import signal
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from datetime import date
from typing import Any
from uuid import UUID, uuid4

import aio_pika
import asyncpg
import httpx
import pytest

from shared.auth import Role, issue_token
from shared.envelope import CONTENT_TYPE, Envelope, parse_envelope, wrap
from shared.events import (
    CaseClosed,
    Event,
    PartnershipChanged,
    Place,
    PlanAgreed,
    PlanGoal,
    PlannedSupport,
    PlanRevised,
)
from shared.settings import Settings, get_settings
from shared.teryt import terc
from shared.topology import declare_exchange
from tests.conftest import NAMESPACE, PORT_BASE
from tests.integration.conftest import eventually
from tests.support import wait_ready

VHOST = f"{NAMESPACE}_ref"
ENV = {
    "KOOP_AMQP_URL": f"amqp://guest:guest@127.0.0.1:5672/{VHOST}",
    "KOOP_DATABASE_PREFIX": f"{NAMESPACE}_ref",  # dropped with the others by tests/conftest.py
    "KOOP_REFERRALS_PORT": str(PORT_BASE + 8),
    "KOOP_REFERRALS_WATCH_SECONDS": "0.2",
    "KOOP_OUTBOX_POLL_SECONDS": "0.2",
}

# Whole powiats handed out one per test, so that capacity and load never cross tests.
_POWIATS = iter(
    sorted(
        {g.powiat for region in ("06", "14", "18", "20", "26") for g in terc().in_region(region)}
    )
)


class Area:
    """A powiat of the test's own and some of its gminas."""

    def __init__(self) -> None:
        while True:
            self.powiat = next(_POWIATS)
            self.gminas = sorted(
                g.code for g in terc().in_region(self.powiat[:2]) if g.powiat == self.powiat
            )
            if len(self.gminas) >= 3:
                break
        self.gmina = self.gminas[0]

    def place(self, gmina: str | None = None) -> Place:
        return terc().gmina(gmina or self.gmina).place


class ReferralsProcess:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.proc: subprocess.Popen[bytes] | None = None
        self.base_url = f"http://{settings.http_host}:{ENV['KOOP_REFERRALS_PORT']}"

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "services.referrals"], env={**os.environ, **ENV}
        )
        wait_ready(self.proc, self.base_url, name="referrals", within=60)

    def kill(self) -> None:
        """A crash: no graceful shutdown."""
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait()
        self.proc = None

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=40)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None


class Referrals:
    """What a test drives: HTTP with role tokens, events published and seen, the database."""

    def __init__(
        self,
        process: ReferralsProcess,
        http: httpx.AsyncClient,
        db: asyncpg.Pool,
        exchange: aio_pika.abc.AbstractExchange,
        seen: list[Envelope],
    ) -> None:
        self.process = process
        self.http = http
        self.db = db
        self.partnerships: dict[str, set[UUID]] = {}
        self.exchange = exchange
        self.seen = seen

    def as_(self, role: Role, **scope: Any) -> dict[str, str]:
        token = issue_token(get_settings(), subject=f"test-{role}", role=role, **scope)
        return {"Authorization": f"Bearer {token}"}

    def coordinator(self, area: Area) -> dict[str, str]:
        return self.as_(Role.COORDINATOR, powiat=area.powiat)

    def staff(self, institution_id: Any) -> dict[str, str]:
        return self.as_(Role.INSTITUTION_STAFF, institution=institution_id)

    async def register(
        self,
        area: Area,
        support_types: list[str],
        *,
        gminas: list[str] | None = None,
        powiats: list[str] | None = None,
        capacity: int = 10,
        partnership: bool = False,
        **more: Any,
    ) -> UUID:
        served = gminas if gminas is not None else [area.gmina]
        response = await self.http.post(
            "/api/v1/institutions",
            headers=self.coordinator(area),
            json={
                "name": f"Instytucja {uuid4().hex[:8]}",
                "sector": "social_assistance",
                "support_types": support_types,
                "gminas": served,
                "powiats": powiats or [],
                "capacity": capacity,
                **more,
            },
        )
        assert response.status_code == 201, response.text
        institution = UUID(response.json()["institution_id"])
        if partnership:
            for gmina in served:
                await self.join_partnership(gmina, institution)
        return institution

    async def join_partnership(self, gmina: str, institution: UUID) -> None:
        """The institution joins the gmina's PZK as the partnership service announces it (the
        whole member list), once referrals has taken the announcement."""
        members = self.partnerships.setdefault(gmina, set())
        members.add(institution)
        await self.publish(
            PartnershipChanged(gmina=gmina, institutions=sorted(members)),
            envelope=wrap(
                PartnershipChanged(gmina=gmina, institutions=sorted(members)),
                region=gmina[:2],
                service="partnership",
            ),
        )

        async def taken() -> bool:
            rows = await self.db.fetch(
                "SELECT institution_id FROM partnerships WHERE gmina = $1", gmina
            )
            return {r["institution_id"] for r in rows} == members

        await eventually(taken, what=f"referrals to take the PZK of {gmina}")

    async def publish(self, event: Event, *, envelope: Envelope | None = None) -> Envelope:
        envelope = envelope or wrap(event, region=event.place.region, service="diagnosis")  # type: ignore[attr-defined]
        await self.exchange.publish(
            aio_pika.Message(
                body=envelope.to_bytes(),
                content_type=CONTENT_TYPE,
                delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
            ),
            routing_key=event.routing_key,
        )
        return envelope

    async def agree_plan(
        self,
        area: Area,
        *support_types: str,
        case_id: UUID | None = None,
        gmina: str | None = None,
        round: int = 1,
    ) -> PlanAgreed:
        """A plan (IPW) agreed with one support per support type, published."""
        event = agreed(area, *support_types, case_id=case_id, gmina=gmina, round=round)
        await self.publish(event)
        return event

    async def close_case(self, area: Area, case_id: UUID, round: int = 1) -> None:
        await self.publish(
            CaseClosed(
                case_id=case_id,
                place=area.place(),
                closed_on=date(2026, 6, 1),
                outcome="completed_successfully",
                round=round,
            )
        )

    async def referrals_of(self, case_id: UUID) -> list[dict[str, Any]]:
        rows = await self.db.fetch(
            "SELECT * FROM referrals WHERE case_id = $1 ORDER BY created_at", case_id
        )
        return [dict(r) for r in rows]

    async def routed(self, case_id: UUID, count: int) -> list[dict[str, Any]]:
        """Wait until the case has `count` referrals (any state)."""

        async def check() -> list[dict[str, Any]] | None:
            found = await self.referrals_of(case_id)
            return found if len(found) >= count else None

        return await eventually(check, what=f"{count} referrals of case {case_id}")

    def events(self, routing_key: str, **match: Any) -> list[dict[str, Any]]:
        """Data of the events of this type seen on the exchange whose fields match."""
        found = []
        for envelope in list(self.seen):
            if envelope.routing_key != routing_key:
                continue
            if all(str(envelope.data.get(k)) == str(v) for k, v in match.items()):
                found.append(envelope.data)
        return found

    async def event(self, routing_key: str, count: int = 1, **match: Any) -> list[dict[str, Any]]:
        async def check() -> list[dict[str, Any]] | None:
            found = self.events(routing_key, **match)
            return found if len(found) >= count else None

        return await eventually(check, what=f"{count} × {routing_key} {match}")


def agreed(
    area: Area,
    *support_types: str,
    case_id: UUID | None = None,
    gmina: str | None = None,
    round: int = 1,
) -> PlanAgreed:
    """A plan with one goal for the household (the OPS responsible) holding one support per
    support type, the first most urgent."""
    goal = PlanGoal(
        goal_id=uuid4(),
        area="parenting",
        member_id=None,
        responsible_institution_id=None,
        due_on=date(2026, 11, 1),
        review_on=date(2026, 8, 1),
    )
    return PlanAgreed(
        plan_id=uuid4(),
        diagnosis_id=uuid4(),
        case_id=case_id or uuid4(),
        place=area.place(gmina),
        agreed_on=date(2026, 5, 1),
        goals=[goal],
        supports=[
            PlannedSupport(
                recommendation_id=uuid4(),
                support_type=t,
                need_area="parenting",
                priority=min(i + 1, 3),
                goal_id=goal.goal_id,
            )
            for i, t in enumerate(support_types)
        ],
        round=round,
    )


def revised(
    first: PlanAgreed,
    keep: list[PlannedSupport],
    add: list[str],
    removed: list[UUID],
    version: int = 2,
) -> PlanRevised:
    goal = first.goals[0].goal_id
    return PlanRevised(
        plan_id=first.plan_id,
        diagnosis_id=first.diagnosis_id,
        case_id=first.case_id,
        place=first.place,
        revised_on=date(2026, 7, 1),
        version=version,
        goals=first.goals,
        supports=[
            *keep,
            *(
                PlannedSupport(
                    recommendation_id=uuid4(),
                    support_type=t,
                    need_area="parenting",
                    priority=2,
                    goal_id=goal,
                )
                for t in add
            ),
        ],
        removed=removed,
    )


_counter = itertools.count()


def _rabbitmqctl(*args: str) -> None:
    subprocess.run(["rabbitmqctl", "-q", *args], check=True, capture_output=True, timeout=60)


_running: list[ReferralsProcess] = []


@pytest.fixture(scope="session", name="referrals_process")
def referrals_process_fixture(settings: Settings) -> Iterator[ReferralsProcess]:
    # Each test module that imports this fixture gets a definition of its own; they share one
    # process (one port, one vhost), started by the first and stopped at the end of the session.
    if not _running:
        subprocess.run(["rabbitmqctl", "-q", "delete_vhost", VHOST], capture_output=True)
        _rabbitmqctl("add_vhost", VHOST)
        _rabbitmqctl("set_permissions", "-p", VHOST, "guest", ".*", ".*", ".*")
        process = ReferralsProcess(settings)
        process.start()
        _running.append(process)
    yield _running[0]
    _running[0].stop()


@pytest.fixture(scope="session", name="referrals")
async def referrals_fixture(
    referrals_process: ReferralsProcess, settings: Settings
) -> AsyncIterator[Referrals]:
    connection = await aio_pika.connect_robust(ENV["KOOP_AMQP_URL"])
    channel = await connection.channel(publisher_confirms=True)
    exchange = await declare_exchange(channel, settings.exchange)
    queue = await channel.declare_queue(f"referrals-tests-{next(_counter)}", exclusive=True)
    await queue.bind(exchange, routing_key="#")
    seen: list[Envelope] = []

    async def on_message(message: aio_pika.abc.AbstractIncomingMessage) -> None:
        seen.append(parse_envelope(message.body))
        await message.ack()

    await queue.consume(on_message)
    db_url = f"{settings.postgres_url.rstrip('/')}/{ENV['KOOP_DATABASE_PREFIX']}_referrals"
    db = await asyncpg.create_pool(db_url, min_size=1, max_size=4)
    async with httpx.AsyncClient(base_url=referrals_process.base_url, timeout=30) as http:
        yield Referrals(referrals_process, http, db, exchange, seen)
    await db.close()
    await connection.close()
