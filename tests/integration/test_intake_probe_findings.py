"""Intake against what an outside probe tried: a replay with another scope's token, paging
beyond any case, impossible dates of birth, and an opening that left no audit entry."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any
from uuid import UUID, uuid4

import asyncpg
import pytest

from services.intake.app import spec as intake_spec
from shared.auth import Role
from shared.db import create_pool
from shared.settings import Settings
from tests.integration.service_under_test import Gminas, Service, running

pytestmark = pytest.mark.integration
GMINAS = Gminas("24")  # śląskie: only the bulk import e2e test (2401011) opens cases there
SUBJECT = "jan.kowalski"


@pytest.fixture(scope="module")
async def intake(settings: Settings) -> AsyncIterator[Service]:
    async with running(intake_spec, "intakeprobe", 22, settings) as service:
        yield service


@pytest.fixture(scope="module")
async def intake_db(intake: Service, settings: Settings) -> AsyncIterator[asyncpg.Pool]:
    pool = await create_pool(settings.database_url("intakeprobe"))
    yield pool
    await pool.close()


def _fresh() -> str:
    code = GMINAS.fresh()
    return GMINAS.fresh() if code == "2401011" else code


def _household(gmina: str, birth_date: str = "1980-04-02") -> dict[str, Any]:
    return {
        "gmina": gmina,
        "members": [
            {"first_name": "Ewa", "last_name": "Próbna", "birth_date": birth_date, "sex": "F"}
        ],
        "reasons": ["2"],
        "notified_by": "health",
        "consent_to_share": True,
    }


async def test_a_replay_never_answers_a_token_of_another_scope(intake: Service) -> None:
    gmina_a, gmina_b = _fresh(), _fresh()
    r = await intake.call(
        "POST", "/cases", intake.as_(Role.CASEWORKER, SUBJECT, gmina=gmina_a),
        json=_household(gmina_a),
    )  # fmt: skip
    assert r.status_code == 201, r.text
    case = r.json()["case_id"]
    key = {"Idempotency-Key": f"zamkniecie-{uuid4()}"}
    outcome = {"outcome": "completed_successfully"}
    of_a = intake.as_(Role.COORDINATOR, SUBJECT, gmina=gmina_a)
    r = await intake.call("POST", f"/cases/{case}/close", of_a, json=outcome, headers=key)
    assert r.status_code == 200, r.text

    # The same subject and key in gmina B's token: refused as without the key.
    of_b = intake.as_(Role.COORDINATOR, SUBJECT, gmina=gmina_b)
    with_key = await intake.call("POST", f"/cases/{case}/close", of_b, json=outcome, headers=key)
    without = await intake.call("POST", f"/cases/{case}/close", of_b, json=outcome)
    assert with_key.status_code == without.status_code == 403, (with_key.text, without.text)
    assert with_key.json()["code"] == "out_of_scope"
    # A's coordinator still gets the first answer back.
    r = await intake.call("POST", f"/cases/{case}/close", of_a, json=outcome, headers=key)
    assert (r.status_code, r.json()["status"]) == (200, "closed"), r.text


async def test_paging_beyond_any_case_is_refused_not_a_server_error(intake: Service) -> None:
    gmina = _fresh()
    caseworker = intake.as_(Role.CASEWORKER, gmina=gmina)
    for offset in ("9223372036854775808", "1000001", "-1"):
        r = await intake.call("GET", "/cases", caseworker, params={"offset": offset})
        assert (r.status_code, r.json()["field"]) == (422, "offset"), r.text
    for limit in ("9223372036854775808", "0", "501"):
        r = await intake.call("GET", "/cases", caseworker, params={"limit": limit})
        assert (r.status_code, r.json()["field"]) == (422, "limit"), r.text
    r = await intake.call("GET", "/cases", caseworker, params={"offset": "1000000"})
    assert (r.status_code, r.json()) == (200, [])
    r = await intake.call(
        "GET", "/audit", intake.as_(Role.COORDINATOR, gmina=gmina),
        params={"limit": "9223372036854775808"},
    )  # fmt: skip
    assert (r.status_code, r.json()["field"]) == (422, "limit"), r.text


async def test_a_date_of_birth_before_1900_or_in_the_future_is_refused(intake: Service) -> None:
    gmina = _fresh()
    caseworker = intake.as_(Role.CASEWORKER, gmina=gmina)
    refused = {
        "0001-01-01": "birth_date_too_early",
        "1899-12-31": "birth_date_too_early",
        "2999-01-01": "birth_date_in_future",
    }
    for birth, code in refused.items():
        r = await intake.call("POST", "/cases", caseworker, json=_household(gmina, birth))
        assert r.status_code == 422, r.text
        assert (r.json()["code"], r.json()["field"]) == (code, "members[0].birth_date")
    r = await intake.call("POST", "/cases", caseworker, json=_household(gmina, "1900-01-01"))
    assert r.status_code == 201, r.text


async def test_a_single_opening_is_audited_as_an_imported_one_is(
    intake: Service, intake_db: asyncpg.Pool
) -> None:
    gmina = _fresh()
    r = await intake.call(
        "POST", "/cases", intake.as_(Role.CASEWORKER, "pracownik-3", gmina=gmina),
        json=_household(gmina),
    )  # fmt: skip
    assert r.status_code == 201, r.text
    rows = await intake_db.fetch(
        "SELECT subject, role, gmina, access, purpose FROM audit_log WHERE case_id = $1",
        UUID(r.json()["case_id"]),
    )
    assert [tuple(row) for row in rows] == [
        ("pracownik-3", "caseworker", gmina, "opened", "założenie sprawy")
    ]
