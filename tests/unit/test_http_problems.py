"""Every error is application/problem+json naming what is wrong, and the OpenAPI says so."""

from __future__ import annotations

import warnings

from fastapi import APIRouter
from pydantic import BaseModel, Field

from shared.auth import Principal, Role, issue_token, requires
from shared.errors import Conflict
from shared.http import create_api
from shared.settings import get_settings

with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # starlette asks for httpx2; httpx serves
    from fastapi.testclient import TestClient


class Member(BaseModel):
    pesel: str = Field(pattern=r"^\d{11}$")


class Body(BaseModel):
    members: list[Member]


router = APIRouter(prefix="/api/v1")


@router.post("/things")
async def make(body: Body, _: Principal = requires(Role.CASEWORKER)) -> dict[str, int]:
    raise Conflict("already_there", "the thing exists", field="members")


def client() -> TestClient:
    app = create_api("test", description="test")
    app.include_router(router)
    return TestClient(app)


def caseworker() -> dict[str, str]:
    token = issue_token(get_settings(), subject="a", role=Role.CASEWORKER, gmina="0601032")
    return {"Authorization": f"Bearer {token}"}


def test_missing_token_is_401_with_bearer_challenge() -> None:
    response = client().post("/api/v1/things", json={})
    assert response.status_code == 401
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["www-authenticate"] == "Bearer"
    assert response.json()["code"] == "missing_token"


def test_validation_error_names_the_field_path() -> None:
    from shared.auth import issue_token
    from shared.settings import get_settings

    token = issue_token(get_settings(), subject="a", role=Role.CASEWORKER, gmina="0601032")
    response = client().post(
        "/api/v1/things",
        json={"members": [{"pesel": "12"}]},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code == 422
    problem = response.json()
    assert problem["field"] == "members[0].pesel"
    assert problem["title"] == "Nieprawidłowe dane"


def test_domain_error_keeps_its_status_code_and_field() -> None:
    from shared.auth import issue_token
    from shared.settings import get_settings

    token = issue_token(get_settings(), subject="a", role=Role.CASEWORKER, gmina="0601032")
    response = client().post(
        "/api/v1/things",
        json={"members": [{"pesel": "12345678901"}]},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code == 409
    assert response.json() == {
        "type": "urn:kooperacja:problem:already_there",
        "title": "Konflikt ze stanem sprawy",
        "status": 409,
        "detail": "the thing exists",
        "code": "already_there",
        "field": "members",
    }


def test_wrong_method_lists_the_allowed_ones() -> None:
    response = client().request("TRACE", "/health")
    assert response.status_code == 405
    assert response.headers["allow"] == "GET"


def test_openapi_documents_problem_answers() -> None:
    spec = client().get("/api/v1/openapi.json").json()
    responses = spec["paths"]["/api/v1/things"]["post"]["responses"]
    for status in ("401", "403", "409", "422"):
        assert list(responses[status]["content"]) == ["application/problem+json"]
    assert "Problem" in spec["components"]["schemas"]
