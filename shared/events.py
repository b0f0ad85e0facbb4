"""The v1 integration events: the public contract between services and subscribing systems.

No personal data: ids are random UUIDs, places TERYT codes, ages bands, everything else codes.
Consumers ignore fields they do not know (extra="ignore"), so adding an optional field keeps `.v1`.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, ClassVar, Literal
from uuid import UUID

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field
from pydantic_core import PydanticCustomError

from shared.codes import (
    REASONS_VERSION,
    REPEALED_REASONS,
    ActivityType,
    AgeBand,
    CaseOutcome,
    DecisionKind,
    DeclineReason,
    FamilyRole,
    GoalResult,
    ModelVariant,
    NeedArea,
    NotifiedBy,
    Reason,
    Sector,
    SupportOutcome,
    SupportType,
    SurveyQuestion,
    renumbered,
)

GminaCode = Annotated[str, Field(pattern=r"^\d{7}$", description="TERYT gmina code, 7 digits")]
PowiatCode = Annotated[str, Field(pattern=r"^\d{4}$", description="TERYT powiat code, 4 digits")]
RegionCode = Annotated[str, Field(pattern=r"^\d{2}$", description="TERYT voivodeship code")]
CaseRound = Annotated[
    int,
    Field(
        ge=1,
        description="the case's round: 1 from its opening, 2 after its first reopening, and so "
        "on; an event without it (an older producer) is of round 1",
    ),
]


def _not_repealed(value: Any) -> Any:
    if isinstance(value, str) and value.strip() in REPEALED_REASONS:
        raise PydanticCustomError(
            "reason_repealed",
            "pkt {point} art. 7 ustawy o pomocy społecznej jest uchylony; podaj powód według"
            " obowiązującej numeracji (np. 11: trudności w integracji cudzoziemców)",
            {"point": value.strip()},
        )
    return value


# An art. 7 code as the statute numbers it; a repealed point is refused by name.
ReasonCode = Annotated[Reason, BeforeValidator(_not_repealed)]


class Event(BaseModel):
    """Base of every integration event; `routing_key` doubles as the short event type."""

    model_config = ConfigDict(extra="ignore", frozen=True)
    routing_key: ClassVar[str]

    @classmethod
    def from_wire(cls, data: Any) -> Any:
        """The event's data as this code reads it: an older shape brought up to date before
        validation (an upcaster). Most events have had one shape only."""
        return data

    @property
    def subject(self) -> str:
        """CloudEvents subject: the case the event is about (or the directory entry)."""
        return str(self.case_id)  # type: ignore[attr-defined]


class Place(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)
    gmina: GminaCode
    powiat: PowiatCode
    region: RegionCode
    variant: ModelVariant


# --- intake ---------------------------------------------------------------------------------


class CaseOpened(Event):
    """A case was opened for a household (art. 7 reasons as the statute numbers them).

    `reasons` are art. 7 codes numbered as `reasons_version` says: 2, the statute's numbering,
    in every event intake publishes since the codes were fixed (fixed in place: no release had
    been made). An event without the marker was published before the fix; `from_wire` (applied
    wherever an event is read off the wire or the log) translates its codes (10→11, 11→12,
    12→13, 13→14, 14 and 15→15), so every consumer and every rebuild sees the statute's codes.
    """

    routing_key: ClassVar[str] = "case.opened.v1"
    case_id: UUID
    place: Place
    opened_on: date
    household_size: int = Field(ge=1, le=30)
    age_bands: dict[AgeBand, int]
    reasons: list[ReasonCode] = Field(min_length=1)
    notified_by: NotifiedBy
    consent_to_share: bool
    consent_scope: list[Sector] = Field(
        default_factory=list,
        description="the sectors the consent covers; empty: every sector of the PZK",
    )
    reasons_version: int = Field(
        default=REASONS_VERSION,
        ge=1,
        le=REASONS_VERSION,
        description="numbering of `reasons`: 2 = as the statute numbers art. 7; absent (or 1) ="
        " the numbering before the fix (10 foreigners' integration, 11 after prison,"
        " 12 addiction, 13 random event, 14 natural, 15 ecological disaster)",
        # On the wire an absent marker means the old numbering, not this default.
        json_schema_extra=lambda schema: schema.pop("default", None),  # type: ignore[arg-type,misc]
    )

    @classmethod
    def from_wire(cls, data: Any) -> Any:
        """An event from before the fix (no marker) numbered as the statute numbers it."""
        if isinstance(data, dict) and data.get("reasons_version") in (None, 1):
            reasons = data.get("reasons")
            if isinstance(reasons, list):
                data = {**data, "reasons": renumbered(reasons)}
            data = {**data, "reasons_version": REASONS_VERSION}
        return data


class CaseClosed(Event):
    """The gmina's OPS closed a case, with its outcome and the day; a later reopening starts
    its next round."""

    routing_key: ClassVar[str] = "case.closed.v1"
    case_id: UUID
    place: Place
    closed_on: date
    outcome: CaseOutcome
    round: CaseRound = 1


class CaseReopened(Event):
    """The case is back: a new round of the PZK's work starts (a review of its diagnosis)."""

    routing_key: ClassVar[str] = "case.reopened.v1"
    case_id: UUID
    place: Place
    reopened_on: date
    round: CaseRound = 2  # the round this reopening starts


class CaseConsentGiven(Event):
    """The family consented to sharing data within the PZK after its case was opened."""

    routing_key: ClassVar[str] = "case.consent_given.v1"
    case_id: UUID
    place: Place
    given_on: date
    round: CaseRound = 1
    scope: list[Sector] = Field(
        default_factory=list,
        description="the sectors the consent covers; empty: every sector of the PZK",
    )


class CaseConsentWithdrawn(Event):
    """The family withdrew its consent to share data within the PZK (RODO art. 7(3)).

    From then on nobody outside intake reads the case's personal data, access grants end, the
    team adds nothing to the diagnosis and referrals not yet accepted are cancelled. Consent
    given again (`case.consent_given.v1`) reopens sharing; of the two, the one with the later
    `sequence` (intake's per-case counter) stands, whatever the order they arrive in."""

    routing_key: ClassVar[str] = "case.consent_withdrawn.v1"
    case_id: UUID
    place: Place
    withdrawn_on: date


class CaseHouseholdChanged(Event):
    """The case file was corrected or kept current in a way others count: a member joined or
    left, a birth date was corrected (age bands), the reasons were revised. The whole picture
    after the change, so the latest (by the envelope's per-case `sequence`) stands."""

    routing_key: ClassVar[str] = "case.household_changed.v1"
    case_id: UUID
    place: Place
    changed_on: date
    household_size: int = Field(ge=1, le=30)
    age_bands: dict[AgeBand, int]
    reasons: list[ReasonCode] = Field(min_length=1)


class CaseTransferred(Event):
    """The OPS of another gmina accepted a case (a family that moved): the case, its history
    and its id go on there. `place` is where the case is now, `from_place` where it was."""

    routing_key: ClassVar[str] = "case.transferred.v1"
    case_id: UUID
    place: Place
    from_place: Place
    transferred_on: date


class CaseAnonymised(Event):
    """Intake's retention anonymised the case's personal data (closed longer than the retention
    period): the other services erase what they hold of it as personal data (diagnosis's notes,
    the plan's goals in words)."""

    routing_key: ClassVar[str] = "case.anonymised.v1"
    case_id: UUID
    place: Place
    anonymised_on: date


# --- diagnosis ------------------------------------------------------------------------------


class Need(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)
    area: NeedArea
    severity: int = Field(ge=1, le=3)


class Recommendation(BaseModel):
    """One support of the plan. Recommended under several needs it is still one support (the
    family gets one speech therapy): `need_area` is the first need, `need_areas` all of them."""

    model_config = ConfigDict(extra="ignore", frozen=True)
    recommendation_id: UUID
    support_type: SupportType
    need_area: NeedArea
    priority: int = Field(ge=1, le=3, description="1 = most urgent")
    need_areas: list[NeedArea] = Field(
        default_factory=list,
        description="every need the support answers, need_area first (empty: need_area alone)",
    )


class DiagnosisCompleted(Event):
    """The partner team's coordinator completed a case's diagnosis: its need areas, severities
    and recommended supports (the plan, not this event, starts the support)."""

    routing_key: ClassVar[str] = "diagnosis.completed.v1"
    diagnosis_id: UUID
    case_id: UUID
    place: Place
    completed_on: date
    needs: list[Need] = Field(min_length=1)
    recommendations: list[Recommendation] = Field(min_length=1)
    institutions: list[UUID] = Field(description="institutions whose members took part")
    round: CaseRound = 1


class DiagnosisRevised(Event):
    """A completed diagnosis was revised: the whole new set of needs and recommendations of
    that round replaces the previous one."""

    routing_key: ClassVar[str] = "diagnosis.revised.v1"
    diagnosis_id: UUID
    case_id: UUID
    place: Place
    revised_on: date
    revision: int = Field(ge=2)
    needs: list[Need]
    recommendations: list[Recommendation] = Field(description="the full set after the revision")
    removed: list[UUID] = Field(default_factory=list, description="recommendations dropped")
    round: CaseRound = 1


# --- the individual support plan (IPW), in diagnosis ---------------------------------------


class PlanGoal(BaseModel):
    """A goal of the plan: for one member of the household (by id) or for the household."""

    model_config = ConfigDict(extra="ignore", frozen=True)
    goal_id: UUID
    area: NeedArea
    member_id: UUID | None = Field(
        description="a member of the household (intake's person id); null: the household as a whole"
    )
    responsible_institution_id: UUID | None = Field(
        description="the PZK institution responsible; null: the OPS itself"
    )
    due_on: date
    review_on: date


class PlannedSupport(Recommendation):
    """A recommendation of the diagnosis taken into the plan, under one of its goals."""

    goal_id: UUID


class PlanAgreed(Event):
    """The family agreed to its individual plan (IPW): support starts, referrals routes it."""

    routing_key: ClassVar[str] = "plan.agreed.v1"
    plan_id: UUID
    diagnosis_id: UUID
    case_id: UUID
    place: Place
    agreed_on: date
    social_contract_on: date | None = Field(
        default=None, description="the day a social contract (kontrakt socjalny) was signed"
    )
    version: int = Field(default=1, ge=1)
    goals: list[PlanGoal] = Field(min_length=1)
    supports: list[PlannedSupport]
    round: CaseRound = 1


class PlanRevised(Event):
    """A revision of the plan: the full set of goals and supports after it, and what it dropped;
    referrals routes added supports and cancels dropped ones."""

    routing_key: ClassVar[str] = "plan.revised.v1"
    plan_id: UUID
    diagnosis_id: UUID
    case_id: UUID
    place: Place
    revised_on: date
    social_contract_on: date | None = None
    version: int = Field(ge=2)
    goals: list[PlanGoal] = Field(min_length=1)
    supports: list[PlannedSupport]
    removed: list[UUID] = Field(
        default_factory=list, description="supports (recommendations) dropped"
    )
    removed_goals: list[UUID] = Field(default_factory=list)
    round: CaseRound = Field(default=1, description="the case's round the revision was made in")


class PlanGoalReviewed(Event):
    """A goal's review: met, not met or still in progress."""

    routing_key: ClassVar[str] = "plan.goal_reviewed.v1"
    plan_id: UUID
    case_id: UUID
    place: Place
    goal_id: UUID
    area: NeedArea
    reviewed_on: date
    result: GoalResult


# --- referrals ------------------------------------------------------------------------------


class SupportAssigned(Event):
    """Routing sent a recommended support to a partner institution: a referral now waits for
    the institution to accept or decline it by its deadline."""

    routing_key: ClassVar[str] = "support.assigned.v1"
    referral_id: UUID
    recommendation_id: UUID
    case_id: UUID
    place: Place
    support_type: SupportType
    institution_id: UUID
    sector: Sector
    attempt: int = Field(ge=1)
    accept_by: datetime


class SupportUnassignable(Event):
    """No institution of the partnership can give a recommended support (none offers it, or
    every one declined or is full); the coordinator must act."""

    routing_key: ClassVar[str] = "support.unassignable.v1"
    recommendation_id: UUID
    case_id: UUID
    place: Place
    support_type: SupportType
    attempts: int = Field(ge=0)


class ReferralAccepted(Event):
    """The institution accepted a referral and will give the support; the completion deadline
    now runs."""

    routing_key: ClassVar[str] = "referral.accepted.v1"
    referral_id: UUID
    case_id: UUID
    place: Place
    support_type: SupportType
    institution_id: UUID
    sector: Sector
    complete_by: datetime


class ReferralDeclined(Event):
    """The institution declined a referral with a reason code; routing tries the next
    institution."""

    routing_key: ClassVar[str] = "referral.declined.v1"
    referral_id: UUID
    case_id: UUID
    place: Place
    support_type: SupportType
    institution_id: UUID
    sector: Sector
    reason: DeclineReason
    attempt: int = Field(ge=1)


class SupportCompleted(Event):
    """The institution recorded a support as given, with its outcome."""

    routing_key: ClassVar[str] = "support.completed.v1"
    referral_id: UUID
    case_id: UUID
    place: Place
    support_type: SupportType
    institution_id: UUID
    sector: Sector
    outcome: SupportOutcome


class SupportCancelled(Event):
    """A referral was cancelled before completion, with a reason code (case closed, consent
    withdrawn, plan revised, …)."""

    routing_key: ClassVar[str] = "support.cancelled.v1"
    referral_id: UUID
    case_id: UUID
    place: Place
    support_type: SupportType
    institution_id: UUID
    reason: str = Field(
        pattern=r"^(case_closed|recommendation_dropped|institution_deactivated|consent_withdrawn"
        r"|case_transferred)$"
    )


class SupportOverdue(Event):
    """A referral passed its acceptance or completion deadline without an answer (stage says
    which)."""

    routing_key: ClassVar[str] = "support.overdue.v1"
    referral_id: UUID
    case_id: UUID
    place: Place
    support_type: SupportType
    institution_id: UUID
    stage: str = Field(pattern=r"^(acceptance|completion)$")


# --- directory (institution data, not personal data) ----------------------------------------


class InstitutionRegistered(Event):
    """A partner institution was added to the directory: its sector, the support types it
    gives, its capacity and the area it serves."""

    routing_key: ClassVar[str] = "institution.registered.v1"
    institution_id: UUID
    name: str = Field(max_length=300)
    sector: Sector
    support_types: list[SupportType]
    gminas: list[GminaCode]
    active: bool = True
    powiats: list[PowiatCode] = Field(
        default_factory=list, description="powiats served as a whole (every gmina of each)"
    )

    @property
    def subject(self) -> str:
        return str(self.institution_id)


class InstitutionUpdated(InstitutionRegistered):
    """A partner institution's directory entry changed; the event carries the whole new entry."""

    routing_key: ClassVar[str] = "institution.updated.v1"


class PartnershipChanged(Event):
    """The members of a gmina's partner team (PZK) as they stand, from the partnership service
    (services/partnership), which owns the agreement, membership and roles. Each event carries
    the full picture; consumers keep the latest (by the envelope's time). Institution ids only:
    the representatives (people) never leave that service.

    Before the partnership service, referrals published it from its directory with the
    members only; the fields after `institutions` are then absent."""

    routing_key: ClassVar[str] = "partnership.changed.v1"
    gmina: GminaCode
    institutions: list[UUID] = Field(description="the current members")
    coordinator_institution: UUID | None = Field(
        default=None, description="the member institution holding the coordinator's role"
    )
    animator_institution: UUID | None = Field(
        default=None, description="the member institution holding the animator's role"
    )
    adviser_institution: UUID | None = Field(
        default=None, description="the regional centre (ROPS) whose adviser the team has"
    )
    diagnostic_team: list[UUID] = Field(
        default_factory=list, description="the members on the diagnostic team"
    )
    partnership_id: UUID | None = None
    version: int | None = Field(default=None, ge=1, description="the partnership's change count")
    agreement_signed_on: date | None = Field(
        default=None, description="the day the (latest) agreement was signed"
    )

    @property
    def subject(self) -> str:
        return self.gmina


# --- evaluation and group activities (intake's side: codes and counts only) -------------------


class CaseFollowUpRecorded(Event):
    """The caseworker's follow-up of a family 3 or 6 months after its case was closed: is the
    situation sustained, which roles does the family fulfil again. Recorded again for the same
    round and month (a correction), the later one by intake's per-case `sequence` stands."""

    routing_key: ClassVar[str] = "case.follow_up_recorded.v1"
    case_id: UUID
    place: Place
    round: CaseRound = 1
    closed_on: date = Field(description="the closing the follow-up is after")
    months: Literal[3, 6] = Field(description="months after the closing: 3 or 6")
    recorded_on: date
    sustained: bool = Field(description="the family's situation is sustained")
    roles: list[FamilyRole] = Field(
        default_factory=list, description="roles the family fulfils again"
    )


class ActivityParticipationChanged(Event):
    """Members of a case joined or left a group activity (intake links them; nobody else knows
    who). Counts only: how many of the case's members take part in the activity now, and in any
    activity of its type (each person once), so reporting can count distinct participants by
    type without a person's id. The latest by intake's per-case `sequence` stands."""

    routing_key: ClassVar[str] = "activity.participation_changed.v1"
    case_id: UUID
    place: Place = Field(description="the case's gmina, which is the activity's")
    activity_id: UUID
    activity_type: ActivityType
    changed_on: date
    participants: int = Field(ge=0, le=30, description="the case's members in this activity")
    participants_in_type: int = Field(
        ge=0, le=30, description="the case's members in any activity of this type, each once"
    )


# --- the partnership's group activities and its survey (codes, counts, dates, ids) ------------


class ActivityRegistered(Event):
    """The PZK runs a group activity: a club, a workshop cycle, training or coaching."""

    routing_key: ClassVar[str] = "activity.registered.v1"
    activity_id: UUID
    place: Place
    activity_type: ActivityType
    started_on: date

    @property
    def subject(self) -> str:
        return str(self.activity_id)


class ActivitySessionHeld(Event):
    """A session of a group activity took place: its day and length."""

    routing_key: ClassVar[str] = "activity.session_held.v1"
    session_id: UUID
    activity_id: UUID
    place: Place
    activity_type: ActivityType
    held_on: date
    minutes: int = Field(ge=1, le=24 * 60, description="the session's length")

    @property
    def subject(self) -> str:
        return str(self.activity_id)


class SurveyAnswerCounts(BaseModel):
    """How many respondents gave each answer (1..5) to one question."""

    model_config = ConfigDict(extra="ignore", frozen=True)
    question: SurveyQuestion
    counts: dict[int, int] = Field(description="Likert answer 1..5 -> number of respondents")


class SurveyRoundClosed(Event):
    """A round of the members' survey closed: how many answered, and - only when enough did
    that nobody's answer can be told - the counts of each answer per question. Never who
    answered what."""

    routing_key: ClassVar[str] = "survey.round_closed.v1"
    round_id: UUID
    place: Place
    opened_on: date
    closed_on: date
    invited: int = Field(ge=0, description="representatives asked")
    respondents: int = Field(ge=0, description="representatives who answered")
    withheld: bool = Field(
        description="too few answered: the answers' counts are not published at all"
    )
    answers: list[SurveyAnswerCounts] = Field(default_factory=list)

    @property
    def subject(self) -> str:
        return str(self.round_id)


class MeetingAttendance(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)
    institution_id: UUID
    sector: Sector


class MeetingHeld(Event):
    """A meeting of a partnership as recorded (again, with a higher `version`, when a decision
    or a case is added): who attended (institutions and their sectors), the cases discussed
    (ids), how many decisions. Agenda, minutes and decisions' words stay in the service."""

    routing_key: ClassVar[str] = "meeting.held.v1"
    meeting_id: UUID
    partnership_id: UUID
    place: Place
    held_on: date
    version: int = Field(ge=1)
    institutions: list[UUID] = Field(description="the institutions that attended")
    sectors: list[Sector] = Field(description="the sectors of the institutions that attended")
    attendance: list[MeetingAttendance] = Field(
        default_factory=list, description="each institution that attended with its sector"
    )
    cases: list[UUID] = Field(description="the cases discussed")
    decisions: int = Field(ge=0)

    @property
    def subject(self) -> str:
        return str(self.meeting_id)


class MeetingDecisionRecorded(Event):
    """A decision of a partnership's meeting about a case: the team agreed the diagnosis, the
    plan, or a referral to an institution (for a support type), on the meeting's day."""

    routing_key: ClassVar[str] = "meeting.decision_recorded.v1"
    decision_id: UUID
    meeting_id: UUID
    place: Place
    held_on: date
    kind: DecisionKind
    case_id: UUID | None = None
    institution_id: UUID | None = None
    support_type: SupportType | None = None

    @property
    def subject(self) -> str:
        return str(self.case_id or self.meeting_id)


ALL_EVENTS: tuple[type[Event], ...] = (
    CaseOpened,
    CaseClosed,
    CaseReopened,
    CaseConsentGiven,
    CaseConsentWithdrawn,
    CaseHouseholdChanged,
    CaseTransferred,
    CaseAnonymised,
    DiagnosisCompleted,
    DiagnosisRevised,
    PlanAgreed,
    PlanRevised,
    PlanGoalReviewed,
    SupportAssigned,
    SupportUnassignable,
    ReferralAccepted,
    ReferralDeclined,
    SupportCompleted,
    SupportCancelled,
    SupportOverdue,
    InstitutionRegistered,
    InstitutionUpdated,
    PartnershipChanged,
    CaseFollowUpRecorded,
    ActivityParticipationChanged,
    ActivityRegistered,
    ActivitySessionHeld,
    SurveyRoundClosed,
    MeetingHeld,
    MeetingDecisionRecorded,
)
EVENTS_BY_KEY: dict[str, type[Event]] = {cls.routing_key: cls for cls in ALL_EVENTS}
