"""The operator's dead-letter tools: see why a message failed, replay it once fixed, purge."""

from __future__ import annotations

from datetime import date
from uuid import uuid4

import asyncpg
import pytest
from aio_pika.abc import AbstractRobustConnection

from kooperacja.operations import dead_letters
from shared.envelope import wrap
from shared.events import CaseClosed
from shared.runtime import ServiceRuntime
from shared.settings import Settings
from tests.integration.conftest import FIXED, eventually
from tests.integration.test_consumer import PLACE, effects, publish

pytestmark = pytest.mark.integration


async def _failed_close(amqp: AbstractRobustConnection, settings: Settings):
    closed = CaseClosed(
        case_id=uuid4(), place=PLACE, closed_on=date(2026, 5, 1), outcome="moved_away"
    )
    envelope = wrap(closed, region="06", service="intake")
    await publish(amqp, settings, envelope.to_bytes(), "case.closed.v1")

    async def listed() -> list[dict]:
        found = await dead_letters(settings.amqp_url, "probe", action="list")
        return [m for m in found if m["event_id"] == str(envelope.id)]

    [item] = await eventually(listed, what="the dead letter")
    return closed, envelope, item


async def test_replayed_message_whose_cause_was_fixed_is_processed_once(
    probe: ServiceRuntime,
    settings: Settings,
    probe_pool: asyncpg.Pool,
    amqp: AbstractRobustConnection,
) -> None:
    closed, envelope, item = await _failed_close(amqp, settings)
    assert item["type"] == "pl.kooperacja.case.closed.v1"
    assert "always fails" in item["error"]
    assert item["routing_key"] == "case.closed.v1"

    FIXED.add(closed.case_id)  # the operator fixed the cause
    replayed = await dead_letters(
        settings.amqp_url, "probe", action="replay", message_id=str(envelope.id)
    )
    assert [r["event_id"] for r in replayed] == [str(envelope.id)]

    await eventually(lambda: effects(probe_pool, closed.case_id), what="the replayed effect")
    assert await effects(probe_pool, closed.case_id) == 1
    left = await dead_letters(settings.amqp_url, "probe", action="list")
    assert str(envelope.id) not in {m["event_id"] for m in left}


async def test_listing_keeps_and_purging_removes_dead_letters(
    probe: ServiceRuntime, settings: Settings, amqp: AbstractRobustConnection
) -> None:
    _, envelope, _ = await _failed_close(amqp, settings)
    for _ in range(2):  # listing twice shows it twice: listing takes nothing away
        listed = await dead_letters(settings.amqp_url, "probe", action="list")
        assert str(envelope.id) in {m["event_id"] for m in listed}
    purged = await dead_letters(
        settings.amqp_url, "probe", action="purge", message_id=str(envelope.id)
    )
    assert [m["event_id"] for m in purged] == [str(envelope.id)]
    listed = await dead_letters(settings.amqp_url, "probe", action="list")
    assert str(envelope.id) not in {m["event_id"] for m in listed}
