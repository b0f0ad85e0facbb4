"""POST /cases/import: a gmina's case files from the software it moves from, one NDJSON line per
case, read as a stream and committed in chunks, so that 100,000 lines neither sit in memory nor
hold one transaction. A line is refused alone; the others are imported."""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import AsyncIterator
from datetime import date
from typing import Annotated
from uuid import uuid4

from fastapi import APIRouter, Depends, Query, Request
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse

from services.intake import store
from services.intake.bulk_import import (
    MAX_LINE_BYTES,
    CaseLine,
    ImportReport,
    Known,
    LineError,
    lines_of,
    parse_line,
    triage,
)
from services.intake.schemas import ImportOut
from shared import locks, outbox
from shared.auth import Principal, Role, requires
from shared.errors import DomainError, InvalidInput
from shared.idempotency import IdempotencyKey, answer, is_known, replay
from shared.runtime import ServiceContext, context
from shared.teryt import terc

router = APIRouter(prefix="/api/v1", tags=["cases"])
Ctx = Annotated[ServiceContext, Depends(context)]

NDJSON = "application/x-ndjson"
MEDIA_TYPES = (NDJSON, "application/jsonl")
# Lines per transaction: large enough that a chunk's few round trips are shared by many cases,
# small enough that locks and the outbox batch stay short.
CHUNK_LINES = 500


class UnsupportedMediaType(DomainError):
    status = 415
    title = "Nieobsługiwany format danych"


_LINE_DOC = (
    "One case per line (UTF-8 JSON, newline-separated): the body of POST /cases plus"
    " `external_id`, the case's reference in the previous software (1–100 characters, unique"
    f" per gmina). Blank lines are skipped; a line is at most {MAX_LINE_BYTES} bytes."
)
REQUEST_BODY = {
    "required": True,
    "description": _LINE_DOC,
    "content": {media: {"schema": {"type": "string"}} for media in MEDIA_TYPES},
}


class _Digest:
    """The request body passed through unchanged while it is hashed: the fingerprint of an
    import under an Idempotency-Key, known only once the last line is read."""

    def __init__(self, chunks: AsyncIterator[bytes], gmina: str) -> None:
        self._chunks = chunks
        self._hash = hashlib.sha256(f"POST /cases/import?gmina={gmina}\n".encode())

    async def __aiter__(self) -> AsyncIterator[bytes]:
        async for chunk in self._chunks:
            self._hash.update(chunk)
            yield chunk

    def hexdigest(self) -> str:
        return self._hash.hexdigest()


@router.post(
    "/cases/import",
    response_model=ImportOut,
    openapi_extra={"requestBody": REQUEST_BODY},
    responses={415: {"description": "Not NDJSON"}},
)
async def import_cases(
    request: Request,
    ctx: Ctx,
    gmina: Annotated[
        str | None,
        Query(
            pattern=r"^\d{7}$",
            description="TERYT code of the gmina the files are of; a caseworker's own by default",
        ),
    ] = None,
    idempotency_key: IdempotencyKey = None,
    principal: Principal = requires(Role.CASEWORKER, Role.COORDINATOR),
) -> JSONResponse:
    """Import a gmina's existing cases (NDJSON, `Content-Type: application/x-ndjson`).

    Each line passes the rules of POST /cases and opens a case as it would: the same events,
    the same refusal of a second open case for a PESEL. A line that fails is refused alone,
    with its number, code, field and reason; the valid lines are imported, in transactions of
    500 lines. A line whose `external_id` was imported before is reported as already imported
    (with its case), so running the same file again imports nothing twice; the same reference
    with other content is refused. A caseworker imports into their own gmina, a coordinator
    into a gmina of their scope (their gmina or their powiat's). Every imported case gets an
    audit entry naming the import and the line.
    """
    code = gmina or principal.gmina
    if code is None:
        raise InvalidInput("gmina_required", "name the gmina to import into", field="gmina")
    place = terc().gmina(code, field="gmina")
    principal.require_gmina(place.code)
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media not in MEDIA_TYPES:
        raise UnsupportedMediaType(
            "unsupported_media_type", f"send the cases as {NDJSON}, one JSON object per line"
        )
    body = _Digest(request.stream(), place.code)
    if idempotency_key is not None:
        async with ctx.pool.acquire() as conn:
            retried = await is_known(conn, principal, idempotency_key)
        if retried:
            # A retry: read it only to check that it is the same request, and answer as before.
            async for _ in body:
                pass
            async with ctx.pool.acquire() as conn, conn.transaction():
                first = await replay(conn, principal, idempotency_key, body.hexdigest())
            if first is None:
                raise InvalidInput(
                    "idempotency_key_expired", "the first answer is gone; send a new key"
                )
            return first
    report = await run_import(ctx, principal, place.code, body)
    result = report.answer()
    if idempotency_key is None:
        return JSONResponse(jsonable_encoder(result))
    async with ctx.pool.acquire() as conn, conn.transaction():
        # The same request sent twice at once: both imported (nothing twice), one answer kept.
        if first := await replay(conn, principal, idempotency_key, body.hexdigest()):
            return first
        return await answer(conn, principal, idempotency_key, body.hexdigest(), 200, result)


async def run_import(
    ctx: ServiceContext, principal: Principal, gmina: str, chunks: AsyncIterator[bytes]
) -> ImportReport:
    """Read, check and commit the lines chunk by chunk; what is committed stays committed if
    the client goes away, and a re-run of the file takes up where it ended."""
    report = ImportReport(import_id=uuid4(), gmina=gmina)
    today = date.today()
    async with ctx.pool.acquire() as conn:
        await store.begin_import(conn, report.import_id, gmina, principal)
    batch: list[CaseLine] = []
    # One chunk commits while the next is read and checked (the server works while Python
    # parses); chunks still commit one after another, in the order of the file.
    committing: asyncio.Task[None] | None = None
    try:
        async for number, raw in lines_of(chunks):
            report.lines += 1
            parsed = parse_line(number, raw, gmina, today)
            if isinstance(parsed, LineError):
                report.refuse(parsed)
            else:
                batch.append(parsed)
            if len(batch) >= CHUNK_LINES:
                if committing is not None:
                    await committing
                committing = asyncio.create_task(_commit(ctx, principal, report, batch))
                batch = []
    finally:
        # Also when the client went away: the chunk in hand commits (or fails) before we end.
        if committing is not None:
            await committing
    await _commit(ctx, principal, report, batch, finished=True)
    return report


async def _commit(
    ctx: ServiceContext,
    principal: Principal,
    report: ImportReport,
    batch: list[CaseLine],
    *,
    finished: bool = False,
) -> None:
    """One chunk in one transaction: its references and persons locked, decided against the
    database, the new cases saved with their events, references and audit entries."""
    gmina = report.gmina
    async with ctx.pool.acquire() as conn, conn.transaction():
        if batch:
            pesels = sorted({m.pesel for item in batch for m in item.case.members if m.pesel})
            await locks.lock_subjects(
                conn,
                [locks.external_ref(gmina, item.external_id) for item in batch]
                + [locks.pesel(gmina, p) for p in pesels],
            )
            refs = await store.external_refs(conn, gmina, [item.external_id for item in batch])
            chunk = triage(
                batch,
                {ref: Known(case_id, digest) for ref, (case_id, digest) in refs.items()},
                await store.open_cases_by_pesel(conn, gmina, pesels),
            )
            if chunk.new:
                await store.save_cases(conn, [item.case for item in chunk.new], principal.subject)
                await store.record_imported(
                    conn,
                    report.import_id,
                    principal,
                    [(item.line, item.external_id, item.digest, item.case) for item in chunk.new],
                )
                await outbox.add(
                    conn, ctx.origin, *(item.case.opened_event() for item in chunk.new)
                )
            report.add(chunk)
        await store.count_import(
            conn,
            report.import_id,
            lines=report.lines,
            imported=report.imported,
            already_imported=report.already_imported,
            rejected=report.rejected,
            finished=finished,
        )
