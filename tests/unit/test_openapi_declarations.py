"""Every /api/v1 operation of the services declares bearer security (so Swagger's Authorize
works and "Try it out" sends the token; the e-mailed link's routes declare their link header)
and says what it answers with."""

from __future__ import annotations

import importlib
from typing import Any

import pytest

SERVICES = ("intake", "diagnosis", "referrals", "reporting", "partnership", "notifications")
LINK_ROUTES = "/api/v1/referral-link"


def _operations() -> list[tuple[str, str, str, dict[str, Any], dict[str, Any]]]:
    found = []
    for service in SERVICES:
        document = importlib.import_module(f"services.{service}.api").build_api().openapi()
        for path, operations in document["paths"].items():
            if path.startswith("/api/v1/"):
                for method, operation in operations.items():
                    found.append((service, method.upper(), path, operation, document))
    return found


OPERATIONS = _operations()


@pytest.mark.parametrize(
    ("service", "method", "path", "operation", "document"),
    OPERATIONS,
    ids=[f"{s} {m} {p}" for s, m, p, _, _ in OPERATIONS],
)
def test_every_operation_declares_the_bearer_scheme(
    service: str, method: str, path: str, operation: dict[str, Any], document: dict[str, Any]
) -> None:
    if path.startswith(LINK_ROUTES):
        # An institution without an account answers its referral through the e-mailed link:
        # the link's token, in its own header, is these routes' only credential.
        assert operation.get("security") == [{"referral_link": []}]
        scheme = document["components"]["securitySchemes"]["referral_link"]
        assert (scheme["type"], scheme["in"], scheme["name"]) == (
            "apiKey",
            "header",
            "X-Referral-Link",
        )
        return
    assert operation.get("security") == [{"bearer": []}]
    scheme = document["components"]["securitySchemes"]["bearer"]
    assert scheme == {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "JWT",
        "description": scheme["description"],
    }


def test_the_open_routes_stay_open() -> None:
    document = importlib.import_module("services.intake.api").build_api().openapi()
    for path in ("/health", "/ready", "/metrics"):
        assert "security" not in document["paths"][path]["get"]


def _declares_a_model(operation: dict[str, Any]) -> bool:
    schemas = [
        content.get("schema", {})
        for status, answer in operation["responses"].items()
        if status.startswith("2")
        for content in answer.get("content", {}).values()
    ]
    return any("$ref" in s or "$ref" in s.get("items", {}) for s in schemas)


def test_every_operation_declares_its_answer_as_a_model() -> None:
    missing = {
        (service, method, path)
        for service, method, path, operation, _ in OPERATIONS
        if not _declares_a_model(operation)
    }
    assert not missing, f"declare a response model for {sorted(missing)}"


# Changes nothing: a POST only to keep its search terms out of URLs (README).
NO_KEY_POSTS = {("intake", "/api/v1/cases/search")}
POSTS = [(s, p, o) for s, m, p, o, _ in OPERATIONS if m == "POST" and (s, p) not in NO_KEY_POSTS]


@pytest.mark.parametrize(
    ("service", "path", "operation"), POSTS, ids=[f"{s} POST {p}" for s, p, _ in POSTS]
)
def test_every_post_takes_an_idempotency_key(
    service: str, path: str, operation: dict[str, Any]
) -> None:
    headers = {p["name"] for p in operation.get("parameters", []) if p.get("in") == "header"}
    assert "Idempotency-Key" in headers, f"{service} POST {path} takes no Idempotency-Key"
