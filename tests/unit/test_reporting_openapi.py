"""Reporting's answers are typed in its OpenAPI document: rows, cells, withheld cells, totals and
the definitions of the derived figures, so a client can be generated from it."""

from __future__ import annotations

from services.reporting.api import build_api


def _answer_schema(doc: dict, path: str, method: str = "get") -> dict:
    content = doc["paths"][path][method]["responses"]["200"]["content"]
    ref = content["application/json"]["schema"]["$ref"]
    return doc["components"]["schemas"][ref.rsplit("/", 1)[-1]]


def test_every_route_documents_its_answer() -> None:
    doc = build_api().openapi()
    schemas = doc["components"]["schemas"]
    for path, method in (
        ("/api/v1/reports", "get"),
        ("/api/v1/reports/summary", "get"),
        ("/api/v1/reports/indicators", "get"),
        ("/api/v1/reports/indicators/monthly", "get"),
        ("/api/v1/reports/{name}", "get"),
        ("/api/v1/admin/rebuild", "post"),
    ):
        assert _answer_schema(doc, path, method)["properties"], path
    table = _answer_schema(doc, "/api/v1/reports/{name}")
    assert {"columns", "rows", "total", "definitions", "suppression"} <= set(table["properties"])
    line = schemas["TableLine"]["properties"]
    assert {"key", "label", "cells", "total", "hidden"} <= set(line)
    assert line["cells"]["additionalProperties"]["anyOf"] == [
        {"type": "integer"},
        {"type": "null"},
    ]  # a withheld cell is null
    summary = _answer_schema(doc, "/api/v1/reports/summary")
    assert {"by", "rows", "total", "definitions"} <= set(summary["properties"])
    assert {"supports_assigned", "referrals", "hidden"} <= set(schemas["SummaryLine"]["properties"])
    indicators = schemas["IndicatorLine"]["properties"]
    assert {"success_share", "acceptance_rate", "cases_closed", "referrals_answered"} <= set(
        indicators
    )
    rebuilt = _answer_schema(doc, "/api/v1/admin/rebuild", "post")
    assert "skipped_because" in rebuilt["properties"]
    # an export is a file, documented beside the JSON
    exported = doc["paths"]["/api/v1/reports/summary"]["get"]["responses"]["200"]["content"]
    assert "text/csv" in exported
