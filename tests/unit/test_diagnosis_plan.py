"""The individual support plan's pure rules: when it can be agreed, what its goals may hold, how
a revision keeps identities and says what it dropped, reviews, and what its events carry."""

from __future__ import annotations

from datetime import date, timedelta
from uuid import UUID, uuid4

import pytest

from services.diagnosis.domain import Assessment, Diagnosis, Partnership
from services.diagnosis.plan import GoalDraft, SupportPlan, agree
from shared.errors import Conflict, InvalidInput, NotFound
from shared.events import Place

TODAY = date(2026, 3, 10)
PLACE = Place(gmina="0601042", powiat="0601", region="06", variant="rural")
CLINIC, STRANGER = uuid4(), uuid4()
TEAM = Partnership("0601042", frozenset({CLINIC}))
PSYCHOLOGIST, BENEFIT, WORKSHOPS = uuid4(), uuid4(), uuid4()


def completed(status: str = "completed") -> Diagnosis:
    return Diagnosis(
        uuid4(),
        uuid4(),
        PLACE,
        status,
        [
            Assessment(uuid4(), CLINIC, "mental_health", 2, [(PSYCHOLOGIST, "psychologist", 1)]),
            Assessment(
                uuid4(),
                None,
                "finances",
                3,
                [(BENEFIT, "financial_benefit", 1), (WORKSHOPS, "parenting_workshops", 3)],
            ),
        ],
    )


def goal(area: str = "mental_health", *supports: UUID, **fields: object) -> GoalDraft:
    fields.setdefault("due_on", TODAY + timedelta(days=90))
    fields.setdefault("review_on", TODAY + timedelta(days=30))
    return GoalDraft(area=area, supports=supports, **fields)  # type: ignore[arg-type]


def agreed(diagnosis: Diagnosis, *drafts: GoalDraft) -> tuple[SupportPlan, object]:
    return agree(
        diagnosis,
        list(drafts),
        agreed_on=TODAY,
        social_contract_on=None,
        partnership=TEAM,
        today=TODAY,
    )


def test_a_plan_is_agreed_on_a_completed_diagnosis_and_its_event_carries_codes_and_ids() -> None:
    diagnosis = completed()
    member = uuid4()
    plan, event = agreed(
        diagnosis,
        goal("mental_health", PSYCHOLOGIST, member_id=member, responsible_institution_id=CLINIC,
             description="Pani Anna wraca do pracy"),
        goal("finances", BENEFIT),
    )  # fmt: skip
    assert plan.version == 1 and len(plan.goals) == 2
    data = event.model_dump(mode="json")  # type: ignore[attr-defined]
    assert set(data) == {
        "plan_id", "diagnosis_id", "case_id", "place", "agreed_on", "social_contract_on",
        "version", "goals", "supports", "round",
    }  # fmt: skip
    assert "Anna" not in str(data)
    first, second = data["goals"]
    assert (first["member_id"], first["responsible_institution_id"]) == (str(member), str(CLINIC))
    assert (second["member_id"], second["responsible_institution_id"]) == (None, None)
    assert [
        (s["recommendation_id"], s["support_type"], s["goal_id"]) for s in data["supports"]
    ] == [
        (str(PSYCHOLOGIST), "psychologist", first["goal_id"]),
        (str(BENEFIT), "financial_benefit", second["goal_id"]),
    ]


@pytest.mark.parametrize("status", ["open", "cancelled"])
def test_no_plan_before_the_diagnosis_is_completed(status: str) -> None:
    with pytest.raises(Conflict) as refused:
        agreed(completed(status), goal())
    assert refused.value.code == "diagnosis_not_completed"


def test_no_plan_after_the_family_withdrew_its_consent() -> None:
    diagnosis = completed()
    diagnosis.consent_withdrawn_on = TODAY
    with pytest.raises(Conflict) as refused:
        agreed(diagnosis, goal())
    assert refused.value.code == "consent_withdrawn"


@pytest.mark.parametrize(
    ("drafts", "field", "code"),
    [
        ([], "goals", "no_goals"),
        ([goal("housing")], "goals[0].area", "need_not_assessed"),
        ([goal("finances", uuid4())], "goals[0].supports[0]", "unknown_recommendation"),
        (
            [goal("finances", BENEFIT), goal("mental_health", PSYCHOLOGIST, BENEFIT)],
            "goals[1].supports[1]",
            "support_in_two_goals",
        ),
        ([goal(due_on=TODAY - timedelta(days=1))], "goals[0].due_on", "due_before_plan"),
        (
            [goal(review_on=TODAY + timedelta(days=91))],
            "goals[0].review_on",
            "review_out_of_range",
        ),
        (
            [goal(responsible_institution_id=STRANGER)],
            "goals[0].responsible_institution_id",
            "not_in_partnership",
        ),
        ([goal(goal_id=uuid4())], "goals[0].goal_id", "unknown_goal"),
    ],
)
def test_a_goal_that_breaks_a_rule_is_refused_naming_its_field(
    drafts: list[GoalDraft], field: str, code: str
) -> None:
    with pytest.raises(InvalidInput) as refused:
        agreed(completed(), *drafts)
    assert (refused.value.field, refused.value.code) == (field, code)


def test_agreement_and_contract_are_not_dated_in_the_future() -> None:
    for name in ("agreed_on", "social_contract_on"):
        dates = {"agreed_on": TODAY, "social_contract_on": None, name: TODAY + timedelta(days=1)}
        with pytest.raises(InvalidInput) as refused:
            agree(completed(), [goal()], partnership=TEAM, today=TODAY, **dates)  # type: ignore[arg-type]
        assert refused.value.field == name


def test_a_revision_keeps_goals_by_id_adds_and_drops_supports_and_keeps_the_version_count() -> None:
    diagnosis = completed()
    plan, _ = agreed(diagnosis, goal("mental_health", PSYCHOLOGIST), goal("finances", BENEFIT))
    kept, dropped = plan.goals
    after, event = plan.revise(
        diagnosis,
        [
            goal("mental_health", PSYCHOLOGIST, WORKSHOPS, goal_id=kept.goal_id),
            goal("finances"),  # a new goal without supports
        ],
        revised_on=TODAY,
        social_contract_on=TODAY,
        partnership=TEAM,
        today=TODAY,
    )
    assert (after.version, plan.version) == (2, 1)
    assert after.goals[0].goal_id == kept.goal_id and after.goals[1].goal_id != dropped.goal_id
    assert event.version == 2 and event.social_contract_on == TODAY
    assert event.removed == [BENEFIT]
    assert event.removed_goals == [dropped.goal_id]
    assert [s.recommendation_id for s in event.supports] == [PSYCHOLOGIST, WORKSHOPS]


def test_a_revision_that_changes_nothing_or_dates_before_the_plan_is_refused() -> None:
    diagnosis = completed()
    plan, _ = agreed(diagnosis, goal("mental_health", PSYCHOLOGIST))
    [only] = plan.goals
    same = goal("mental_health", PSYCHOLOGIST, goal_id=only.goal_id)
    kwargs = dict(social_contract_on=None, partnership=TEAM, today=TODAY)
    with pytest.raises(InvalidInput) as refused:
        plan.revise(diagnosis, [same], revised_on=TODAY, **kwargs)  # type: ignore[arg-type]
    assert refused.value.code == "empty_revision"
    with pytest.raises(InvalidInput) as refused:
        plan.revise(diagnosis, [same], revised_on=TODAY - timedelta(days=1), **kwargs)  # type: ignore[arg-type]
    assert refused.value.field == "revised_on"


def test_a_goal_is_reviewed_met_not_met_or_in_progress_the_latest_standing() -> None:
    diagnosis = completed()
    plan, _ = agreed(diagnosis, goal("mental_health", PSYCHOLOGIST))
    [only] = plan.goals
    event = plan.review(diagnosis, only.goal_id, "in_progress", TODAY, TODAY)
    assert (event.area, event.result, event.goal_id) == (
        "mental_health",
        "in_progress",
        only.goal_id,
    )
    plan.review(diagnosis, only.goal_id, "met", TODAY, TODAY)
    assert plan.reviews == {only.goal_id: "met"}
    with pytest.raises(NotFound):
        plan.review(diagnosis, uuid4(), "met", TODAY, TODAY)
    with pytest.raises(InvalidInput):
        plan.review(diagnosis, only.goal_id, "met", TODAY + timedelta(days=1), TODAY)


def test_a_diagnosis_revision_cannot_drop_a_support_of_the_agreed_plan() -> None:
    diagnosis = completed()
    diagnosis.planned = {PSYCHOLOGIST}
    with pytest.raises(Conflict) as refused:
        diagnosis.revise([], [PSYCHOLOGIST], TODAY)
    assert (refused.value.code, refused.value.field) == ("recommendation_in_plan", "remove[0]")
    event = diagnosis.revise([], [WORKSHOPS], TODAY)
    assert event.removed == [WORKSHOPS]
