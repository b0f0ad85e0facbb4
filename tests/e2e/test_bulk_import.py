"""A gmina moves its case files into Kooperacja with `kooperacja import-cases`, as an operator
would, against the running services: each family's diagnosis opens, a second run imports nothing,
and no person is in any event an outside subscriber receives."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest

from kooperacja.demo_data import pesel_for
from shared.auth import Role
from shared.envelope import parse_envelope
from tests.e2e.conftest import Api

pytestmark = pytest.mark.e2e
GMINA = "2401011"  # Będzin (śląskie): no other test uses it

PERSONAL = {
    "first name": "Wieńczysław",
    "surname": "Przenosiński",
    "birth date": "1968-02-29",
    "phone": "+48 511 909 808",
    "email": "w.przenosinski@example.pl",
    "address": "ul. Archiwalna 5, Będzin",
    "interview summary": "Teczka z 2017 r.: zadłużenie czynszowe, eksmisja wstrzymana",
    "reference": "GOPS-BDZ/2017/0442",
}


def kooperacja(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "kooperacja", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env=dict(os.environ),
        check=False,
    )


def case_files(path: Path) -> str:
    """Three families, the first full of personal data, and one line with a wrong PESEL."""
    birth = date.fromisoformat(PERSONAL["birth date"])
    pesel = pesel_for(birth, "M", 808)
    first = {
        "external_id": PERSONAL["reference"],
        "gmina": GMINA,
        "members": [
            {
                "first_name": PERSONAL["first name"],
                "last_name": PERSONAL["surname"],
                "birth_date": PERSONAL["birth date"],
                "sex": "M",
                "pesel": pesel,
                "contact": {
                    "phone": PERSONAL["phone"],
                    "email": PERSONAL["email"],
                    "address": PERSONAL["address"],
                },
            }
        ],
        "reasons": ["1", "14"],
        "notified_by": "self",
        "consent_to_share": True,
        "interview_summary": PERSONAL["interview summary"],
    }
    others = [
        {
            **first,
            "external_id": f"GOPS-BDZ/2018/{n}",
            "members": [{**first["members"][0], "pesel": pesel_for(birth, "M", 809 + n)}],
        }
        for n in range(2)
    ]
    wrong = {**others[0], "external_id": "GOPS-BDZ/2019/1"}
    wrong["members"] = [{**first["members"][0], "pesel": pesel[:-1] + str(9 - int(pesel[-1]))}]
    path.write_text("\n".join(json.dumps(x, ensure_ascii=False) for x in (first, *others, wrong)))
    return pesel


async def test_imported_files_reach_diagnosis_and_no_event_carries_a_person(
    api: Api, outside_subscriber: list[bytes], tmp_path: Path
) -> None:
    path = tmp_path / "teczki.ndjson"
    pesel = case_files(path)

    done = await asyncio.to_thread(kooperacja, "import-cases", str(path), "--gmina", GMINA)
    assert done.returncode == 1, done.stdout + done.stderr  # one line rejected
    assert "3 imported, 0 already imported, 1 rejected" in done.stdout, done.stdout
    assert "line 4 [GOPS-BDZ/2019/1]: invalid_pesel (members[0].pesel)" in done.stdout

    coordinator = api.as_(Role.COORDINATOR, gmina=GMINA)
    r = await api.call("GET", "intake", "/cases", coordinator, params={"gmina": GMINA})
    assert r.status_code == 200 and len(r.json()) == 3, r.text
    for case in r.json():
        await api.diagnosis_of(str(case["case_id"]), coordinator)

    again = await asyncio.to_thread(kooperacja, "import-cases", str(path), "--gmina", GMINA)
    assert "0 imported, 3 already imported, 1 rejected" in again.stdout, again.stdout

    ours = [parse_envelope(b) for b in outside_subscriber if GMINA.encode() in b]
    assert (
        sorted(e.routing_key for e in ours if e.routing_key.startswith("case."))
        == ["case.opened.v1"] * 3
    )
    everything = b"\n".join(outside_subscriber).decode()
    for what, value in {**PERSONAL, "PESEL": pesel}.items():
        assert value not in everything, f"the {what} left intake in an event"
