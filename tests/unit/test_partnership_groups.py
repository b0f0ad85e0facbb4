"""The rules of the partnership's group activities and of its members' survey."""

from __future__ import annotations

from datetime import date
from uuid import uuid4

import pytest

from services.partnership.activities import Activity, hold_session, register
from services.partnership.surveys import (
    MIN_RESPONDENTS,
    QUESTIONS,
    SurveyRound,
    check_answers,
    close_round,
    open_round,
    results,
)
from shared.codes import ActivityType, SurveyQuestion
from shared.errors import Conflict, InvalidInput
from shared.events import Place

PLACE = Place(gmina="0601042", powiat="0601", region="06", variant="rural")
TODAY = date(2025, 6, 30)


def test_an_activity_and_its_sessions_state_codes_dates_and_minutes_only() -> None:
    club, event = register(PLACE, ActivityType.CLUB, " Klub Seniora ", date(2025, 6, 1), TODAY)
    assert club.title == "Klub Seniora" and event.activity_type is ActivityType.CLUB
    assert "Klub" not in event.model_dump_json()
    held = hold_session(club, PLACE, date(2025, 6, 8), 90, TODAY)
    assert (held.activity_id, held.minutes) == (club.activity_id, 90)
    for day, minutes, field in (
        (date(2025, 5, 31), 90, "held_on"),  # before the start
        (date(2025, 7, 1), 90, "held_on"),  # in the future
        (date(2025, 6, 8), 10, "minutes"),
    ):
        with pytest.raises(InvalidInput) as refused:
            hold_session(club, PLACE, day, minutes, TODAY)
        assert refused.value.field == field
    ended = Activity(uuid4(), "0601042", ActivityType.CLUB, "x", date(2025, 6, 1),
                     date(2025, 6, 15))  # fmt: skip
    with pytest.raises(Conflict):
        hold_session(ended, PLACE, date(2025, 6, 20), 60, TODAY)


def every(value: int) -> dict[str, int]:
    return {str(q): value for q in QUESTIONS}


def test_answers_cover_every_question_once_on_the_scale_in_an_open_round() -> None:
    survey = open_round("0601042", TODAY, 6, None)
    assert check_answers(survey, every(4)) == {q: 4 for q in QUESTIONS}
    with pytest.raises(InvalidInput) as missing:
        check_answers(survey, {str(QUESTIONS[0]): 4})
    assert missing.value.field == f"answers.{QUESTIONS[1]}"
    with pytest.raises(InvalidInput):
        check_answers(survey, {**every(4), "favourite_colour": 3})
    with pytest.raises(InvalidInput) as odd:
        check_answers(survey, every(6))
    assert odd.value.code == "answer_out_of_scale"
    closed = SurveyRound(survey.round_id, "0601042", TODAY, 6, TODAY)
    with pytest.raises(Conflict):
        check_answers(closed, every(4))
    with pytest.raises(Conflict):
        open_round("0601042", TODAY, 6, survey)  # one open round at a time
    with pytest.raises(Conflict):
        open_round("0601042", TODAY, 0, None)  # nobody to ask


def test_a_small_round_publishes_its_response_count_and_nothing_of_its_answers() -> None:
    survey = open_round("0601042", TODAY, 9, None)
    counts = {(SurveyQuestion.GOALS_CLEAR, 5): 1, (SurveyQuestion.GOALS_CLEAR, 2): 1}
    small = close_round(survey, PLACE, TODAY, 2, counts)
    assert small.withheld and small.answers == [] and small.respondents == 2
    assert results(SurveyRound(survey.round_id, "0601042", TODAY, 9, TODAY), 2, counts) is None
    enough = {(q, 4): MIN_RESPONDENTS for q in QUESTIONS}
    event = close_round(survey, PLACE, TODAY, MIN_RESPONDENTS, enough)
    assert not event.withheld
    assert event.answers[0].counts == {1: 0, 2: 0, 3: 0, 4: MIN_RESPONDENTS, 5: 0}
    assert results(survey, MIN_RESPONDENTS, enough) is None  # still open: nothing shown
    shown = results(SurveyRound(survey.round_id, "0601042", TODAY, 9, TODAY),
                    MIN_RESPONDENTS, enough)  # fmt: skip
    assert shown is not None and shown[0].mean == 4.0
