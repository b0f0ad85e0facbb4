"""Reporting's rules, free of I/O: which facts each event states, how facts of the same thing
merge whatever the order they arrive in. (What analysts may see of them: disclosure.py.)

A fact is a partial row of a facts table. Every column has a merge rule, so applying the facts of
a set of events gives the same row in any order and any number of times: that is what makes the
projection safe under redelivery, out-of-order arrival and a rebuild from the event log.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from enum import Enum
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

from shared.envelope import Envelope
from shared.events import (
    ActivityParticipationChanged,
    ActivityRegistered,
    ActivitySessionHeld,
    CaseAnonymised,
    CaseClosed,
    CaseConsentGiven,
    CaseConsentWithdrawn,
    CaseFollowUpRecorded,
    CaseHouseholdChanged,
    CaseOpened,
    CaseReopened,
    CaseTransferred,
    DiagnosisCompleted,
    DiagnosisRevised,
    Event,
    InstitutionRegistered,
    MeetingHeld,
    Place,
    PlanAgreed,
    PlanGoalReviewed,
    PlanRevised,
    ReferralAccepted,
    ReferralDeclined,
    SupportAssigned,
    SupportCancelled,
    SupportCompleted,
    SupportOverdue,
    SupportUnassignable,
    SurveyRoundClosed,
)

POLAND = ZoneInfo("Europe/Warsaw")

# --- facts and how they merge ---------------------------------------------------------------


class Merge(Enum):
    # Places, types, sectors: the same in every event of a thing. Should two events disagree,
    # the least value stays, so that the row never depends on the order of arrival.
    KEEP = "keep"
    MIN = "min"  # the earliest date wins (opened, first assigned, ...)
    MAX = "max"  # the latest date wins (closed, reopened, last seen)


@dataclass(frozen=True)
class Follows:
    """The value goes with the latest `leader`: a case's outcome is that of its latest closing
    (on a tie, the greater value, again so that the order of arrival does not matter). With
    `otherwise`, values stated without a leader merge by that rule while no leader is known
    (and give way to any value stated with one)."""

    leader: str
    otherwise: Merge | None = None


Rule = Merge | Follows


@dataclass(frozen=True, eq=False)  # one object per table: hashed by identity
class FactTable:
    name: str
    key: tuple[str, ...]
    rules: Mapping[str, Rule]

    @property
    def columns(self) -> tuple[str, ...]:
        return (*self.key, *self.rules)


_PLACE: dict[str, Rule] = {
    "gmina": Merge.KEEP,
    "powiat": Merge.KEEP,
    "region": Merge.KEEP,
    "variant": Merge.KEEP,
}

# A case's place is intake's latest word on it (its opening, a later case event, a transfer to
# another gmina), by intake's per-case sequence; other services' events state a place without
# one (so a case first known from them has a place until intake's word arrives). Each transfer
# is also a row of TRANSFERS, from which the queries find where the case was on a given day.
_CASE_PLACE: dict[str, Rule] = {
    column: Follows("place_seq", otherwise=Merge.KEEP) for column in _PLACE
}

CASES = FactTable(
    "case_facts",
    ("case_id",),
    {
        **_CASE_PLACE,
        "place_seq": Merge.MAX,
        "transferred_on": Merge.MAX,  # its latest transfer (none: always in its gmina)
        "opened_on": Merge.MIN,
        # The household as of intake's latest word on it: its opening or a later change
        # (case.household_changed.v1), ordered by intake's per-case sequence.
        "household_seq": Merge.MAX,
        "household_size": Follows("household_seq"),
        "age_bands": Follows("household_seq"),
        "reasons": Follows("household_seq"),
        "notified_by": Merge.KEEP,
        "diagnosed_on": Merge.MIN,
        "need_revision": Merge.MAX,
        "need_areas": Follows("need_revision"),
    },
)
# Every closing and reopening, each its own row: the state of a case on a day is the state
# after its last transition dated by then. "Last" is by intake's `sequence` (the CloudEvents
# extension, counted per case), so a case closed, reopened and closed again on one day - or
# closed again with an earlier date than its reopening - ends as intake left it, whatever order
# the events arrive in. An event without a sequence counts as 0 (see `transition_order`).
CASE_TRANSITIONS = FactTable(
    "case_transition_facts",
    ("case_id", "on_day", "kind", "sequence"),
    {"outcome": Merge.KEEP},
)
REFERRALS = FactTable(
    "referral_facts",
    ("referral_id",),
    {
        "case_id": Merge.KEEP,
        # the support the referral is an attempt at: a declined one re-routed is the same
        "recommendation_id": Merge.KEEP,
        **_PLACE,
        "support_type": Merge.KEEP,
        "institution_id": Merge.KEEP,
        "sector": Merge.KEEP,
        "attempt": Merge.KEEP,
        "seen_on": Merge.MIN,
        "assigned_on": Merge.MIN,
        "accepted_on": Merge.MIN,
        "declined_on": Merge.MIN,
        "decline_reason": Follows("declined_on"),
        "completed_on": Merge.MIN,
        "support_outcome": Follows("completed_on"),
        "cancelled_on": Merge.MIN,
        "overdue_on": Merge.MIN,
    },
)
UNMET_NEEDS = FactTable(
    "unmet_need_facts",
    ("recommendation_id",),
    {"case_id": Merge.KEEP, **_PLACE, "support_type": Merge.KEEP, "recorded_on": Merge.MIN},
)
ENGAGEMENTS = FactTable(
    "engagement_facts",
    ("gmina", "institution_id"),
    {
        "powiat": Merge.KEEP,
        "region": Merge.KEEP,
        "variant": Merge.KEEP,
        "sector": Merge.KEEP,
        "engaged_on": Merge.MIN,
    },
)
# Every transfer of a case to another gmina's OPS, counted where it left and where it arrived.
TRANSFERS = FactTable(
    "case_transfer_facts",
    ("case_id", "transferred_on", "from_gmina", "to_gmina"),
    {
        "sequence": Merge.MAX,  # intake's, ordering two transfers of one day
        "from_powiat": Merge.KEEP,
        "from_region": Merge.KEEP,
        "from_variant": Merge.KEEP,
        "to_powiat": Merge.KEEP,
        "to_region": Merge.KEEP,
        "to_variant": Merge.KEEP,
    },
)
# The individual support plans (IPW) families agreed to, and their goals: by area, and as their
# latest review found them (met, not met, in progress).
# A plan and its goals count where the plan's latest version was agreed or revised (a case
# transferred since goes on with its plan in the receiving gmina); a review moves nothing.
_PLAN_PLACE: dict[str, Rule] = {
    column: Follows("version", otherwise=Merge.KEEP) for column in _PLACE
}
PLANS = FactTable(
    "plan_facts",
    ("plan_id",),
    {
        "case_id": Merge.KEEP,
        **_PLAN_PLACE,
        "agreed_on": Merge.MIN,
        "social_contract_on": Merge.MIN,
        "version": Merge.MAX,
    },
)
GOALS = FactTable(
    "goal_facts",
    ("goal_id",),
    {
        "plan_id": Merge.KEEP,
        "case_id": Merge.KEEP,
        **_PLAN_PLACE,
        "version": Merge.MAX,  # of the latest plan version that stated the goal
        "area": Merge.KEEP,
        "planned_on": Merge.MIN,
        "dropped_on": Merge.MIN,
        "reviewed_on": Merge.MAX,
        "result": Follows("reviewed_on"),
    },
)
# The PZK's group activities and their sessions (the partnership's own work, no family's data).
ACTIVITIES = FactTable(
    "activity_facts",
    ("activity_id",),
    {**_PLACE, "activity_type": Merge.KEEP, "started_on": Merge.MIN},
)
SESSIONS = FactTable(
    "activity_session_facts",
    ("session_id",),
    {
        "activity_id": Merge.KEEP,
        **_PLACE,
        "activity_type": Merge.KEEP,
        "held_on": Merge.MIN,
        "minutes": Merge.KEEP,
    },
)
# Every change of a case's participation in an activity, its own row (intake's sequence): the
# counts on a day are those of the latest change dated by then.
PARTICIPATION = FactTable(
    "participation_facts",
    ("case_id", "sequence"),
    {
        "activity_id": Merge.KEEP,
        **_PLACE,
        "activity_type": Merge.KEEP,
        "changed_on": Merge.KEEP,
        "participants": Merge.KEEP,
        "participants_in_type": Merge.KEEP,
    },
)
# A family's follow-up 3 or 6 months after a closing: recorded again (corrected), the latest by
# intake's sequence stands.
FOLLOW_UPS = FactTable(
    "follow_up_facts",
    ("case_id", "round", "months"),
    {
        **_PLACE,
        "follow_up_seq": Merge.MAX,
        "closed_on": Follows("follow_up_seq"),
        "recorded_on": Follows("follow_up_seq"),
        "sustained": Follows("follow_up_seq"),
        "roles": Follows("follow_up_seq"),
    },
)
# The members' survey: a round (who was asked, how many answered) and its answers' counts.
SURVEY_ROUNDS = FactTable(
    "survey_round_facts",
    ("round_id",),
    {
        **_PLACE,
        "opened_on": Merge.MIN,
        "closed_on": Merge.MIN,
        "invited": Merge.KEEP,
        "respondents": Merge.KEEP,
        "withheld": Merge.KEEP,
    },
)
SURVEY_ANSWERS = FactTable(
    "survey_answer_facts",
    ("round_id", "question", "answer"),
    {**_PLACE, "closed_on": Merge.MIN, "n": Merge.KEEP},
)
# The partnerships' meetings: a meeting, who attended (each institution with its sector), the
# cases discussed. A later version of a meeting adds decisions and cases, never takes any away.
MEETINGS = FactTable(
    "meeting_facts",
    ("meeting_id",),
    {**_PLACE, "held_on": Merge.MIN, "version": Merge.MAX},
)
MEETING_ATTENDANCE = FactTable(
    "meeting_attendance_facts",
    ("meeting_id", "institution_id"),
    {**_PLACE, "held_on": Merge.MIN, "sector": Merge.KEEP},
)
MEETING_CASES = FactTable(
    "meeting_case_facts",
    ("meeting_id", "case_id"),
    {**_PLACE, "held_on": Merge.MIN},
)
INSTITUTIONS = FactTable(
    "institution_facts",
    ("institution_id",),
    {"seen_at": Merge.MAX, "sector": Follows("seen_at")},
)
FACT_TABLES: tuple[FactTable, ...] = (
    CASES,
    CASE_TRANSITIONS,
    REFERRALS,
    UNMET_NEEDS,
    ENGAGEMENTS,
    INSTITUTIONS,
    TRANSFERS,
    PLANS,
    GOALS,
    ACTIVITIES,
    SESSIONS,
    PARTICIPATION,
    FOLLOW_UPS,
    SURVEY_ROUNDS,
    SURVEY_ANSWERS,
    MEETINGS,
    MEETING_ATTENDANCE,
    MEETING_CASES,
)


@dataclass(frozen=True)
class Fact:
    """A partial row: what one event says about one thing."""

    table: FactTable
    values: Mapping[str, Any]

    @property
    def key(self) -> tuple[Any, ...]:
        return tuple(self.values[k] for k in self.table.key)


def _place(p: Place) -> dict[str, Any]:
    return {"gmina": p.gmina, "powiat": p.powiat, "region": p.region, "variant": str(p.variant)}


def _intake_place(p: Place, envelope: Envelope) -> dict[str, Any]:
    """A case's place as intake states it, with the sequence that orders intake's word (an
    envelope without one, from before sequences, counts as the first)."""
    return {**_place(p), "place_seq": envelope.sequence or 0}


def facts_of(event: Event, envelope: Envelope) -> list[Fact]:
    """What an event states, as facts. Business dates come from the event where it has them,
    otherwise from the day the event happened (envelope time, on the Polish calendar), so that
    `as_of` can cut at the end of a day."""
    day = envelope.time.astimezone(POLAND).date()
    match event:
        case CaseOpened():
            return [
                Fact(
                    CASES,
                    {
                        "case_id": event.case_id,
                        **_intake_place(event.place, envelope),
                        "opened_on": event.opened_on,
                        **_household(event, envelope),
                        "notified_by": str(event.notified_by),
                    },
                )
            ]
        case CaseHouseholdChanged():
            values = {**_intake_place(event.place, envelope), **_household(event, envelope)}
            return [Fact(CASES, {"case_id": event.case_id, **values})]
        case CaseTransferred():
            values = {
                "case_id": event.case_id,
                "transferred_on": event.transferred_on,
                "sequence": envelope.sequence or 0,
                **{f"from_{k}": v for k, v in _place(event.from_place).items()},
                **{f"to_{k}": v for k, v in _place(event.place).items()},
            }
            case = {
                "case_id": event.case_id,
                **_intake_place(event.place, envelope),
                "transferred_on": event.transferred_on,
            }
            return [Fact(TRANSFERS, values), Fact(CASES, case)]
        case CaseClosed():
            transition = {
                "on_day": event.closed_on,
                "kind": "closed",
                "outcome": str(event.outcome),
            }
            return [
                Fact(CASES, {"case_id": event.case_id, **_intake_place(event.place, envelope)}),
                _transition(event.case_id, envelope, **transition),
            ]
        case CaseReopened():
            transition = {"on_day": event.reopened_on, "kind": "reopened", "outcome": None}
            return [
                Fact(CASES, {"case_id": event.case_id, **_intake_place(event.place, envelope)}),
                _transition(event.case_id, envelope, **transition),
            ]
        case CaseConsentGiven() | CaseConsentWithdrawn() | CaseAnonymised():
            # Consent is no figure of the reports; its effects show in the diagnosis that
            # follows and in the referrals a withdrawal cancels (support.cancelled.v1).
            return []
        case DiagnosisCompleted():
            return [
                Fact(
                    CASES,
                    {
                        "case_id": event.case_id,
                        **_place(event.place),
                        "diagnosed_on": event.completed_on,
                        "need_revision": 1,
                        "need_areas": sorted({str(n.area) for n in event.needs}),
                    },
                ),
                *(
                    _engaged(event.place, institution, None, event.completed_on)
                    for institution in event.institutions
                ),
            ]
        case DiagnosisRevised():
            values = {
                "need_revision": event.revision,
                "need_areas": sorted({str(n.area) for n in event.needs}),
            }
            return [Fact(CASES, {"case_id": event.case_id, **_place(event.place), **values})]
        case PlanAgreed() | PlanRevised():
            return _plan_facts(event)
        case PlanGoalReviewed():
            values = {
                "goal_id": event.goal_id,
                "plan_id": event.plan_id,
                "case_id": event.case_id,
                **_place(event.place),
                "area": str(event.area),
                "reviewed_on": event.reviewed_on,
                "result": str(event.result),
            }
            return [Fact(GOALS, values)]
        case SupportAssigned():
            return [
                _referral(
                    event, day, assigned_on=day, attempt=event.attempt,
                    recommendation_id=event.recommendation_id,
                )
            ]  # fmt: skip
        case ReferralAccepted():
            return [
                _referral(event, day, accepted_on=day),
                _engaged(event.place, event.institution_id, str(event.sector), day),
            ]
        case ReferralDeclined():
            return [
                _referral(
                    event, day, declined_on=day, decline_reason=str(event.reason),
                    attempt=event.attempt,
                )
            ]  # fmt: skip
        case SupportCompleted():
            return [_referral(event, day, completed_on=day, support_outcome=str(event.outcome))]
        case SupportCancelled():
            return [_referral(event, day, cancelled_on=day)]
        case SupportOverdue():
            return [_referral(event, day, overdue_on=day)]
        case SupportUnassignable():
            values = {
                "recommendation_id": event.recommendation_id,
                "case_id": event.case_id,
                **_place(event.place),
                "support_type": str(event.support_type),
                "recorded_on": day,
            }
            return [Fact(UNMET_NEEDS, values)]
        case (
            ActivityRegistered()
            | ActivitySessionHeld()
            | ActivityParticipationChanged()
            | CaseFollowUpRecorded()
            | SurveyRoundClosed()
        ):
            return _evaluation_facts(event, envelope)
        case MeetingHeld():
            return _meeting_facts(event)
        case InstitutionRegistered():  # and InstitutionUpdated, its subclass
            values = {
                "institution_id": event.institution_id,
                "seen_at": envelope.time,
                "sector": str(event.sector),
            }
            return [Fact(INSTITUTIONS, values)]
    return []


def _meeting_facts(event: MeetingHeld) -> list[Fact]:
    """A meeting, its attendance by institution and sector, and the cases it discussed."""
    place = {**_place(event.place), "held_on": event.held_on}
    facts = [Fact(MEETINGS, {"meeting_id": event.meeting_id, **place, "version": event.version})]
    for a in event.attendance:
        values = {"meeting_id": event.meeting_id, "institution_id": a.institution_id, **place}
        facts.append(Fact(MEETING_ATTENDANCE, {**values, "sector": str(a.sector)}))
    facts += [
        Fact(MEETING_CASES, {"meeting_id": event.meeting_id, "case_id": case, **place})
        for case in event.cases
    ]
    return facts


def _evaluation_facts(event: Event, envelope: Envelope) -> list[Fact]:
    """Facts of the group activities, the members' survey and the follow-ups after closing."""
    sequence = envelope.sequence or 0
    match event:
        case ActivityRegistered():
            values = {
                "activity_id": event.activity_id,
                **_place(event.place),
                "activity_type": str(event.activity_type),
                "started_on": event.started_on,
            }
            return [Fact(ACTIVITIES, values)]
        case ActivitySessionHeld():
            values = {
                "session_id": event.session_id,
                "activity_id": event.activity_id,
                **_place(event.place),
                "activity_type": str(event.activity_type),
                "held_on": event.held_on,
                "minutes": event.minutes,
            }
            return [Fact(SESSIONS, values)]
        case ActivityParticipationChanged():
            values = {
                "case_id": event.case_id,
                "sequence": sequence,
                "activity_id": event.activity_id,
                **_place(event.place),
                "activity_type": str(event.activity_type),
                "changed_on": event.changed_on,
                "participants": event.participants,
                "participants_in_type": event.participants_in_type,
            }
            return [Fact(PARTICIPATION, values)]
        case CaseFollowUpRecorded():
            values = {
                "case_id": event.case_id,
                "round": event.round,
                "months": event.months,
                **_place(event.place),
                "follow_up_seq": sequence,
                "closed_on": event.closed_on,
                "recorded_on": event.recorded_on,
                "sustained": event.sustained,
                "roles": sorted(str(r) for r in event.roles),
            }
            return [Fact(FOLLOW_UPS, values)]
        case SurveyRoundClosed():
            place = _place(event.place)
            survey_round = {
                "round_id": event.round_id,
                **place,
                "opened_on": event.opened_on,
                "closed_on": event.closed_on,
                "invited": event.invited,
                "respondents": event.respondents,
                "withheld": event.withheld,
            }
            answers = [
                Fact(
                    SURVEY_ANSWERS,
                    {
                        "round_id": event.round_id,
                        "question": str(a.question),
                        "answer": value,
                        **place,
                        "closed_on": event.closed_on,
                        "n": n,
                    },
                )
                for a in ([] if event.withheld else event.answers)
                for value, n in sorted(a.counts.items())
                if n > 0
            ]
            return [Fact(SURVEY_ROUNDS, survey_round), *answers]
    return []


def _transition(case_id: UUID, envelope: Envelope, **values: Any) -> Fact:
    return Fact(
        CASE_TRANSITIONS,
        {"case_id": case_id, "sequence": envelope.sequence or 0, **values},
    )


def transition_order(transitions: Iterable[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """A case's transitions first to last: by intake's sequence; those without one (0) before
    every numbered one, among themselves by day, a reopening after a closing of the same day
    (it can only follow one). The same order as store's SQL."""
    return sorted(transitions, key=lambda t: (t["sequence"], t["on_day"], t["kind"]))


def case_state(transitions: Iterable[Mapping[str, Any]], as_of: date) -> str:
    """'open', or the outcome of the closing the case was left in at the end of `as_of`."""
    by_then = [t for t in transitions if t["on_day"] <= as_of]
    if not by_then:
        return "open"
    last = transition_order(by_then)[-1]
    return str(last["outcome"] or "other") if last["kind"] == "closed" else "open"


def _household(event: CaseOpened | CaseHouseholdChanged, envelope: Envelope) -> dict[str, Any]:
    """The household's figures with the sequence that orders them (an envelope without one,
    from before sequences, counts as the first)."""
    return {
        "household_seq": envelope.sequence or 0,
        "household_size": event.household_size,
        "age_bands": json.dumps({str(k): v for k, v in sorted(event.age_bands.items())}),
        "reasons": sorted(str(r) for r in event.reasons),
    }


def _referral(
    event: SupportAssigned
    | ReferralAccepted
    | ReferralDeclined
    | SupportCompleted
    | SupportCancelled
    | SupportOverdue,
    day: date,
    **values: Any,
) -> Fact:
    sector = getattr(event, "sector", None)
    return Fact(
        REFERRALS,
        {
            "referral_id": event.referral_id,
            "case_id": event.case_id,
            **_place(event.place),
            "support_type": str(event.support_type),
            "institution_id": event.institution_id,
            "sector": str(sector) if sector is not None else None,
            "seen_on": day,
            **values,
        },
    )


def _plan_facts(event: PlanAgreed | PlanRevised) -> list[Fact]:
    """A version of a plan: the plan (agreed on, with a social contract since, its version) and
    each goal (planned on the day of the version that first holds it, dropped on the day of the
    version that left it out)."""
    on = event.agreed_on if isinstance(event, PlanAgreed) else event.revised_on
    common = {"plan_id": event.plan_id, "case_id": event.case_id, **_place(event.place)}
    plan = {
        **common,
        "agreed_on": event.agreed_on if isinstance(event, PlanAgreed) else None,
        "social_contract_on": event.social_contract_on,
        "version": event.version,
    }
    stated = {**common, "version": event.version}
    goals = [
        Fact(GOALS, {"goal_id": g.goal_id, **stated, "area": str(g.area), "planned_on": on})
        for g in event.goals
    ]
    dropped = [
        Fact(GOALS, {"goal_id": goal_id, **stated, "dropped_on": on})
        for goal_id in (event.removed_goals if isinstance(event, PlanRevised) else [])
    ]
    return [Fact(PLANS, plan), *goals, *dropped]


def _engaged(place: Place, institution: UUID, sector: str | None, on: date) -> Fact:
    return Fact(
        ENGAGEMENTS,
        {
            "gmina": place.gmina,
            "institution_id": institution,
            "powiat": place.powiat,
            "region": place.region,
            "variant": str(place.variant),
            "sector": sector,
            "engaged_on": on,
        },
    )


def _merge_value(rule: Rule, column: str, old: Mapping[str, Any], new: Mapping[str, Any]) -> Any:
    a, b = old.get(column), new.get(column)
    if isinstance(rule, Follows):
        lead_old, lead_new = old.get(rule.leader), new.get(rule.leader)
        if lead_new is None and lead_old is None and rule.otherwise is not None:
            return _merge_value(rule.otherwise, column, old, new)
        if lead_new is None:
            return a
        if lead_old is None or lead_new > lead_old:
            return b
        if lead_new == lead_old:
            return b if a is None else a if b is None else max(a, b)
        return a
    if a is None:
        return b
    if b is None:
        return a
    return max(a, b) if rule is Merge.MAX else min(a, b)


def merge(table: FactTable, old: Mapping[str, Any], new: Mapping[str, Any]) -> dict[str, Any]:
    """Two partial rows of the same thing as one; the same rules as the SQL upsert in store."""
    merged = {k: old.get(k, new.get(k)) for k in table.key}
    for column, rule in table.rules.items():
        merged[column] = _merge_value(rule, column, old, new)
    return merged


def combine(facts: Iterable[Fact]) -> dict[FactTable, list[dict[str, Any]]]:
    """Facts folded into one row per thing and table, ready for one multi-row upsert each
    (PostgreSQL refuses to update the same row twice in one INSERT ... ON CONFLICT)."""
    rows: dict[FactTable, dict[tuple[Any, ...], dict[str, Any]]] = {}
    for fact in facts:
        by_key = rows.setdefault(fact.table, {})
        seen = by_key.get(fact.key)
        by_key[fact.key] = merge(fact.table, seen or {}, fact.values)
    return {table: list(by_key.values()) for table, by_key in rows.items()}


def share(part: int, whole: int) -> float | None:
    """A percentage to one decimal, as the model's evaluation reports it."""
    return round(100 * part / whole, 1) if whole else None


def as_of_day(value: date | None) -> date:
    """The last day the figures include; without one, everything known."""
    return value or date(9999, 12, 31)
