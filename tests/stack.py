"""All five services started as their own processes, as `kooperacja up` does, on the test vhost
and databases; and an outside subscriber that records every event on the exchange.

Registered once, by tests/conftest.py, so the end-to-end and the browser tests share one stack
in a run (`from tests.e2e.conftest import Api` still works for the classes)."""

from __future__ import annotations

import os
import subprocess
from collections.abc import AsyncIterator, Iterator
from datetime import date
from pathlib import Path
from typing import Any

import aio_pika
import httpx
import pytest

from kooperacja import processes
from kooperacja.plans import plan_covering
from shared.auth import Role, issue_token
from shared.settings import Settings, get_settings
from shared.topology import declare_exchange
from tests.support import an_institution, eventually


@pytest.fixture(scope="session")
def settings() -> Settings:
    return get_settings()


@pytest.fixture(scope="session")
async def outside_subscriber(settings: Settings) -> AsyncIterator[list[bytes]]:
    """A subscribing system's view: every event on the exchange, from before the first case."""
    connection = await aio_pika.connect_robust(settings.amqp_url)
    channel = await connection.channel()
    exchange = await declare_exchange(channel, settings.exchange)
    queue = await channel.declare_queue("outside-subscriber", exclusive=True)
    await queue.bind(exchange, routing_key="#")
    received: list[bytes] = []

    async def on_message(message: aio_pika.abc.AbstractIncomingMessage) -> None:
        received.append(message.body)
        await message.ack()

    await queue.consume(on_message)
    yield received
    await connection.close()


# Each service's output, for a test to read (the no-leak test looks for personal data there).
LOG_DIR = (
    Path(".kooperacja") / "test-logs" / os.environ.get("KOOP_TEST_NAMESPACE", "kooperacja_test")
)


class Stack:
    """The running services; fault tests kill and restart them."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.procs: dict[str, subprocess.Popen] = {}
        self.log_dir = LOG_DIR.resolve()
        for old in self.log_dir.glob("*.log"):
            old.unlink()

    def start(self, *names: str) -> None:
        started = processes.start(
            self.settings, only=names or processes.SERVICES, log_dir=self.log_dir
        )
        self.procs.update(started)
        processes.wait_ready(self.settings, started, timeout=90)

    def kill(self, name: str) -> None:
        """kill -9: no chance to finish anything."""
        self.procs[name].kill()
        self.procs[name].wait()

    def stop(self) -> None:
        processes.stop(self.procs)


@pytest.fixture(scope="session")
def running(settings: Settings, outside_subscriber: list[bytes]) -> Iterator[Stack]:
    stack = Stack(settings)
    try:
        stack.start()
        yield stack
    finally:
        stack.stop()


@pytest.fixture(scope="session")
def stack(running: Stack) -> Settings:
    return running.settings


class Api:
    """A person at a keyboard: HTTP calls with the token of a role."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.http = httpx.AsyncClient(timeout=10)

    def as_(self, role: Role, **scope: Any) -> dict[str, str]:
        token = issue_token(self.settings, subject=f"e2e-{role}", role=role, **scope)
        return {"Authorization": f"Bearer {token}"}

    async def call(
        self, method: str, service: str, path: str, who: dict[str, str], **kwargs: Any
    ) -> httpx.Response:
        url = f"{self.settings.base_url(service)}/api/v1{path}"
        return await self.http.request(method, url, headers=who, **kwargs)

    async def register_institution(
        self,
        gmina: str,
        name: str,
        support_types: list[str],
        *,
        sector: str = "social_assistance",
        capacity: int = 5,
        partner: bool = True,
    ) -> str:
        """Register an institution serving one gmina (on its PZK when `partner`); its id."""
        response = await self.call(
            "POST",
            "referrals",
            "/institutions",
            self.as_(Role.COORDINATOR, gmina=gmina),
            json=an_institution(name, sector, support_types, [gmina], capacity=capacity),
        )
        assert response.status_code == 201, response.text
        institution = str(response.json()["institution_id"])
        if partner:
            await self.join_partnership(gmina, institution)
        return institution

    async def join_partnership(self, gmina: str, institution: str) -> None:
        """The gmina's coordinator takes the institution into its PZK (the partnership
        service); diagnosis and referrals learn it from partnership.changed.v1."""
        response = await self.call(
            "POST",
            "partnership",
            f"/partnerships/{gmina}/members",
            self.as_(Role.COORDINATOR, gmina=gmina),
            json={"institution_id": institution, "joined_on": date.today().isoformat()},
        )
        assert response.status_code == 201, response.text

    async def open_case(
        self,
        gmina: str,
        *members: dict[str, str],
        reasons: list[str],
        notified_by: str,
        consent: bool = True,
    ) -> str:
        """A caseworker of the gmina opens a case for the household; its id."""
        response = await self.call(
            "POST",
            "intake",
            "/cases",
            self.as_(Role.CASEWORKER, gmina=gmina),
            json={
                "gmina": gmina,
                "members": list(members),
                "reasons": reasons,
                "notified_by": notified_by,
                "consent_to_share": consent,
            },
        )
        assert response.status_code == 201, response.text
        return str(response.json()["case_id"])

    async def diagnosis_of(self, case_id: str, who: dict[str, str]) -> dict[str, Any]:
        """The case's diagnosis, once diagnosis has opened it from case.opened.v1."""

        async def opened() -> Any:
            r = await self.call("GET", "diagnosis", f"/diagnoses?case_id={case_id}", who)
            return r.json() if r.status_code == 200 and r.json() else None

        [diagnosis] = await self.eventually(opened, what="the diagnosis to open")
        return diagnosis  # type: ignore[no-any-return]

    async def agree_plan(self, diagnosis_id: str, who: dict[str, str]) -> dict[str, Any]:
        """The family agrees to the simplest plan (IPW) of its completed diagnosis: one goal
        per need area holding that area's recommendations (kooperacja.plans). Support starts:
        referrals routes the plan's supports."""
        r = await self.call("GET", "diagnosis", f"/diagnoses/{diagnosis_id}", who)
        assert r.status_code == 200, r.text
        body = plan_covering(r.json(), date.today())
        r = await self.call("POST", "diagnosis", f"/diagnoses/{diagnosis_id}/plan", who, json=body)
        assert r.status_code == 201, r.text
        return r.json()  # type: ignore[no-any-return]

    async def eventually(self, fetch: Any, *, within: float = 20, what: str = "it") -> Any:
        return await eventually(fetch, within=within, what=what, every=0.1)


@pytest.fixture
async def api(stack: Settings) -> AsyncIterator[Api]:
    client = Api(stack)
    yield client
    await client.http.aclose()
