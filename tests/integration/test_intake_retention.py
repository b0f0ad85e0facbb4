"""Data protection in intake on the real database: the retention job anonymises cases closed
longer than the retention period (and only those), and a coordinator exports all that intake
holds on one person (RODO access right), audited."""

from __future__ import annotations

import itertools
import json
import os
from collections.abc import AsyncIterator
from datetime import date
from typing import Any
from uuid import uuid4

import asyncpg
import pytest
from aio_pika.abc import AbstractRobustConnection

from kooperacja.demo_data import pesel_for
from services.intake.app import spec as intake_spec
from services.intake.settings import intake_settings
from shared.auth import Role
from shared.db import create_pool
from shared.settings import Settings
from tests.integration.conftest import eventually
from tests.integration.service_under_test import EventTap, Gminas, Service, running, tapped

pytestmark = pytest.mark.integration
GMINAS = Gminas("26")
SERIALS = itertools.count(1)
RETENTION_DAYS = 30
REASON = {"X-Access-Reason": "wniosek osoby o dostep do danych"}
BIRTH = date(1977, 8, 21)


@pytest.fixture(scope="module")
async def intake(settings: Settings) -> AsyncIterator[Service]:
    overrides = {
        "KOOP_INTAKE_RETENTION_DAYS": str(RETENTION_DAYS),
        "KOOP_INTAKE_RETENTION_EVERY_SECONDS": "0.2",
    }
    before = {name: os.environ.get(name) for name in overrides}
    os.environ.update(overrides)
    # intake's settings are read once per process: an earlier test may have read them already.
    intake_settings.cache_clear()
    try:
        async with running(intake_spec, "intakeret", 15, settings) as service:
            yield service
    finally:
        for name, value in before.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        intake_settings.cache_clear()


@pytest.fixture(scope="module")
async def tap(amqp: AbstractRobustConnection, settings: Settings) -> AsyncIterator[EventTap]:
    async with tapped(amqp, settings) as events:
        yield events


@pytest.fixture(scope="module")
async def db(settings: Settings, intake: Service) -> AsyncIterator[asyncpg.Pool]:
    pool = await create_pool(settings.database_url("intakeret"))
    yield pool
    await pool.close()


def household(gmina: str, pesel: str, surname: str) -> dict[str, Any]:
    return {
        "gmina": gmina,
        "members": [
            {
                "first_name": "Halina",
                "last_name": surname,
                "birth_date": BIRTH.isoformat(),
                "sex": "F",
                "pesel": pesel,
                "contact": {"phone": "+48 602 111 333", "address": "ul. Lipowa 8"},
            }
        ],
        "reasons": ["2", "12"],
        "notified_by": "health",
        "consent_to_share": True,
        "interview_summary": f"Pani {surname} opiekuje się chorą matką, brak dochodu.",
    }


async def open_and_close(intake: Service, gmina: str, pesel: str, surname: str) -> str:
    r = await intake.call(
        "POST",
        "/cases",
        intake.as_(Role.CASEWORKER, gmina=gmina),
        json=household(gmina, pesel, surname),
    )
    assert r.status_code == 201, r.text
    case_id = r.json()["case_id"]
    r = await intake.call(
        "POST",
        f"/cases/{case_id}/close",
        intake.as_(Role.COORDINATOR, gmina=gmina),
        json={"outcome": "completed_successfully"},
    )
    assert r.status_code == 200, r.text
    return case_id


async def read_case(intake: Service, gmina: str, case_id: str) -> dict[str, Any]:
    who = intake.as_(Role.COORDINATOR, subject="it-coordinator-reader", gmina=gmina)
    r = await intake.call("GET", f"/cases/{case_id}", who, headers=REASON)
    assert r.status_code == 200, r.text
    return r.json()


async def test_retention_anonymises_cases_closed_long_ago_and_leaves_recent_ones(
    intake: Service, db: asyncpg.Pool, tap: EventTap
) -> None:
    gmina = GMINAS.fresh()
    old_pesel, recent_pesel = (pesel_for(BIRTH, "F", next(SERIALS)) for _ in range(2))
    old = await open_and_close(intake, gmina, old_pesel, "Dawnowska")
    recent = await open_and_close(intake, gmina, recent_pesel, "Świeżyńska")
    caseworker = intake.as_(Role.CASEWORKER, gmina=gmina)
    for path, body in (
        (f"/cases/{old}/notes", {"text": "Pani Dawnowska prosi o kontakt po południu."}),
        (f"/cases/{old}/interviews",
         {"conducted_on": date.today().isoformat(), "summary": "Dawnowska: mieszkanie zimne."}),
    ):  # fmt: skip
        r = await intake.call("POST", path, caseworker, json=body)
        assert r.status_code == 201, r.text
    # Setting the scene: the first case was opened and closed 40 days ago.
    await db.execute(
        """UPDATE cases SET opened_on = opened_on - 40, closed_on = closed_on - 40
           WHERE case_id = $1""",
        old,
    )
    before = await read_case(intake, gmina, old)

    async def anonymised() -> dict[str, Any] | None:
        case = await read_case(intake, gmina, old)
        return case if case["anonymised_at"] else None

    after = await eventually(anonymised, what="the retention job to anonymise the old case")
    [person] = after["members"]
    assert person["first_name"] == person["last_name"] == ""
    assert person["pesel"] is None and person["birth_date"] is None
    assert person["birth_year"] == BIRTH.year and person["sex"] == "F"
    assert person["contact"] == {"phone": None, "email": None, "address": None}
    assert after["interview_summary"] == ""
    for part, text in (("notes", "text"), ("interviews", "summary")):
        r = await intake.call("GET", f"/cases/{old}/{part}", caseworker, headers=REASON)
        assert [entry[text] for entry in r.json()] == [""], part
    found = await intake.call("POST", "/cases/search", caseworker,
                              json={"surname": "Dawnowska", "reason": "kontrola"})  # fmt: skip
    assert found.json()["cases"] == [], found.text
    # The case itself and its codes and history stay valid.
    for kept in ("status", "reasons", "notified_by", "gmina", "opened_on", "closed_on", "outcome"):
        assert after[kept] == before[kept], kept
    assert after["history"] == before["history"]

    # The same pass saw the recent case and left it whole.
    untouched = await read_case(intake, gmina, recent)
    assert untouched["anonymised_at"] is None
    assert untouched["members"][0]["last_name"] == "Świeżyńska"
    assert untouched["members"][0]["pesel"] == recent_pesel
    assert untouched["interview_summary"].startswith("Pani Świeżyńska")

    r = await intake.call(
        "GET", "/audit", intake.as_(Role.COORDINATOR, gmina=gmina), params={"case_id": old}
    )
    assert r.status_code == 200, r.text
    [entry] = [e for e in r.json() if e["access"] == "anonymised"]
    assert entry["role"] == "system"
    assert "interview_summary" in entry["purpose"] and "pesel" in entry["purpose"]
    assert "Dawnowska" not in json.dumps(r.json())

    # Anonymised once: the next passes find nothing more to do for it.
    count = await db.fetchval(
        "SELECT count(*) FROM audit_log WHERE case_id = $1 AND access = 'anonymised'", old
    )
    assert count == 1
    # The other services learn of it (and erase what they hold), by codes, ids and a date.
    [announced] = await tap.wait_for(old, "case.anonymised.v1")
    assert set(announced.data) == {"case_id", "place", "anonymised_on"}
    assert announced.data["place"]["gmina"] == gmina
    assert tap.about(recent, "case.anonymised.v1") == []

    # A reopened anonymised case works as any other: with consent, it is before the PZK again.
    r = await intake.call("POST", f"/cases/{old}/reopen", intake.as_(Role.CASEWORKER, gmina=gmina))
    assert r.status_code == 200 and r.json()["status"] == "in_diagnosis", r.text


async def test_export_gives_a_person_all_intake_holds_on_them_and_nothing_after_retention(
    intake: Service, db: asyncpg.Pool
) -> None:
    gmina, elsewhere = GMINAS.fresh(), "1465011"  # the same person also in Warszawa
    pesel = pesel_for(BIRTH, "F", next(SERIALS))
    case_id = await open_and_close(intake, gmina, pesel, "Eksportowa")
    await open_and_close(intake, elsewhere, pesel, "Eksportowa")
    note = {"text": "Notatka o pani Eksportowej."}
    caseworker = intake.as_(Role.CASEWORKER, gmina=gmina)
    assert (await intake.call("POST", f"/cases/{case_id}/notes", caseworker, json=note)).is_success
    case = await read_case(intake, gmina, case_id)
    person_id = case["members"][0]["person_id"]
    coordinator = intake.as_(Role.COORDINATOR, subject="it-rodo", gmina=gmina)

    r = await intake.call("GET", f"/persons/{person_id}/export", coordinator, headers=REASON)
    assert r.status_code == 200, r.text
    export = r.json()
    [record] = export["records"]
    assert export["cases_outside_your_scope"] == 1
    assert record["person"]["pesel"] == pesel
    assert record["person"]["contact"]["phone"] == "+48 602 111 333"
    assert record["case"]["interview_summary"].startswith("Pani Eksportowa")
    assert [n["text"] for n in record["notes"]] == [note["text"]]
    assert record["interview_entries"] == []
    assert [h["step"] for h in record["case"]["history"]][-1] == "close"
    readers = [(e["subject"], e["access"]) for e in record["read_by"]]
    assert ("it-coordinator-reader", "case_record") in readers
    assert readers[-1] == ("it-rodo", "rodo_export")

    # Refused and unchanged: no reason, another gmina's coordinator, a caseworker, no such person.
    audited = await db.fetchval("SELECT count(*) FROM audit_log")
    path = f"/persons/{person_id}/export"
    r = await intake.call("GET", path, coordinator)
    assert r.status_code == 422 and r.json()["field"] == "X-Access-Reason", r.text
    for who in (
        intake.as_(Role.COORDINATOR, gmina=elsewhere),
        intake.as_(Role.CASEWORKER, gmina=gmina),
        intake.as_(Role.ANALYST, region=gmina[:2]),
    ):
        r = await intake.call("GET", path, who, headers=REASON)
        assert r.status_code == 403, r.text
    r = await intake.call("GET", f"/persons/{uuid4()}/export", coordinator, headers=REASON)
    assert r.status_code == 404, r.text
    r = await intake.call("GET", "/persons/not-a-uuid/export", coordinator, headers=REASON)
    assert r.status_code == 422 and r.json()["field"] == "person_id", r.text
    assert await db.fetchval("SELECT count(*) FROM audit_log") == audited

    # Past retention, the export holds nothing personal any more.
    await db.execute(
        """UPDATE cases SET opened_on = opened_on - 90, closed_on = closed_on - 90
           WHERE case_id = $1""",
        case_id,
    )

    async def anonymised() -> bool:
        return (await read_case(intake, gmina, case_id))["anonymised_at"] is not None

    await eventually(anonymised, what="the retention job to anonymise the case")
    r = await intake.call("GET", path, coordinator, headers=REASON)
    assert r.status_code == 200, r.text
    text = r.text
    for personal in ("Halina", "Eksportowa", pesel, BIRTH.isoformat(), "602 111", "Lipowa"):
        assert personal not in text, personal
    assert r.json()["records"][0]["person"]["birth_year"] == BIRTH.year
