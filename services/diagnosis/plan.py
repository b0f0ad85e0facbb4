"""The individual support plan (IPW, Indywidualny Plan Wsparcia): what the family agrees to after
the joint diagnosis. Goals per member or for the household, the supports of each (recommendations
of the diagnosis, which referrals routes), who is responsible, due and review dates. No I/O."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date
from uuid import UUID, uuid4

from services.diagnosis.domain import Diagnosis, Partnership
from shared.codes import GoalResult, NeedArea
from shared.errors import Conflict, InvalidInput, NotFound
from shared.events import (
    PlanAgreed,
    PlanGoal,
    PlanGoalReviewed,
    PlannedSupport,
    PlanRevised,
    Recommendation,
)


@dataclass(frozen=True)
class Goal:
    """A goal (cel) of the plan. `description` is the goal in the family's and team's words: it
    stays in diagnosis and never travels in an event."""

    goal_id: UUID
    area: NeedArea
    member_id: UUID | None  # None: the household
    responsible_institution_id: UUID | None  # None: the OPS itself
    due_on: date
    review_on: date
    supports: tuple[UUID, ...] = ()  # recommendation ids
    description: str = ""

    def as_event(self) -> PlanGoal:
        return PlanGoal(
            goal_id=self.goal_id,
            area=self.area,
            member_id=self.member_id,
            responsible_institution_id=self.responsible_institution_id,
            due_on=self.due_on,
            review_on=self.review_on,
        )


@dataclass(frozen=True)
class GoalDraft:
    """A goal as the coordinator writes it; `goal_id` names a goal of the plan being revised."""

    area: NeedArea
    due_on: date
    review_on: date
    supports: tuple[UUID, ...] = ()
    member_id: UUID | None = None
    responsible_institution_id: UUID | None = None
    description: str = ""
    goal_id: UUID | None = None


@dataclass
class SupportPlan:
    plan_id: UUID
    diagnosis_id: UUID
    version: int
    agreed_on: date
    social_contract_on: date | None
    goals: list[Goal]
    reviews: dict[UUID, GoalResult] = field(default_factory=dict)  # each goal's latest

    @property
    def supports(self) -> set[UUID]:
        return {rid for g in self.goals for rid in g.supports}

    def goal(self, goal_id: UUID) -> Goal:
        for g in self.goals:
            if g.goal_id == goal_id:
                return g
        raise NotFound("goal_not_found", f"no goal {goal_id} in this plan")

    def revise(
        self,
        diagnosis: Diagnosis,
        drafts: list[GoalDraft],
        *,
        revised_on: date,
        social_contract_on: date | None,
        partnership: Partnership | None,
        today: date,
    ) -> tuple[SupportPlan, PlanRevised]:
        """A new version of the plan (the earlier ones stay as its history): the full set of
        goals after the revision. Added supports are routed, dropped ones cancelled. After a
        reopening, the revision of the new round (once its diagnosis's review is concluded)
        starts the support again."""
        _ensure_plannable(diagnosis)
        _check_day(revised_on, "revised_on", not_before=self.agreed_on, today=today)
        _check_day(social_contract_on, "social_contract_on", not_before=None, today=today)
        goals = _goals(
            diagnosis, drafts, revised_on, partnership, known={g.goal_id for g in self.goals}
        )
        after = replace(
            self,
            version=self.version + 1,
            social_contract_on=social_contract_on or self.social_contract_on,
            goals=goals,
        )
        if after.goals == self.goals and after.social_contract_on == self.social_contract_on:
            raise InvalidInput("empty_revision", "the revision changes nothing", field="goals")
        kept_goals = {g.goal_id for g in goals}
        event = PlanRevised(
            plan_id=self.plan_id,
            diagnosis_id=diagnosis.diagnosis_id,
            case_id=diagnosis.case_id,
            place=diagnosis.place,
            revised_on=revised_on,
            social_contract_on=after.social_contract_on,
            version=after.version,
            goals=[g.as_event() for g in goals],
            supports=_planned(goals, diagnosis),
            removed=sorted(self.supports - after.supports, key=str),
            removed_goals=sorted(
                (g.goal_id for g in self.goals if g.goal_id not in kept_goals), key=str
            ),
            round=diagnosis.round,
        )
        return after, event

    def review(
        self,
        diagnosis: Diagnosis,
        goal_id: UUID,
        result: GoalResult,
        reviewed_on: date,
        today: date,
    ) -> PlanGoalReviewed:
        """A goal's review (przegląd): met, not met, or still in progress."""
        goal = self.goal(goal_id)
        _check_day(reviewed_on, "reviewed_on", not_before=self.agreed_on, today=today)
        self.reviews[goal_id] = result
        return PlanGoalReviewed(
            plan_id=self.plan_id,
            case_id=diagnosis.case_id,
            place=diagnosis.place,
            goal_id=goal_id,
            area=goal.area,
            reviewed_on=reviewed_on,
            result=result,
        )


def agree(
    diagnosis: Diagnosis,
    drafts: list[GoalDraft],
    *,
    agreed_on: date,
    social_contract_on: date | None,
    partnership: Partnership | None,
    today: date,
) -> tuple[SupportPlan, PlanAgreed]:
    """The plan the family agreed to, on a completed diagnosis whose consent stands."""
    _ensure_plannable(diagnosis)
    _check_day(agreed_on, "agreed_on", not_before=None, today=today)
    _check_day(social_contract_on, "social_contract_on", not_before=None, today=today)
    goals = _goals(diagnosis, drafts, agreed_on, partnership, known=set())
    plan = SupportPlan(
        plan_id=uuid4(),
        diagnosis_id=diagnosis.diagnosis_id,
        version=1,
        agreed_on=agreed_on,
        social_contract_on=social_contract_on,
        goals=goals,
    )
    return plan, PlanAgreed(
        plan_id=plan.plan_id,
        diagnosis_id=diagnosis.diagnosis_id,
        case_id=diagnosis.case_id,
        place=diagnosis.place,
        agreed_on=agreed_on,
        social_contract_on=social_contract_on,
        version=1,
        goals=[g.as_event() for g in goals],
        supports=_planned(goals, diagnosis),
        round=diagnosis.round,
    )


def _ensure_plannable(diagnosis: Diagnosis) -> None:
    """A plan is agreed or revised on a concluded diagnosis (not while the review of a reopened
    case is under way), of an open case whose consent stands."""
    diagnosis.ensure_shared()
    if diagnosis.status != "completed":
        raise Conflict(
            "diagnosis_not_completed",
            f"a plan follows a completed diagnosis; this one is "
            f"{'under review' if diagnosis.in_review else diagnosis.status}",
            field="status",
        )
    if diagnosis.case_closed:
        raise Conflict("case_closed", "the case is closed: reopen it first", field="status")


def _check_day(day: date | None, name: str, *, not_before: date | None, today: date) -> None:
    if day is None:
        return
    if day > today:
        raise InvalidInput("date_in_future", f"{name} cannot be in the future", field=name)
    if not_before is not None and day < not_before:
        raise InvalidInput(
            "date_before_agreement", f"{name} is before the plan was agreed", field=name
        )


def _goals(
    diagnosis: Diagnosis,
    drafts: list[GoalDraft],
    start: date,
    partnership: Partnership | None,
    *,
    known: set[UUID],
) -> list[Goal]:
    """The drafts checked against the diagnosis and the team, as goals."""
    if not drafts:
        raise InvalidInput("no_goals", "a plan has at least one goal", field="goals")
    needs = {n.area for n in diagnosis.needs()}
    current = {r.recommendation_id for r in diagnosis.recommendations()}
    used: set[UUID] = set()
    ids: set[UUID] = set()
    goals = []
    for i, d in enumerate(drafts):
        at = f"goals[{i}]"
        if d.goal_id is not None and (d.goal_id not in known or d.goal_id in ids):
            raise InvalidInput(
                "unknown_goal", f"{d.goal_id} is not a goal of this plan", field=f"{at}.goal_id"
            )
        if d.area not in needs:
            raise InvalidInput(
                "need_not_assessed",
                f"no need {d.area} was found in the diagnosis",
                field=f"{at}.area",
            )
        if d.due_on < start:
            raise InvalidInput(
                "due_before_plan", "the goal is due before the plan starts", field=f"{at}.due_on"
            )
        if not start <= d.review_on <= d.due_on:
            raise InvalidInput(
                "review_out_of_range",
                "the goal is reviewed between the plan's start and its due date",
                field=f"{at}.review_on",
            )
        responsible = d.responsible_institution_id
        if responsible is not None and (partnership is None or not partnership.admits(responsible)):
            raise InvalidInput(
                "not_in_partnership",
                f"institution {responsible} is not a member of the PZK; null means the OPS",
                field=f"{at}.responsible_institution_id",
            )
        for j, rid in enumerate(d.supports):
            if rid not in current:
                raise InvalidInput(
                    "unknown_recommendation",
                    f"{rid} is not a current recommendation of the diagnosis",
                    field=f"{at}.supports[{j}]",
                )
            if rid in used:
                raise InvalidInput(
                    "support_in_two_goals",
                    f"{rid} is already a support of another goal",
                    field=f"{at}.supports[{j}]",
                )
            used.add(rid)
        goal_id = d.goal_id or uuid4()
        ids.add(goal_id)
        goals.append(
            Goal(
                goal_id=goal_id,
                area=d.area,
                member_id=d.member_id,
                responsible_institution_id=responsible,
                due_on=d.due_on,
                review_on=d.review_on,
                supports=tuple(d.supports),
                description=d.description,
            )
        )
    return goals


def _planned(goals: list[Goal], diagnosis: Diagnosis) -> list[PlannedSupport]:
    by_id: dict[UUID, Recommendation] = {
        r.recommendation_id: r for r in diagnosis.recommendations()
    }
    return [
        PlannedSupport(**by_id[rid].model_dump(), goal_id=g.goal_id)
        for g in goals
        for rid in g.supports
    ]
