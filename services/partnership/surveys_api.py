"""Routes of the members' survey: the gmina's coordinator opens and closes a round; each
representative of a member institution answers once per round, anonymously. Who answered and
what was answered are stored apart (surveys.py); an answer's request is kept by the
idempotency mechanism under a fingerprint of the route alone and answered with no answers in
it, so a retry is safe and nothing stored ties answers to a person. Only a closed round with
enough answers shows (and publishes, survey.round_closed.v1) its answers, as counts."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Depends, Query
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from services.partnership import group_store as groups
from services.partnership import surveys
from shared import outbox
from shared.auth import Principal, Role, requires
from shared.codes import LIKERT_SCALE, SURVEY_QUESTION_LABELS, SurveyQuestion
from shared.errors import Forbidden, InvalidInput, NotFound
from shared.idempotency import IdempotencyKey, answer, fingerprint, replay
from shared.isodate import IsoDate
from shared.runtime import ServiceContext, context
from shared.teryt import terc

router = APIRouter(prefix="/api/v1", tags=["members' survey"])
Ctx = Annotated[ServiceContext, Depends(context)]
Coordinator = requires(Role.COORDINATOR)
Members = requires(Role.COORDINATOR, Role.TEAM_MEMBER)


class RoundIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    gmina: str = Field(pattern=r"^\d{7}$")
    opened_on: IsoDate | None = Field(default=None, description="default: today")


class CloseIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    closed_on: IsoDate | None = Field(default=None, description="default: today")


class AnswersIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    answers: dict[str, int] = Field(
        description="question code -> answer 1..5 (1 zdecydowanie się nie zgadzam … 5"
        " zdecydowanie się zgadzam); every question once",
        max_length=len(SurveyQuestion),
    )


class QuestionOut(BaseModel):
    question: SurveyQuestion
    text: str


class QuestionnaireOut(BaseModel):
    questions: list[QuestionOut]
    scale: dict[int, str]
    min_respondents: int = Field(description="fewer answers: a round's results stay hidden")


class ResultOut(BaseModel):
    question: SurveyQuestion
    text: str
    counts: dict[int, int]
    mean: float


class RoundOut(BaseModel):
    round_id: UUID
    gmina: str
    opened_on: date
    closed_on: date | None
    invited: int
    respondents: int
    answered_by_you: bool
    results: list[ResultOut] | None = Field(
        description="only for a closed round with at least min_respondents answers"
    )


class AnsweredOut(BaseModel):
    round_id: UUID
    answered: bool


async def _round_out(conn: Any, r: surveys.SurveyRound, principal: Principal) -> RoundOut:
    respondents = await groups.respondents(conn, r.round_id)
    found = surveys.results(r, respondents, await groups.answer_counts(conn, r.round_id))
    return RoundOut(
        round_id=r.round_id, gmina=r.gmina, opened_on=r.opened_on, closed_on=r.closed_on,
        invited=r.invited, respondents=respondents,
        answered_by_you=await groups.has_answered(conn, r.round_id, principal.subject),
        results=None if found is None else [
            ResultOut(question=q.question, text=SURVEY_QUESTION_LABELS[q.question],
                      counts=q.counts, mean=q.mean)
            for q in found
        ],
    )  # fmt: skip


@router.get("/surveys/questions", response_model=QuestionnaireOut)
async def questionnaire(_: Principal = Members) -> QuestionnaireOut:
    """The survey's questions with their Polish wording, and the scale."""
    return QuestionnaireOut(
        questions=[
            QuestionOut(question=q, text=SURVEY_QUESTION_LABELS[q]) for q in surveys.QUESTIONS
        ],
        scale=LIKERT_SCALE,
        min_respondents=surveys.MIN_RESPONDENTS,
    )


@router.post("/surveys/rounds", status_code=201, response_model=RoundOut)
async def open_round(
    body: RoundIn,
    ctx: Ctx,
    idempotency_key: IdempotencyKey = None,
    principal: Principal = Coordinator,
) -> JSONResponse:
    """A new round of the survey for the gmina's PZK; it asks the representatives of the
    member institutions on the day."""
    gmina = terc().gmina(body.gmina, field="gmina")
    principal.require_gmina(gmina.code)
    opened_on = body.opened_on or date.today()
    if opened_on > date.today():
        raise InvalidInput("opened_on_in_future", "runda otwiera się dziś lub wcześniej",
                           field="opened_on")  # fmt: skip
    request_hash = fingerprint("POST /surveys/rounds", body)
    async with ctx.pool.acquire() as conn, conn.transaction():
        if first := await replay(conn, principal, idempotency_key, request_hash):
            return first
        invited = await groups.representatives_now(conn, gmina.code, opened_on)
        r = surveys.open_round(
            gmina.code, opened_on, invited, await groups.open_round_of(conn, gmina.code)
        )
        await groups.save_round(conn, r)
        out = await _round_out(conn, r, principal)
        return await answer(conn, principal, idempotency_key, request_hash, 201, out)


@router.get("/surveys/rounds", response_model=list[RoundOut])
async def list_rounds(
    ctx: Ctx,
    gmina: Annotated[str | None, Query(pattern=r"^\d{7}$")] = None,
    principal: Principal = Members,
) -> list[RoundOut]:
    """The gmina's rounds, latest first: response counts, and the results of closed rounds
    with enough answers."""
    code = principal.gmina_in_scope(gmina)
    async with ctx.pool.acquire() as conn:
        return [await _round_out(conn, r, principal) for r in await groups.rounds_of(conn, code)]


@router.post("/surveys/rounds/{round_id}/answers", status_code=201, response_model=AnsweredOut)
async def answer_round(
    round_id: UUID,
    body: AnswersIn,
    ctx: Ctx,
    idempotency_key: IdempotencyKey = None,
    principal: Principal = Members,
) -> JSONResponse:
    """A representative's answers, once per round. The fingerprint of the request is of the
    route alone and the answer holds no answers: nothing kept by the idempotency mechanism
    tells what this person answered."""
    request_hash = fingerprint(f"POST /surveys/rounds/{round_id}/answers", None)
    async with ctx.pool.acquire() as conn, conn.transaction():
        r = await groups.survey_round(conn, round_id, lock=True)
        if r is None:
            raise NotFound("round_not_found", f"nie ma rundy ankiety {round_id}")
        principal.require_gmina(r.gmina)
        if principal.role is Role.TEAM_MEMBER:
            institution = UUID(str(principal.institution))
            if not await groups.is_member(conn, r.gmina, institution):
                raise Forbidden("not_a_member", "Twoja instytucja nie należy do zespołu gminy")
        if first := await replay(conn, principal, idempotency_key, request_hash):
            return first
        answers = surveys.check_answers(r, body.answers)
        if not await groups.record_answer(conn, round_id, principal.subject, answers):
            raise surveys.already_answered()
        out = AnsweredOut(round_id=round_id, answered=True)
        return await answer(conn, principal, idempotency_key, request_hash, 201, out)


@router.post("/surveys/rounds/{round_id}/close", response_model=RoundOut)
async def close_round(
    round_id: UUID,
    body: CloseIn,
    ctx: Ctx,
    idempotency_key: IdempotencyKey = None,
    principal: Principal = Coordinator,
) -> JSONResponse:
    """The round closes → survey.round_closed.v1: its response count, and its answers' counts
    only when enough answered."""
    request_hash = fingerprint(f"POST /surveys/rounds/{round_id}/close", body)
    async with ctx.pool.acquire() as conn, conn.transaction():
        r = await groups.survey_round(conn, round_id, lock=True)
        if r is None:
            raise NotFound("round_not_found", f"nie ma rundy ankiety {round_id}")
        principal.require_gmina(r.gmina)
        if first := await replay(conn, principal, idempotency_key, request_hash):
            return first
        closed_on = body.closed_on or date.today()
        if closed_on > date.today():
            raise InvalidInput("closed_on_in_future", "runda zamyka się dziś lub wcześniej",
                               field="closed_on")  # fmt: skip
        event = surveys.close_round(
            r, terc().gmina(r.gmina).place, closed_on,
            await groups.respondents(conn, round_id), await groups.answer_counts(conn, round_id),
        )  # fmt: skip
        closed = surveys.SurveyRound(r.round_id, r.gmina, r.opened_on, r.invited, closed_on)
        await groups.save_round(conn, closed)
        await outbox.add(conn, ctx.origin, event)
        out = await _round_out(conn, closed, principal)
        return await answer(conn, principal, idempotency_key, request_hash, 200, out)
