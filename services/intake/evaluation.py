"""The family's side of the partnership's evaluation and group activities, in intake: the
follow-up of a family 3 and 6 months after its case closed, and which of a case's members take
part in a group activity (only intake knows who; others get counts). No I/O."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from uuid import UUID

from services.intake.domain import CaseStatus
from shared.codes import FOLLOW_UP_MONTHS, ActivityType, FamilyRole
from shared.errors import Conflict, InvalidInput
from shared.events import ActivityParticipationChanged, CaseFollowUpRecorded, Place

# A follow-up is on the worklist from this many days before it is due.
FOLLOW_UP_LEAD_DAYS = 14


def months_after(day: date, months: int) -> date:
    """The same day `months` calendar months later (the month's last day when it is shorter:
    31 August + 3 months is 30 November)."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    for last in (31, 30, 29, 28):
        try:
            return date(year, month, min(day.day, last))
        except ValueError:
            continue
    raise AssertionError("every month has 28 days")


# --- the follow-up after closing ----------------------------------------------------------------


@dataclass(frozen=True)
class ClosedCase:
    """What a follow-up needs of a case: its place, state, round and last closing."""

    case_id: UUID
    place: Place
    status: CaseStatus
    round: int
    closed_on: date | None


def follow_up(
    case: ClosedCase,
    months: int,
    recorded_on: date,
    sustained: bool,
    roles: Iterable[FamilyRole],
    today: date,
) -> CaseFollowUpRecorded:
    """The caseworker's follow-up `months` after the case's closing. Only a closed case has one
    (a reopened case is followed in its new round); it is recorded from its due day on, and not
    dated before it nor in the future. Recording it again corrects it."""
    if months not in FOLLOW_UP_MONTHS:
        raise InvalidInput("months_unknown", "kontrola po 3 albo po 6 miesiącach", field="months")
    if case.status is not CaseStatus.CLOSED or case.closed_on is None:
        raise Conflict(
            "case_not_closed",
            "kontrolę sytuacji rodziny zapisuje się po zamknięciu sprawy",
            field="status",
        )
    due = months_after(case.closed_on, months)
    if recorded_on > today:
        raise InvalidInput(
            "recorded_on_in_future", "kontrola nie może być datowana w przyszłości",
            field="recorded_on",
        )  # fmt: skip
    earliest = due - timedelta(days=FOLLOW_UP_LEAD_DAYS)
    if recorded_on < earliest:
        raise InvalidInput(
            "follow_up_too_early",
            f"kontrolę po {months} miesiącach zapisuje się od {earliest} (termin: {due})",
            field="recorded_on",
        )
    return CaseFollowUpRecorded(
        case_id=case.case_id,
        place=case.place,
        round=case.round,
        closed_on=case.closed_on,
        months=months,  # type: ignore[arg-type]
        recorded_on=recorded_on,
        sustained=sustained,
        roles=sorted(set(roles), key=list(FamilyRole).index),
    )


@dataclass(frozen=True)
class FollowUpDue:
    case_id: UUID
    months: int
    due_on: date
    overdue: bool


def follow_ups_due(
    cases: Iterable[tuple[ClosedCase, frozenset[int]]], today: date, horizon_days: int
) -> list[FollowUpDue]:
    """Follow-ups of closed cases due by `today + horizon_days` (and overdue ones) and not yet
    recorded for the case's last closing: at 3 and at 6 months."""
    until = today + timedelta(days=horizon_days)
    found = []
    for case, recorded in cases:
        if case.status is not CaseStatus.CLOSED or case.closed_on is None:
            continue
        for months in FOLLOW_UP_MONTHS:
            due = months_after(case.closed_on, months)
            if months not in recorded and due <= until:
                found.append(FollowUpDue(case.case_id, months, due, due < today))
    return sorted(found, key=lambda f: (f.due_on, str(f.case_id), f.months))


# --- participation in group activities ---------------------------------------------------------


@dataclass(frozen=True)
class KnownActivity:
    """A group activity as intake knows it from activity.registered.v1: its id, type, gmina."""

    activity_id: UUID
    activity_type: ActivityType
    gmina: str


def check_participants(
    activity: KnownActivity | None,
    activity_id: UUID,
    case_gmina: str,
    status: CaseStatus,
    members: set[UUID],
    chosen: set[UUID],
) -> KnownActivity:
    """Members of a case joining an activity: the activity must be known here (its event may
    not have arrived yet: try again), of the case's gmina, the case open and the persons its
    present members."""
    if activity is None:
        raise Conflict(
            "activity_unknown",
            f"zajęcia {activity_id} nie są (jeszcze) znane w ewidencji spraw; spróbuj za chwilę",
            field="activity_id",
        )
    if activity.gmina != case_gmina:
        raise InvalidInput(
            "activity_of_other_gmina",
            "zajęcia prowadzi zespół innej gminy niż gmina sprawy",
            field="activity_id",
        )
    if status is CaseStatus.CLOSED:
        raise Conflict("case_closed", "sprawa jest zamknięta: najpierw ją wznów", field="status")
    strangers = chosen - members
    if strangers:
        raise InvalidInput(
            "not_a_member",
            f"osoba {sorted(strangers, key=str)[0]} nie należy do gospodarstwa sprawy",
            field="person_ids",
        )
    return activity


def participation_changed(
    case_id: UUID,
    place: Place,
    activity: KnownActivity,
    in_activity: set[UUID],
    in_type: set[UUID],
    day: date,
) -> ActivityParticipationChanged:
    """The counts others get: the case's members in this activity and in any activity of its
    type (each person once). Never who."""
    return ActivityParticipationChanged(
        case_id=case_id,
        place=place,
        activity_id=activity.activity_id,
        activity_type=activity.activity_type,
        changed_on=day,
        participants=len(in_activity),
        participants_in_type=len(in_type),
    )
