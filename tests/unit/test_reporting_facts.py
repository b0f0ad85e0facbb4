"""Facts from events merge to the same row whatever the order and however often they come."""

from __future__ import annotations

import itertools
import random
from datetime import UTC, date, datetime
from uuid import uuid4

from services.reporting.domain import (
    CASE_TRANSITIONS,
    CASES,
    GOALS,
    PLANS,
    REFERRALS,
    TRANSFERS,
    case_state,
    combine,
    facts_of,
)
from shared.envelope import wrap
from shared.events import (
    CaseClosed,
    CaseHouseholdChanged,
    CaseOpened,
    CaseReopened,
    CaseTransferred,
    DiagnosisCompleted,
    Need,
    Place,
    PlanAgreed,
    PlanGoal,
    PlanGoalReviewed,
    PlanRevised,
    Recommendation,
    ReferralAccepted,
    ReferralDeclined,
    SupportAssigned,
)

PLACE = Place(gmina="0601042", powiat="0601", region="06", variant="rural")
# Moved to: a gmina of another region whose codes are all greater, so that keeping "the least
# place" (the rule before places followed transfers) would give the wrong answer
ELSEWHERE = Place(gmina="3001032", powiat="3001", region="30", variant="rural")


def _facts(events_at):
    return [f for event, at in events_at for f in facts_of(event, wrap(event, region="06",
            service="test", time=at))]  # fmt: skip


def _sequenced(story):
    """Envelopes as intake's outbox numbers them: the case's own sequence, 1, 2, ..."""
    return [(event, wrap(event, region="06", service="intake", time=at, sequence=n))
            for n, (event, at) in enumerate(story, start=1)]  # fmt: skip


def _at(day: int) -> datetime:
    return datetime(2025, 3, day, 10, tzinfo=UTC)


def test_a_case_story_gives_one_row_in_any_order_and_with_repeats() -> None:
    case_id = uuid4()
    story = [
        (CaseOpened(case_id=case_id, place=PLACE, opened_on=date(2025, 3, 1), household_size=4,
                    age_bands={"6-17": 2, "30-44": 2}, reasons=["9", "1"], notified_by="school",
                    consent_to_share=True), _at(1)),
        (CaseClosed(case_id=case_id, place=PLACE, closed_on=date(2025, 6, 1),
                    outcome="completed_partly"), _at(2)),
        (CaseReopened(case_id=case_id, place=PLACE, reopened_on=date(2025, 7, 1)), _at(3)),
        (CaseClosed(case_id=case_id, place=PLACE, closed_on=date(2025, 12, 1),
                    outcome="completed_successfully"), _at(4)),
    ]  # fmt: skip
    rows = set()
    for order in itertools.permutations(story):
        [row] = combine(_facts([*order, order[0]]))[CASES]
        rows.add(tuple(sorted((k, str(v)) for k, v in row.items())))
    assert len(rows) == 1
    [row] = combine(_facts(story))[CASES]
    assert row["opened_on"] == date(2025, 3, 1)
    assert row["reasons"] == ["1", "9"]


def test_the_state_is_that_after_the_last_transition_whatever_the_dates_and_the_order() -> None:
    case_id = uuid4()

    def close(on: date, outcome: str) -> CaseClosed:
        return CaseClosed(case_id=case_id, place=PLACE, closed_on=on, outcome=outcome)

    def reopen(on: date) -> CaseReopened:
        return CaseReopened(case_id=case_id, place=PLACE, reopened_on=on)

    day = date(2025, 6, 1)
    stories = {
        # closed, reopened and closed again on one day
        "completed_successfully": [close(day, "completed_partly"), reopen(day),
                                   close(day, "completed_successfully")],
        # closed again, dated before the reopening (intake accepts any day since opening)
        "moved_away": [close(day, "completed_partly"), reopen(date(2025, 6, 3)),
                       close(date(2025, 6, 2), "moved_away")],
        # reopened on the day of its closing
        "open": [close(day, "completed_partly"), reopen(day)],
    }  # fmt: skip
    for expected, story in stories.items():
        envelopes = _sequenced([(event, _at(10)) for event in story])
        for order in itertools.permutations(envelopes):
            facts = [f for event, e in (*order, order[-1]) for f in facts_of(event, e)]
            transitions = combine(facts)[CASE_TRANSITIONS]
            assert len(transitions) == len(story)  # none lost, the repeat merged
            assert case_state(transitions, date(2025, 12, 31)) == expected, order
    # as of a day: the last transition dated by then
    sequenced = _sequenced([(e, _at(10)) for e in stories["moved_away"]])
    one_day = combine([f for event, e in sequenced for f in facts_of(event, e)])
    assert case_state(one_day[CASE_TRANSITIONS], date(2025, 6, 1)) == "completed_partly"
    assert case_state(one_day[CASE_TRANSITIONS], date(2025, 6, 2)) == "moved_away"
    assert case_state(one_day[CASE_TRANSITIONS], date(2025, 5, 31)) == "open"


def test_a_referral_known_before_its_assignment_keeps_every_date() -> None:
    referral, case_id, institution = uuid4(), uuid4(), uuid4()
    common = {
        "referral_id": referral,
        "case_id": case_id,
        "place": PLACE,
        "support_type": "psychologist",
        "institution_id": institution,
        "sector": "health",
    }
    story = [
        (SupportAssigned(**common, recommendation_id=uuid4(), attempt=1,
                         accept_by=_at(20)), _at(5)),
        (ReferralAccepted(**common, complete_by=_at(28)), _at(7)),
        (ReferralDeclined(**common, reason="no_capacity", attempt=1), _at(6)),
    ]  # fmt: skip
    shuffled = story[:]
    random.Random(7).shuffle(shuffled)
    [row] = combine(_facts(shuffled))[REFERRALS]
    assert row["seen_on"] == date(2025, 3, 5)
    assert row["assigned_on"] == date(2025, 3, 5)
    assert row["declined_on"] == date(2025, 3, 6)
    assert row["decline_reason"] == "no_capacity"
    assert row["accepted_on"] == date(2025, 3, 7)
    assert row["gmina"] == "0601042"


def test_no_fact_carries_personal_data_beyond_codes() -> None:
    case_id = uuid4()
    event = CaseOpened(case_id=case_id, place=PLACE, opened_on=date(2025, 3, 1),
                       household_size=2, age_bands={"30-44": 2}, reasons=["4"],
                       notified_by="self", consent_to_share=True)  # fmt: skip
    [fact] = facts_of(event, wrap(event, region="06", service="test"))
    assert set(fact.values) <= set(CASES.columns)


def test_events_that_disagree_still_merge_the_same_in_either_order() -> None:
    referral, case_id = uuid4(), uuid4()
    common = {"referral_id": referral, "case_id": case_id, "place": PLACE,
              "support_type": "psychologist"}  # fmt: skip
    one = (ReferralDeclined(**common, institution_id=uuid4(), sector="ngo", reason="other",
                            attempt=1), _at(6))  # fmt: skip
    other = (ReferralDeclined(**common, institution_id=uuid4(), sector="health",
                              reason="no_capacity", attempt=2), _at(6))  # fmt: skip
    [forward] = combine(_facts([one, other]))[REFERRALS]
    [backward] = combine(_facts([other, one]))[REFERRALS]
    assert forward == backward


def test_the_day_of_an_event_is_the_polish_calendar_day() -> None:
    referral, case_id = uuid4(), uuid4()
    late_evening = datetime(2025, 3, 1, 23, 30, tzinfo=UTC)  # already 2 March in Warsaw
    event = ReferralDeclined(referral_id=referral, case_id=case_id, place=PLACE,
                             support_type="psychologist", institution_id=uuid4(), sector="ngo",
                             reason="other", attempt=1)  # fmt: skip
    [row] = combine(_facts([(event, late_evening)]))[REFERRALS]
    assert row["declined_on"] == date(2025, 3, 2)


def test_household_figures_are_those_of_intakes_latest_change_in_any_order() -> None:
    case_id = uuid4()
    story = [
        (CaseOpened(case_id=case_id, place=PLACE, opened_on=date(2025, 3, 1), household_size=2,
                    age_bands={"30-44": 2}, reasons=["1"], notified_by="self",
                    consent_to_share=True), _at(1)),
        (CaseHouseholdChanged(case_id=case_id, place=PLACE, changed_on=date(2025, 3, 5),
                              household_size=3, age_bands={"30-44": 2, "0-5": 1},
                              reasons=["1"]), _at(5)),
        (CaseHouseholdChanged(case_id=case_id, place=PLACE, changed_on=date(2025, 3, 9),
                              household_size=3, age_bands={"30-44": 2, "0-5": 1},
                              reasons=["13", "1"]), _at(9)),
    ]  # fmt: skip
    numbered = _sequenced(story)
    rows = set()
    for order in itertools.permutations(numbered + numbered[:1]):
        facts = [f for event, envelope in order for f in facts_of(event, envelope)]
        [row] = combine(facts)[CASES]
        rows.add((row["household_size"], row["age_bands"], tuple(row["reasons"]),
                  row["household_seq"], row["opened_on"]))  # fmt: skip
    assert rows == {(3, '{"0-5": 1, "30-44": 2}', ("1", "13"), 3, date(2025, 3, 1))}


def test_a_plans_versions_and_reviews_give_the_same_rows_in_any_order_and_with_repeats() -> None:
    case_id, plan_id = uuid4(), uuid4()

    def goal(area: str) -> PlanGoal:
        return PlanGoal(goal_id=uuid4(), area=area, member_id=None,
                        responsible_institution_id=None, due_on=date(2025, 12, 1),
                        review_on=date(2025, 9, 1))  # fmt: skip

    kept, dropped, added = goal("parenting"), goal("finances"), goal("housing")
    story = [
        (PlanAgreed(plan_id=plan_id, diagnosis_id=uuid4(), case_id=case_id, place=PLACE,
                    agreed_on=date(2025, 6, 2), goals=[kept, dropped], supports=[]), _at(2)),
        (PlanRevised(plan_id=plan_id, diagnosis_id=uuid4(), case_id=case_id, place=PLACE,
                     revised_on=date(2025, 7, 1), social_contract_on=date(2025, 7, 1), version=2,
                     goals=[kept, added], supports=[], removed_goals=[dropped.goal_id]), _at(3)),
        (PlanGoalReviewed(plan_id=plan_id, case_id=case_id, place=PLACE, goal_id=kept.goal_id,
                          area="parenting", reviewed_on=date(2025, 8, 1), result="not_met"),
         _at(4)),
        (PlanGoalReviewed(plan_id=plan_id, case_id=case_id, place=PLACE, goal_id=kept.goal_id,
                          area="parenting", reviewed_on=date(2025, 9, 1), result="met"), _at(5)),
    ]  # fmt: skip
    results = set()
    for order in itertools.permutations(story):
        folded = combine(_facts([*order, order[-1]]))
        results.add(
            tuple(tuple(sorted((k, str(v)) for k, v in row.items())) for table in (PLANS, GOALS)
                  for row in sorted(folded[table], key=lambda r: str(r[table.key[0]])))
        )  # fmt: skip
    assert len(results) == 1
    folded = combine(_facts(story))
    [plan] = folded[PLANS]
    assert (plan["agreed_on"], plan["social_contract_on"], plan["version"]) == (
        date(2025, 6, 2), date(2025, 7, 1), 2,
    )  # fmt: skip
    goals = {row["goal_id"]: row for row in folded[GOALS]}
    assert (goals[kept.goal_id]["result"], goals[kept.goal_id]["planned_on"]) == (
        "met", date(2025, 6, 2),
    )  # fmt: skip
    assert goals[dropped.goal_id]["dropped_on"] == date(2025, 7, 1)
    assert goals[added.goal_id]["planned_on"] == date(2025, 7, 1)


def test_a_cases_place_follows_its_transfer_by_intakes_sequence_in_any_order() -> None:
    case_id = uuid4()
    intake = [
        (CaseOpened(case_id=case_id, place=PLACE, opened_on=date(2025, 3, 1), household_size=2,
                    age_bands={"30-44": 2}, reasons=["1"], notified_by="self",
                    consent_to_share=True), _at(1)),
        (CaseTransferred(case_id=case_id, place=ELSEWHERE, from_place=PLACE,
                         transferred_on=date(2025, 3, 9)), _at(9)),
        (CaseClosed(case_id=case_id, place=ELSEWHERE, closed_on=date(2025, 3, 20),
                    outcome="completed_successfully"), _at(20)),
    ]  # fmt: skip
    numbered = _sequenced(intake)
    # diagnosis's own events carry no sequence of intake's: its place (the old gmina, before
    # diagnosis followed the transfer) never outweighs intake's word
    late = DiagnosisCompleted(diagnosis_id=uuid4(), case_id=case_id, place=PLACE,
                              completed_on=date(2025, 3, 25),
                              needs=[Need(area="parenting", severity=2)],
                              recommendations=[Recommendation(
                                  recommendation_id=uuid4(), support_type="family_assistant",
                                  need_area="parenting", priority=1)],
                              institutions=[])  # fmt: skip
    other = [(late, wrap(late, region="06", service="diagnosis", time=_at(25), sequence=9))]
    rows = set()
    for order in itertools.permutations([*numbered, *other, numbered[1]]):
        facts = [f for event, envelope in order for f in facts_of(event, envelope)]
        folded = combine(facts)
        [row] = folded[CASES]
        [moved] = folded[TRANSFERS]
        rows.add((row["gmina"], row["powiat"], row["region"], row["variant"], row["place_seq"],
                  row["transferred_on"], moved["sequence"], moved["from_gmina"]))  # fmt: skip
    assert rows == {("3001032", "3001", "30", "rural", 3, date(2025, 3, 9), 2, "0601042")}
    # known only from another service's event, a case still has a place
    [row] = combine(facts_of(*other[0]))[CASES]
    assert (row["gmina"], row["place_seq"]) == ("0601042", None)


def test_a_plan_revised_after_its_case_moved_counts_where_its_latest_version_was_made() -> None:
    case_id, plan_id = uuid4(), uuid4()
    goal = PlanGoal(goal_id=uuid4(), area="parenting", member_id=None,
                    responsible_institution_id=None, due_on=date(2025, 12, 1),
                    review_on=date(2025, 9, 1))  # fmt: skip
    story = [
        (PlanAgreed(plan_id=plan_id, diagnosis_id=uuid4(), case_id=case_id, place=PLACE,
                    agreed_on=date(2025, 6, 2), goals=[goal], supports=[]), _at(2)),
        # revised in the gmina the case moved to
        (PlanRevised(plan_id=plan_id, diagnosis_id=uuid4(), case_id=case_id, place=ELSEWHERE,
                     revised_on=date(2025, 7, 1), version=2, goals=[goal], supports=[],
                     removed_goals=[]), _at(3)),
        # a review stated with the old place moves nothing
        (PlanGoalReviewed(plan_id=plan_id, case_id=case_id, place=PLACE, goal_id=goal.goal_id,
                          area="parenting", reviewed_on=date(2025, 8, 1), result="met"), _at(4)),
    ]  # fmt: skip
    places = set()
    for order in itertools.permutations(story):
        folded = combine(_facts([*order, order[0]]))
        [plan], [stated] = folded[PLANS], folded[GOALS]
        places.add((plan["gmina"], stated["gmina"], stated["version"], stated["result"]))
    assert places == {("3001032", "3001032", 2, "met")}
