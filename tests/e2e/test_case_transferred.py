"""A family that moves, through the running stack: a case with a diagnosis, an agreed plan and
referrals is transferred from gmina A's OPS to gmina B's. B's coordinator and caseworker read
the diagnosis, the plan and every referral, A's no longer; the accepted support goes on, the
one not accepted yet is routed anew in B; reporting counts the case in B and the move in the
transfers table; a rebuild from the event log gives the same tables."""

from __future__ import annotations

import asyncio
import sys
from typing import Any

import pytest

from shared.auth import Role
from shared.settings import Settings
from tests.e2e.conftest import Api

pytestmark = pytest.mark.e2e

A = "1204032"  # a rural gmina of powiat chrzanowski (małopolskie): no other test uses it
B = "1204042"  # its neighbour, where the family moves
SUPPORTS = ["family_assistant", "psychologist"]
TABLES = ("cases", "transfers", "households", "reasons", "needs", "plans", "referrals")


async def test_a_transferred_case_is_followed_by_every_service_and_by_a_rebuild(
    api: Api, stack: Settings
) -> None:
    here = await api.register_institution(A, "GOPS w gminie A", SUPPORTS)
    there = await api.register_institution(B, "GOPS w gminie B", SUPPORTS)
    coordinator = {g: api.as_(Role.COORDINATOR, gmina=g) for g in (A, B)}
    caseworker = {g: api.as_(Role.CASEWORKER, gmina=g) for g in (A, B)}
    case = await api.open_case(
        A,
        {"first_name": "Halina", "last_name": "Przeprowadzka", "birth_date": "1980-02-02",
         "sex": "F"},
        reasons=["4"],
        notified_by="school",
    )  # fmt: skip
    diagnosis = await api.diagnosis_of(case, coordinator[A])
    did = diagnosis["diagnosis_id"]
    r = await api.call("POST", "diagnosis", f"/diagnoses/{did}/assessments", coordinator[A], json={
        "need_area": "parenting", "severity": 2, "notes": "Matka samotnie wychowuje dzieci",
        "recommendations": [{"support_type": t, "priority": 1} for t in SUPPORTS]})  # fmt: skip
    assert r.status_code == 201, r.text
    r = await api.call("POST", "diagnosis", f"/diagnoses/{did}/complete", coordinator[A])
    assert r.status_code == 200, r.text
    await api.agree_plan(did, coordinator[A])

    async def referrals(who: dict[str, str], count: int) -> list[dict[str, Any]] | None:
        r = await api.call("GET", "referrals", f"/cases/{case}/referrals", who)
        assert r.status_code == 200, r.text
        return r.json() if len(r.json()) == count else None

    routed = await api.eventually(lambda: referrals(coordinator[A], 2), what="the plan routed")
    assert {x["institution_id"] for x in routed} == {here}
    [assistant] = [x for x in routed if x["support_type"] == "family_assistant"]
    staff = api.as_(Role.INSTITUTION_STAFF, institution=here)
    r = await api.call("POST", "referrals", f"/referrals/{assistant['referral_id']}/accept", staff)
    assert r.status_code == 200, r.text

    # The family moves: A's OPS asks, B's accepts.
    r = await api.call("POST", "intake", f"/cases/{case}/transfer", caseworker[A],
                       json={"to_gmina": B})  # fmt: skip
    assert r.status_code == 201, r.text
    r = await api.call("POST", "intake", f"/cases/{case}/transfer/accept", caseworker[B])
    assert r.status_code == 200 and r.json()["state"] == "accepted", r.text

    # Referrals: the accepted support goes on, the other is routed anew in B; B reads them all.
    moved = await api.eventually(lambda: referrals(coordinator[B], 3), what="support moved to B")
    states = sorted((x["support_type"], x["state"], x["cancel_reason"], x["institution_id"])
                    for x in moved)  # fmt: skip
    assert states == [
        ("family_assistant", "accepted", None, here),
        ("psychologist", "assigned", None, there),
        ("psychologist", "cancelled", "case_transferred", here),
    ]
    for who in (coordinator[A], caseworker[A]):
        r = await api.call("GET", "referrals", f"/cases/{case}/referrals", who)
        assert r.status_code == 200 and r.json() == [], r.text
    r = await api.call("GET", "referrals", f"/cases/{case}/referrals", caseworker[B])
    assert len(r.json()) == 3, r.text

    # Diagnosis: B's coordinator and caseworker read the diagnosis and its plan, A's do not.
    async def whole_path(who: dict[str, str]) -> dict[str, Any] | None:
        r = await api.call("GET", "diagnosis", f"/cases/{case}/diagnosis", who)
        return r.json() if r.status_code == 200 else None

    for who in (coordinator[B], caseworker[B]):
        path = await api.eventually(lambda w=who: whole_path(w), what="B reads the diagnosis")
        assert path["plan"] is not None and path["needs"], path
        r = await api.call("GET", "diagnosis", f"/diagnoses/{did}/plan", who)
        assert r.status_code == 200, r.text
    for who in (coordinator[A], caseworker[A]):
        r = await api.call("GET", "diagnosis", f"/cases/{case}/diagnosis", who)
        assert r.status_code in (403, 404), r.text
        r = await api.call("GET", "diagnosis", f"/diagnoses/{did}/plan", who)
        assert r.status_code in (403, 404), r.text
        r = await api.call("GET", "diagnosis", f"/diagnoses/{did}/notes", who,
                           params={"reason": "ciekawość"})  # fmt: skip
        assert r.status_code in (403, 404), r.text
    r = await api.call("GET", "diagnosis", f"/diagnoses/{did}/notes", coordinator[B],
                       params={"reason": "przejęcie sprawy"})  # fmt: skip
    assert r.status_code == 200 and r.json()["notes"], r.text

    # Reporting: the case is B's today, the move counted out of A and into B.
    async def tables() -> dict[str, Any]:
        found = {}
        for gmina in (A, B):
            for name in TABLES:
                r = await api.call("GET", "reporting", f"/reports/{name}", coordinator[gmina])
                assert r.status_code == 200, r.text
                found[f"{gmina} {name}"] = {k: r.json()[k] for k in ("rows", "total")}
        return found

    async def counted_in_b() -> dict[str, Any] | None:
        now = await tables()
        rows = {row["key"]: row for row in now[f"{B} cases"]["rows"]}
        moves = {row["key"]: row["cells"] for row in now[f"{B} transfers"]["rows"]}
        done = B in rows and rows[B]["total"] == 1 and moves.get(B, {}).get("in") == 1
        return now if done else None

    before = await api.eventually(counted_in_b, within=30, what="reporting to move the case")
    assert before[f"{A} cases"]["rows"] == []  # not A's any more, as of today
    assert [(r["key"], r["cells"]) for r in before[f"{A} transfers"]["rows"]] == [
        (A, {"out": 1, "in": 0})
    ]
    assert [r["key"] for r in before[f"{B} needs"]["rows"]] == [B]
    # the referrals made in A stay A's figures; the one routed anew is B's
    assert [(r["key"], r["total"]) for r in before[f"{A} referrals"]["rows"]] == [(A, 2)]
    assert [(r["key"], r["total"]) for r in before[f"{B} referrals"]["rows"]] == [(B, 1)]

    command = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "kooperacja", "reporting", "rebuild",
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await asyncio.wait_for(command.communicate(), timeout=180)
    assert command.returncode == 0, err.decode()
    assert "rebuilt from" in out.decode()
    assert await tables() == before
