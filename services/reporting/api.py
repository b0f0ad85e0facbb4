"""Reporting's HTTP routes: aggregates only."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, Query

from services.reporting import store
from shared.auth import Principal, Role, requires
from shared.http import create_api
from shared.runtime import ServiceContext, context
from shared.teryt import terc

router = APIRouter(prefix="/api/v1", tags=["reports"])
Ctx = Annotated[ServiceContext, Depends(context)]


@router.get("/reports/summary")
async def summary(
    ctx: Ctx,
    region: Annotated[str | None, Query(pattern=r"^\d{2}$")] = None,
    principal: Principal = requires(Role.ANALYST, Role.COORDINATOR),
) -> dict[str, Any]:
    async with ctx.pool.acquire() as conn:
        rows = await store.summary_by_gmina(conn, region)
    register = terc()
    visible = [
        {**r, "gmina_name": register.gmina(r["gmina"]).name if r["gmina"] in register else ""}
        for r in rows
        if principal.covers_gmina(r["gmina"])
    ]
    return {
        "gminas": visible,
        "total": {
            "cases_opened": sum(r["cases_opened"] for r in visible),
            "supports_assigned": sum(r["supports_assigned"] for r in visible),
        },
    }


def build_api() -> FastAPI:
    app = create_api("reporting", description="Raporty zbiorcze dla gmin, powiatów i regionów.")
    app.include_router(router)
    return app
