"""Diagnosis rules: what makes a diagnosis complete and what it recommends. No I/O."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from uuid import UUID

from shared.codes import NeedArea, SupportType
from shared.errors import Conflict, InvalidInput
from shared.events import DiagnosisCompleted, Need, Place, Recommendation


@dataclass(frozen=True)
class Assessment:
    """One team member's view of one area of need (the notes never leave this service)."""

    assessment_id: UUID
    institution_id: UUID | None
    need_area: NeedArea
    severity: int
    recommendations: list[tuple[UUID, SupportType, int]]  # (id, support type, priority)


@dataclass
class Diagnosis:
    diagnosis_id: UUID
    case_id: UUID
    place: Place
    status: str  # open | completed | cancelled
    assessments: list[Assessment] = field(default_factory=list)

    def ensure_open(self) -> None:
        if self.status != "open":
            raise Conflict("diagnosis_not_open", f"the diagnosis is {self.status}")

    def needs(self) -> list[Need]:
        """The most severe assessment of each area stands for that area."""
        worst: dict[NeedArea, int] = {}
        for a in self.assessments:
            worst[a.need_area] = max(worst.get(a.need_area, 0), a.severity)
        return [Need(area=area, severity=sev) for area, sev in sorted(worst.items())]

    def recommendations(self) -> list[Recommendation]:
        return [
            Recommendation(
                recommendation_id=rid, support_type=st, need_area=a.need_area, priority=prio
            )
            for a in self.assessments
            for rid, st, prio in a.recommendations
        ]

    def complete(self, today: date) -> DiagnosisCompleted:
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
        self.status = "completed"
        institutions = sorted(
            {a.institution_id for a in self.assessments if a.institution_id}, key=str
        )
        return DiagnosisCompleted(
            diagnosis_id=self.diagnosis_id,
            case_id=self.case_id,
            place=self.place,
            completed_on=today,
            needs=needs,
            recommendations=recommendations,
            institutions=institutions,
        )
