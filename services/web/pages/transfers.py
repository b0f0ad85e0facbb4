"""A family that moves (pracownik socjalny OPS): ask the OPS of the gmina it moved to to take the
case over, withdraw the request; "Przekazania" — the transfers waiting, into the gmina (to accept
or decline) and out of it — and "Moja praca", the due work of the person or of the whole gmina.
The rules are intake's; these pages ask and show codes, dates and counts."""

from __future__ import annotations

from itertools import groupby
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Query, Request
from fastapi.responses import RedirectResponse, Response

from services.web.client import Api, ApiProblem
from services.web.forms import FormErrors, from_problem
from services.web.pages import api_for
from services.web.pages.casefile import gmina_label
from services.web.session import Session, SignedIn
from services.web.templating import render
from shared.teryt import terc

router = APIRouter()


def _flash(request: Request, message: str, to: str) -> RedirectResponse:
    request.session["flash"] = message
    return RedirectResponse(to, status_code=303)


def region_options() -> list[tuple[str, str]]:
    register = terc()
    names = {g.region: g.region_name for g in (register.gmina(c) for c in register.codes())}
    return sorted(((code, f"województwo {name.lower()}") for code, name in names.items()))


def gmina_groups(region: str) -> list[tuple[str, list[tuple[str, str]]]]:
    """The region's gminas by powiat, for a select with option groups."""
    gminas = sorted(terc().in_region(region), key=lambda g: (g.powiat_name, g.name, g.code))
    return [
        (f"powiat {name}", [(g.code, f"{g.name} ({g.kind})") for g in group])
        for name, group in groupby(gminas, key=lambda g: g.powiat_name)
    ]


async def waiting_transfers(api: Api) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = await api.call("GET", "intake", "/transfers")
    return [
        {**r, "from_name": gmina_label(r["from_gmina"]), "to_name": gmina_label(r["to_gmina"])}
        for r in rows
    ]


async def _transfer_page(
    request: Request,
    session: Session,
    case_id: UUID,
    region: str,
    *,
    form: dict[str, str] | None = None,
    errors: FormErrors | None = None,
    status: int = 200,
) -> Response:
    overview = await api_for(request, session).case_overview(case_id)
    regions = dict(region_options())
    if region not in regions:
        region = overview["gmina"][:2]
    return render(
        request,
        "cases/transfer.html",
        {
            "case": overview,
            "region": region,
            "region_options": list(regions.items()),
            "gmina_groups": gmina_groups(region),
            "form": form or {},
        },
        errors=errors,
        status=status,
    )


@router.get("/sprawy/{case_id}/przekazanie")
async def transfer_page(
    request: Request,
    session: SignedIn,
    case_id: UUID,
    wojewodztwo: Annotated[str, Query(max_length=2)] = "",
) -> Response:
    return await _transfer_page(request, session, case_id, wojewodztwo)


@router.post("/sprawy/{case_id}/przekazanie")
async def request_transfer(request: Request, session: SignedIn, case_id: UUID) -> Response:
    form = {k: str(v) for k, v in (await request.form()).items()}
    body = {"to_gmina": form.get("to_gmina", "")}
    try:
        await api_for(request, session).call(
            "POST", "intake", f"/cases/{case_id}/transfer", json=body
        )
    except ApiProblem as problem:
        if problem.status not in (409, 422):
            raise
        errors = from_problem(problem.problem, {"to_gmina"})
        region = form.get("wojewodztwo", "")
        return await _transfer_page(
            request, session, case_id, region, form=form, errors=errors, status=422
        )
    to = gmina_label(body["to_gmina"])
    return _flash(
        request,
        f"Prośba o przekazanie sprawy została wysłana do ośrodka pomocy społecznej gminy {to}.",
        f"/sprawy/{case_id}",
    )


async def _decide(request: Request, session: Session, case_id: UUID, step: str) -> None:
    await api_for(request, session).call("POST", "intake", f"/cases/{case_id}/transfer/{step}")


@router.post("/sprawy/{case_id}/przekazanie/wycofaj")
async def withdraw_transfer(request: Request, session: SignedIn, case_id: UUID) -> Response:
    await _decide(request, session, case_id, "withdraw")
    return _flash(request, "Prośba o przekazanie sprawy została wycofana.", f"/sprawy/{case_id}")


@router.post("/przekazania/{case_id}/przyjmij")
async def accept_transfer(request: Request, session: SignedIn, case_id: UUID) -> Response:
    await _decide(request, session, case_id, "accept")
    return _flash(
        request, "Sprawa została przyjęta — prowadzi ją teraz Twój ośrodek.", f"/sprawy/{case_id}"
    )


@router.post("/przekazania/{case_id}/odrzuc")
async def decline_transfer(request: Request, session: SignedIn, case_id: UUID) -> Response:
    await _decide(request, session, case_id, "decline")
    return _flash(
        request, "Przekazanie zostało odrzucone — sprawa zostaje w gminie, która ją prowadzi.",
        "/przekazania",
    )  # fmt: skip


@router.get("/przekazania")
async def transfers(request: Request, session: SignedIn) -> Response:
    rows = await waiting_transfers(api_for(request, session))
    return render(
        request,
        "cases/transfers.html",
        {
            "incoming": [r for r in rows if r["direction"] == "in"],
            "outgoing": [r for r in rows if r["direction"] == "out"],
            "flash": request.session.pop("flash", None),
        },
    )


# --- the due work ---------------------------------------------------------------------------

SCOPES = {"moje": "Moje sprawy", "gmina": "Cała gmina"}


@router.get("/moja-praca")
async def worklist(
    request: Request,
    session: SignedIn,
    zakres: Annotated[str, Query(max_length=10)] = "moje",
) -> Response:
    if zakres not in SCOPES:
        zakres = "moje"
    found = await api_for(request, session).call(
        "GET", "intake", "/worklist", params={"mine": "true" if zakres == "moje" else "false"}
    )
    items = found["items"]
    return render(
        request,
        "cases/worklist.html",
        {
            "work": found,
            "items": items,
            "overdue": sum(1 for i in items if i["overdue"]),
            "scope": zakres,
            "scopes": list(SCOPES.items()),
        },
    )
