"""The survey of the PZK's members about their cooperation (ankieta ewaluacyjna): a fixed set
of Likert questions (shared/codes.py), asked in rounds, answered anonymously, one answer per
representative per round. No I/O.

Anonymity is kept by what is stored, not by promise: who has answered a round and what was
answered are kept apart, and the answers only as counts per question and answer (no row per
respondent, no time, no order); a round's answers are shown, and published, only when it is
closed and enough answered that nobody's answer can be told (MIN_RESPONDENTS)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from uuid import UUID, uuid4

from shared.codes import LIKERT_SCALE, SurveyQuestion
from shared.errors import Conflict, InvalidInput
from shared.events import Place, SurveyAnswerCounts, SurveyRoundClosed

# Fewer answers than this and a round's answers are neither shown nor published: with two or
# three respondents each could tell the others' answers from the counts and their own.
MIN_RESPONDENTS = 5
QUESTIONS: tuple[SurveyQuestion, ...] = tuple(SurveyQuestion)


@dataclass(frozen=True)
class SurveyRound:
    round_id: UUID
    gmina: str
    opened_on: date
    invited: int
    closed_on: date | None = None

    @property
    def is_open(self) -> bool:
        return self.closed_on is None


def open_round(
    gmina: str, opened_on: date, invited: int, still_open: SurveyRound | None
) -> SurveyRound:
    """A new round for the gmina's PZK; one round at a time."""
    if still_open is not None:
        raise Conflict(
            "round_open",
            f"runda ankiety z {still_open.opened_on:%d.%m.%Y} jest jeszcze otwarta: najpierw ją"
            " zamknij",
            field="opened_on",
        )
    if invited < 1:
        raise Conflict(
            "no_representatives",
            "zespół nie ma przedstawicieli instytucji, których można zapytać",
            field="opened_on",
        )
    return SurveyRound(uuid4(), gmina, opened_on, invited)


def check_answers(
    survey_round: SurveyRound | None, answers: Mapping[str, int]
) -> dict[SurveyQuestion, int]:
    """Every question answered once on the scale 1..5, in an open round."""
    if survey_round is None or not survey_round.is_open:
        raise Conflict("round_closed", "ta runda ankiety jest zamknięta", field="round_id")
    unknown = sorted(set(answers) - {str(q) for q in QUESTIONS})
    if unknown:
        raise InvalidInput("question_unknown", f"nie ma pytania {unknown[0]}", field="answers")
    missing = [q for q in QUESTIONS if str(q) not in answers]
    if missing:
        raise InvalidInput(
            "question_unanswered", "odpowiedz na każde pytanie", field=f"answers.{missing[0]}"
        )
    for q in QUESTIONS:
        if answers[str(q)] not in LIKERT_SCALE:
            raise InvalidInput(
                "answer_out_of_scale", "odpowiedź w skali od 1 do 5", field=f"answers.{q}"
            )
    return {q: answers[str(q)] for q in QUESTIONS}


def already_answered() -> Conflict:
    return Conflict("already_answered", "na tę rundę ankiety już odpowiedziano", field="round_id")


def close_round(
    survey_round: SurveyRound,
    place: Place,
    closed_on: date,
    respondents: int,
    counts: Mapping[tuple[SurveyQuestion, int], int],
) -> SurveyRoundClosed:
    """The round closes: its response count always; its answers' counts only when enough
    answered (else `withheld`, and nothing of the answers leaves this service)."""
    if not survey_round.is_open:
        raise Conflict("round_closed", "ta runda ankiety jest już zamknięta", field="round_id")
    if closed_on < survey_round.opened_on:
        raise InvalidInput(
            "closed_before_opened", "runda nie może się zamknąć przed otwarciem",
            field="closed_on",
        )  # fmt: skip
    withheld = respondents < MIN_RESPONDENTS
    answers = (
        []
        if withheld
        else [
            SurveyAnswerCounts(question=q, counts={v: counts.get((q, v), 0) for v in LIKERT_SCALE})
            for q in QUESTIONS
        ]
    )
    return SurveyRoundClosed(
        round_id=survey_round.round_id,
        place=place,
        opened_on=survey_round.opened_on,
        closed_on=closed_on,
        invited=max(survey_round.invited, respondents),
        respondents=respondents,
        withheld=withheld,
        answers=answers,
    )


@dataclass(frozen=True)
class QuestionResult:
    question: SurveyQuestion
    counts: dict[int, int]
    mean: float


def results(
    survey_round: SurveyRound, respondents: int, counts: Mapping[tuple[SurveyQuestion, int], int]
) -> list[QuestionResult] | None:
    """The round's results as the team may read them: only once closed and only with at least
    MIN_RESPONDENTS answers (None otherwise)."""
    if survey_round.is_open or respondents < MIN_RESPONDENTS:
        return None
    found = []
    for q in QUESTIONS:
        dist = {v: counts.get((q, v), 0) for v in LIKERT_SCALE}
        n = sum(dist.values())
        mean = round(sum(v * k for v, k in dist.items()) / n, 1) if n else 0.0
        found.append(QuestionResult(q, dist, mean))
    return found
