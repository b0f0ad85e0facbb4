"""The coordinator's pages (koordynator PZK): "Pulpit koordynatora" — diagnoses waiting, overdue
referrals, the team at a glance — the whole list of overdue referrals, and the gmina's partner
team (PZK) from referrals' directory."""

from __future__ import annotations

import asyncio
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from services.web.client import Api
from services.web.pages import api_for
from services.web.pages.team import gmina_name
from services.web.session import Session, SignedIn
from services.web.templating import render

router = APIRouter()
GLANCE = 5  # rows of each list on the dashboard
PAGE_SIZE = 25
OVERDUE_STAGE = {
    "acceptance": "nieprzyjęte w terminie",
    "completion": "niezrealizowane w terminie",
}


def territory(session: Session) -> str:
    """The TERYT prefix of the gminas the coordinator works for."""
    return session.gmina or session.powiat or session.region or ""


async def team_of(api: Api, session: Session) -> tuple[list[dict[str, Any]], dict[str, str]]:
    """The institutions sitting on the PZKs of the coordinator's territory, and every
    institution's name by id (overdue referrals name theirs)."""
    institutions = await api.call("GET", "referrals", "/institutions")
    prefix = territory(session)
    team = [
        {**i, "teams": [gmina_name(g) for g in i["partnership_gminas"] if g.startswith(prefix)]}
        for i in institutions
        if prefix and any(g.startswith(prefix) for g in i["partnership_gminas"])
    ]
    return team, {str(i["institution_id"]): i["name"] for i in institutions}


def overdue_rows(rows: list[dict[str, Any]], names: dict[str, str]) -> list[dict[str, Any]]:
    return [
        {
            **r,
            "institution_name": names.get(str(r["institution_id"]), "—"),
            "gmina_name": gmina_name(r["gmina"]),
            "stage_text": OVERDUE_STAGE.get(r["stage"], r["stage"]),
            "deadline": r["accept_by"] if r["stage"] == "acceptance" else r["complete_by"],
        }
        for r in rows
    ]


@router.get("/pulpit")
async def dashboard(request: Request, session: SignedIn) -> Response:
    api = api_for(request, session)
    waiting, overdue, (team, names) = await asyncio.gather(
        api.call("GET", "diagnosis", "/diagnoses", params={"status": "open", "limit": GLANCE + 1}),
        api.call("GET", "referrals", "/referrals/overdue", params={"limit": GLANCE + 1}),
        team_of(api, session),
    )
    return render(
        request,
        "team/dashboard.html",
        {
            "waiting": [{**d, "gmina_name": gmina_name(d["gmina"])} for d in waiting[:GLANCE]],
            "more_waiting": len(waiting) > GLANCE,
            "overdue": overdue_rows(overdue[:GLANCE], names),
            "more_overdue": len(overdue) > GLANCE,
            "team": team,
        },
    )


@router.get("/pulpit/po-terminie")
async def overdue(
    request: Request, session: SignedIn, strona: Annotated[int, Query(ge=1, le=10_000)] = 1
) -> Response:
    api = api_for(request, session)
    rows, (_, names) = await asyncio.gather(
        api.call(
            "GET",
            "referrals",
            "/referrals/overdue",
            params={"limit": PAGE_SIZE + 1, "offset": (strona - 1) * PAGE_SIZE},
        ),
        team_of(api, session),
    )
    return render(
        request,
        "team/overdue.html",
        {
            "overdue": overdue_rows(rows[:PAGE_SIZE], names),
            "page": strona,
            "more": len(rows) > PAGE_SIZE,
        },
    )


@router.get("/pulpit/zespol")
async def partner_team(request: Request, session: SignedIn) -> Response:
    team, _ = await team_of(api_for(request, session), session)
    return render(request, "team/partners.html", {"team": team})
