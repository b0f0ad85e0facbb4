"""Reporting of the partnership's group activities and of its evaluation on the real broker and
database: activities, sessions, hours and distinct participants by type; follow-ups of families
after closing beside the success share and the testing-phase figure; the members' survey with
small rounds withheld. Each event in any order and more than once; a rebuild equals live."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date
from uuid import UUID, uuid4

import pytest

from services.reporting.rebuild import rebuild
from shared.auth import Role
from shared.envelope import Envelope, wrap
from shared.events import (
    ActivityParticipationChanged,
    ActivityRegistered,
    ActivitySessionHeld,
    CaseFollowUpRecorded,
    Event,
    SurveyAnswerCounts,
    SurveyRoundClosed,
)
from tests.integration.reporting_stack import ReportingStack, place, start_reporting_stack
from tests.integration.test_reporting_projections import closed, opened, report, row, rural

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
async def stack() -> AsyncIterator[ReportingStack]:
    async for s in start_reporting_stack():
        yield s


def by_intake(event: Event, sequence: int) -> Envelope:
    """The event as intake publishes it: with the case's sequence number."""
    return wrap(event, region=event.place.region, service="intake", sequence=sequence)  # type: ignore[attr-defined]


def an_activity(gmina: str, kind: str, on: date = date(2025, 3, 1)) -> ActivityRegistered:
    return ActivityRegistered(
        activity_id=uuid4(), place=place(gmina), activity_type=kind, started_on=on
    )


def a_session(activity: ActivityRegistered, on: date, minutes: int) -> ActivitySessionHeld:
    return ActivitySessionHeld(
        session_id=uuid4(), activity_id=activity.activity_id, place=activity.place,
        activity_type=activity.activity_type, held_on=on, minutes=minutes,
    )  # fmt: skip


def taking_part(
    case_id: UUID, activity: ActivityRegistered, here: int, in_type: int, on: date
) -> ActivityParticipationChanged:
    return ActivityParticipationChanged(
        case_id=case_id, place=activity.place, activity_id=activity.activity_id,
        activity_type=activity.activity_type, changed_on=on, participants=here,
        participants_in_type=in_type,
    )  # fmt: skip


async def test_a_senior_club_with_sessions_and_participants_in_any_order_and_twice(
    stack: ReportingStack,
) -> None:
    [gmina] = rural("10", 0)
    club, other_club = an_activity(gmina, "club"), an_activity(gmina, "club")
    workshops = an_activity(gmina, "workshop_cycle")
    sessions = [a_session(club, date(2025, 3, d), 90) for d in (4, 11, 18)]
    sessions.append(a_session(workshops, date(2025, 3, 5), 120))
    family, couple, alone = uuid4(), uuid4(), uuid4()
    # the family: two members join the club, then one of them also the other club (still two
    # distinct club participants), then one leaves the first club (still two in clubs)
    changes = [
        by_intake(taking_part(family, club, 2, 2, date(2025, 3, 4)), 5),
        by_intake(taking_part(family, other_club, 1, 2, date(2025, 3, 11)), 6),
        by_intake(taking_part(family, club, 1, 2, date(2025, 3, 18)), 7),
        by_intake(taking_part(couple, club, 2, 2, date(2025, 3, 4)), 3),
        by_intake(taking_part(alone, club, 1, 1, date(2025, 3, 4)), 9),
        by_intake(taking_part(alone, workshops, 1, 1, date(2025, 3, 5)), 10),
        by_intake(taking_part(alone, club, 0, 0, date(2025, 3, 25)), 11),  # left the club
    ]
    # the latest first, participation before its activity, every event twice
    sent = await stack.publish(*reversed(changes), *sessions, club, other_club, workshops)
    again = await stack.publish(*sent)
    await stack.settle(sent + again)

    coordinator = stack.who(Role.COORDINATOR, gmina=gmina)
    activities = row(await report(stack, "activities", coordinator), gmina)
    assert activities["cells"]["club"] == 2 and activities["cells"]["workshop_cycle"] == 1
    assert activities["total"] == 3
    held = await report(stack, "activity_sessions", coordinator)
    mine = row(held, gmina)
    assert mine["cells"]["club"] == 3 and mine["cells"]["workshop_cycle"] == 1
    assert mine["hours"]["club"] == 4.5 and mine["hours"]["workshop_cycle"] == 2.0
    assert mine["hours"]["total"] == 6.5 and held["total"]["hours"]["total"] == 6.5
    people = row(await report(stack, "activity_participants", coordinator), gmina)
    # clubs: the family's two and the couple; the one living alone left the club
    assert people["cells"]["club"] == 4 and people["cells"]["workshop_cycle"] == 1
    assert people["total"] == 5
    # as it stood on 11 March: the one living alone was still in the club
    then = row(await report(stack, "activity_participants", coordinator, as_of="2025-03-11"), gmina)
    assert then["cells"]["club"] == 5 and then["cells"]["workshop_cycle"] == 1
    before = row(await report(stack, "activity_sessions", coordinator, as_of="2025-03-10"), gmina)
    assert before["cells"]["club"] == 1 and before["hours"]["club"] == 1.5

    # an analyst of the region: small counts withheld, and so are the hours beside them
    analyst = stack.who(Role.ANALYST, region="10")
    protected = await report(stack, "activity_sessions", analyst, by="gmina")
    assert protected["suppression"]["method"] == "cell-key"
    line = row(protected, gmina)
    assert line["cells"]["club"] is None and line["hours"]["club"] is None
    assert "club" in line["hidden"]
    people = row(await report(stack, "activity_participants", analyst, by="gmina"), gmina)
    assert people["cells"]["club"] is None and people["cells"]["coaching"] == 0


def followed(
    case, months: int, sustained: bool, roles: list[str], on: date
) -> CaseFollowUpRecorded:
    return CaseFollowUpRecorded(
        case_id=case.case_id, place=case.place, closed_on=date(2025, 1, 31), months=months,
        recorded_on=on, sustained=sustained, roles=roles,
    )  # fmt: skip


async def test_follow_ups_beside_the_success_share_corrected_in_any_order(
    stack: ReportingStack,
) -> None:
    [gmina] = rural("10", 1)
    cases = [opened(gmina, date(2024, 6, 1)) for _ in range(8)]
    closings = [closed(c, date(2025, 1, 31)) for c in cases[:6]]
    closings += [closed(c, date(2025, 1, 31), "refused_cooperation") for c in cases[6:]]
    three = [followed(c, 3, True, ["economic"], date(2025, 4, 30)) for c in cases[:5]]
    three.append(followed(cases[5], 3, False, [], date(2025, 4, 30)))
    # the first family's 6-month follow-up, first recorded as not sustained, then corrected
    wrong = by_intake(followed(cases[0], 6, False, [], date(2025, 7, 31)), 20)
    right = by_intake(followed(cases[0], 6, True, ["economic", "health"], date(2025, 7, 31)), 21)
    sent = await stack.publish(right, *three, wrong, *closings, *cases, right)
    await stack.settle(sent)

    coordinator = stack.who(Role.COORDINATOR, gmina=gmina)
    table = await report(stack, "follow_ups", coordinator)
    mine = row(table, gmina)
    assert mine["cells"] == {
        "3_sustained": 5, "3_not_sustained": 1, "6_sustained": 1, "6_not_sustained": 0,
    }  # fmt: skip
    assert mine["sustained_share_3"] == 83.3 and mine["sustained_share_6"] == 100.0
    assert mine["success_share"] == 75.0  # 6 of 8 closed successfully
    assert table["reference"]["success_share"] == 81.4
    assert table["reference"]["completed_successfully"] == 140
    assert table["reference"]["families"] == 172
    roles = row(await report(stack, "follow_up_roles", coordinator), gmina)
    # the latest follow-up of each family: the first at 6 months (economic, health)
    assert roles["cells"]["economic"] == 5 and roles["cells"]["health"] == 1
    assert roles["total"] == 5
    # before the 6-month follow-ups were recorded
    then = row(await report(stack, "follow_ups", coordinator, as_of="2025-05-01"), gmina)
    assert then["cells"]["6_sustained"] == 0 and then["sustained_share_6"] is None

    analyst = stack.who(Role.ANALYST, region="10")
    line = row(await report(stack, "follow_ups", analyst, by="gmina"), gmina)
    assert line["cells"]["3_not_sustained"] is None  # one family: withheld
    assert line["sustained_share_3"] is None  # it rests on a withheld count


def a_round(gmina: str, respondents: int, invited: int, answers: dict) -> SurveyRoundClosed:
    return SurveyRoundClosed(
        round_id=uuid4(), place=place(gmina), opened_on=date(2025, 5, 1),
        closed_on=date(2025, 5, 31), invited=invited, respondents=respondents,
        withheld=not answers,
        answers=[SurveyAnswerCounts(question=q, counts=c) for q, c in answers.items()],
    )  # fmt: skip


async def test_survey_rounds_aggregated_with_small_ones_withheld(stack: ReportingStack) -> None:
    large, small = rural("10", 2, 2)
    big = a_round(
        large, 12, 14,
        {"goals_clear": {5: 6, 4: 4, 3: 2}, "information_flow": {2: 1, 3: 3, 4: 8}},
    )  # fmt: skip
    tiny = a_round(small, 2, 9, {})  # too few answered: the partnership published no answers
    sent = await stack.publish(big, tiny, big, tiny)
    await stack.settle(sent)

    coordinator = stack.who(Role.COORDINATOR, gmina=large)
    answers = await report(stack, "survey_answers", coordinator)
    assert answers["by"] == "question"
    goals = row(answers, "goals_clear")
    assert goals["cells"] == {"1": 0, "2": 0, "3": 2, "4": 4, "5": 6} and goals["total"] == 12
    assert goals["mean"] == 4.3
    assert goals["label"].startswith("Cele Partnerskiego Zespołu Kooperacji")
    assert row(answers, "information_flow")["mean"] == 3.6
    responses = row(await report(stack, "survey_responses", coordinator), large)
    assert responses["cells"] == {"answered": 12, "not_answered": 2}
    assert responses["response_rate"] == 85.7

    analyst = stack.who(Role.ANALYST, region="10")
    # the small gmina's round: its answers never reached reporting, its response counts are
    # protected like every count
    assert (await report(stack, "survey_answers", analyst, gmina=small))["rows"] == []
    tiny_line = row(await report(stack, "survey_responses", analyst, by="gmina"), small)
    assert tiny_line["cells"]["answered"] is None  # two answered: withheld
    protected = await report(stack, "survey_answers", analyst, gmina=large)
    goals = row(protected, "goals_clear")
    assert goals["cells"]["3"] is None and goals["cells"]["1"] == 0  # 2 answers: withheld
    if goals["total"] is not None:  # 12 answers: shown unless the cell key withholds it
        assert abs(goals["total"] - 12) <= 2 and goals["mean"] == 4.3
    else:
        assert goals["mean"] is None and "mean" in goals["hidden"]


async def test_a_rebuild_equals_live_for_activities_and_evaluation(stack: ReportingStack) -> None:
    [gmina] = rural("10", 4)
    club = an_activity(gmina, "club")
    case = opened(gmina, date(2024, 6, 1))
    events = [
        club,
        a_session(club, date(2025, 3, 4), 60),
        by_intake(taking_part(case.case_id, club, 1, 1, date(2025, 3, 4)), 4),
        by_intake(followed(case, 3, True, ["health"], date(2025, 4, 30)), 5),
        a_round(gmina, 6, 6, {"would_continue": {5: 6}}),
    ]
    sent = await stack.publish(*events)
    await stack.settle(sent)
    live = await stack.snapshot()
    assert any(r["activity_id"] == club.activity_id for r in live["activity_facts"])
    assert any(r["case_id"] == case.case_id for r in live["follow_up_facts"])
    await rebuild(stack.pool, stack.settings.amqp_url, batch_size=3)
    assert await stack.snapshot() == live
