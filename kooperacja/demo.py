"""`kooperacja demo`: load the demo region and push a handful of cases through the services,
over their HTTP APIs, as the people using them would."""

from __future__ import annotations

import random
import time
from datetime import date
from typing import Any

import httpx

from kooperacja import demo_data
from kooperacja.local_subjects import local_subject
from kooperacja.plans import plan_covering
from shared.auth import Role, issue_token
from shared.settings import Settings


class Client:
    """HTTP calls to the services, each with a token of the role that would make them."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.http = httpx.Client(timeout=10)

    def token(self, role: Role, **scope: Any) -> dict[str, str]:
        subject = local_subject(role, prefix="demo", **{k: str(v) for k, v in scope.items() if v})
        token = issue_token(self.settings, subject=subject, role=role, **scope)
        return {"Authorization": f"Bearer {token}"}

    def call(
        self, method: str, service: str, path: str, headers: dict[str, str], **kwargs: Any
    ) -> Any:
        response = self.http.request(
            method, f"{self.settings.base_url(service)}/api/v1{path}", headers=headers, **kwargs
        )
        if response.status_code >= 400:
            raise RuntimeError(f"{method} {service}{path}: {response.status_code} {response.text}")
        return response.json()

    def wait_for(self, what: str, fetch: Any, timeout: float = 30) -> Any:
        deadline = time.monotonic() + timeout
        while True:
            found = fetch()
            if found:
                return found
            if time.monotonic() > deadline:
                raise TimeoutError(f"gave up waiting for {what}")
            time.sleep(0.1)


def load_region(client: Client) -> list[str]:
    coordinator = client.token(Role.COORDINATOR, powiat=demo_data.POWIAT)
    existing = {
        i["name"]: i["institution_id"]
        for i in client.call("GET", "referrals", "/institutions", coordinator)
    }
    added = []
    for inst in demo_data.INSTITUTIONS:
        if inst["name"] not in existing:
            entry = {k: v for k, v in inst.items() if k != "pzk"}
            made = client.call("POST", "referrals", "/institutions", coordinator, json=entry)
            existing[str(inst["name"])] = made["institution_id"]
            added.append(str(inst["name"]))
    for gmina in demo_data.GMINAS:
        form_partnership(client, gmina, existing)
    return added


def form_partnership(client: Client, gmina: str, ids: dict[str, Any]) -> None:
    """The gmina's partnership (G-PZK) formed by its agreement, unless it exists: its parties,
    the OPS as coordinator, the PCPR as animator, the diagnostic team of OPS, PCPR and PPP."""
    coordinator = client.token(Role.COORDINATOR, gmina=gmina)
    url = f"{client.settings.base_url('partnership')}/api/v1/partnerships/{gmina}"
    if client.http.get(url, headers=coordinator).status_code == 200:
        return
    parties = [
        str(ids[str(i["name"])])
        for i in demo_data.INSTITUTIONS
        if gmina in i.get("pzk", [])  # type: ignore[operator]
    ]
    path = f"/partnerships/{gmina}"
    agreement = {
        "signed_on": demo_data.AGREEMENT_SIGNED_ON,
        "parties": parties,
        "documents": [demo_data.AGREEMENT_DOCUMENT],
    }
    client.call("POST", "partnership", f"{path}/agreements", coordinator, json=agreement)
    ops = next(
        str(ids[str(i["name"])]) for i in demo_data.INSTITUTIONS if i.get("ops_gmina") == gmina
    )
    pcpr = next(p for p in parties if p != ops and str(p) in _named(ids, "Powiatowe Centrum"))
    team = [ops, pcpr, *(p for p in parties if p in _named(ids, "Poradnia Psychologiczno"))]
    since = {"since": demo_data.AGREEMENT_SIGNED_ON}
    for role, holder in (("coordinator", ops), ("animator", pcpr)):
        body = {"role": role, "institution_id": holder, **since}
        client.call("POST", "partnership", f"{path}/roles", coordinator, json=body)
    client.call(
        "POST", "partnership", f"{path}/diagnostic-team", coordinator, json={"institutions": team}
    )


def _named(ids: dict[str, Any], prefix: str) -> set[str]:
    return {str(v) for k, v in ids.items() if k.startswith(prefix)}


def push_case(client: Client, rng: random.Random, gmina: str) -> dict[str, Any]:
    caseworker = client.token(Role.CASEWORKER, gmina=gmina)
    coordinator = client.token(Role.COORDINATOR, gmina=gmina)
    # Only members of the gmina's partner team (PZK) may assess: speak for one of them.
    # Referrals learns the PZK from the partnership service's announcement.
    institutions = client.wait_for(
        "referrals to learn the gmina's PZK",
        lambda: [
            i
            for i in client.call("GET", "referrals", "/institutions", coordinator)
            if gmina in i["partnership_gminas"]
        ],
    )
    member = institutions[0]["institution_id"]
    team = client.token(Role.TEAM_MEMBER, gmina=gmina, institution=member)
    case = client.call(
        "POST",
        "intake",
        "/cases",
        caseworker,
        json={
            "gmina": gmina,
            "members": demo_data.household(rng, date.today()),
            "reasons": rng.sample(["1", "4", "5", "7", "9", "13"], k=rng.randint(1, 3)),
            "notified_by": rng.choice(["self", "police", "school", "health", "family"]),
            "consent_to_share": True,
        },
    )
    diagnosis = client.wait_for(
        "the diagnosis to open",
        lambda: client.call("GET", "diagnosis", f"/diagnoses?case_id={case['case_id']}", team),
    )[0]
    for area, severity, supports in rng.sample(demo_data.NEED_PLANS, k=rng.randint(1, 2)):
        client.call(
            "POST",
            "diagnosis",
            f"/diagnoses/{diagnosis['diagnosis_id']}/assessments",
            team,
            json={
                "need_area": area,
                "severity": severity,
                "recommendations": [{"support_type": s} for s in supports],
            },
        )
    done = client.call(
        "POST", "diagnosis", f"/diagnoses/{diagnosis['diagnosis_id']}/complete", coordinator
    )
    # The family agrees to its plan (IPW): support starts, referrals routes its supports.
    completed = client.call(
        "GET", "diagnosis", f"/diagnoses/{diagnosis['diagnosis_id']}", coordinator
    )
    client.call(
        "POST",
        "diagnosis",
        f"/diagnoses/{diagnosis['diagnosis_id']}/plan",
        coordinator,
        json=plan_covering(completed, date.today()),
    )
    return {"case_id": case["case_id"], "gmina": gmina, "recommendations": done["recommendations"]}


def run_demo(settings: Settings, cases: int = 8, seed: int = 2018) -> dict[str, Any]:
    client = Client(settings)
    added = load_region(client)
    print(
        f"demo region: powiat bialski, {len(demo_data.GMINAS)} gminas, "
        f"{len(added)} institutions registered now"
    )
    # The powiat's coordinator reads the summary in full; an analyst's has small cells withheld.
    coordinator = client.token(Role.COORDINATOR, powiat=demo_data.POWIAT)
    before = client.call("GET", "reporting", "/reports/summary", coordinator)["total"]
    # Intake refuses a second open case for the same PESEL: a rerun brings new households.
    rng = random.Random(f"{seed}-{before['cases_opened']}")
    pushed = [push_case(client, rng, rng.choice(list(demo_data.GMINAS))) for _ in range(cases)]
    expected = sum(p["recommendations"] for p in pushed)
    case_ids = {p["case_id"] for p in pushed}

    def routed() -> list[dict[str, Any]]:
        ours = [
            r
            for r in client.call("GET", "referrals", "/referrals", coordinator)
            if r["case_id"] in case_ids
        ]
        return ours if len(ours) >= expected else []

    assigned = sum(
        1 for r in client.wait_for("referrals to be routed", routed) if r["state"] == "assigned"
    )

    def reported() -> dict[str, Any] | None:
        summary = client.call("GET", "reporting", "/reports/summary", coordinator)
        total = summary["total"]
        caught_up = (
            total["cases_opened"] >= before["cases_opened"] + cases
            and total["supports_assigned"] >= before["supports_assigned"] + assigned
        )
        return summary if caught_up else None

    summary = client.wait_for("reporting to catch up", reported)
    print(f"pushed {len(pushed)} cases with {expected} recommended supports")
    print(f"{'gmina':<9} {'name':<28} {'cases':>6} {'supports':>9}")
    for row in summary["rows"]:
        print(
            f"{row['key']:<9} {row['label'][:28]:<28} {row['cases_opened']:>6} "
            f"{row['supports_assigned']:>9}"
        )
    total = summary["total"]
    print(f"{'total':<38} {total['cases_opened']:>6} {total['supports_assigned']:>9}")
    return summary
