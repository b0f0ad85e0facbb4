"""What an operator runs and watches: `kooperacja status` as a subprocess against the running
stack (exit 0 when all is well, non-zero with a dead letter waiting or a service down), and
/metrics after some traffic."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from uuid import uuid4

import aio_pika
import pytest
from prometheus_client.parser import text_string_to_metric_families

from shared.auth import Role
from shared.settings import Settings
from shared.topology import dead_letter_queue_name
from tests.e2e.conftest import Api, Stack
from tests.support import wait_until

pytestmark = pytest.mark.e2e
GMINA = "0607062"  # Szastarka: this test's own gmina


def kooperacja(*args: str) -> subprocess.CompletedProcess[str]:
    """The command as an operator types it, with the test stack's environment."""
    return subprocess.run(
        [sys.executable, "-m", "kooperacja", *args],
        capture_output=True,
        text=True,
        timeout=60,
        env=dict(os.environ),
        check=False,
    )


def status_until(exit_code: int, *, within: float = 30) -> str:
    def exited() -> str | None:
        done = kooperacja("status")
        return done.stdout or " " if done.returncode == exit_code else None

    return wait_until(exited, within=within, what=f"status to exit {exit_code}", every=0.5)


async def test_status_is_zero_when_healthy_and_not_with_a_dead_letter_or_a_service_down(
    running: Stack, settings: Settings
) -> None:
    healthy = await asyncio.to_thread(status_until, 0)
    for service in ("intake", "diagnosis", "referrals", "reporting"):
        assert any(line.startswith(service) and " yes " in line for line in healthy.splitlines())
    assert "all well" in healthy

    # A dead letter waits in diagnosis's dead-letter queue.
    poison_id = str(uuid4())
    connection = await aio_pika.connect(settings.amqp_url)
    try:
        channel = await connection.channel(publisher_confirms=True)
        await channel.default_exchange.publish(
            aio_pika.Message(
                body=b"{not json",
                message_id=poison_id,
                headers={"x-error": "malformed JSON (operator test)", "x-attempts": 1},
                delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
            ),
            routing_key=dead_letter_queue_name("diagnosis"),
        )
    finally:
        await connection.close()
    try:
        waiting = await asyncio.to_thread(status_until, 1)
        assert "dead letter(s) wait in diagnosis's dead-letter queue" in waiting, waiting
        listed = await asyncio.to_thread(kooperacja, "dlq", "list", "diagnosis")
        assert listed.returncode == 0 and "malformed JSON (operator test)" in listed.stdout
    finally:
        purged = await asyncio.to_thread(kooperacja, "dlq", "purge", "diagnosis", "--id", poison_id)
    assert purged.returncode == 0 and "1 message(s) purged" in purged.stdout, purged.stdout
    await asyncio.to_thread(status_until, 0)

    # A service killed: status says so and fails until it is back.
    running.kill("referrals")
    try:
        down = await asyncio.to_thread(status_until, 1)
        [line] = [x for x in down.splitlines() if x.startswith("referrals")]
        assert " DOWN " in line, down
        assert "referrals does not answer" in down
        assert "nobody consumes referrals's queue" in down
    finally:
        await asyncio.to_thread(running.start, "referrals")
    await asyncio.to_thread(status_until, 0)


def samples(text: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


async def test_metrics_expose_handled_failed_latency_and_outbox_backlog(api: Api) -> None:
    r = await api.call(
        "POST",
        "intake",
        "/cases",
        api.as_(Role.CASEWORKER, gmina=GMINA),
        json={
            "gmina": GMINA,
            "members": [
                {
                    "first_name": "Ewa",
                    "last_name": "Metryczna",
                    "birth_date": "1990-01-01",
                    "sex": "F",
                }
            ],
            "reasons": ["1"],
            "notified_by": "self",
            "consent_to_share": True,
        },
    )
    assert r.status_code == 201, r.text
    diagnosis = f"{api.settings.base_url('diagnosis')}/metrics"
    intake = f"{api.settings.base_url('intake')}/metrics"

    async def handled() -> dict | None:
        found = samples((await api.http.get(diagnosis)).text)
        key = (
            "kooperacja_events_handled_total",
            frozenset({("service", "diagnosis"), ("type", "case.opened.v1")}),
        )
        return found if found.get(key, 0) >= 1 else None

    found = await api.eventually(handled, what="diagnosis to count the case.opened.v1 it handled")
    service = frozenset({("service", "diagnosis")})
    assert ("kooperacja_events_failed_total", service) in found
    assert ("kooperacja_events_dead_lettered_total", service) in found
    latency = (
        "kooperacja_handler_seconds_count",
        frozenset({("service", "diagnosis"), ("type", "case.opened.v1")}),
    )
    assert found[latency] >= 1
    assert ("kooperacja_outbox_backlog", service) in found

    from_intake = samples((await api.http.get(intake)).text)
    assert (
        from_intake[("kooperacja_events_published_total", frozenset({("service", "intake")}))] >= 1
    )
    assert ("kooperacja_outbox_backlog", frozenset({("service", "intake")})) in from_intake
