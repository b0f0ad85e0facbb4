"""Reporting's HTTP routes: aggregates only, as JSON, CSV or XLSX.

Coordinators of a gmina or powiat see their figures exactly. Analysts (ROPS), a coordinator
with a region scope, and every exported file (files travel) get the protected figures: small
counts withheld, every other count perturbed by the cell-key method (disclosure.py). Operators
may only rebuild.
"""

from __future__ import annotations

import calendar
import copy
import re
from dataclasses import asdict
from datetime import date
from enum import StrEnum
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, Path, Query
from fastapi.responses import JSONResponse, Response

from services.reporting import disclosure, domain, schemas, store
from services.reporting.exports import to_csv, to_xlsx
from services.reporting.rebuild import rebuild
from services.reporting.settings import cell_key_secret, reporting_settings
from services.reporting.tables import (
    DERIVED,
    INDICATOR_COUNTS,
    INDICATOR_DEFINITIONS,
    INDICATOR_LABELS,
    REPORTS,
    SUMMARY_COUNTS,
    SUMMARY_DEFINITIONS,
    TESTING_PHASE,
    add_hours,
    add_means,
    add_row_figures,
    add_success_share,
    cross_table,
    disclosure_note,
    indicator_rows,
    row_label,
)
from shared.auth import Principal, Role, requires
from shared.codes import ModelVariant
from shared.errors import Forbidden, InvalidInput, NotFound
from shared.http import create_api
from shared.idempotency import IdempotencyKey, fingerprint, once
from shared.isodate import IsoDate
from shared.runtime import ServiceContext, context
from shared.teryt import nested, terc

router = APIRouter(prefix="/api/v1", tags=["reports"])
admin = APIRouter(prefix="/api/v1/admin", tags=["operations"])
Ctx = Annotated[ServiceContext, Depends(context)]


class Grouping(StrEnum):
    REGION = "region"
    POWIAT = "powiat"
    GMINA = "gmina"
    VARIANT = "variant"


class Format(StrEnum):
    JSON = "json"
    CSV = "csv"
    XLSX = "xlsx"


MEDIA_TYPES = {
    Format.CSV: "text/csv; charset=utf-8",
    Format.XLSX: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
# format=csv|xlsx answers a file: documented so clients (and schemathesis) expect it.
EXPORTED: dict[int | str, dict[str, Any]] = {
    200: {
        "content": {
            "text/csv": {"schema": {"type": "string"}},
            MEDIA_TYPES[Format.XLSX]: {"schema": {"type": "string", "format": "binary"}},
        }
    }
}


class ReportQuery:
    """The filters every report takes, checked against the reader's scope."""

    def __init__(
        self,
        region: Annotated[
            list[str] | None, Query(description="one or more regions (TERYT), e.g. 06")
        ] = None,
        powiat: Annotated[str | None, Query(pattern=r"^\d{4}$")] = None,
        gmina: Annotated[str | None, Query(pattern=r"^\d{7}$")] = None,
        variant: ModelVariant | None = None,
        as_of: Annotated[
            IsoDate | None, Query(description="figures as they stood at the end of this day")
        ] = None,
        opened_from: Annotated[IsoDate | None, Query(alias="from")] = None,
        opened_to: Annotated[IsoDate | None, Query(alias="to")] = None,
        by: Grouping = Grouping.GMINA,
        format: Format = Format.JSON,
    ) -> None:
        if gmina is not None:
            terc().gmina(gmina, field="gmina")
        for code in region or []:
            if not re.fullmatch(r"\d{2}", code):
                raise InvalidInput("bad_region", f"{code!r} is not a region code", field="region")
        if opened_from and opened_to and opened_from > opened_to:
            raise InvalidInput("period_reversed", "'from' is after 'to'", field="from")
        self.region, self.powiat, self.gmina = region, powiat, gmina
        self.variant = variant
        self.as_of = as_of
        self.opened_from, self.opened_to = opened_from, opened_to
        self.by = by
        self.format = format

    def within(self, principal: Principal) -> store.Filter:
        """The filter narrowed to what the principal may see; asking beyond it is refused."""
        if principal.gmina or principal.powiat:
            return self._within_place(principal)
        if not principal.region:
            raise Forbidden("no_scope", "your token names no gmina, powiat or region")
        # A region scope may list several regions (a macro-region), or "*" for all of them.
        regions = [r.strip() for r in principal.region.split(",")]
        if "*" in regions:
            return self._filter(self.region, self.powiat, self.gmina)
        asked = self.region or regions
        for name, value in [*(("region", r) for r in asked), ("powiat", self.powiat),
                            ("gmina", self.gmina)]:  # fmt: skip
            if value is not None and value[:2] not in regions:
                raise Forbidden("out_of_scope", f"{name} {value} is outside your scope",
                                field=name)  # fmt: skip
        return self._filter(list(asked), self.powiat, self.gmina)

    def _within_place(self, principal: Principal) -> store.Filter:
        level, code = (
            ("gmina", principal.gmina) if principal.gmina else ("powiat", principal.powiat)
        )
        assert code is not None
        asked = [("region", r) for r in self.region or []]
        asked += [("powiat", self.powiat), ("gmina", self.gmina)]
        for name, value in asked:
            # narrower than the scope, or broader and then narrowed to it
            if value is not None and not nested(value, code):
                raise Forbidden("out_of_scope", f"{name} {value} is outside your scope",
                                field=name)  # fmt: skip
        narrowed: dict[str, Any] = {"region": self.region, "powiat": self.powiat,
                                    "gmina": self.gmina}  # fmt: skip
        narrowed[level] = code
        return self._filter(narrowed["region"], narrowed["powiat"], narrowed["gmina"])

    def _filter(
        self, region: list[str] | None, powiat: str | None, gmina: str | None
    ) -> store.Filter:
        return store.Filter(
            region=region,
            powiat=powiat,
            gmina=gmina,
            variant=str(self.variant) if self.variant else None,
            as_of=domain.as_of_day(self.as_of),
            opened_from=self.opened_from,
            opened_to=self.opened_to,
            key_pads=disclosure.hmac_pads(cell_key_secret()),
        )

    def threshold(self, principal: Principal) -> int | None:
        """None (exact figures) for a coordinator of a gmina or powiat reading JSON; for
        everyone else and in every exported file, the threshold of the protected figures."""
        exact = principal.role is Role.COORDINATOR and bool(principal.gmina or principal.powiat)
        if exact and self.format is Format.JSON:
            return None
        return reporting_settings().min_cell


Filters = Annotated[ReportQuery, Depends()]
Reader = Annotated[Principal, requires(Role.ANALYST, Role.COORDINATOR)]


@router.get("/reports", response_model=schemas.Catalogue)
async def catalogue(_: Reader) -> dict[str, Any]:
    """The reports there are."""
    names = [{"name": "summary", "title": "Podsumowanie: rodziny, wsparcie, skierowania"}]
    names.append({"name": "indicators", "title": "Wskaźniki realizacji modelu"})
    names += [{"name": n, "title": r.title} for n, r in REPORTS.items()]
    return {"reports": names}


@router.get("/reports/summary", responses=EXPORTED, response_model=schemas.Summary)
async def summary(ctx: Ctx, q: Filters, principal: Reader) -> Any:
    """Cases opened, supports (recommendations that reached an institution) and referrals
    (routing attempts) per region, powiat, gmina or variant (`by`), with the total (a figure
    of its own, not the sum of the rows)."""
    where = q.within(principal)
    async with ctx.pool.acquire() as conn:
        cells = await store.cells(conn, "summary", where, q.by)
    threshold = q.threshold(principal)
    counts = {c: INDICATOR_LABELS[c] for c in SUMMARY_COUNTS}
    table = cross_table(cells, counts, lambda key: row_label(q.by, key), threshold=threshold)

    def figures(line: dict[str, Any]) -> dict[str, Any]:
        shown = {c: line["cells"].get(c, 0) for c in counts}
        hidden = [c for c in counts if shown[c] is None]
        return {"key": line["key"], "label": line["label"], **shown, "hidden": hidden}

    rows = [figures(line) for line in table.rows]
    total = figures(table.total)
    body = {
        "by": q.by,
        "as_of": q.as_of,
        "definitions": SUMMARY_DEFINITIONS,
        "rows": rows,
        "total": total,
        "suppression": disclosure_note(threshold),
    }
    fields = ["key", "label", *counts]
    header = ["kod", "nazwa", *counts.values()]
    return _answer(q, "summary", body, header, [[r[f] for f in fields] for r in (*rows, total)])


@router.get("/reports/indicators", responses=EXPORTED, response_model=schemas.Indicators)
async def indicators(ctx: Ctx, q: Filters, principal: Reader) -> Any:
    """Per group: the share of plans completed successfully, times to diagnosis and to first
    support (median, 90th percentile, days), acceptance and overdue referrals. The total is
    figured from all the records of the scope, not from the rows."""
    where = q.within(principal)
    async with ctx.pool.acquire() as conn:
        cells = await store.cells(conn, "indicators", where, q.by)
        durations = await store.durations(conn, where, q.by)
    threshold = q.threshold(principal)
    rows, total = indicator_rows(cells, durations, lambda key: row_label(q.by, key), threshold)
    fields = ["key", "label", *INDICATOR_COUNTS, *DERIVED]
    header = [INDICATOR_LABELS.get(f, f) for f in fields]
    body = {
        "by": q.by,
        "as_of": q.as_of,
        "definitions": INDICATOR_DEFINITIONS,
        "rows": rows,
        "total": total,
        "suppression": disclosure_note(threshold),
    }
    return _answer(
        q, "indicators", body, header, [[r.get(f) for f in fields] for r in (*rows, total)]
    )


MONTHS_AT_MOST = 24


def _months(first: date, last: date) -> list[tuple[date, date]]:
    """The calendar months `first`..`last` touches, each clipped to it."""
    spans = []
    year, month = first.year, first.month
    while (year, month) <= (last.year, last.month):
        start = max(first, date(year, month, 1))
        end = min(last, date(year, month, calendar.monthrange(year, month)[1]))
        spans.append((start, end))
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return spans


@router.get("/reports/indicators/monthly", response_model=schemas.MonthlyIndicators)
async def monthly_indicators(ctx: Ctx, q: Filters, principal: Reader) -> Any:
    """The indicators' total for each calendar month of `from`..`to` (both required, at most
    24 months), for a chart over time in one call. Each month's figures are exactly what
    /reports/indicators answers for that month alone (`from` and `to` clipped to it, any
    `by`): the same scope check, the same withholding and the same cell-key perturbation of
    the same cells, so the series discloses nothing that the separate calls would not."""
    if q.opened_from is None or q.opened_to is None:
        missing = "from" if q.opened_from is None else "to"
        raise InvalidInput("period_required", "Podaj początek i koniec okresu.", field=missing)
    if q.format is not Format.JSON:
        raise InvalidInput("format_not_offered", "Ten raport jest tylko w JSON.", field="format")
    spans = _months(q.opened_from, q.opened_to)
    if len(spans) > MONTHS_AT_MOST:
        raise InvalidInput(
            "period_too_long", f"Okres może objąć najwyżej {MONTHS_AT_MOST} miesiące.",
            field="from",
        )  # fmt: skip
    threshold = q.threshold(principal)
    found = []
    async with ctx.pool.acquire() as conn:
        for start, end in spans:
            month = copy.copy(q)
            month.opened_from, month.opened_to = start, end
            where = month.within(principal)
            cells = await store.cells(conn, "indicators", where, q.by)
            durations = await store.durations(conn, where, q.by)
            _, total = indicator_rows(cells, durations, lambda key: row_label(q.by, key), threshold)
            found.append(
                {"month": f"{start:%Y-%m}", "first_day": start, "last_day": end, "total": total}
            )
    return {
        "as_of": q.as_of,
        "definitions": INDICATOR_DEFINITIONS,
        "months": found,
        "suppression": disclosure_note(threshold),
    }


# The tables of /reports/{name}: documented as the path's values (the summary and the
# indicators have routes and answers of their own); another name answers 404.
TableName = Annotated[str, Path(json_schema_extra={"enum": list(REPORTS)})]


@router.get(
    "/reports/{name}",
    responses=EXPORTED,
    response_model=schemas.ReportTable,
    response_model_exclude_unset=True,  # a row figure only in the tables that have it
)
async def report(name: TableName, ctx: Ctx, q: Filters, principal: Reader) -> Any:
    """A table of counts (rows by place or sector, columns by code), with totals."""
    kind = REPORTS.get(name)
    if kind is None:
        raise NotFound("unknown_report", f"there is no report {name!r}", field="name")
    where = q.within(principal)
    by = q.by if kind.rows == "place" else None
    label_of = lambda key: row_label(by or kind.rows, key)  # noqa: E731
    threshold = q.threshold(principal)
    async with ctx.pool.acquire() as conn:
        cells = await store.cells(conn, name, where, by or "region")
        table = cross_table(cells, kind.columns, label_of, threshold=threshold)
        add_row_figures(name, table)
        if name == "activity_sessions":
            add_hours(table, await store.session_minutes(conn, where, by or "region"))
        elif name == "survey_answers":
            add_means(table, cells)
        elif name == "follow_ups":
            indicators = await store.cells(conn, "indicators", where, by or "region")
            add_success_share(table, indicators, label_of)
    body = {
        "report": name,
        "title": kind.title,
        "by": by or kind.rows,
        "as_of": q.as_of,
        "definitions": kind.definitions(),
        **table.as_json(),
    }
    if name == "follow_ups":
        body["reference"] = TESTING_PHASE
    keys = list(table.columns)
    header = ["kod", "nazwa", *table.columns.values(), "ogółem"]
    lines = [
        [line["key"], line["label"], *(line["cells"][k] for k in keys), line["total"]]
        for line in (*table.rows, table.total)
    ]
    return _answer(q, name, body, header, lines)


def _answer(
    q: ReportQuery, name: str, body: dict[str, Any], header: list[str], lines: list[list[Any]]
) -> Any:
    if q.format is Format.JSON:
        return body
    suffix = f"_{q.as_of.isoformat()}" if q.as_of else ""
    filename = f"kooperacja_{name}{suffix}.{q.format}"
    content = to_csv(header, lines) if q.format is Format.CSV else to_xlsx(name, header, lines)
    return Response(
        content,
        media_type=MEDIA_TYPES[q.format],
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


@admin.post("/rebuild", response_model=schemas.Rebuilt)
async def rebuild_projections(
    ctx: Ctx,
    idempotency_key: IdempotencyKey = None,
    principal: Principal = requires(Role.OPERATOR),
) -> JSONResponse:
    """Drop the projections and replay the event log from its start, then resume live."""

    async def rebuilt() -> dict[str, Any]:
        batch = reporting_settings().rebuild_batch
        result = await rebuild(ctx.pool, ctx.settings.amqp_url, batch_size=batch)
        return {**asdict(result), "events_per_second": round(result.events_per_second, 1)}

    request_hash = fingerprint("POST /admin/rebuild", None)
    return await once(ctx.pool, principal, idempotency_key, request_hash, 200, rebuilt)


def build_api() -> FastAPI:
    cell_key_secret()  # in production, no start without the secret of the perturbation
    app = create_api("reporting", description="Raporty zbiorcze dla gmin, powiatów i regionów.")
    app.include_router(router)
    app.include_router(admin)
    return app
