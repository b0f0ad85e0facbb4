"""A small partnership's whole testing phase, played through the four services as the people
would, and every report table checked against figures the test keeps itself (`Ledger`), never
against reporting's own arithmetic.

Powiat braniewski: two gminas of different variants, their social-assistance centres, a PCPR
serving both, two speech therapists. Families with consent and without (one gives it later, one
never does), a decline and its re-routing, a support left with no one to give it, a referral
accepted and then cancelled by its case's closing, closings with outcomes, and a case closed,
reopened and closed again on the same day.

The gmina's and the powiat's coordinators read full figures; an analyst of the region reads
them protected. Each test below names the defect of issue 12 it guards.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import pytest

from shared.auth import Role
from shared.codes import AgeBand
from shared.settings import Settings
from tests.e2e.conftest import Api

pytestmark = pytest.mark.e2e

A = "2802022"  # Braniewo, rural: no other test uses powiat 2802
B = "2802033"  # Frombork, urban-rural
POWIAT = "2802"
REGION = "28"
TODAY = date.today()


def born(age: int) -> str:
    """A birth date well inside the age band of `age` years."""
    return (TODAY - timedelta(days=365 * age + 120)).isoformat()


@dataclass
class Family:
    gmina: str
    ages: list[int]
    reasons: list[str]
    consent: bool
    case_id: str = ""
    outcome: str | None = None  # None: open
    needs: set[str] = field(default_factory=set)


@dataclass
class Referral:
    family: Family
    support_type: str
    institution: str
    recommendation: str
    id: str = ""
    state: str = "assigned"  # now: assigned, accepted, declined, completed, cancelled
    ever_accepted: bool = False
    decline_reason: str | None = None


@dataclass
class Ledger:
    """What happened, as the test did it; the expected figures are computed from this alone."""

    sectors: dict[str, str] = field(default_factory=dict)  # institution -> sector
    families: list[Family] = field(default_factory=list)
    referrals: list[Referral] = field(default_factory=list)
    unmet: list[tuple[str, str]] = field(default_factory=list)  # gmina, support type
    engaged: set[tuple[str, str]] = field(default_factory=set)  # gmina, institution

    def in_(self, gminas: set[str]) -> Ledger:
        return Ledger(
            self.sectors,
            [f for f in self.families if f.gmina in gminas],
            [r for r in self.referrals if r.family.gmina in gminas],
            [u for u in self.unmet if u[0] in gminas],
            {e for e in self.engaged if e[0] in gminas},
        )

    # -- the tables, as {column: count} without zeros --------------------------------------
    def cases(self) -> Counter[str]:
        return Counter(f.outcome or "open" for f in self.families)

    def referral_states(self) -> Counter[str]:
        return Counter(r.state for r in self.referrals)

    def supports(self) -> Counter[str]:
        return Counter(t for _, t in {(r.recommendation, r.support_type) for r in self.referrals})

    def unmet_needs(self) -> Counter[str]:
        return Counter(t for _, t in self.unmet)

    def households(self) -> Counter[str]:
        return Counter(str(min(len(f.ages), 6)).replace("6", "6+") for f in self.families)

    def age_bands(self) -> Counter[str]:
        return Counter(str(AgeBand.of_age(a)) for f in self.families for a in f.ages)

    def reasons(self) -> Counter[str]:
        return Counter(r for f in self.families for r in f.reasons)

    def needs(self) -> Counter[str]:
        return Counter(n for f in self.families for n in f.needs)

    def cooperation(self) -> Counter[str]:
        return Counter(self.sectors[i] for i in {i for _, i in self.engaged})

    def acceptance(self, sector: str | None = None) -> Counter[str]:
        """Referrals by answer: ever accepted, declined, not (yet) answered."""
        return Counter(
            "accepted" if r.ever_accepted else "declined" if r.decline_reason else "unanswered"
            for r in self.referrals
            if sector is None or self.sectors[r.institution] == sector
        )

    def declines(self, sector: str) -> Counter[str]:
        return Counter(
            r.decline_reason
            for r in self.referrals
            if r.decline_reason and self.sectors[r.institution] == sector
        )

    def units(self, table: str) -> int:
        """A table's total: the distinct things it counts (a family with two reasons is one
        family; an institution serving two gminas is one institution)."""
        return {
            "reasons": len([f for f in self.families if f.reasons]),
            "needs": len([f for f in self.families if f.needs]),
            "cooperation": len({i for _, i in self.engaged}),
        }.get(table, sum(PLACE_TABLES[table](self).values()))

    def closed(self) -> int:
        return sum(f.outcome is not None for f in self.families)

    def successful(self) -> int:
        return sum(f.outcome == "completed_successfully" for f in self.families)


def share(part: int, whole: int) -> float | None:
    return round(100 * part / whole, 1) if whole else None


class Phase:
    """The people of the partnership at their keyboards, writing down what they did."""

    def __init__(self, api: Api) -> None:
        self.api = api
        self.ledger = Ledger()

    def coordinator(self, gmina: str) -> dict[str, str]:
        return self.api.as_(Role.COORDINATOR, gmina=gmina)

    async def institution(
        self, name: str, sector: str, types: list[str], gminas: list[str], *, partner: bool
    ) -> str:
        response = await self.api.call(
            "POST", "referrals", "/institutions",
            self.api.as_(Role.COORDINATOR, powiat=POWIAT),
            json={"name": name, "sector": sector, "support_types": types, "gminas": gminas,
                  "capacity": 10},
        )  # fmt: skip
        assert response.status_code == 201, response.text
        institution = str(response.json()["institution_id"])
        for gmina in gminas if partner else []:
            await self.api.join_partnership(gmina, institution)
        self.ledger.sectors[institution] = sector
        return institution

    async def open_case(self, family: Family, name: str) -> Family:
        members = [
            {"first_name": f"Osoba{i}", "last_name": name, "birth_date": born(age),
             "sex": "F" if i % 2 else "M", "relation": "head" if i == 0 else "child"}
            for i, age in enumerate(family.ages)
        ]  # fmt: skip
        response = await self.api.call(
            "POST", "intake", "/cases", self.api.as_(Role.CASEWORKER, gmina=family.gmina),
            json={"gmina": family.gmina, "members": members, "reasons": family.reasons,
                  "notified_by": "school", "consent_to_share": family.consent},
        )  # fmt: skip
        assert response.status_code == 201, response.text
        family.case_id = str(response.json()["case_id"])
        self.ledger.families.append(family)
        return family

    async def give_consent(self, family: Family) -> None:
        response = await self.api.call(
            "POST", "intake", f"/cases/{family.case_id}/consent",
            self.api.as_(Role.CASEWORKER, gmina=family.gmina),
            json={"given_on": TODAY.isoformat(), "scope": []},
        )  # fmt: skip
        assert response.status_code == 200, response.text
        family.consent = True

    async def diagnose(self, family: Family, assessments: list[tuple[str, str, str]]) -> None:
        """Assessments (institution, need area, support type) by team members; completed; the
        plan agreed."""
        coordinator = self.coordinator(family.gmina)
        diagnosis = await self.api.diagnosis_of(family.case_id, coordinator)
        for institution, need, support in assessments:
            member = self.api.as_(Role.TEAM_MEMBER, gmina=family.gmina, institution=institution)
            response = await self.api.call(
                "POST", "diagnosis", f"/diagnoses/{diagnosis['diagnosis_id']}/assessments",
                member,
                json={"need_area": need, "severity": 2,
                      "recommendations": [{"support_type": support, "priority": 1}]},
            )  # fmt: skip
            assert response.status_code == 201, response.text
            family.needs.add(need)
            self.ledger.engaged.add((family.gmina, institution))
        response = await self.api.call(
            "POST", "diagnosis", f"/diagnoses/{diagnosis['diagnosis_id']}/complete", coordinator
        )
        assert response.status_code == 200, response.text
        # Support starts when the family agrees its plan (IPW): referrals route the plan.
        await self.api.agree_plan(diagnosis["diagnosis_id"], coordinator)

    async def referral_at(
        self, family: Family, support_type: str, candidates: list[str]
    ) -> Referral:
        """The referral of this family's support waiting in one of the candidates' inboxes."""

        async def waiting() -> Referral | None:
            for institution in candidates:
                staff = self.api.as_(Role.INSTITUTION_STAFF, institution=institution)
                r = await self.api.call("GET", "referrals", "/referrals?state=assigned", staff)
                for found in r.json() if r.status_code == 200 else []:
                    if (found["case_id"], found["support_type"]) == (family.case_id,
                                                                     support_type):  # fmt: skip
                        return Referral(family, support_type, institution,
                                        str(found["recommendation_id"]),
                                        found["referral_id"])  # fmt: skip
            return None

        referral = await self.api.eventually(waiting, within=30, what=f"a {support_type} referral")
        self.ledger.referrals.append(referral)
        return referral

    async def answer(self, referral: Referral, step: str, **body: Any) -> None:
        staff = self.api.as_(Role.INSTITUTION_STAFF, institution=referral.institution)
        response = await self.api.call(
            "POST", "referrals", f"/referrals/{referral.id}/{step}", staff,
            **({"json": body} if body else {}),
        )  # fmt: skip
        assert response.status_code == 200, response.text
        if step == "accept":
            referral.state, referral.ever_accepted = "accepted", True
            self.ledger.engaged.add((referral.family.gmina, referral.institution))
        elif step == "decline":
            referral.state, referral.decline_reason = "declined", body["reason"]
        elif step == "complete":
            referral.state = "completed"

    async def close(self, family: Family, outcome: str) -> None:
        response = await self.api.call(
            "POST", "intake", f"/cases/{family.case_id}/close",
            self.api.as_(Role.CASEWORKER, gmina=family.gmina), json={"outcome": outcome},
        )  # fmt: skip
        assert response.status_code == 200, response.text
        family.outcome = outcome
        for referral in self.ledger.referrals:  # the closing cancels what is still open
            if referral.family is family and referral.state in ("assigned", "accepted"):
                referral.state = "cancelled"

    async def reopen(self, family: Family) -> None:
        response = await self.api.call(
            "POST", "intake", f"/cases/{family.case_id}/reopen",
            self.api.as_(Role.CASEWORKER, gmina=family.gmina),
        )  # fmt: skip
        assert response.status_code == 200, response.text
        family.outcome = None


async def play(api: Api) -> Phase:
    p = Phase(api)
    gops_a = await p.institution("GOPS Braniewo", "social_assistance", ["family_assistant"],
                                 [A], partner=True)  # fmt: skip
    gops_b = await p.institution("MGOPS Frombork", "social_assistance", ["family_assistant"],
                                 [B], partner=True)  # fmt: skip
    pcpr = await p.institution("PCPR Braniewo", "social_assistance", ["psychologist"],
                               [A, B], partner=True)  # fmt: skip
    poradnia = await p.institution("Poradnia Psychologiczno-Pedagogiczna", "education",
                                   ["speech_therapist"], [A], partner=False)  # fmt: skip
    fundacja = await p.institution("Fundacja Mowa", "ngo", ["speech_therapist"], [A],
                                   partner=False)  # fmt: skip

    # A1: two supports; the speech therapy is declined, re-routed, accepted; closed successfully
    a1 = await p.open_case(Family(A, [38, 36, 9], ["1", "9"], consent=True), "Kowalscy")
    await p.diagnose(a1, [(gops_a, "parenting", "family_assistant"),
                          (gops_a, "child_education", "speech_therapist")])  # fmt: skip
    a1_family = await p.referral_at(a1, "family_assistant", [gops_a])
    await p.answer(a1_family, "accept")
    speech = await p.referral_at(a1, "speech_therapist", [poradnia, fundacja])
    await p.answer(speech, "decline", reason="no_capacity")
    other = fundacja if speech.institution == poradnia else poradnia
    rerouted = await p.referral_at(a1, "speech_therapist", [other])
    await p.answer(rerouted, "accept")
    for referral in (a1_family, rerouted):
        await p.answer(referral, "complete", outcome="achieved")
    await p.close(a1, "completed_successfully")

    # A2: the PCPR's support accepted, cancelled by a closing; reopened and closed again today
    a2 = await p.open_case(Family(A, [52, 19], ["4"], consent=True), "Nowakowie")
    await p.diagnose(a2, [(pcpr, "mental_health", "psychologist")])
    a2_psychologist = await p.referral_at(a2, "psychologist", [pcpr])
    await p.answer(a2_psychologist, "accept")
    await p.close(a2, "completed_partly")
    await p.reopen(a2)
    await p.close(a2, "completed_successfully")

    # A3: consent refused, the centre works with the family alone; still open
    await p.open_case(Family(A, [67], ["6"], consent=False), "Wiśniewska")
    # A4: a support accepted and going on
    a4 = await p.open_case(Family(A, [31, 4, 2, 7], ["9"], consent=True), "Zielińscy")
    await p.diagnose(a4, [(gops_a, "parenting", "family_assistant")])
    await p.answer(await p.referral_at(a4, "family_assistant", [gops_a]), "accept")

    # B1: consent given later; the family assistant declined with no one else to give it; the
    # PCPR's support completed; closed partly
    b1 = await p.open_case(Family(B, [44, 15, 12, 10, 8, 3, 1], ["1", "8"], consent=False),
                           "Wójcikowie")  # fmt: skip
    await p.give_consent(b1)
    await p.diagnose(b1, [(gops_b, "parenting", "family_assistant"),
                          (pcpr, "mental_health", "psychologist")])  # fmt: skip
    b1_family = await p.referral_at(b1, "family_assistant", [gops_b])
    await p.answer(b1_family, "decline", reason="no_capacity")
    p.ledger.unmet.append((B, "family_assistant"))  # no other institution in the gmina or powiat
    b1_psychologist = await p.referral_at(b1, "psychologist", [pcpr])
    await p.answer(b1_psychologist, "accept")
    await p.answer(b1_psychologist, "complete", outcome="partly")
    await p.close(b1, "completed_partly")

    # B2: one support completed; closed successfully
    b2 = await p.open_case(Family(B, [29, 27], ["4", "1"], consent=True), "Kamińscy")
    await p.diagnose(b2, [(gops_b, "parenting", "family_assistant")])
    b2_family = await p.referral_at(b2, "family_assistant", [gops_b])
    await p.answer(b2_family, "accept")
    await p.answer(b2_family, "complete", outcome="achieved")
    await p.close(b2, "completed_successfully")
    return p


@pytest.fixture(scope="module")
async def phase(stack: Settings) -> AsyncIterator[Phase]:
    api = Api(stack)
    played = await play(api)
    ledger = played.ledger
    powiat = api.as_(Role.COORDINATOR, powiat=POWIAT)

    async def caught_up() -> bool:
        """Every event of the phase handled - judged by figures that do not rest on what the
        tests below check: intake publishes in order, so with gmina B's closings (its last
        events) counted, every earlier closing is too."""
        by_powiat = {"by": "powiat"}
        r = await api.call("GET", "reporting", "/reports/indicators", powiat, params=by_powiat)
        if r.status_code != 200 or not r.json()["rows"]:
            return False
        [figures] = r.json()["rows"]
        unmet = await api.call("GET", "reporting", "/reports/unmet_needs", powiat)
        cases = await api.call("GET", "reporting", "/reports/cases", powiat)
        b_line = [line for line in cases.json()["rows"] if line["key"] == B]
        return bool(b_line) and nonzero(b_line[0]) == dict(ledger.in_({B}).cases()) and (
            figures["cases_opened"], figures["referrals"], figures["referrals_accepted"],
            figures["referrals_declined"], unmet.json()["total"]["total"],
        ) == (
            len(ledger.families), len(ledger.referrals),
            sum(r.ever_accepted for r in ledger.referrals),
            sum(r.decline_reason is not None for r in ledger.referrals), len(ledger.unmet),
        )  # fmt: skip

    await api.eventually(caught_up, within=60, what="reporting to count the whole phase")
    # the referral states settle last (a cancellation follows its closing)
    await api.eventually(lambda: _states_settled(api, ledger), within=30, what="states")
    yield played
    await api.http.aclose()


async def _states_settled(api: Api, ledger: Ledger) -> bool:
    powiat = api.as_(Role.COORDINATOR, powiat=POWIAT)
    r = await api.call("GET", "reporting", "/reports/referrals", powiat, params={"by": "powiat"})
    cells = {k: v for k, v in r.json()["total"]["cells"].items() if v}
    return cells == dict(ledger.referral_states())


async def read(api: Api, name: str, who: dict[str, str], **params: Any) -> dict[str, Any]:
    response = await api.call("GET", "reporting", f"/reports/{name}", who, params=params)
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


def nonzero(line: dict[str, Any]) -> dict[str, int]:
    return {k: v for k, v in line["cells"].items() if v}


def by_key(table: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {line["key"]: line for line in table["rows"]}


PLACE_TABLES = {
    "cases": Ledger.cases,
    "referrals": Ledger.referral_states,
    "supports": Ledger.supports,
    "unmet_needs": Ledger.unmet_needs,
    "households": Ledger.households,
    "age_bands": Ledger.age_bands,
    "reasons": Ledger.reasons,
    "needs": Ledger.needs,
    "cooperation": Ledger.cooperation,
}


async def test_every_table_a_coordinator_reads_matches_the_phase(phase: Phase) -> None:
    api, ledger = phase.api, phase.ledger
    for gmina in (A, B):
        mine = ledger.in_({gmina})
        for name, expected in PLACE_TABLES.items():
            table = await read(api, name, phase.coordinator(gmina))
            assert table["suppression"] is None
            assert [line["key"] for line in table["rows"]] == ([gmina] if expected(mine) else []), (
                name
            )
            if expected(mine):
                assert nonzero(by_key(table)[gmina]) == dict(expected(mine)), (name, gmina)
                assert nonzero(table["total"]) == dict(expected(mine)), (name, gmina)
                assert table["total"]["total"] == mine.units(name), (name, gmina)
    powiat = api.as_(Role.COORDINATOR, powiat=POWIAT)
    for by in ("gmina", "powiat", "variant"):
        for name, expected in PLACE_TABLES.items():
            table = await read(api, name, powiat, by=by)
            assert nonzero(table["total"]) == dict(expected(ledger)), (name, by)
            assert table["total"]["total"] == ledger.units(name), (name, by)
            if by == "gmina":
                for gmina in (A, B):
                    mine = ledger.in_({gmina})
                    line = by_key(table).get(gmina, {"cells": {}, "total": 0})  # none: no row
                    assert nonzero(line) == dict(expected(mine)), (name, gmina)
                    assert line["total"] == mine.units(name), (name, gmina)
    for name in ("acceptance_by_sector", "declines"):
        table = await read(api, name, powiat)
        for sector in set(ledger.sectors.values()):
            figures = ledger.acceptance(sector) if name != "declines" else ledger.declines(sector)
            line = by_key(table).get(sector)
            assert (nonzero(line) if line else {}) == dict(figures), (name, sector)


async def test_indicators_match_the_phase(phase: Phase) -> None:
    api, ledger = phase.api, phase.ledger
    table = await read(api, "indicators", api.as_(Role.COORDINATOR, powiat=POWIAT))
    for key, mine in (*((g, ledger.in_({g})) for g in (A, B)), ("total", ledger)):
        row = table["total"] if key == "total" else by_key(table)[key]
        accepted = sum(r.ever_accepted for r in mine.referrals)
        declined = sum(r.decline_reason is not None for r in mine.referrals)
        diagnosed = [f for f in mine.families if f.needs]
        expected = {
            "cases_opened": len(mine.families),
            "cases_closed": mine.closed(),
            "completed_successfully": mine.successful(),
            "diagnosed": len(diagnosed),
            "supported": len({r.family.case_id for r in mine.referrals if r.ever_accepted}),
            "referrals": len(mine.referrals),
            "referrals_accepted": accepted,
            "referrals_declined": declined,
            "referrals_answered": accepted + declined,
            "referrals_overdue": 0,
            "success_share": share(mine.successful(), mine.closed()),
            "acceptance_rate": share(accepted, accepted + declined),
            "days_to_diagnosis_median": 0,
            "days_to_first_support_median": 0,
        }
        assert {k: row[k] for k in expected} == expected, key


async def test_defect_1_closed_reopened_and_closed_again_the_same_day_is_closed(
    phase: Phase,
) -> None:
    api = phase.api
    [a2] = [f for f in phase.ledger.families if f.reasons == ["4"]]
    case = await api.call("GET", "intake", f"/cases/{a2.case_id}", phase.coordinator(A),
                          params={"reason": "kontrola sprawozdania"})  # fmt: skip
    assert case.json()["status"] == "closed"
    cases = await read(api, "cases", phase.coordinator(A))
    # A1 and A2 closed successfully (A2's first closing, partly, no longer counts); A3, A4 open
    assert nonzero(by_key(cases)[A]) == {"completed_successfully": 2, "open": 2}
    [figures] = (await read(api, "indicators", phase.coordinator(A)))["rows"]
    assert (figures["cases_closed"], figures["completed_successfully"]) == (2, 2)


async def test_defect_3_the_success_share_divides_by_the_closed_cases(phase: Phase) -> None:
    table = await read(phase.api, "indicators", phase.api.as_(Role.COORDINATOR, powiat=POWIAT))
    # 3 of the 4 closed cases ended successfully; 2 cases are still open
    assert (table["total"]["completed_successfully"], table["total"]["cases_closed"]) == (3, 4)
    assert table["total"]["success_share"] == 75.0
    assert by_key(table)[A]["success_share"] == 100.0  # 2 of 2 closed, though 4 opened
    assert "cases_closed" in table["definitions"]["success_share"]


async def test_defect_4_one_acceptance_rate_in_both_reports(phase: Phase) -> None:
    api = phase.api
    powiat = api.as_(Role.COORDINATOR, powiat=POWIAT)
    indicators = await read(api, "indicators", powiat)
    by_sector = await read(api, "acceptance_by_sector", powiat)
    # A2's psychologist was accepted and then cancelled by the closing: still an acceptance
    social = by_key(by_sector)["social_assistance"]
    assert nonzero(social) == {"accepted": 5, "declined": 1}
    assert social["acceptance_rate"] == 83.3
    assert by_sector["total"]["acceptance_rate"] == indicators["total"]["acceptance_rate"] == 75.0
    assert (
        indicators["definitions"]["acceptance_rate"] == by_sector["definitions"]["acceptance_rate"]
    )


async def test_defect_5_cooperation_counts_distinct_institutions_at_every_level(
    phase: Phase,
) -> None:
    api = phase.api
    powiat = api.as_(Role.COORDINATOR, powiat=POWIAT)
    by_gmina = await read(api, "cooperation", powiat, by="gmina")
    by_powiat = await read(api, "cooperation", powiat, by="powiat")
    # the PCPR serves both gminas: one institution, not two
    assert by_key(by_gmina)[A]["total"] == 3
    assert by_key(by_gmina)[B]["total"] == 2
    assert by_gmina["total"]["total"] == by_powiat["total"]["total"] == 4
    assert by_key(by_powiat)[POWIAT]["total"] == 4
    assert by_gmina["total"]["cells"]["social_assistance"] == 3
    assert by_gmina["total"]["sectors_engaged"] == by_powiat["total"]["sectors_engaged"] == 2


async def test_defect_6_the_summary_honours_by(phase: Phase) -> None:
    api = phase.api
    powiat = api.as_(Role.COORDINATOR, powiat=POWIAT)
    for by, keys in (("gmina", [A, B]), ("powiat", [POWIAT]), ("region", [REGION]),
                     ("variant", ["rural", "urban_rural"])):  # fmt: skip
        response = await api.call("GET", "reporting", "/reports/summary", powiat,
                                  params={"by": by})  # fmt: skip
        assert response.status_code == 200, response.text
        summary = response.json()
        assert summary["by"] == by
        assert [r["key"] for r in summary["rows"]] == keys, by
        assert summary["total"]["cases_opened"] == 6
        assert summary["total"]["supports_assigned"] == 7
        assert summary["total"]["referrals"] == 8


async def test_defect_7_supports_count_recommendations_not_routing_attempts(
    phase: Phase,
) -> None:
    api = phase.api
    supports = await read(api, "supports", phase.coordinator(A))
    # A1's speech therapy was declined and re-routed: one support, two referrals
    assert by_key(supports)[A]["cells"]["speech_therapist"] == 1
    assert by_key(supports)[A]["cells"]["family_assistant"] == 2
    response = await api.call("GET", "reporting", "/reports/summary", phase.coordinator(A))
    [row] = response.json()["rows"]
    assert (row["supports_assigned"], row["referrals"]) == (4, 5)


async def test_a_rebuild_from_the_event_log_gives_the_same_tables(phase: Phase) -> None:
    """Defects 1 to 7 survive no rebuild: the rebuild merges by the same rules as live."""
    api = phase.api
    powiat = api.as_(Role.COORDINATOR, powiat=POWIAT)
    names = [*PLACE_TABLES, "acceptance_by_sector", "declines", "indicators", "summary"]
    before = {n: await read(api, n, powiat, by="gmina") for n in names}
    rebuilt = await api.call("POST", "reporting", "/admin/rebuild", api.as_(Role.OPERATOR))
    assert rebuilt.status_code == 200, rebuilt.text
    assert {n: await read(api, n, powiat, by="gmina") for n in names} == before
    assert nonzero(by_key(before["cases"])[A]) == {"completed_successfully": 2, "open": 2}


async def test_an_analyst_reads_the_phase_protected(phase: Phase) -> None:
    """Every count of the phase is below the threshold: an analyst of the region sees none of
    them exactly; each is marked withheld."""
    api, ledger = phase.api, phase.ledger
    analyst = api.as_(Role.ANALYST, region=REGION)
    for name, expected in PLACE_TABLES.items():
        table = await read(api, name, analyst, powiat=POWIAT)
        assert table["suppression"] is not None, name
        for gmina in (A, B):
            line = by_key(table)[gmina] if expected(ledger.in_({gmina})) else None
            for column, count in expected(ledger.in_({gmina})).items():
                assert line is not None
                assert column in line["hidden"] and line["cells"][column] != count, (name, column)
    indicators = await read(api, "indicators", analyst, powiat=POWIAT)
    for row in indicators["rows"]:
        for figure in ("cases_opened", "completed_successfully", "success_share"):
            assert figure in row["hidden"] and row[figure] is None, (row["key"], figure)


def test_the_ledger_is_what_the_phase_did() -> None:
    """The expectations rest on the ledger: a slip there would make every check above vacuous."""
    ledger = Ledger({"i": "ngo"})
    family = Family(A, [40, 10], ["1"], consent=True, outcome="completed_successfully")
    ledger.families.append(family)
    ledger.referrals += [
        Referral(family, "psychologist", "i", "r1", "x1", "declined", decline_reason="other"),
        Referral(family, "psychologist", "i", "r1", "x2", "cancelled", ever_accepted=True),
    ]
    assert ledger.supports() == Counter({"psychologist": 1})
    assert ledger.acceptance("ngo") == Counter({"accepted": 1, "declined": 1})
    assert ledger.households() == Counter({"2": 1})
    assert defaultdict(int, ledger.cases())["completed_successfully"] == 1
