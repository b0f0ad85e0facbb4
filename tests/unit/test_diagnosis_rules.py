"""Diagnosis's pure rules: who may assess, when a diagnosis is complete, how a revision works."""

from __future__ import annotations

from datetime import date
from uuid import uuid4

import pytest

from services.diagnosis.domain import Assessment, Diagnosis, Partnership, may_assess, sees
from shared.auth import Principal, Role
from shared.errors import Conflict, Forbidden, InvalidInput
from shared.events import DiagnosisCompleted, DiagnosisRevised, Place, Recommendation

TODAY = date(2026, 3, 10)
PLACE = Place(gmina="0601042", powiat="0601", region="06", variant="rural")
MEMBER, LEFT, OUTSIDER = uuid4(), uuid4(), uuid4()
TEAM = Partnership("0601042", frozenset({MEMBER, LEFT}), inactive=frozenset({LEFT}))


def assessment(area: str = "parenting", severity: int = 2, *supports: str) -> Assessment:
    return Assessment(
        uuid4(), MEMBER, area, severity, [(uuid4(), s, i + 1) for i, s in enumerate(supports)]
    )


def diagnosis(*assessments: Assessment, status: str = "open") -> Diagnosis:
    return Diagnosis(uuid4(), uuid4(), PLACE, status, list(assessments))


def test_an_empty_diagnosis_cannot_be_completed() -> None:
    with pytest.raises(InvalidInput) as refused:
        diagnosis().complete(TODAY)
    assert refused.value.code == "no_needs" and refused.value.field == "assessments"
    with pytest.raises(InvalidInput) as refused:
        diagnosis(assessment()).complete(TODAY)
    assert refused.value.code == "no_recommendations"


def test_completion_reports_the_worst_severity_per_need_and_every_recommendation() -> None:
    d = diagnosis(
        assessment("parenting", 1, "family_assistant"),
        assessment("parenting", 3),
        assessment("housing", 2, "housing_help", "financial_benefit"),
    )
    event = d.complete(TODAY)
    assert [(n.area, n.severity) for n in event.needs] == [("housing", 2), ("parenting", 3)]
    assert len(event.recommendations) == 3 and event.institutions == [MEMBER]
    assert d.status == "completed"
    with pytest.raises(Conflict):
        d.complete(TODAY)


def test_a_revision_adds_for_found_needs_drops_current_ones_and_keeps_one() -> None:
    d = diagnosis(assessment("addiction", 3, "addiction_therapy", "psychologist"))
    with pytest.raises(Conflict) as refused:
        d.revise([], [uuid4()], TODAY)
    assert refused.value.code == "diagnosis_not_completed"
    d.complete(TODAY)
    therapy, psychologist = (r.recommendation_id for r in d.recommendations())

    psychiatrist = Recommendation(
        recommendation_id=uuid4(), support_type="psychiatrist", need_area="addiction", priority=1
    )
    meals = psychiatrist.model_copy(update={"support_type": "meals", "need_area": "finances"})
    for add, remove, field in (
        ([], [], "add"),
        ([], [uuid4()], "remove[0]"),
        ([meals], [], "add[0].need_area"),
        ([], [therapy, psychologist], "remove"),
    ):
        with pytest.raises(InvalidInput) as refused:
            d.revise(add, remove, TODAY)
        assert refused.value.field == field
    assert d.revision == 1 and len(d.recommendations()) == 2  # refused revisions change nothing

    event = d.revise([psychiatrist], [psychologist], TODAY)
    assert event.revision == 2 and event.removed == [psychologist]
    assert {r.recommendation_id for r in event.recommendations} == {
        therapy,
        psychiatrist.recommendation_id,
    }
    with pytest.raises(InvalidInput) as refused:
        d.revise([], [therapy, psychiatrist.recommendation_id], TODAY)
    assert refused.value.code == "no_recommendations" and refused.value.field == "remove"


def test_only_active_members_of_the_pzk_and_the_gminas_coordinator_may_assess() -> None:
    may_assess(Principal("a", Role.TEAM_MEMBER, institution=MEMBER), "0601042", TEAM)
    may_assess(Principal("c", Role.COORDINATOR, gmina="0601042"), "0601042", TEAM)
    for refused in (
        Principal("b", Role.TEAM_MEMBER, institution=LEFT),
        Principal("d", Role.TEAM_MEMBER, institution=OUTSIDER, gmina="0601042"),
        Principal("e", Role.TEAM_MEMBER, gmina="0601042"),
        Principal("f", Role.COORDINATOR, gmina="0601052"),
    ):
        with pytest.raises(Forbidden):
            may_assess(refused, "0601042", TEAM)
    with pytest.raises(Forbidden):
        may_assess(Principal("a", Role.TEAM_MEMBER, institution=MEMBER), "0601042", None)
    assert sees(Principal("a", Role.TEAM_MEMBER, institution=MEMBER), "0601042", TEAM)
    assert not sees(Principal("b", Role.TEAM_MEMBER, institution=LEFT), "0601042", TEAM)


def test_after_consent_is_withdrawn_nothing_is_added_completed_or_revised() -> None:
    for status in ("open", "completed"):
        withdrawn = diagnosis(assessment("parenting", 2, "family_assistant"), status=status)
        withdrawn.consent_withdrawn_on = TODAY
        for attempt in (
            withdrawn.ensure_open,
            lambda d=withdrawn: d.complete(TODAY),
            lambda d=withdrawn: d.revise([], [uuid4()], TODAY),
        ):
            with pytest.raises(Conflict) as refused:
                attempt()
            assert (refused.value.code, refused.value.field) == ("consent_withdrawn", "consent")
        assert withdrawn.status == status and withdrawn.revision == 1


def test_the_review_of_a_reopened_round_concludes_as_the_next_revision() -> None:
    first = assessment("parenting", 2, "family_assistant")
    reviewed = Diagnosis(
        uuid4(), uuid4(), PLACE, "open", [first], round=2, completed_before=True, revision=3
    )
    assert reviewed.in_review
    reviewed.assessments.append(assessment("employment", 1, "vocational_counselling"))
    event = reviewed.complete(TODAY)
    assert isinstance(event, DiagnosisRevised)
    assert (event.revision, event.round, event.removed) == (4, 2, [])
    assert [r.support_type for r in event.recommendations] == [
        "family_assistant",
        "vocational_counselling",
    ]
    assert reviewed.status == "completed" and not reviewed.in_review
    # A first diagnosis of a later round (cancelled before completion, reopened) is completed.
    late = Diagnosis(uuid4(), uuid4(), PLACE, "open", [first], round=2)
    completed = late.complete(TODAY)
    assert isinstance(completed, DiagnosisCompleted) and completed.round == 2


def test_a_closed_round_takes_no_revision() -> None:
    closed = diagnosis(assessment("parenting", 2, "meals", "tutoring"), status="completed")
    closed.case_closed = True
    with pytest.raises(Conflict) as refused:
        closed.revise([], [closed.recommendations()[0].recommendation_id], TODAY)
    assert refused.value.code == "case_closed"


def test_one_support_type_recommended_under_two_needs_is_one_support_answering_both() -> None:
    speech = assessment("child_education", 2, "speech_therapist")
    again = Assessment(uuid4(), MEMBER, "disability", 3, [(uuid4(), "speech_therapist", 1)])
    planned = diagnosis(speech, again, assessment("health", 1, "health_care"))
    event = planned.complete(TODAY)
    assert [(r.support_type, r.need_areas, r.priority) for r in event.recommendations] == [
        ("speech_therapist", ["child_education", "disability"], 1),
        ("health_care", ["health"], 1),
    ]
    [support] = [r for r in event.recommendations if r.support_type == "speech_therapist"]
    assert support.recommendation_id == speech.recommendations[0][0]
    assert support.need_area == "child_education"
    assert planned.support_of(again.recommendations[0][0]) == support.recommendation_id

    # A revision adding it under a third need adds the need to the same support; dropping it
    # drops it whole.
    addition = Recommendation(
        recommendation_id=uuid4(), support_type="speech_therapist", need_area="health", priority=2
    )
    revised = planned.revise([addition], [], TODAY)
    assert revised.recommendations[0].recommendation_id == support.recommendation_id
    assert revised.recommendations[0].need_areas == ["child_education", "disability", "health"]
    dropped = planned.revise([], [again.recommendations[0][0]], TODAY)
    assert dropped.removed == [support.recommendation_id]
    assert [r.support_type for r in dropped.recommendations] == ["health_care"]


def test_a_later_round_plans_a_support_anew() -> None:
    first = assessment("parenting", 2, "family_assistant")
    second = Assessment(uuid4(), MEMBER, "parenting", 3, [(uuid4(), "family_assistant", 1)], 2)
    reviewed = Diagnosis(
        uuid4(), uuid4(), PLACE, "open", [first, second], round=2, completed_before=True
    )
    event = reviewed.complete(TODAY)
    assert [r.recommendation_id for r in event.recommendations] == [
        first.recommendations[0][0],
        second.recommendations[0][0],
    ]
