"""Both services describe their HTTP API in a generated OpenAPI document."""

from __future__ import annotations

from services.diagnosis.api import build_api as diagnosis_api
from services.intake.api import build_api as intake_api


def test_intake_openapi_lists_its_routes_headers_and_codes() -> None:
    doc = intake_api().openapi()
    paths = doc["paths"]
    assert {
        "/api/v1/cases",
        "/api/v1/cases/{case_id}",
        "/api/v1/cases/{case_id}/persons",
        "/api/v1/cases/{case_id}/close",
        "/api/v1/cases/{case_id}/reopen",
        "/api/v1/cases/{case_id}/send-to-diagnosis",
        "/api/v1/audit",
    } <= set(paths)
    post_params = {p["name"] for p in paths["/api/v1/cases"]["post"]["parameters"]}
    assert "Idempotency-Key" in post_params
    read_params = {p["name"] for p in paths["/api/v1/cases/{case_id}"]["get"]["parameters"]}
    assert {"X-Access-Reason", "reason"} <= read_params
    schemas = doc["components"]["schemas"]
    assert "7a" in schemas["Reason"]["enum"]
    assert set(schemas["CloseIn"]["properties"]) == {"outcome", "closed_on"}


def test_diagnosis_openapi_lists_its_routes() -> None:
    paths = diagnosis_api().openapi()["paths"]
    assert {
        "/api/v1/diagnoses",
        "/api/v1/diagnoses/{diagnosis_id}",
        "/api/v1/diagnoses/{diagnosis_id}/assessments",
        "/api/v1/diagnoses/{diagnosis_id}/complete",
        "/api/v1/diagnoses/{diagnosis_id}/revisions",
    } <= set(paths)
