"""NUL, other control characters and lone surrogates in free text, against the four running
services: every free-text field answers 422 naming that field (nothing reaches PostgreSQL, which
cannot store them), multi-line fields keep TAB, LF and CR, and a bulk import refuses such a line
alone and imports the others."""

from __future__ import annotations

import json
from typing import Any

import pytest

from shared.auth import Role
from tests.e2e.conftest import Api

pytestmark = pytest.mark.e2e
GMINA = "3201011"  # Białogard (zachodniopomorskie): no other test uses it
BAD = ["\x00", "\x01", "\x1b", "\x7f", "\x85", "\ud800", "\udfff", "\t", "\n", "\r"]
MULTILINE_OK = "Wywiad:\tpierwszy wiersz\r\ndrugi wiersz\nkoniec"


def _member(**change: Any) -> dict[str, Any]:
    member: dict[str, Any] = {
        "first_name": "Zdzisława",
        "last_name": "Sterująca",
        "birth_date": "1971-03-09",
        "sex": "F",
        "relation": "head",
        "contact": {"address": "ul. Morska 1, Białogard", "email": "z.s@example.pl"},
    }
    for path, value in change.items():
        target = member
        *parents, last = path.split(".")
        for parent in parents:
            target = target[parent]
        target[last] = value
    return member


def _case(**change: Any) -> dict[str, Any]:
    summary = change.pop("interview_summary", MULTILINE_OK)
    return {
        "gmina": GMINA,
        "members": [_member(**change)],
        "reasons": ["2"],
        "notified_by": "health",
        "consent_to_share": True,
        "interview_summary": summary,
    }


def _raw(body: dict[str, Any]) -> bytes:
    """JSON as a client writes it: lone surrogates as \\uXXXX escapes (they are not UTF-8)."""
    return json.dumps(body, ensure_ascii=True).encode()


def _refused(r: Any, field: str, what: str) -> str | None:
    if r.status_code != 422:
        return f"{what}: {r.status_code} {r.text[:200]}"
    problem = r.json()
    if problem.get("field") != field or not r.headers["content-type"].startswith(
        "application/problem+json"
    ):
        return f"{what}: field {problem.get('field')!r}, expected {field!r}"
    return None


async def test_every_free_text_field_refuses_control_characters_naming_the_field(
    api: Api,
) -> None:
    caseworker = api.as_(Role.CASEWORKER, gmina=GMINA)
    json_headers = {**caseworker, "Content-Type": "application/json"}
    wrong: list[str] = []
    single = ["first_name", "last_name", "relation", "contact.address", "contact.email"]
    for char in BAD:
        for field in single:
            body = _case(**{field: f"Ab{char}cd@example.pl" if "email" in field else f"Ab{char}c"})
            r = await api.call("POST", "intake", "/cases", json_headers, content=_raw(body))
            problem = _refused(r, f"members[0].{field}", f"{field} with U+{ord(char):04X}")
            wrong += [problem] if problem else []
        if char not in "\t\n\r":
            body = _case(interview_summary=f"Wywiad{char}")
            r = await api.call("POST", "intake", "/cases", json_headers, content=_raw(body))
            problem = _refused(r, "interview_summary", f"summary with U+{ord(char):04X}")
            wrong += [problem] if problem else []
    assert not wrong, "\n".join(wrong)

    # Multi-line text keeps its tabs and line ends; the case opens.
    r = await api.call("POST", "intake", "/cases", json_headers, content=_raw(_case()))
    assert r.status_code == 201, r.text
    case = r.json()["case_id"]
    r = await api.call("GET", "intake", f"/cases/{case}", caseworker, params={"reason": "kontrola"})
    assert r.status_code == 200 and r.json()["interview_summary"] == MULTILINE_OK, r.text

    # The access reason, as a parameter and as a header (HTTP carries only some bytes there).
    for char in ("\x00", "\x1b", "\n", "\x9b"):
        r = await api.call(
            "GET", "intake", f"/cases/{case}", caseworker, params={"reason": f"wgląd{char}"}
        )
        assert _refused(r, "reason", "reason parameter") is None, r.text
    r = await api.call(
        "GET", "intake", f"/cases/{case}", {**caseworker, "X-Access-Reason": b"wgl\x85d"}
    )
    assert _refused(r, "X-Access-Reason", "reason header") is None, r.text
    r = await api.call(
        "POST", "intake", f"/cases/{case}/close", {**caseworker, "Idempotency-Key": b"k\x85"},
        json={"outcome": "completed_successfully"},
    )  # fmt: skip
    assert _refused(r, "Idempotency-Key", "idempotency key") is None, r.text


async def test_institution_names_and_assessment_notes_refuse_control_characters(
    api: Api,
) -> None:
    coordinator = api.as_(Role.COORDINATOR, gmina=GMINA)
    headers = {**coordinator, "Content-Type": "application/json"}
    body = {
        "name": "GOPS\x00Białogard",
        "sector": "social_assistance",
        "support_types": ["family_assistant"],
        "gminas": [GMINA],
    }
    for char in ("\x00", "\x07", "\t", "\ud800"):
        body["name"] = f"GOPS{char}Białogard"
        r = await api.call("POST", "referrals", "/institutions", headers, content=_raw(body))
        assert _refused(r, "name", "institution name") is None, r.text
    institution = await api.register_institution(GMINA, "GOPS Białogard", ["family_assistant"])
    r = await api.call(
        "PATCH", "referrals", f"/institutions/{institution}", headers,
        content=_raw({"name": "GOPS\x00"}),
    )  # fmt: skip
    assert _refused(r, "name", "new institution name") is None, r.text

    r = await api.call(
        "POST", "intake", "/cases", api.as_(Role.CASEWORKER, gmina=GMINA), json=_case()
    )
    assert r.status_code == 201, r.text
    diagnosis = (await api.diagnosis_of(r.json()["case_id"], coordinator))["diagnosis_id"]
    path = f"/diagnoses/{diagnosis}/assessments"
    for char in ("\x00", "\x0b", "\udc00"):
        note = {"need_area": "health", "severity": 2, "notes": f"Notatka{char}"}
        r = await api.call("POST", "diagnosis", path, headers, content=_raw(note))
        assert _refused(r, "notes", "assessment notes") is None, r.text
    note = {"need_area": "health", "severity": 2, "notes": MULTILINE_OK}
    r = await api.call("POST", "diagnosis", path, coordinator, json=note)
    assert r.status_code == 201, r.text


async def test_a_bulk_import_refuses_a_line_with_a_control_character_alone(api: Api) -> None:
    lines = []
    for i, (name, summary) in enumerate(
        [("Anna", "dobry"), ("An\x00na", "zły"), ("Ewa", "zły\x00"), ("Ola", "dobry\tteż")]
    ):
        line = {**_case(first_name=name, interview_summary=summary), "external_id": f"CC-{i}"}
        lines.append(json.dumps(line, ensure_ascii=True))
    lines.append(json.dumps({**_case(), "external_id": "CC-\ud800"}, ensure_ascii=True))
    r = await api.call(
        "POST",
        "intake",
        "/cases/import",
        {**api.as_(Role.CASEWORKER, gmina=GMINA), "Content-Type": "application/x-ndjson"},
        params={"gmina": GMINA},
        content="\n".join(lines).encode(),
    )
    assert r.status_code == 200, r.text
    report = r.json()
    assert (report["imported"], report["rejected"]) == (2, 3), report
    assert [(e["line"], e["field"]) for e in report["errors"]] == [
        (2, "members[0].first_name"),
        (3, "interview_summary"),
        (5, "external_id"),
    ], report["errors"]
