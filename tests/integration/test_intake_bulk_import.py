"""Bulk import of case files into intake on the real database and broker: a valid file, every
kind of bad line beside good ones, a re-run, a retried request, chunks, and who may import."""

from __future__ import annotations

import itertools
import json
from collections.abc import AsyncIterator, Iterator
from datetime import date
from typing import Any
from uuid import UUID

import asyncpg
import pytest
from aio_pika.abc import AbstractRobustConnection

from kooperacja.demo_data import pesel_for
from services.intake import bulk_api
from services.intake.app import spec as intake_spec
from shared.auth import Role
from shared.db import create_pool
from shared.settings import Settings
from tests.integration.service_under_test import EventTap, Gminas, Service, running, tapped

pytestmark = pytest.mark.integration
GMINAS = Gminas("18")  # podkarpackie: no other test opens cases there
SERIALS = itertools.count(1)
BIRTH = date(1981, 3, 14)
NDJSON = {"Content-Type": "application/x-ndjson"}


@pytest.fixture(scope="module")
async def intake(settings: Settings) -> AsyncIterator[Service]:
    async with running(intake_spec, "intakebulk", 16, settings) as service:
        yield service


@pytest.fixture(scope="module")
async def tap(amqp: AbstractRobustConnection, settings: Settings) -> AsyncIterator[EventTap]:
    async with tapped(amqp, settings) as events:
        yield events


@pytest.fixture(scope="module")
async def db(settings: Settings, intake: Service) -> AsyncIterator[asyncpg.Pool]:
    pool = await create_pool(settings.database_url("intakebulk"))
    yield pool
    await pool.close()


@pytest.fixture
def small_chunks() -> Iterator[None]:
    """Chunks of two lines, so a short file crosses several transactions."""
    before = bulk_api.CHUNK_LINES
    bulk_api.CHUNK_LINES = 2
    yield
    bulk_api.CHUNK_LINES = before


def new_pesel() -> str:
    return pesel_for(BIRTH, "M", next(SERIALS))


def line(gmina: str, external_id: str, **fields: Any) -> dict[str, Any]:
    return {
        "external_id": external_id,
        "gmina": gmina,
        "members": [
            {
                "first_name": "Zdzisław",
                "last_name": "Importowany",
                "birth_date": BIRTH.isoformat(),
                "sex": "M",
                "pesel": fields.pop("pesel", None) or new_pesel(),
                "contact": {"phone": "+48 602 111 333"},
            }
        ],
        "reasons": ["1"],
        "notified_by": "self",
        "consent_to_share": True,
        "interview_summary": "Akta przeniesione z poprzedniego systemu.",
        **fields,
    }


def ndjson(*lines: dict[str, Any] | str) -> bytes:
    return "\n".join(x if isinstance(x, str) else json.dumps(x) for x in lines).encode() + b"\n"


async def import_file(
    intake: Service, gmina: str, body: bytes, who: dict[str, str] | None = None, **headers: str
) -> dict[str, Any]:
    response = await intake.call(
        "POST",
        "/cases/import",
        who or intake.as_(Role.CASEWORKER, gmina=gmina),
        params={"gmina": gmina},
        content=body,
        headers={**NDJSON, **headers},
    )
    assert response.status_code == 200, response.text
    return response.json()


async def test_a_valid_file_opens_each_case_as_a_single_opening_would(
    intake: Service, tap: EventTap, db: asyncpg.Pool
) -> None:
    gmina = GMINAS.fresh()
    without_consent = line(gmina, "OPS/2019/7", consent_to_share=False)
    with_details = line(gmina, "OPS/2021/12", consent={"given_on": "2025-11-02"})
    with_details.pop("consent_to_share")
    body = ndjson(line(gmina, "OPS/2018/1"), "", without_consent, with_details)

    result = await import_file(intake, gmina, body)

    assert (result["lines"], result["imported"], result["already_imported"]) == (3, 3, 0)
    assert (result["rejected"], result["errors"], result["already"]) == (0, [], [])
    rows = await db.fetch(
        """SELECT r.external_id, c.case_id, c.status, c.consent_to_share, c.opened_by
           FROM case_external_refs r JOIN cases c USING (case_id)
           WHERE r.gmina = $1 ORDER BY r.external_id""",
        gmina,
    )
    assert [(r["external_id"], r["status"]) for r in rows] == [
        ("OPS/2018/1", "in_diagnosis"),
        ("OPS/2019/7", "opened"),
        ("OPS/2021/12", "in_diagnosis"),
    ]
    assert {r["opened_by"] for r in rows} == {"it-caseworker"}
    for row in rows:
        [opened] = await tap.wait_for(row["case_id"], "case.opened.v1")
        assert opened.data["consent_to_share"] is row["consent_to_share"]
        assert opened.data["place"]["gmina"] == gmina
        assert opened.data["household_size"] == 1
    audit = await db.fetch(
        "SELECT case_id, access, purpose FROM audit_log WHERE gmina = $1 ORDER BY entry_id", gmina
    )
    assert {a["case_id"] for a in audit} == {r["case_id"] for r in rows}
    assert {a["access"] for a in audit} == {"imported"}
    assert [a["purpose"].rsplit(", ", 1)[1] for a in audit] == ["line 1", "line 3", "line 4"]
    done = await db.fetchrow(
        "SELECT * FROM case_imports WHERE import_id = $1", UUID(result["import_id"])
    )
    assert done["finished_at"] is not None and done["subject"] == "it-caseworker"
    assert (done["lines"], done["imported"], done["rejected"]) == (3, 3, 0)


async def test_each_bad_line_is_refused_alone_with_its_number_field_and_reason(
    intake: Service, db: asyncpg.Pool
) -> None:
    gmina = GMINAS.fresh()
    taken = new_pesel()
    response = await intake.call(
        "POST",
        "/cases",
        intake.as_(Role.CASEWORKER, gmina=gmina),
        json={k: v for k, v in line(gmina, "-", pesel=taken).items() if k != "external_id"},
    )
    assert response.status_code == 201, response.text
    existing = response.json()["case_id"]
    bad_pesel = line(gmina, "E2")
    bad_pesel["members"][0]["pesel"] = "81031412345"
    no_consent = line(gmina, "E5")
    no_consent.pop("consent_to_share")
    no_reference = line(gmina, "x")
    no_reference.pop("external_id")
    twice = new_pesel()
    lines: list[dict[str, Any] | str] = [
        line(gmina, "OK1"),  # 1
        bad_pesel,  # 2
        line("1899999", "E3"),  # 3: no such gmina in TERC
        line(gmina, "E4", reasons=["99"]),  # 4
        no_consent,  # 5
        '{"external_id": "E6", "gmina": ',  # 6: malformed JSON
        line(gmina, "E7", pesel=taken),  # 7: this person has an open case already
        line(GMINAS.fresh(), "E8"),  # 8: another gmina than the import's
        no_reference,  # 9
        line(gmina, "OK2", pesel=twice),  # 10
        line(gmina, "E11", pesel=twice),  # 11: the same person again, in the same file
        line(gmina, "E12", notified_by="martians"),  # 12
        '["not", "an", "object"]',  # 13
        line(gmina, "OK3"),  # 14
    ]
    result = await import_file(intake, gmina, ndjson(*lines))

    assert (result["lines"], result["imported"], result["rejected"]) == (14, 3, 11)
    got = {e["line"]: (e["code"], e["field"], e["status"]) for e in result["errors"]}
    assert got == {
        2: ("invalid_pesel", "members[0].pesel", 422),
        3: ("unknown_teryt", "gmina", 422),
        4: ("validation_failed", "reasons[0]", 422),
        5: ("consent_required", "consent_to_share", 422),
        6: ("malformed_json", None, 422),
        7: ("duplicate_case", "members[0].pesel", 409),
        8: ("gmina_mismatch", "gmina", 422),
        9: ("validation_failed", "external_id", 422),
        11: ("duplicate_case", "members[0].pesel", 409),
        12: ("validation_failed", "notified_by", 422),
        13: ("validation_failed", None, 422),
    }
    by_line = {e["line"]: e for e in result["errors"]}
    assert existing in by_line[7]["detail"]
    assert by_line[2]["external_id"] == "E2" and by_line[6]["external_id"] is None
    assert by_line[2]["type"] == "urn:kooperacja:problem:invalid_pesel" and by_line[2]["title"]
    imported = await db.fetch(
        "SELECT external_id FROM case_external_refs WHERE gmina = $1 ORDER BY external_id", gmina
    )
    assert [r["external_id"] for r in imported] == ["OK1", "OK2", "OK3"]


async def test_a_rerun_imports_nothing_twice_and_a_changed_line_is_refused(
    intake: Service, tap: EventTap, db: asyncpg.Pool, small_chunks: None
) -> None:
    gmina = GMINAS.fresh()
    lines = [line(gmina, f"R{i}") for i in range(5)]
    first = await import_file(intake, gmina, ndjson(*lines))
    assert (first["imported"], first["already_imported"], first["rejected"]) == (5, 0, 0)
    case_ids = {
        r["external_id"]: r["case_id"]
        for r in await db.fetch("SELECT * FROM case_external_refs WHERE gmina = $1", gmina)
    }
    for case_id in case_ids.values():
        await tap.wait_for(case_id, "case.opened.v1")

    # The same file again, one line reformatted, one corrected, and a new one at the end.
    changed = {**lines[3], "reasons": ["1", "2"]}
    again = ndjson(
        *lines[:2],
        json.dumps(lines[2], indent=None, separators=(",", ":")),
        changed,
        lines[4],
        line(gmina, "R5"),
    )
    second = await import_file(intake, gmina, again)

    assert (second["imported"], second["already_imported"], second["rejected"]) == (1, 4, 1)
    assert [(a["line"], a["external_id"], a["case_id"]) for a in second["already"]] == [
        (n + 1, f"R{n}", str(case_ids[f"R{n}"])) for n in (0, 1, 2, 4)
    ]
    [conflict] = second["errors"]
    assert (conflict["line"], conflict["code"], conflict["field"]) == (
        4,
        "external_id_conflict",
        "external_id",
    )
    assert str(case_ids["R3"]) in conflict["detail"]
    counted = await db.fetchval("SELECT count(*) FROM cases WHERE gmina = $1", gmina)
    assert counted == 6
    # The re-run published nothing about the cases it found already imported.
    for case_id in case_ids.values():
        assert len(tap.about(case_id, "case.opened.v1")) == 1


async def test_a_retried_request_answers_as_the_first_and_a_reused_key_changes_nothing(
    intake: Service, db: asyncpg.Pool
) -> None:
    gmina = GMINAS.fresh()
    body = ndjson(line(gmina, "K1"), line(gmina, "K2"))
    first = await import_file(intake, gmina, body, **{"Idempotency-Key": f"import-{gmina}"})
    retried = await import_file(intake, gmina, body, **{"Idempotency-Key": f"import-{gmina}"})
    assert retried == first
    assert await db.fetchval("SELECT count(*) FROM case_imports WHERE gmina = $1", gmina) == 1

    other = ndjson(line(gmina, "K3"))
    response = await intake.call(
        "POST",
        "/cases/import",
        intake.as_(Role.CASEWORKER, gmina=gmina),
        params={"gmina": gmina},
        content=other,
        headers={**NDJSON, "Idempotency-Key": f"import-{gmina}"},
    )
    assert response.status_code == 422, response.text
    assert response.json()["code"] == "idempotency_key_reused"
    assert await db.fetchval("SELECT count(*) FROM cases WHERE gmina = $1", gmina) == 2


async def test_a_streamed_body_split_anywhere_is_read_line_by_line(
    intake: Service, db: asyncpg.Pool, small_chunks: None
) -> None:
    gmina = GMINAS.fresh()
    body = ndjson(*(line(gmina, f"S{i}") for i in range(7)))

    async def pieces() -> AsyncIterator[bytes]:
        for start in range(0, len(body), 97):  # cuts lines (and UTF-8 letters) anywhere
            yield body[start : start + 97]

    response = await intake.call(
        "POST",
        "/cases/import",
        intake.as_(Role.CASEWORKER, gmina=gmina),
        params={"gmina": gmina},
        content=pieces(),
        headers=NDJSON,
    )
    assert response.status_code == 200, response.text
    assert (response.json()["imported"], response.json()["rejected"]) == (7, 0)
    names = await db.fetch(
        """SELECT m.last_name FROM members m JOIN cases c USING (case_id) WHERE c.gmina = $1""",
        gmina,
    )
    assert {n["last_name"] for n in names} == {"Importowany"}


async def test_only_the_gminas_own_staff_or_its_powiats_coordinator_may_import(
    intake: Service, db: asyncpg.Pool
) -> None:
    gmina, neighbour = GMINAS.fresh(), GMINAS.fresh()
    body = ndjson(line(gmina, "P1"))
    refused = {
        "another gmina's caseworker": intake.as_(Role.CASEWORKER, gmina=neighbour),
        "another powiat's coordinator": intake.as_(Role.COORDINATOR, powiat="0601"),
        "a team member": intake.as_(Role.TEAM_MEMBER, gmina=gmina),
        "an analyst": intake.as_(Role.ANALYST, region=gmina[:2]),
    }
    for who, token in refused.items():
        response = await intake.call(
            "POST", "/cases/import", token, params={"gmina": gmina}, content=body, headers=NDJSON
        )
        assert response.status_code == 403, f"{who}: {response.text}"
        assert response.headers["content-type"].startswith("application/problem+json")
    assert await db.fetchval("SELECT count(*) FROM cases WHERE gmina = $1", gmina) == 0

    response = await intake.call(
        "POST",
        "/cases/import",
        intake.as_(Role.CASEWORKER, gmina=gmina),
        params={"gmina": gmina},
        content=body,
        headers={"Content-Type": "text/csv"},
    )
    assert response.status_code == 415, response.text

    coordinator = intake.as_(Role.COORDINATOR, powiat=gmina[:4])
    result = await import_file(intake, gmina, body, who=coordinator)
    assert result["imported"] == 1
    audit = await db.fetchrow("SELECT subject, role FROM audit_log WHERE gmina = $1", gmina)
    assert (audit["subject"], audit["role"]) == ("it-coordinator", "coordinator")
