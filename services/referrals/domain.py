"""The rules of a referral (skierowanie): where a recommended support goes, which transitions are
legal, and when it is overdue. No I/O."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from uuid import UUID

from shared.codes import OPS_ONLY_SUPPORTS, Sector, SupportType
from shared.errors import Conflict

# An institution answers a referral (accepts or declines) within this time, unless configured.
ACCEPTANCE_WINDOW = timedelta(days=7)

# How long each support usually takes once accepted: the completion deadline. The model's
# cooperation with a family lasted 10–13 months, so no single support is planned beyond a year.
EXPECTED_DURATION: dict[SupportType, timedelta] = {
    SupportType.PSYCHOLOGIST: timedelta(days=90),
    SupportType.PSYCHIATRIST: timedelta(days=90),
    SupportType.ADDICTION_THERAPY: timedelta(days=180),
    SupportType.FAMILY_ASSISTANT: timedelta(days=270),
    SupportType.SPEECH_THERAPIST: timedelta(days=180),
    SupportType.REHABILITATION: timedelta(days=90),
    SupportType.REHABILITATION_STAY: timedelta(days=30),
    SupportType.HEALTH_CARE: timedelta(days=60),
    SupportType.CARE_SERVICES: timedelta(days=180),
    SupportType.MEALS: timedelta(days=90),
    SupportType.FINANCIAL_BENEFIT: timedelta(days=30),
    SupportType.VOCATIONAL_COUNSELLING: timedelta(days=60),
    SupportType.TRAINING: timedelta(days=120),
    SupportType.TUTORING: timedelta(days=150),
    SupportType.PSYCHOLOGICAL_PEDAGOGICAL_COUNSELLING: timedelta(days=90),
    SupportType.LEGAL_ADVICE: timedelta(days=30),
    SupportType.PROBATION_OFFICER: timedelta(days=365),
    SupportType.CRISIS_INTERVENTION: timedelta(days=14),
    SupportType.SENIOR_CLUB: timedelta(days=180),
    SupportType.DAY_SUPPORT_CENTRE: timedelta(days=180),
    SupportType.PARENTING_WORKSHOPS: timedelta(days=60),
    SupportType.EQUIPMENT: timedelta(days=30),
    SupportType.HOUSING_HELP: timedelta(days=120),
}


class ReferralState(StrEnum):
    ASSIGNED = "assigned"
    ACCEPTED = "accepted"
    DECLINED = "declined"
    COMPLETED = "completed"
    CANCELLED = "cancelled"
    UNASSIGNABLE = "unassignable"  # the recommendation waits for an institution with room


class Action(StrEnum):
    ASSIGN = "assign"
    ACCEPT = "accept"
    DECLINE = "decline"
    COMPLETE = "complete"
    CANCEL = "cancel"


# Open referrals hold a place of the institution's capacity.
OPEN_STATES = frozenset({ReferralState.ASSIGNED, ReferralState.ACCEPTED})
# Live referrals are still to be given: open, or waiting for an institution with room.
LIVE_STATES = OPEN_STATES | {ReferralState.UNASSIGNABLE}
# A recommendation is served while it has a live referral or a completed one.
SERVED_STATES = LIVE_STATES | {ReferralState.COMPLETED}

_TRANSITIONS: dict[tuple[ReferralState, Action], ReferralState] = {
    (ReferralState.UNASSIGNABLE, Action.ASSIGN): ReferralState.ASSIGNED,
    (ReferralState.ASSIGNED, Action.ACCEPT): ReferralState.ACCEPTED,
    (ReferralState.ASSIGNED, Action.DECLINE): ReferralState.DECLINED,
    (ReferralState.ACCEPTED, Action.COMPLETE): ReferralState.COMPLETED,
    (ReferralState.ASSIGNED, Action.CANCEL): ReferralState.CANCELLED,
    (ReferralState.ACCEPTED, Action.CANCEL): ReferralState.CANCELLED,
    (ReferralState.UNASSIGNABLE, Action.CANCEL): ReferralState.CANCELLED,
}


class IllegalTransition(Conflict):
    title = "Niedozwolona zmiana stanu skierowania"


def next_state(state: ReferralState, action: Action) -> ReferralState:
    """The state after `action`, or IllegalTransition (409) when the referral cannot take it."""
    found = _TRANSITIONS.get((state, action))
    if found is None:
        raise IllegalTransition(
            "illegal_transition", f"a referral in state {state} cannot be {action}ed"
        )
    return found


@dataclass(frozen=True)
class Candidate:
    """An active institution offering the support, seen from one case's gmina."""

    institution_id: UUID
    sector: Sector
    serves_gmina: bool  # else it serves the gmina's powiat
    in_partnership: bool  # sits on the gmina's PZK
    capacity: int  # open referrals it can hold for this support type
    open_referrals: int  # open referrals it holds now for this support type
    is_gmina_ops: bool = False  # the gmina's own social-assistance centre (OPS)

    @property
    def has_room(self) -> bool:
        return self.open_referrals < self.capacity


@dataclass(frozen=True)
class Responsible:
    """Who the plan (IPW) made responsible for a support's goal: a PZK institution, or the OPS
    itself (`institution_id` None). Routing prefers it when it can take the support."""

    institution_id: UUID | None = None

    def favours(self, candidate: Candidate) -> bool:
        if self.institution_id is None:
            return candidate.is_gmina_ops
        return candidate.institution_id == self.institution_id


def choose_institution(
    candidates: list[Candidate],
    *,
    excluded: frozenset[UUID] | set[UUID] = frozenset(),
    support_type: SupportType | None = None,
    responsible: Responsible | None = None,
) -> Candidate | None:
    """Prefer the one the plan made responsible, then the gmina over its powiat, then PZK
    members, then the least loaded; only those with room and not tried before for this
    recommendation. A support only the OPS may decide goes to the gmina's OPS or nowhere."""
    eligible = [c for c in candidates if c.has_room and c.institution_id not in excluded]
    if support_type in OPS_ONLY_SUPPORTS:
        eligible = [c for c in eligible if c.is_gmina_ops]
    if responsible is not None:
        eligible = [c for c in eligible if responsible.favours(c)] or eligible
    if not eligible:
        return None
    return min(
        eligible,
        key=lambda c: (
            not c.serves_gmina,
            not c.in_partnership,
            c.open_referrals / max(c.capacity, 1),
            str(c.institution_id),
        ),
    )


def accept_by(now: datetime, window: timedelta = ACCEPTANCE_WINDOW) -> datetime:
    return now + window


def complete_by(accepted_at: datetime, support_type: SupportType) -> datetime:
    return accepted_at + EXPECTED_DURATION[support_type]


def overdue_stage(
    state: ReferralState,
    *,
    accept_by: datetime | None,
    complete_by: datetime | None,
    now: datetime,
) -> str | None:
    """Which deadline a referral has missed: `acceptance` while it waits for an answer,
    `completion` once accepted; None when it is on time or no longer open."""
    if state is ReferralState.ASSIGNED and accept_by is not None and accept_by < now:
        return "acceptance"
    if state is ReferralState.ACCEPTED and complete_by is not None and complete_by < now:
        return "completion"
    return None
