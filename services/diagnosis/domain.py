"""Diagnosis rules: who may assess, what makes a diagnosis complete, how it is revised. No I/O."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from uuid import UUID

from shared.auth import Principal, Role
from shared.codes import NeedArea, Sector, SupportType
from shared.errors import Conflict, Forbidden, InvalidInput
from shared.events import DiagnosisCompleted, DiagnosisRevised, Need, Place, Recommendation


@dataclass(frozen=True)
class Assessment:
    """One team member's view of one area of need (the notes never leave this service)."""

    assessment_id: UUID
    institution_id: UUID | None
    need_area: NeedArea
    severity: int
    recommendations: list[tuple[UUID, SupportType, int]]  # (id, support type, priority)
    round: int = 1  # the case's round it was made in


@dataclass(frozen=True)
class Added:
    """A recommendation added by a revision, in the round of that revision."""

    recommendation: Recommendation
    round: int = 1


@dataclass(frozen=True)
class Partnership:
    """A gmina's partner team (PZK): the institutions that signed its agreement."""

    gmina: str
    institutions: frozenset[UUID]
    inactive: frozenset[UUID] = frozenset()

    def admits(self, institution: UUID | None) -> bool:
        return (
            institution is not None
            and institution in self.institutions
            and institution not in self.inactive
        )


def may_assess(principal: Principal, gmina: str, partnership: Partnership | None) -> None:
    """Only members of the gmina's PZK, and that gmina's coordinator, add assessments."""
    if principal.role is Role.COORDINATOR:
        principal.require_gmina(gmina)
        return
    if partnership is None or not partnership.admits(principal.institution):
        raise Forbidden(
            "not_in_partnership",
            f"your institution is not a member of the partner team (PZK) of gmina {gmina}",
        )


def sees(principal: Principal, gmina: str, partnership: Partnership | None) -> bool:
    """Whether a diagnosis of this gmina is within the principal's view."""
    if principal.covers_gmina(gmina):
        return True
    return partnership is not None and partnership.admits(principal.institution)


def may_read_notes(
    principal: Principal,
    diagnosis: Diagnosis,
    partnership: Partnership | None,
    institution_sector: Sector | None,
) -> None:
    """Notes are special-category data (RODO art. 9). The gmina's caseworkers and coordinator
    read them; a member of the PZK only while the family's consent stands and covers the
    sector of the member's institution (an institution of unknown sector is not covered)."""
    if principal.role in (Role.CASEWORKER, Role.COORDINATOR):
        principal.require_gmina(diagnosis.place.gmina)
        return
    if principal.role is not Role.TEAM_MEMBER:
        raise Forbidden("role_not_allowed", f"role {principal.role} may not read diagnosis notes")
    if partnership is None or not partnership.admits(principal.institution):
        raise Forbidden(
            "not_in_partnership",
            f"your institution is not a member of the PZK of gmina {diagnosis.place.gmina}",
        )
    if diagnosis.consent_withdrawn_on is not None:
        raise Forbidden(
            "consent_withdrawn",
            f"the family withdrew its consent to share data on {diagnosis.consent_withdrawn_on}",
        )
    if diagnosis.consent_scope and institution_sector not in diagnosis.consent_scope:
        raise Forbidden(
            "notes_outside_consent",
            "the family's consent does not cover the sector of your institution",
        )


@dataclass
class Diagnosis:
    diagnosis_id: UUID
    case_id: UUID
    place: Place
    status: str  # open | completed | cancelled
    assessments: list[Assessment] = field(default_factory=list)
    # The case's round (1 from its opening, +1 at each reopening). A reopening opens a completed
    # diagnosis again for review: `completed_before` tells such a review from a first diagnosis.
    round: int = 1
    completed_before: bool = False
    case_closed: bool = False  # intake closed the case in this round
    revision: int = 1
    added: list[Added] = field(default_factory=list)  # by later revisions
    dropped: set[UUID] = field(default_factory=set)
    consent_withdrawn_on: date | None = None  # while the family's withdrawal stands
    consent_scope: tuple[Sector, ...] = ()  # sectors the consent in effect covers; () = all
    planned: set[UUID] = field(default_factory=set)  # recommendations its plan (IPW) takes in

    def ensure_shared(self) -> None:
        """After the family withdrew its consent (RODO art. 7(3)) the team adds nothing."""
        if self.consent_withdrawn_on is not None:
            raise Conflict(
                "consent_withdrawn",
                f"the family withdrew its consent to share data on {self.consent_withdrawn_on}",
                field="consent",
            )

    def ensure_open(self) -> None:
        self.ensure_shared()
        if self.status != "open":
            raise Conflict("diagnosis_not_open", f"the diagnosis is {self.status}", field="status")

    def needs(self) -> list[Need]:
        """The most severe assessment of each area stands for that area."""
        worst: dict[NeedArea, int] = {}
        for a in self.assessments:
            worst[a.need_area] = max(worst.get(a.need_area, 0), a.severity)
        return [Need(area=area, severity=sev) for area, sev in sorted(worst.items())]

    def _supports(self) -> list[list[Recommendation]]:
        """The current recommendations (the assessments' and later additions, less drops),
        grouped into supports: within a round, one per support type, however many needs it
        was recommended under; the first recommendation of each gives the support its id."""
        made = [
            (
                a.round,
                Recommendation(
                    recommendation_id=rid, support_type=st, need_area=a.need_area, priority=prio
                ),
            )
            for a in self.assessments
            for rid, st, prio in a.recommendations
        ]
        made += [(x.round, x.recommendation) for x in self.added]
        supports: dict[tuple[int, SupportType], list[Recommendation]] = {}
        for round_, rec in made:
            if rec.recommendation_id not in self.dropped:
                supports.setdefault((round_, rec.support_type), []).append(rec)
        return list(supports.values())

    def recommendations(self) -> list[Recommendation]:
        """The plan: one recommendation per support, carrying every need it answers and the
        most urgent priority it was given."""
        return [
            group[0].model_copy(
                update={
                    "priority": min(r.priority for r in group),
                    "need_areas": list(dict.fromkeys(r.need_area for r in group)),
                }
            )
            for group in self._supports()
        ]

    def support_of(self, recommendation_id: UUID) -> UUID:
        """The id of the support a current recommendation is part of."""
        for group in self._supports():
            if any(r.recommendation_id == recommendation_id for r in group):
                return group[0].recommendation_id
        raise KeyError(recommendation_id)

    def _members(self, support_id: UUID) -> set[UUID]:
        for group in self._supports():
            if any(r.recommendation_id == support_id for r in group):
                return {r.recommendation_id for r in group}
        return set()

    def all_recommendations(self) -> list[Recommendation]:
        """Every recommendation ever made in this diagnosis, dropped ones included (what an
        earlier version of the plan may name)."""
        return [
            *(
                Recommendation(
                    recommendation_id=rid, support_type=st, need_area=a.need_area, priority=prio
                )
                for a in self.assessments
                for rid, st, prio in a.recommendations
            ),
            *(x.recommendation for x in self.added),
        ]

    def institutions(self) -> list[UUID]:
        return sorted({a.institution_id for a in self.assessments if a.institution_id}, key=str)

    @property
    def in_review(self) -> bool:
        """Open again after the case was reopened: the team reviews a completed diagnosis."""
        return self.status == "open" and self.completed_before

    def complete(self, today: date) -> DiagnosisCompleted | DiagnosisRevised:
        """Conclude the diagnosis → diagnosis.completed.v1; conclude the review of a reopened
        round → diagnosis.revised.v1 (the next revision, with the full set: what the new
        assessments recommend is routed)."""
        self.ensure_open()
        needs, recommendations = self.needs(), self.recommendations()
        if not needs:
            raise InvalidInput(
                "no_needs", "record at least one need before completing", field="assessments"
            )
        if not recommendations:
            raise InvalidInput(
                "no_recommendations",
                "recommend at least one support before completing",
                field="assessments",
            )
        if self.in_review:
            return self._concluded_revision([], today)
        self.status = "completed"
        return DiagnosisCompleted(
            diagnosis_id=self.diagnosis_id,
            case_id=self.case_id,
            place=self.place,
            completed_on=today,
            needs=needs,
            recommendations=recommendations,
            institutions=self.institutions(),
            round=self.round,
        )

    def _concluded_revision(self, removed: list[UUID], today: date) -> DiagnosisRevised:
        self.revision += 1
        self.status = "completed"
        return DiagnosisRevised(
            diagnosis_id=self.diagnosis_id,
            case_id=self.case_id,
            place=self.place,
            revised_on=today,
            revision=self.revision,
            needs=self.needs(),
            recommendations=self.recommendations(),
            removed=list(removed),
            round=self.round,
        )

    def revise(
        self, add: list[Recommendation], remove: list[UUID], today: date
    ) -> DiagnosisRevised:
        """A review of a completed diagnosis (or the conclusion of its review after the case
        was reopened): add recommendations for needs already found, drop ones no longer
        needed; the event carries the full set after the change."""
        self.ensure_shared()
        if self.status != "completed" and not self.in_review:
            raise Conflict(
                "diagnosis_not_completed",
                f"only a completed diagnosis can be revised; this one is {self.status}",
                field="status",
            )
        if self.case_closed:
            raise Conflict(
                "case_closed",
                "the case is closed: a reopening starts a review of its diagnosis",
                field="status",
            )
        if not add and not remove:
            raise InvalidInput("empty_revision", "add or remove something", field="add")
        current = {r.recommendation_id for group in self._supports() for r in group}
        for i, rid in enumerate(remove):
            if rid not in current:
                raise InvalidInput(
                    "unknown_recommendation",
                    f"{rid} is not a current recommendation of this diagnosis",
                    field=f"remove[{i}]",
                )
            if self.support_of(rid) in self.planned:
                raise Conflict(
                    "recommendation_in_plan",
                    f"{rid} is a support of the agreed plan: revise the plan to drop it",
                    field=f"remove[{i}]",
                )
        assessed = {n.area for n in self.needs()}
        for i, r in enumerate(add):
            if r.need_area not in assessed:
                raise InvalidInput(
                    "need_not_assessed",
                    f"no need {r.need_area} was found in this diagnosis",
                    field=f"add[{i}].need_area",
                )
        # Dropping a support drops it whole, under every need it answered.
        removed = list(dict.fromkeys(self.support_of(rid) for rid in remove))
        dropped = {m for rid in removed for m in self._members(rid)}
        if not add and current <= dropped:
            raise InvalidInput(
                "no_recommendations",
                "a revised diagnosis keeps at least one recommendation",
                field="remove",
            )
        self.dropped |= dropped
        self.added.extend(Added(r, self.round) for r in add)
        return self._concluded_revision(removed, today)
