"""The HTTP baseline: a raw FastAPI + uvicorn + asyncpg endpoint with POST /cases's
transaction shape (a pydantic household body; one transaction writing the case, its members
and an outbox row; 201), and raw reads of the rows GET /cases and GET /cases/{id} answer.

No PESEL check, audit, idempotency row, token or relay: those are the service's own extra
work, which the target leaves room for. It writes into intake's own tables of the run's intake
database (the outbox row into a table of its own, so that intake's relay does not publish it),
so that both sides read and write the same tables.

    python -m uvicorn bench.http_raw:app --port 8665   (KOOP_BENCH_RAW_DATABASE_URL=…)
"""

from __future__ import annotations

import json
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import date
from typing import Any
from uuid import UUID, uuid4

import asyncpg
from fastapi import FastAPI, HTTPException

from services.intake import store as intake_store
from services.intake.schemas import CaseIn

DATABASE_URL = os.environ.get("KOOP_BENCH_RAW_DATABASE_URL", "")
pool: asyncpg.Pool | None = None


@asynccontextmanager
async def lifespan(_: FastAPI) -> AsyncIterator[None]:
    global pool
    pool = await asyncpg.create_pool(DATABASE_URL, min_size=2, max_size=10)
    await pool.execute(
        "CREATE TABLE IF NOT EXISTS bench_raw_outbox (LIKE outbox INCLUDING DEFAULTS)"
    )
    yield
    await pool.close()


app = FastAPI(lifespan=lifespan)


@app.get("/ready")
async def ready() -> dict[str, str]:
    return {"status": "ok"}


@app.post("/cases", status_code=201)
async def open_case(body: CaseIn) -> dict[str, Any]:
    assert pool is not None
    case = body.new_case(date.today())  # the body's rows, as intake builds them
    event = {
        "specversion": "1.0",
        "id": str(uuid4()),
        "type": "case.opened.v1",
        "source": "bench/raw",
        "data": {"case_id": str(case.case_id), "gmina": body.gmina, "size": len(body.members)},
    }
    async with pool.acquire() as conn, conn.transaction():
        await conn.execute(
            intake_store._insert("cases", intake_store._CASE_COLUMNS),
            *intake_store._case_row(case, "bench"),
        )
        await conn.executemany(
            intake_store._insert("members", intake_store._MEMBER_COLUMNS),
            intake_store._member_rows(case),
        )
        await conn.execute(
            "INSERT INTO bench_raw_outbox (event_id, routing_key, body) VALUES ($1, $2, $3)",
            UUID(event["id"]),
            "case.opened.v1",
            json.dumps(event).encode(),
        )
    return {
        "case_id": str(case.case_id),
        "gmina": body.gmina,
        "status": "opened",
        "opened_on": case.opened_on,
    }


@app.get("/cases")
async def list_cases(gmina: str, limit: int = 50) -> list[dict[str, Any]]:
    assert pool is not None
    rows = await pool.fetch(
        """SELECT c.*, (SELECT count(*) FROM members m
                        WHERE m.case_id = c.case_id AND m.left_on IS NULL)
                       AS household_size
           FROM cases c WHERE c.gmina = $1
           ORDER BY c.opened_on DESC, c.created_at DESC LIMIT $2""",
        gmina,
        limit,
    )
    return [dict(r) for r in rows]


@app.get("/cases/{case_id}")
async def read_case(case_id: UUID) -> dict[str, Any]:
    assert pool is not None
    async with pool.acquire() as conn:
        case = await conn.fetchrow("SELECT * FROM cases WHERE case_id = $1", case_id)
        if case is None:
            raise HTTPException(404)
        members = await conn.fetch(
            "SELECT * FROM members WHERE case_id = $1 ORDER BY position", case_id
        )
    return dict(case) | {"members": [dict(m) for m in members]}
