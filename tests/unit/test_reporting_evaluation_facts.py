"""Facts of the group activities, the survey and the follow-ups merge to the same rows in any
order and however often they come; the tables beside them figure hours, means and shares."""

from __future__ import annotations

import itertools
from datetime import date
from uuid import uuid4

from services.reporting.domain import FOLLOW_UPS, PARTICIPATION, SURVEY_ANSWERS, combine, facts_of
from services.reporting.tables import add_means, cross_table
from shared.envelope import wrap
from shared.events import (
    ActivityParticipationChanged,
    CaseFollowUpRecorded,
    Place,
    SurveyAnswerCounts,
    SurveyRoundClosed,
)

PLACE = Place(gmina="0601042", powiat="0601", region="06", variant="rural")


def _rows(events):
    facts = [
        f
        for event, sequence in events
        for f in facts_of(event, wrap(event, region="06", service="t", sequence=sequence))
    ]
    return combine(facts)


def test_a_corrected_follow_up_ends_as_intake_left_it_in_any_order_and_twice() -> None:
    case = uuid4()

    def recorded(sustained: bool, roles: list[str]) -> CaseFollowUpRecorded:
        return CaseFollowUpRecorded(
            case_id=case, place=PLACE, closed_on=date(2025, 1, 31), months=6,
            recorded_on=date(2025, 7, 31), sustained=sustained, roles=roles,
        )  # fmt: skip

    events = [(recorded(False, []), 3), (recorded(True, ["health"]), 4)]
    results = set()
    for order in itertools.permutations(events + events[:1]):
        [row] = _rows(order)[FOLLOW_UPS]
        results.add((row["sustained"], tuple(row["roles"])))
    assert results == {(True, ("health",))}


def test_each_change_of_participation_is_a_row_of_its_own() -> None:
    case, activity = uuid4(), uuid4()
    changes = [
        (ActivityParticipationChanged(
            case_id=case, place=PLACE, activity_id=activity, activity_type="club",
            changed_on=date(2025, 3, d), participants=n, participants_in_type=n,
        ), seq)
        for d, n, seq in ((1, 2, 5), (8, 1, 6))
    ]  # fmt: skip
    rows = _rows(changes + changes)[PARTICIPATION]
    assert sorted((r["sequence"], r["participants"]) for r in rows) == [(5, 2), (6, 1)]


def test_a_withheld_round_states_no_answers() -> None:
    def a_round(withheld: bool) -> SurveyRoundClosed:
        return SurveyRoundClosed(
            round_id=uuid4(), place=PLACE, opened_on=date(2025, 5, 1),
            closed_on=date(2025, 5, 31), invited=9, respondents=2, withheld=withheld,
            answers=[SurveyAnswerCounts(question="goals_clear", counts={4: 1, 5: 1, 3: 0})],
        )  # fmt: skip

    assert SURVEY_ANSWERS not in _rows([(a_round(True), None)])
    answers = _rows([(a_round(False), None)])[SURVEY_ANSWERS]
    assert sorted((r["answer"], r["n"]) for r in answers) == [(4, 1), (5, 1)]  # no zero rows


def test_a_mean_is_shown_only_where_enough_answered() -> None:
    def cells(n_five: int) -> list[dict]:
        return [
            {"level": "cell", "row": "goals_clear", "col": "5", "n": n_five, "key": 1},
            {"level": "cell", "row": "goals_clear", "col": "3", "n": 1, "key": 2},
            {"level": "row", "row": "goals_clear", "col": None, "n": n_five + 1, "key": 3},
            {"level": "col", "row": None, "col": "5", "n": n_five, "key": 1},
            {"level": "col", "row": None, "col": "3", "n": 1, "key": 2},
            {"level": "all", "row": None, "col": None, "n": n_five + 1, "key": 3},
        ]

    columns = {str(v): str(v) for v in range(1, 6)}
    exact = cross_table(cells(2), columns, str, threshold=None)
    add_means(exact, cells(2))
    assert exact.rows[0]["mean"] == 4.3  # (5 + 5 + 3) / 3
    few = cross_table(cells(2), columns, str, threshold=5)
    add_means(few, cells(2))
    assert few.rows[0]["mean"] is None and "mean" in few.rows[0]["hidden"]
    many = cells(40)
    enough = cross_table(many, columns, str, threshold=5)
    add_means(enough, many)
    line = enough.rows[0]
    assert line["mean"] == (round((5 * 40 + 3) / 41, 1) if line["total"] is not None else None)
