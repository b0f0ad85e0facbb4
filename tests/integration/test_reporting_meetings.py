"""Reporting of the partnerships' meetings on the real broker and database: meetings held,
institutions attending on average, the sectors engaged and the cases discussed, per gmina,
powiat and region; each version of a meeting in any order and more than once; small cells
withheld from analysts (cell-key); a rebuild equals live."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date
from uuid import UUID, uuid4

import pytest

from services.reporting.rebuild import rebuild
from shared.auth import Role
from shared.events import MeetingAttendance, MeetingDecisionRecorded, MeetingHeld
from tests.integration.reporting_stack import ReportingStack, place, start_reporting_stack
from tests.integration.test_reporting_projections import report, row, rural

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
async def stack() -> AsyncIterator[ReportingStack]:
    async for s in start_reporting_stack():
        yield s


def meeting(
    gmina: str,
    held_on: date,
    attendance: list[tuple[UUID, str]],
    cases: list[UUID],
    *,
    version: int = 1,
    meeting_id: UUID | None = None,
    decisions: int = 0,
) -> MeetingHeld:
    return MeetingHeld(
        meeting_id=meeting_id or uuid4(),
        partnership_id=uuid4(),
        place=place(gmina),
        held_on=held_on,
        version=version,
        institutions=[i for i, _ in attendance],
        sectors=sorted({s for _, s in attendance}),
        attendance=[MeetingAttendance(institution_id=i, sector=s) for i, s in attendance],
        cases=cases,
        decisions=decisions,
    )


async def test_meetings_held_attendance_sectors_and_cases_in_any_order_and_twice(
    stack: ReportingStack,
) -> None:
    [gmina, neighbour] = rural("16", 5, 2)
    ops, school, police = (
        (uuid4(), "social_assistance"),
        (uuid4(), "education"),
        (uuid4(), "police"),
    )
    family, other = uuid4(), uuid4()
    first = meeting(gmina, date(2025, 2, 10), [ops, school], [family])
    # the first meeting's second version: a plan agreed later, another case discussed
    first_again = meeting(
        gmina, date(2025, 2, 10), [ops, school], [family, other], version=2,
        meeting_id=first.meeting_id, decisions=2,
    )  # fmt: skip
    second = meeting(gmina, date(2025, 3, 10), [ops, school, police], [family])
    elsewhere = meeting(neighbour, date(2025, 3, 12), [ops], [])
    decided = MeetingDecisionRecorded(
        decision_id=uuid4(), meeting_id=first.meeting_id, place=place(gmina),
        held_on=date(2025, 2, 10), kind="plan_agreed", case_id=family,
    )  # fmt: skip
    events = [first_again, second, decided, first, elsewhere]  # the later version first
    sent = await stack.publish(*events)
    again = await stack.publish(*sent)
    await stack.settle(sent + again)

    coordinator = stack.who(Role.COORDINATOR, powiat=gmina[:4])
    table = await report(stack, "meetings", coordinator, by="gmina")
    mine = row(table, gmina)
    assert mine["cells"] == {"held": 2, "attendances": 5, "cases_discussed": 2}
    assert mine["institutions_per_meeting"] == 2.5
    assert row(table, neighbour)["cells"] == {"held": 1, "attendances": 1, "cases_discussed": 0}
    sectors = await report(stack, "meeting_sectors", coordinator, by="gmina")
    line = row(sectors, gmina)
    assert (line["cells"]["social_assistance"], line["cells"]["education"]) == (2, 2)
    assert line["cells"]["police"] == 1 and line["sectors_engaged"] == 3
    # as of a day between the meetings: the first only
    then = row(await report(stack, "meetings", coordinator, by="gmina", as_of="2025-02-28"), gmina)
    assert then["cells"] == {"held": 1, "attendances": 2, "cases_discussed": 2}
    # per powiat and region the same meetings add up
    powiat = row(await report(stack, "meetings", coordinator, by="powiat"), gmina[:4])
    assert powiat["cells"]["held"] == 3

    # an analyst of the region: small cells withheld (cell-key), the average with them
    analyst = stack.who(Role.ANALYST, region="16")
    protected = await report(stack, "meetings", analyst, by="gmina")
    assert protected["suppression"]["method"] == "cell-key"
    line = row(protected, gmina)
    assert line["cells"]["held"] is None and line["institutions_per_meeting"] is None


async def test_a_rebuild_equals_live_for_meetings(stack: ReportingStack) -> None:
    [gmina] = rural("16", 8)
    held = meeting(gmina, date(2025, 4, 1), [(uuid4(), "health")], [uuid4()])
    sent = await stack.publish(held)
    await stack.settle(sent)
    live = await stack.snapshot()
    assert any(r["meeting_id"] == held.meeting_id for r in live["meeting_facts"])
    await rebuild(stack.pool, stack.settings.amqp_url, batch_size=3)
    assert await stack.snapshot() == live
