"""Every role against every endpoint of the five services, read from their OpenAPI documents at
run time, so a new endpoint without an entry in the table below fails this test.

The table is the design's "who may see what" (../shared/DESIGN.md) written out per endpoint:
analysts get aggregates only, operators no case data, institution staff only their referrals and
the persons of cases they accepted, everyone only their own gmina or institution.
"""

from __future__ import annotations

import re
import time
from datetime import date
from typing import Any
from uuid import uuid4

import httpx
import jwt
import pytest

from shared.auth import Role, issue_token
from shared.claims import ROLE_CLAIMS
from shared.settings import Settings
from tests.e2e.conftest import Api

pytestmark = pytest.mark.e2e

GMINA = "0607032"  # Dzierzkowice, kraśnicki: this test's own gmina
OTHER_GMINA = "0607042"  # Gościeradów, the same powiat: a neighbour who must not see in
SERVICES = ("intake", "diagnosis", "referrals", "reporting", "partnership", "notifications")

CW, TM, CO, IS, AN, OP = (
    Role.CASEWORKER,
    Role.TEAM_MEMBER,
    Role.COORDINATOR,
    Role.INSTITUTION_STAFF,
    Role.ANALYST,
    Role.OPERATOR,
)

LINK_ONLY = {
    ("referrals", "GET", "/api/v1/referral-link"),
    ("referrals", "POST", "/api/v1/referral-link/accept"),
    ("referrals", "POST", "/api/v1/referral-link/decline"),
    ("referrals", "POST", "/api/v1/referral-link/complete"),
}

# (service, method, path) → the roles let through; every other role gets 403.
EXPECTED: dict[tuple[str, str, str], frozenset[Role]] = {
    ("intake", "POST", "/api/v1/cases"): frozenset({CW}),
    # A migration of case files: the gmina's caseworker, or a coordinator of its gmina or powiat.
    ("intake", "POST", "/api/v1/cases/import"): frozenset({CW, CO}),
    ("intake", "GET", "/api/v1/cases"): frozenset({CW, CO}),
    ("intake", "GET", "/api/v1/cases/{case_id}"): frozenset({CW, CO}),
    # Codes, consent and history only (the case page before a reason is given).
    ("intake", "GET", "/api/v1/cases/{case_id}/overview"): frozenset({CW, CO}),
    ("intake", "GET", "/api/v1/cases/{case_id}/persons"): frozenset({CW, CO, IS}),
    ("intake", "POST", "/api/v1/cases/{case_id}/close"): frozenset({CW, CO}),
    ("intake", "POST", "/api/v1/cases/{case_id}/reopen"): frozenset({CW, CO}),
    ("intake", "POST", "/api/v1/cases/{case_id}/send-to-diagnosis"): frozenset({CW, CO}),
    ("intake", "POST", "/api/v1/cases/{case_id}/consent"): frozenset({CW, CO}),
    ("intake", "POST", "/api/v1/cases/{case_id}/consent/withdrawal"): frozenset({CW, CO}),
    # The case file: the gmina's caseworker and coordinator (a transfer is accepted by the
    # receiving gmina's; institutions, the PZK's members, analysts and operators get nothing).
    ("intake", "POST", "/api/v1/cases/search"): frozenset({CW, CO}),
    ("intake", "POST", "/api/v1/cases/{case_id}/members"): frozenset({CW, CO}),
    ("intake", "POST", "/api/v1/cases/{case_id}/members/{person_id}/left"): frozenset({CW, CO}),
    ("intake", "PATCH", "/api/v1/cases/{case_id}/members/{person_id}"): frozenset({CW, CO}),
    ("intake", "POST", "/api/v1/cases/{case_id}/reasons"): frozenset({CW, CO}),
    ("intake", "POST", "/api/v1/cases/{case_id}/interviews"): frozenset({CW, CO}),
    ("intake", "GET", "/api/v1/cases/{case_id}/interviews"): frozenset({CW, CO}),
    ("intake", "POST", "/api/v1/cases/{case_id}/notes"): frozenset({CW, CO}),
    ("intake", "GET", "/api/v1/cases/{case_id}/notes"): frozenset({CW, CO}),
    ("intake", "POST", "/api/v1/cases/{case_id}/transfer"): frozenset({CW, CO}),
    ("intake", "POST", "/api/v1/cases/{case_id}/transfer/accept"): frozenset({CW, CO}),
    ("intake", "POST", "/api/v1/cases/{case_id}/transfer/decline"): frozenset({CW, CO}),
    ("intake", "POST", "/api/v1/cases/{case_id}/transfer/withdraw"): frozenset({CW, CO}),
    ("intake", "GET", "/api/v1/transfers"): frozenset({CW, CO}),
    ("intake", "GET", "/api/v1/worklist"): frozenset({CW, CO}),
    # The responsible caseworker (pracownik prowadzący): reassigned by the gmina's staff.
    ("intake", "POST", "/api/v1/cases/{case_id}/assignment"): frozenset({CW, CO}),
    # The family's follow-up after closing and its members in the PZK's group activities: the
    # gmina's caseworker and coordinator only (who takes part is known in intake alone).
    ("intake", "POST", "/api/v1/cases/{case_id}/follow-ups"): frozenset({CW, CO}),
    ("intake", "GET", "/api/v1/cases/{case_id}/follow-ups"): frozenset({CW, CO}),
    ("intake", "POST", "/api/v1/activities/{activity_id}/participants"): frozenset({CW, CO}),
    ("intake", "GET", "/api/v1/activities/{activity_id}/participants"): frozenset({CW, CO}),
    ("intake", "GET", "/api/v1/audit"): frozenset({CO}),
    ("intake", "GET", "/api/v1/persons/{person_id}/export"): frozenset({CO}),
    ("diagnosis", "GET", "/api/v1/diagnoses"): frozenset({TM, CO}),
    ("diagnosis", "GET", "/api/v1/diagnoses/{diagnosis_id}"): frozenset({TM, CO}),
    ("diagnosis", "POST", "/api/v1/diagnoses/{diagnosis_id}/assessments"): frozenset({TM, CO}),
    ("diagnosis", "POST", "/api/v1/diagnoses/{diagnosis_id}/complete"): frozenset({CO}),
    ("diagnosis", "POST", "/api/v1/diagnoses/{diagnosis_id}/revisions"): frozenset({CO}),
    # Notes are special-category data: the gmina's staff and its PZK's members, with a reason.
    ("diagnosis", "GET", "/api/v1/diagnoses/{diagnosis_id}/notes"): frozenset({CW, TM, CO}),
    ("diagnosis", "GET", "/api/v1/audit"): frozenset({CO}),
    # The plan (IPW): agreed, revised and reviewed by the coordinator; read by the case's people.
    ("diagnosis", "GET", "/api/v1/diagnoses/{diagnosis_id}/plan"): frozenset({CW, TM, CO}),
    ("diagnosis", "POST", "/api/v1/diagnoses/{diagnosis_id}/plan"): frozenset({CO}),
    ("diagnosis", "POST", "/api/v1/diagnoses/{diagnosis_id}/plan/revisions"): frozenset({CO}),
    (
        "diagnosis",
        "POST",
        "/api/v1/diagnoses/{diagnosis_id}/plan/goals/{goal_id}/reviews",
    ): frozenset({CO}),
    # The whole path of a case, for the gmina's caseworker and coordinator.
    ("diagnosis", "GET", "/api/v1/cases/{case_id}/diagnosis"): frozenset({CW, CO}),
    ("referrals", "GET", "/api/v1/cases/{case_id}/referrals"): frozenset({CW, CO}),
    # The directory holds institutions, not people: operators may read it to run the stack.
    ("referrals", "POST", "/api/v1/institutions"): frozenset({CO}),
    ("referrals", "GET", "/api/v1/institutions"): frozenset({CO, IS, OP}),
    ("referrals", "GET", "/api/v1/institutions/{institution_id}"): frozenset({CO, IS, OP}),
    ("referrals", "PATCH", "/api/v1/institutions/{institution_id}"): frozenset({CO}),
    ("referrals", "POST", "/api/v1/institutions/{institution_id}/deactivate"): frozenset({CO}),
    ("referrals", "GET", "/api/v1/referrals"): frozenset({IS, CO}),
    ("referrals", "GET", "/api/v1/referrals/overdue"): frozenset({CO}),
    ("referrals", "GET", "/api/v1/referrals/{referral_id}"): frozenset({IS, CO}),
    ("referrals", "POST", "/api/v1/referrals/{referral_id}/accept"): frozenset({IS}),
    ("referrals", "POST", "/api/v1/referrals/{referral_id}/decline"): frozenset({IS}),
    ("referrals", "POST", "/api/v1/referrals/{referral_id}/complete"): frozenset({IS}),
    ("reporting", "GET", "/api/v1/reports"): frozenset({AN, CO}),
    ("reporting", "GET", "/api/v1/reports/summary"): frozenset({AN, CO}),
    ("reporting", "GET", "/api/v1/reports/indicators"): frozenset({AN, CO}),
    ("reporting", "GET", "/api/v1/reports/indicators/monthly"): frozenset({AN, CO}),
    ("reporting", "GET", "/api/v1/reports/{name}"): frozenset({AN, CO}),
    ("reporting", "POST", "/api/v1/admin/rebuild"): frozenset({OP}),
    # The partnership: read by the gmina's staff and its members' staff, changed by the gmina's
    # coordinator; analysts see aggregates only (reporting), operators nothing of it.
    ("partnership", "GET", "/api/v1/partnerships"): frozenset({CW, TM, CO, IS}),
    ("partnership", "GET", "/api/v1/partnerships/{gmina}"): frozenset({CW, TM, CO, IS}),
    ("partnership", "GET", "/api/v1/partnerships/{gmina}/members-on/{day}"): frozenset(
        {CW, TM, CO, IS}
    ),
    ("partnership", "POST", "/api/v1/partnerships/{gmina}/agreements"): frozenset({CO}),
    ("partnership", "POST", "/api/v1/partnerships/{gmina}/members"): frozenset({CO}),
    (
        "partnership",
        "POST",
        "/api/v1/partnerships/{gmina}/members/{institution_id}/leave",
    ): frozenset({CO}),
    ("partnership", "POST", "/api/v1/partnerships/{gmina}/representatives"): frozenset({CO}),
    (
        "partnership",
        "POST",
        "/api/v1/partnerships/{gmina}/representatives/{representative_id}/end",
    ): frozenset({CO}),
    ("partnership", "POST", "/api/v1/partnerships/{gmina}/roles"): frozenset({CO}),
    ("partnership", "POST", "/api/v1/partnerships/{gmina}/diagnostic-team"): frozenset({CO}),
    ("partnership", "POST", "/api/v1/partnerships/{gmina}/meetings"): frozenset({CO}),
    ("partnership", "GET", "/api/v1/partnerships/{gmina}/meetings"): frozenset({CW, TM, CO, IS}),
    ("partnership", "GET", "/api/v1/meetings/{meeting_id}"): frozenset({CW, TM, CO, IS}),
    ("partnership", "POST", "/api/v1/meetings/{meeting_id}/decisions"): frozenset({CO}),
    # The decisions about a case, for its timeline.
    ("partnership", "GET", "/api/v1/cases/{case_id}/decisions"): frozenset({CW, CO}),
    # Group activities: run by the gmina's coordinator, read by its staff and the PZK's members.
    ("partnership", "POST", "/api/v1/activities"): frozenset({CO}),
    ("partnership", "GET", "/api/v1/activities"): frozenset({CW, TM, CO}),
    ("partnership", "GET", "/api/v1/activities/{activity_id}"): frozenset({CW, TM, CO}),
    ("partnership", "POST", "/api/v1/activities/{activity_id}/sessions"): frozenset({CO}),
    # The members' survey: the coordinator opens and closes rounds, the members answer.
    ("partnership", "GET", "/api/v1/surveys/questions"): frozenset({TM, CO}),
    ("partnership", "GET", "/api/v1/surveys/rounds"): frozenset({TM, CO}),
    ("partnership", "POST", "/api/v1/surveys/rounds"): frozenset({CO}),
    ("partnership", "POST", "/api/v1/surveys/rounds/{round_id}/answers"): frozenset({TM, CO}),
    ("partnership", "POST", "/api/v1/surveys/rounds/{round_id}/close"): frozenset({CO}),
    # Each person's inbox: the roles notifications are addressed to; the scope picks the gmina
    # or institution, the subject the read marks and e-mail preferences.
    # The e-mailed link of an institution without users: no bearer token opens these, only
    # the link's own token (X-Referral-Link); see test_the_link_routes_open_to_their_link_only.
    **{key: frozenset() for key in LINK_ONLY},
    ("notifications", "GET", "/api/v1/notifications"): frozenset({CW, CO, IS}),
    ("notifications", "GET", "/api/v1/notifications/{notification_id}"): frozenset({CW, CO, IS}),
    ("notifications", "POST", "/api/v1/notifications/{notification_id}/read"): frozenset(
        {CW, CO, IS}
    ),
    ("notifications", "GET", "/api/v1/preferences"): frozenset({CW, CO, IS}),
    ("notifications", "PUT", "/api/v1/preferences"): frozenset({CW, CO, IS}),
    # Every service's operator API: its queues and dead letters, no case data.
    **{
        (service, method, f"/api/v1/admin/{path}"): frozenset({OP})
        for service in SERVICES
        for method, path in (
            ("GET", "status"),
            ("GET", "dead-letters"),
            ("POST", "dead-letters/replay"),
            ("POST", "dead-letters/purge"),
        )
    },
}

# Heavy or destructive when let through: tried by the roles refused only; the allowed role's
# own tests (reporting rebuild, directory) prove that it works.
ACTIONS = ("replay", "purge")
REFUSED_ONLY = {
    ("reporting", "POST", "/api/v1/admin/rebuild"),
    # Another test's dead letters must stay until it has seen them (test_operator_tools).
    *(
        (s, "POST", f"/api/v1/admin/dead-letters/{a}")
        for s in SERVICES
        for a in ("replay", "purge")
    ),
    ("referrals", "POST", "/api/v1/institutions/{institution_id}/deactivate"),
}


async def _endpoints(api: Api, *, with_links: bool = False) -> set[tuple[str, str, str]]:
    """The /api/v1 routes of every service; the link routes (no bearer token) only when asked."""
    found: set[tuple[str, str, str]] = set()
    for service in SERVICES:
        r = await api.http.get(f"{api.settings.base_url(service)}/api/v1/openapi.json")
        assert r.status_code == 200, r.text
        for path, operations in r.json()["paths"].items():
            if not path.startswith("/api/v1/"):
                continue  # /health, /ready, /metrics are open by design
            for method in operations:
                if method in {"get", "post", "put", "patch", "delete"}:
                    found.add((service, method.upper(), path))
    return found if with_links else found - LINK_ONLY


def _token(settings: Settings, role: Role, **scope: Any) -> dict[str, str]:
    token = issue_token(settings, subject=f"matrix-{role}", role=role, **scope)
    return {"Authorization": f"Bearer {token}"}


async def _call(
    api: Api, service: str, method: str, path: str, who: dict[str, str], **kwargs: Any
) -> httpx.Response:
    url = f"{api.settings.base_url(service)}{path}"
    return await api.http.request(method, url, headers=who, **kwargs)


async def _world(api: Api) -> dict[str, str]:
    """An institution, a case, its completed diagnosis and the referral the institution
    accepted, in this test's own gmina."""
    coordinator = api.as_(Role.COORDINATOR, gmina=GMINA)
    name = f"GOPS Dzierzkowice {uuid4().hex[:6]}"  # each test its own institution
    institution = await api.register_institution(GMINA, name, ["family_assistant"])
    r = await api.call(
        "POST",
        "intake",
        "/cases",
        api.as_(Role.CASEWORKER, gmina=GMINA),
        json={
            "gmina": GMINA,
            "members": [
                {
                    "first_name": "Jadwiga",
                    "last_name": "Matrycka",
                    "birth_date": "1979-11-02",
                    "sex": "F",
                }
            ],
            "reasons": ["2"],
            "notified_by": "health",
            "consent_to_share": True,
        },
    )
    assert r.status_code == 201, r.text
    case = r.json()["case_id"]

    diagnosis = await api.diagnosis_of(case, coordinator)
    diagnosis_id = diagnosis["diagnosis_id"]
    r = await api.call(
        "POST",
        "diagnosis",
        f"/diagnoses/{diagnosis_id}/assessments",
        coordinator,
        json={
            "need_area": "parenting",
            "severity": 2,
            "recommendations": [{"support_type": "family_assistant", "priority": 1}],
        },
    )
    assert r.status_code == 201, r.text
    r = await api.call("POST", "diagnosis", f"/diagnoses/{diagnosis_id}/complete", coordinator)
    assert r.status_code == 200, r.text
    plan = await api.agree_plan(diagnosis_id, coordinator)

    # The institution accepts its referral, which is what lets its staff see the persons.
    staff = api.as_(Role.INSTITUTION_STAFF, institution=institution)

    async def in_inbox() -> Any:
        r = await api.call("GET", "referrals", "/referrals", staff)
        return [x for x in r.json() if x["case_id"] == case] if r.status_code == 200 else None

    [referral] = await api.eventually(in_inbox, what="the referral in the inbox")
    r = await api.call("POST", "referrals", f"/referrals/{referral['referral_id']}/accept", staff)
    assert r.status_code == 200, r.text

    async def granted() -> bool:
        r = await api.call(
            "GET", "intake", f"/cases/{case}/persons", staff, params={"reason": "wsparcie"}
        )
        return r.status_code == 200

    await api.eventually(granted, what="intake to grant the institution access")
    r = await api.call(
        "GET", "intake", f"/cases/{case}", coordinator, params={"reason": "przygotowanie"}
    )
    assert r.status_code == 200, r.text
    return {
        "person_id": r.json()["members"][0]["person_id"],
        "case_id": case,
        "diagnosis_id": diagnosis_id,
        "institution_id": institution,
        "referral_id": referral["referral_id"],
        "goal_id": plan["goals"][0]["goal_id"],
        "activity_id": str(uuid4()),
        "notification_id": str(uuid4()),
        "name": "cases",
        "gmina": GMINA,
        "day": date.today().isoformat(),
        "representative_id": str(uuid4()),
        "meeting_id": str(uuid4()),
        "round_id": str(uuid4()),
    }


def _unknown_ids() -> dict[str, str]:
    """Path parameters naming nothing: for tokens that must be stopped before any lookup."""
    return {
        "case_id": str(uuid4()),
        "diagnosis_id": str(uuid4()),
        "institution_id": str(uuid4()),
        "referral_id": str(uuid4()),
        "person_id": str(uuid4()),
        "goal_id": str(uuid4()),
        "activity_id": str(uuid4()),
        "notification_id": str(uuid4()),
        "name": "cases",
        "gmina": GMINA,
        "day": date.today().isoformat(),
        "representative_id": str(uuid4()),
        "meeting_id": str(uuid4()),
        "round_id": str(uuid4()),
    }


def _fill(path: str, ids: dict[str, str]) -> str:
    return re.sub(r"\{(\w+)\}", lambda m: ids[m.group(1)], path)


def _in_scope(settings: Settings, role: Role, institution: str) -> dict[str, str]:
    scope: dict[Role, dict[str, str]] = {
        CW: {"gmina": GMINA},
        TM: {"gmina": GMINA, "institution": institution},
        CO: {"gmina": GMINA},
        IS: {"institution": institution},
        AN: {"region": GMINA[:2]},
        OP: {},
    }
    return _token(settings, role, **scope[role])


async def test_every_endpoint_has_an_entry_in_the_expected_table(api: Api) -> None:
    endpoints = await _endpoints(api, with_links=True)
    assert endpoints, "no endpoint found in the OpenAPI documents"
    missing = sorted(endpoints - EXPECTED.keys())
    assert not missing, f"endpoints without an expected outcome per role: {missing}"
    gone = sorted(EXPECTED.keys() - endpoints)
    assert not gone, f"table entries for endpoints that no longer exist: {gone}"


async def test_each_role_gets_through_only_where_the_design_lets_it(api: Api) -> None:
    ids = await _world(api)
    wrong: list[str] = []
    for service, method, path in sorted(await _endpoints(api)):
        allowed = EXPECTED[(service, method, path)]
        for role in Role:
            if role in allowed and (service, method, path) in REFUSED_ONLY:
                continue
            who = _in_scope(api.settings, role, ids["institution_id"])
            # An empty body: a refused role is stopped before the body is read, an allowed one
            # meets validation, so the matrix changes no data.
            kwargs: dict[str, Any] = {"params": {"reason": "test macierzy ról"}}
            if method in {"POST", "PATCH", "PUT"}:
                kwargs["json"] = {"__matrix__": True}
            r = await _call(api, service, method, _fill(path, ids), who, **kwargs)
            if r.status_code >= 500:
                wrong.append(f"{role} {method} {service}{path}: {r.status_code}")
            elif role in allowed and r.status_code in (401, 403):
                wrong.append(f"{role} {method} {service}{path}: refused {r.status_code}")
            elif role not in allowed and r.status_code != 403:
                wrong.append(f"{role} {method} {service}{path}: {r.status_code}, expected 403")
            elif role not in allowed:
                assert r.headers["content-type"].startswith("application/problem+json")
    assert not wrong, "\n".join(wrong)


async def test_no_expired_or_forged_token_gets_anywhere(api: Api) -> None:
    settings = api.settings
    expired = issue_token(
        settings, subject="matrix-late", role=Role.COORDINATOR, gmina=GMINA, ttl_seconds=-120
    )
    forged_settings = settings.model_copy(update={"jwt_secret": "not-the-secret" * 4})
    forged = issue_token(forged_settings, subject="matrix-forger", role=Role.COORDINATOR)
    tokens = {
        "no token": {},
        "expired": {"Authorization": f"Bearer {expired}"},
        "forged": {"Authorization": f"Bearer {forged}"},
        "not a JWT": {"Authorization": "Bearer abc.def.ghi"},
        "basic auth": {"Authorization": "Basic YWRtaW46YWRtaW4="},
    }
    ids = _unknown_ids()
    wrong: list[str] = []
    for service, method, path in sorted(await _endpoints(api)):
        for what, who in tokens.items():
            kwargs: dict[str, Any] = {"json": {}} if method in {"POST", "PATCH", "PUT"} else {}
            r = await _call(api, service, method, _fill(path, ids), who, **kwargs)
            if r.status_code != 401:
                wrong.append(f"{what} {method} {service}{path}: {r.status_code}")
    assert not wrong, "\n".join(wrong)
    for service in SERVICES:
        for open_path in ("/health", "/ready", "/metrics"):
            r = await api.http.get(f"{settings.base_url(service)}{open_path}")
            assert r.status_code == 200, f"{service}{open_path}: {r.status_code}"


async def test_a_neighbouring_gmina_or_another_institution_sees_nothing_and_changes_nothing(
    api: Api,
) -> None:
    ids = await _world(api)
    case, diagnosis = ids["case_id"], ids["diagnosis_id"]
    settings = api.settings
    stranger_inst = str(uuid4())
    caseworker = _token(settings, CW, gmina=OTHER_GMINA)
    coordinator = _token(settings, CO, gmina=OTHER_GMINA)
    team_member = _token(settings, TM, gmina=OTHER_GMINA, institution=stranger_inst)
    staff = _token(settings, IS, institution=stranger_inst)
    reason = {"reason": "ciekawość"}
    attempts: list[tuple[str, str, str, dict[str, str], dict[str, Any], set[int]]] = [
        ("intake", "GET", "/api/v1/cases", caseworker, {"params": {"gmina": GMINA}}, {403}),
        ("intake", "GET", f"/api/v1/cases/{case}", caseworker, {"params": reason}, {403, 404}),
        ("intake", "GET", f"/api/v1/cases/{case}", coordinator, {"params": reason}, {403, 404}),
        ("intake", "GET", f"/api/v1/cases/{case}/overview", caseworker, {}, {403}),
        ("intake", "GET", f"/api/v1/cases/{case}/persons", caseworker, {"params": reason}, {403}),
        ("intake", "GET", f"/api/v1/cases/{case}/persons", staff, {"params": reason}, {403}),
        (
            "intake",
            "POST",
            f"/api/v1/cases/{case}/close",
            coordinator,
            {"json": {"outcome": "completed_successfully"}},
            {403, 404},
        ),
        ("intake", "POST", f"/api/v1/cases/{case}/reopen", caseworker, {}, {403, 404}),
        (
            "intake",
            "POST",
            f"/api/v1/cases/{case}/consent",
            caseworker,
            {"json": {"given_on": date.today().isoformat()}},
            {403, 404},
        ),
        (
            "intake",
            "POST",
            f"/api/v1/cases/{case}/consent/withdrawal",
            caseworker,
            {"json": {"withdrawn_on": date.today().isoformat()}},
            {403, 404},
        ),
        ("intake", "GET", "/api/v1/audit", coordinator, {"params": {"gmina": GMINA}}, {403}),
        (
            "intake",
            "POST",
            "/api/v1/cases/search",
            caseworker,
            {"json": {"gmina": GMINA, "surname": "Matrycka", "reason": "ciekawość"}},
            {403},
        ),
        ("intake", "GET", f"/api/v1/cases/{case}/notes", coordinator, {"params": reason}, {403}),
        (
            "intake",
            "GET",
            f"/api/v1/cases/{case}/interviews",
            caseworker,
            {"params": reason},
            {403},
        ),
        (
            "intake",
            "POST",
            f"/api/v1/cases/{case}/notes",
            caseworker,
            {"json": {"text": "obca notatka"}},
            {403},
        ),
        (
            "intake",
            "POST",
            f"/api/v1/cases/{case}/members",
            caseworker,
            {"json": {"first_name": "A", "last_name": "B", "birth_date": "2000-01-01", "sex": "F"}},
            {403},
        ),
        (
            "intake",
            "PATCH",
            f"/api/v1/cases/{case}/members/{ids['person_id']}",
            coordinator,
            {"json": {"first_name": "Zmieniona"}},
            {403},
        ),
        (
            "intake",
            "POST",
            f"/api/v1/cases/{case}/transfer",
            caseworker,
            {"json": {"to_gmina": OTHER_GMINA}},
            {403},
        ),
        ("intake", "POST", f"/api/v1/cases/{case}/transfer/accept", caseworker, {}, {404}),
        (
            "intake",
            "POST",
            f"/api/v1/cases/{case}/assignment",
            coordinator,
            {"json": {"assignee": "matrix-intruder"}},
            {403},
        ),
        ("intake", "GET", "/api/v1/worklist", caseworker, {"params": {"gmina": GMINA}}, {403}),
        ("intake", "GET", "/api/v1/transfers", coordinator, {"params": {"gmina": GMINA}}, {403}),
        ("diagnosis", "GET", f"/api/v1/diagnoses/{diagnosis}", team_member, {}, {403, 404}),
        ("diagnosis", "GET", f"/api/v1/diagnoses/{diagnosis}", coordinator, {}, {403, 404}),
        (
            "diagnosis",
            "GET",
            f"/api/v1/diagnoses/{diagnosis}/notes",
            caseworker,
            {"params": reason},
            {403, 404},
        ),
        (
            "diagnosis",
            "GET",
            f"/api/v1/diagnoses/{diagnosis}/notes",
            team_member,
            {"params": reason},
            {403, 404},
        ),
        ("diagnosis", "GET", f"/api/v1/diagnoses/{diagnosis}/plan", caseworker, {}, {403, 404}),
        ("diagnosis", "GET", f"/api/v1/cases/{case}/diagnosis", caseworker, {}, {403, 404}),
        ("diagnosis", "GET", "/api/v1/audit", coordinator, {"params": {"gmina": GMINA}}, {403}),
        (
            "diagnosis",
            "POST",
            f"/api/v1/diagnoses/{diagnosis}/assessments",
            team_member,
            {"json": {"need_area": "health", "severity": 2}},
            {403, 404},
        ),
        (
            "diagnosis",
            "POST",
            f"/api/v1/diagnoses/{diagnosis}/revisions",
            coordinator,
            {"json": {}},
            {403, 404},
        ),
        (
            "referrals",
            "PATCH",
            f"/api/v1/institutions/{ids['institution_id']}",
            coordinator,
            {"json": {"capacity": 50}},
            {403, 404},
        ),
        (
            "referrals",
            "POST",
            f"/api/v1/institutions/{ids['institution_id']}/deactivate",
            coordinator,
            {},
            {403, 404},
        ),
        (
            "referrals",
            "GET",
            "/api/v1/referrals",
            staff,
            {"params": {"institution": ids["institution_id"]}},
            {403, 404},
        ),
    ]
    wrong: list[str] = []
    for service, method, path, who, kwargs, expected in attempts:
        r = await _call(api, service, method, path, who, **kwargs)
        if r.status_code not in expected:
            wrong.append(f"{method} {service}{path}: {r.status_code} {r.text[:200]}")
    # Lists filter by scope instead of refusing: the neighbour's lists hold nothing of ours.
    r = await _call(api, "diagnosis", "GET", "/api/v1/diagnoses", coordinator)
    assert r.status_code == 200 and all(d["case_id"] != case for d in r.json()), r.text
    for who in (caseworker, coordinator):
        r = await _call(api, "referrals", "GET", f"/api/v1/cases/{case}/referrals", who)
        assert r.status_code == 200 and r.json() == [], r.text
    mine = _token(settings, CW, gmina=GMINA)
    r = await _call(api, "referrals", "GET", f"/api/v1/cases/{case}/referrals", mine)
    assert [x["referral_id"] for x in r.json()] == [ids["referral_id"]], r.text
    assert not wrong, "\n".join(wrong)

    # Nothing changed: the case is still open, the diagnosis has no assessment, the
    # institution is active with its capacity, and no read was audited for the strangers.
    mine = _token(settings, CO, gmina=GMINA)
    r = await _call(api, "intake", "GET", f"/api/v1/cases/{case}", mine, params=reason)
    assert r.status_code == 200 and r.json()["status"] != "closed", r.text
    r = await _call(api, "diagnosis", "GET", f"/api/v1/diagnoses/{diagnosis}", mine)
    assert r.status_code == 200 and len(r.json()["assessments"]) == 1, r.text
    r = await _call(api, "referrals", "GET", f"/api/v1/institutions/{ids['institution_id']}", mine)
    assert r.status_code == 200 and r.json()["active"] and r.json()["capacity"] == 5, r.text
    r = await _call(api, "intake", "GET", "/api/v1/audit", mine, params={"case_id": case})
    assert r.status_code == 200, r.text
    readers = {(entry["role"], entry["subject"]) for entry in r.json()}
    assert readers == {
        (str(CW), "e2e-caseworker"),  # opening the case
        (str(CO), "e2e-coordinator"),  # setting up the world
        (str(IS), "e2e-institution_staff"),  # its access granted
        (str(CO), "matrix-coordinator"),  # checking that nothing changed
    }, readers


def _raw_token(settings: Settings, role: Any, **claims: Any) -> dict[str, str]:
    """A correctly signed token with claims exactly as given, types and all."""
    now = int(time.time())
    body = {"sub": f"matrix-raw-{role}", "role": role, "iss": settings.jwt_issuer,
            "aud": settings.jwt_audience, "iat": now, "exp": now + 600, **claims}  # fmt: skip
    token = jwt.encode(body, settings.hs_secret(), algorithm="HS256")
    return {"Authorization": f"Bearer {token}"}


# Scope claims that are malformed, of another type or level, not in the TERC register, or not
# taken by the role: each makes the token invalid, whatever the route.
MALFORMED: dict[str, tuple[Role, dict[str, Any]]] = {
    "caseworker powiat ''": (CW, {"gmina": GMINA, "powiat": ""}),
    "caseworker gmina ''": (CW, {"gmina": ""}),
    "caseworker gmina '%'": (CW, {"gmina": "%"}),
    "caseworker gmina of a powiat": (CW, {"gmina": GMINA[:4]}),
    "caseworker gmina not in TERC": (CW, {"gmina": "0607039"}),
    "caseworker gmina as a number": (CW, {"gmina": int(GMINA)}),
    "coordinator gmina '%'": (CO, {"gmina": "%"}),
    "coordinator powiat of a region": (CO, {"powiat": GMINA[:2]}),
    "coordinator powiat as a list": (CO, {"powiat": [GMINA[:4]]}),
    "coordinator region as a number": (CO, {"region": 6}),
    "coordinator region '*'": (CO, {"region": "*"}),
    "coordinator gmina and powiat": (CO, {"gmina": GMINA, "powiat": OTHER_GMINA[:4]}),
    "team member institution 123": (TM, {"gmina": GMINA, "institution": 123}),
    "staff institution 123": (IS, {"institution": 123}),
    "staff institution not a UUID": (IS, {"institution": "' OR 1=1 --"}),
    "staff with a gmina": (IS, {"institution": str(uuid4()), "gmina": GMINA}),
    "analyst region '%'": (AN, {"region": "%"}),
    "analyst region not in TERC": (AN, {"region": "06,99"}),
    "operator with a region": (OP, {"region": "06"}),
}


async def test_malformed_or_absent_scope_claims_get_nowhere(api: Api) -> None:
    """The token is refused (401) when a scope claim is malformed, and every route is closed
    (403 scope_missing) to a role whose scope claim is absent: no claim means no access."""
    settings = api.settings
    ids = _unknown_ids()
    absent: dict[str, tuple[Role, dict[str, Any]]] = {
        f"{role} without scope": (role, {}) for role in Role if ROLE_CLAIMS[role].needs_one_of
    }
    absent["team member with a gmina, no institution"] = (TM, {"gmina": GMINA})
    absent["coordinator with only an institution"] = (CO, {"institution": ids["institution_id"]})
    absent["staff with institution null"] = (IS, {"institution": None})
    wrong: list[str] = []
    for service, method, path in sorted(await _endpoints(api)):
        kwargs: dict[str, Any] = {"params": {"reason": "test macierzy ról"}}
        if method in {"POST", "PATCH", "PUT"}:
            kwargs["json"] = {"__matrix__": True}
        for what, (role, claims) in MALFORMED.items():
            who = _raw_token(settings, str(role), **claims)
            r = await _call(api, service, method, _fill(path, ids), who, **kwargs)
            if r.status_code != 401 or r.json()["code"] != "invalid_token":
                wrong.append(f"{what}: {method} {service}{path}: {r.status_code}")
        for what, (role, claims) in absent.items():
            who = _raw_token(settings, str(role), **claims)
            r = await _call(api, service, method, _fill(path, ids), who, **kwargs)
            allowed = role in EXPECTED[(service, method, path)]
            code = r.json().get("code") if r.status_code == 403 else None
            if r.status_code != 403 or (allowed and code != "scope_missing"):
                wrong.append(f"{what}: {method} {service}{path}: {r.status_code} {code}")
    assert not wrong, "\n".join(wrong)


async def test_a_transferred_case_is_read_by_the_receiving_gmina_and_no_longer_by_the_sending(
    api: Api,
) -> None:
    """The whole-case reads follow a transfer (case.transferred.v1): the receiving gmina's
    caseworker and coordinator read the diagnosis, the plan and the referrals; the sending
    gmina's, who read them before, no longer do."""
    ids = await _world(api)
    case, diagnosis, referral = ids["case_id"], ids["diagnosis_id"], ids["referral_id"]
    settings = api.settings
    sending = {role: _token(settings, role, gmina=GMINA) for role in (CW, CO)}
    receiving = {role: _token(settings, role, gmina=OTHER_GMINA) for role in (CW, CO)}
    reads = [
        ("diagnosis", f"/api/v1/cases/{case}/diagnosis", (CW, CO)),
        ("diagnosis", f"/api/v1/diagnoses/{diagnosis}/plan", (CW, CO)),
        ("diagnosis", f"/api/v1/diagnoses/{diagnosis}", (CO,)),
        ("referrals", f"/api/v1/referrals/{referral}", (CO,)),
    ]

    async def case_referrals(who: dict[str, str]) -> list[str]:
        r = await _call(api, "referrals", "GET", f"/api/v1/cases/{case}/referrals", who)
        assert r.status_code == 200, r.text
        return [x["referral_id"] for x in r.json()]

    for service, path, roles in reads:
        for role in roles:
            assert (await _call(api, service, "GET", path, sending[role])).status_code == 200
            r = await _call(api, service, "GET", path, receiving[role])
            assert r.status_code in (403, 404), (role, path, r.status_code)

    r = await _call(api, "intake", "POST", f"/api/v1/cases/{case}/transfer", sending[CW],
                    json={"to_gmina": OTHER_GMINA})  # fmt: skip
    assert r.status_code == 201, r.text
    r = await _call(api, "intake", "POST", f"/api/v1/cases/{case}/transfer/accept", receiving[CW])
    assert r.status_code == 200, r.text

    async def followed() -> bool:
        return referral in await case_referrals(receiving[CW])

    await api.eventually(followed, what="referrals to follow the transfer")
    wrong: list[str] = []
    for service, path, roles in reads:
        for role in roles:

            async def readable(
                who: dict[str, str] = receiving[role], service: str = service, path: str = path
            ) -> bool:
                return (await _call(api, service, "GET", path, who)).status_code == 200

            await api.eventually(readable, what=f"{role} of the receiving gmina reading {path}")
            r = await _call(api, service, "GET", path, sending[role])
            if r.status_code not in (403, 404):
                wrong.append(f"{role} of the sending gmina: {path} {r.status_code}")
    for role in (CW, CO):
        if await case_referrals(sending[role]):
            wrong.append(f"{role} of the sending gmina still lists the case's referrals")
    assert not wrong, "\n".join(wrong)


async def test_the_link_routes_open_to_their_link_only(api: Api) -> None:
    """No bearer token of any role, and no missing, forged or tampered link, opens the routes of
    the e-mailed link: 401 before anything else, also with a body that is not valid."""
    settings = api.settings
    forged_settings = settings.model_copy(update={"jwt_secret": "not-the-secret" * 4})
    bearer_only = {str(role): _in_scope(settings, role, str(uuid4())) for role in Role} | {
        "forged bearer": _token(forged_settings, CO, gmina=GMINA)
    }
    links = {
        "no link": {},
        "garbage": {"X-Referral-Link": "abc"},
        "forged": {"X-Referral-Link": "AQFhYmNkZWZnaGlqa2xtbm9wAAAAAHaJ0QA.c2lnbmF0dXJl"},
        "empty": {"X-Referral-Link": ""},
    }
    wrong: list[str] = []
    for service, method, path in sorted(LINK_ONLY):
        for what, who in {**bearer_only, **links}.items():
            kwargs: dict[str, Any] = {"json": {"__matrix__": True}} if method == "POST" else {}
            r = await _call(api, service, method, path, who, **kwargs)
            if r.status_code != 401 or not r.headers["content-type"].startswith(
                "application/problem+json"
            ):
                wrong.append(f"{what} {method} {service}{path}: {r.status_code}")
    assert not wrong, "\n".join(wrong)
