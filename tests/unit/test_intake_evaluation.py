"""The follow-up after closing and group-activity participation, as intake's rules decide."""

from __future__ import annotations

from datetime import date
from uuid import uuid4

import pytest

from services.intake.domain import CaseStatus
from services.intake.evaluation import (
    ClosedCase,
    KnownActivity,
    check_participants,
    follow_up,
    follow_ups_due,
    months_after,
    participation_changed,
)
from shared.codes import ActivityType, FamilyRole
from shared.errors import Conflict, InvalidInput
from shared.events import Place

PLACE = Place(gmina="0601042", powiat="0601", region="06", variant="rural")


def a_case(closed_on: date | None = date(2025, 1, 31), status=CaseStatus.CLOSED) -> ClosedCase:
    return ClosedCase(uuid4(), PLACE, status, 2, closed_on)


@pytest.mark.parametrize(
    ("day", "months", "expected"),
    [
        (date(2025, 1, 31), 3, date(2025, 4, 30)),
        (date(2025, 8, 31), 6, date(2026, 2, 28)),
        (date(2023, 11, 30), 3, date(2024, 2, 29)),
        (date(2025, 10, 15), 3, date(2026, 1, 15)),
    ],
)
def test_months_after_keeps_the_day_or_takes_the_months_last(day, months, expected) -> None:
    assert months_after(day, months) == expected


def test_a_follow_up_states_codes_and_dates_of_the_cases_round() -> None:
    case = a_case()
    roles = [FamilyRole.HEALTH, FamilyRole.ECONOMIC, FamilyRole.HEALTH]
    event = follow_up(case, 3, date(2025, 4, 30), True, roles, date(2025, 5, 2))
    assert (event.round, event.months, event.closed_on) == (2, 3, date(2025, 1, 31))
    assert event.roles == [FamilyRole.ECONOMIC, FamilyRole.HEALTH]  # once each, in code order


def test_a_follow_up_needs_a_closed_case_the_right_months_and_a_day_in_its_window() -> None:
    today = date(2025, 9, 1)
    with pytest.raises(Conflict) as open_case:
        follow_up(a_case(None, CaseStatus.REOPENED), 3, today, True, [], today)
    assert open_case.value.field == "status"
    with pytest.raises(InvalidInput) as odd:
        follow_up(a_case(), 4, today, True, [], today)
    assert odd.value.field == "months"
    with pytest.raises(InvalidInput) as early:  # 6 months are due on 31 July; from 17 July on
        follow_up(a_case(), 6, date(2025, 7, 16), True, [], today)
    assert early.value.field == "recorded_on"
    assert follow_up(a_case(), 6, date(2025, 7, 17), True, [], today).months == 6
    with pytest.raises(InvalidInput):
        follow_up(a_case(), 3, date(2025, 9, 2), True, [], today)  # in the future


def test_follow_ups_due_until_recorded_overdue_after_their_day() -> None:
    case, reopened = a_case(), a_case(None, CaseStatus.REOPENED)
    today = date(2025, 5, 10)
    due = follow_ups_due([(case, frozenset()), (reopened, frozenset())], today, 14)
    assert [(d.months, d.due_on, d.overdue) for d in due] == [(3, date(2025, 4, 30), True)]
    later = follow_ups_due([(case, frozenset({3}))], date(2025, 7, 20), 14)
    assert [(d.months, d.overdue) for d in later] == [(6, False)]
    assert follow_ups_due([(case, frozenset({3, 6}))], date(2025, 8, 20), 14) == []


def test_participants_are_members_of_an_open_case_of_the_activitys_gmina() -> None:
    club = KnownActivity(uuid4(), ActivityType.CLUB, "0601042")
    members = {uuid4(), uuid4()}
    assert check_participants(club, club.activity_id, "0601042", CaseStatus.OPENED, members,
                              members) is club  # fmt: skip
    with pytest.raises(Conflict) as unknown:
        check_participants(None, uuid4(), "0601042", CaseStatus.OPENED, members, members)
    assert unknown.value.code == "activity_unknown"
    with pytest.raises(InvalidInput) as elsewhere:
        check_participants(club, club.activity_id, "0601052", CaseStatus.OPENED, members, set())
    assert elsewhere.value.code == "activity_of_other_gmina"
    with pytest.raises(InvalidInput) as stranger:
        check_participants(club, club.activity_id, "0601042", CaseStatus.OPENED, members,
                           {uuid4()})  # fmt: skip
    assert stranger.value.field == "person_ids"
    with pytest.raises(Conflict):
        check_participants(club, club.activity_id, "0601042", CaseStatus.CLOSED, members, set())


def test_the_participation_event_carries_counts_never_who() -> None:
    club = KnownActivity(uuid4(), ActivityType.CLUB, "0601042")
    persons = {uuid4(), uuid4()}
    event = participation_changed(uuid4(), PLACE, club, persons, persons | {uuid4()},
                                  date(2025, 3, 1))  # fmt: skip
    assert (event.participants, event.participants_in_type) == (2, 3)
    assert not any(str(p) in event.model_dump_json() for p in persons)
