"""The case file on the real database and broker: finding a family (diacritics ignored, every
search audited, possible duplicates in the powiat's other gminas), household changes with the
checks of an opening and their codes-only event, interview entries and notes, transfers to
another gmina's OPS, and the worklist."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator
from datetime import date, timedelta
from typing import Any

import pytest
from aio_pika.abc import AbstractRobustConnection

from kooperacja.demo_data import pesel_for
from services.intake.app import spec as intake_spec
from shared.auth import Role
from shared.settings import Settings
from shared.teryt import terc
from tests.integration.service_under_test import EventTap, Service, running, tapped

pytestmark = pytest.mark.integration

# Zachodniopomorskie: no other test opens cases there. One powiat per test, so that the
# neighbouring gminas a duplicate is looked for in hold only that test's cases.
POWIATS = iter(sorted({g.powiat for g in terc().in_region("32")}))
SERIALS = itertools.count(1)
REASON = {"X-Access-Reason": "sprawdzenie akt przed wizyta"}
BIRTH = date(1979, 3, 14)


def two_gminas() -> tuple[str, str]:
    while True:
        powiat = next(POWIATS)
        codes = sorted(g.code for g in terc().in_region("32") if g.powiat == powiat)
        if len(codes) >= 2:
            return codes[0], codes[1]


@pytest.fixture(scope="module")
async def intake(settings: Settings) -> AsyncIterator[Service]:
    async with running(intake_spec, "intakefile", 17, settings) as service:
        yield service


@pytest.fixture(scope="module")
async def tap(amqp: AbstractRobustConnection, settings: Settings) -> AsyncIterator[EventTap]:
    async with tapped(amqp, settings) as events:
        yield events


def a_pesel(birth: date = BIRTH, sex: str = "F") -> str:
    return pesel_for(birth, sex, next(SERIALS))


def person(first: str, last: str, birth: date = BIRTH, sex: str = "F", **more: Any) -> dict:
    return {"first_name": first, "last_name": last, "birth_date": birth.isoformat(), "sex": sex,
            **more}  # fmt: skip


async def open_case(intake: Service, gmina: str, *members: dict[str, Any], **fields: Any) -> str:
    body = {"gmina": gmina, "members": list(members), "reasons": ["1"], "notified_by": "self",
            "consent_to_share": False, **fields}  # fmt: skip
    r = await intake.call("POST", "/cases", intake.as_(Role.CASEWORKER, gmina=gmina), json=body)
    assert r.status_code == 201, r.text
    return r.json()["case_id"]


async def search(intake: Service, mine: str, **terms: Any) -> Any:
    who = intake.as_(Role.CASEWORKER, gmina=mine)
    return await intake.call("POST", "/cases/search", who, json={"reason": "wniosek", **terms})


async def audit_of(intake: Service, gmina: str) -> list[dict[str, Any]]:
    r = await intake.call("GET", "/audit", intake.as_(Role.COORDINATOR, gmina=gmina))
    assert r.status_code == 200, r.text
    return r.json()


# --- find a family ------------------------------------------------------------------------------


async def test_a_surname_typed_without_diacritics_finds_the_family_and_the_search_is_audited(
    intake: Service,
) -> None:
    gmina, _ = two_gminas()
    case = await open_case(intake, gmina, person("Łucja", "Żółkiewska"),
                           person("Jan", "Żółkiewski", date(2010, 1, 2), "M"))  # fmt: skip
    other = await open_case(intake, gmina, person("Ewa", "Zalewska"))
    for typed, who in (
        ("Zolkiewska", ["Łucja"]),
        ("ZÓŁKIEWSKA", ["Łucja"]),
        ("żółk", ["Łucja", "Jan"]),  # the start of a surname; Polish order: -ska before -ski
        (" zolkiewsk ", ["Łucja", "Jan"]),
    ):
        r = await search(intake, gmina, surname=typed)
        assert r.status_code == 200, r.text
        [found] = r.json()["cases"]
        assert found["case_id"] == case, typed
        assert [p["first_name"] for p in found["persons"]] == who, typed
    both = (await search(intake, gmina, surname="zol")).json()["cases"]
    assert [[p["last_name"] for p in c["persons"]] for c in both] == [["Żółkiewska", "Żółkiewski"]]
    assert other not in {c["case_id"] for c in both}
    nothing = await search(intake, gmina, surname="Nieistniejąca")
    assert nothing.status_code == 200 and nothing.json()["cases"] == []

    entries = await audit_of(intake, gmina)
    searches = [e for e in entries if e["access"] == "search_by_surname"]
    assert sum(e["case_id"] == case for e in searches) == 5
    assert [e["case_id"] for e in searches if e["case_id"] != case] == [None]  # the empty one
    assert all(e["purpose"] == "wniosek" and e["subject"] == "it-caseworker" for e in searches)


async def test_a_search_needs_a_reason_a_term_and_your_own_gmina(intake: Service) -> None:
    gmina, neighbour = two_gminas()
    who = intake.as_(Role.CASEWORKER, gmina=gmina)
    r = await intake.call("POST", "/cases/search", who, json={"surname": "Kowalska"})
    assert r.status_code == 422 and r.json()["field"] == "reason", r.text
    r = await intake.call("POST", "/cases/search", who, json={"reason": "wniosek"})
    assert r.status_code == 422 and r.json()["code"] == "no_search_terms", r.text
    r = await intake.call("POST", "/cases/search", who,
                          json={"reason": "wniosek", "surname": "K"})  # fmt: skip
    assert r.status_code == 422 and r.json()["field"] == "surname", r.text
    r = await search(intake, gmina, surname="Kowalska", gmina=neighbour)
    assert r.status_code == 403, r.text
    staff = intake.as_(Role.INSTITUTION_STAFF, institution="7c2b6a58-1f0e-4d43-9d2c-5b0e8d3f4a11")
    r = await intake.call("POST", "/cases/search", staff,
                          json={"reason": "x", "surname": "Kowalska"})  # fmt: skip
    assert r.status_code == 403, r.text
    assert [e for e in await audit_of(intake, neighbour) if e["access"].startswith("search")] == []


async def test_search_by_pesel_and_by_the_old_softwares_reference(intake: Service) -> None:
    gmina, _ = two_gminas()
    pesel = a_pesel()
    case = await open_case(intake, gmina, person("Anna", "Peselowa", pesel=pesel))
    [found] = (await search(intake, gmina, pesel=pesel)).json()["cases"]
    assert found["case_id"] == case and found["persons"][0]["pesel"] == pesel
    line = {"external_id": "OPS/2019/77", "gmina": gmina, "members": [person("Olga", "Importowa")],
            "reasons": ["2"], "notified_by": "self", "consent_to_share": False}  # fmt: skip
    r = await intake.call(
        "POST", "/cases/import", intake.as_(Role.CASEWORKER, gmina=gmina),
        params={"gmina": gmina}, content=__import__("json").dumps(line).encode(),
        headers={"Content-Type": "application/x-ndjson"},
    )  # fmt: skip
    assert r.status_code == 200 and r.json()["imported"] == 1, r.text
    [imported] = (await search(intake, gmina, external_id="OPS/2019/77")).json()["cases"]
    assert imported["external_id"] == "OPS/2019/77"
    assert imported["persons"][0]["last_name"] == "Importowa"
    narrowed = await search(intake, gmina, external_id="OPS/2019/77", surname="Peselowa")
    assert narrowed.json()["cases"] == []


async def test_a_possible_duplicate_in_a_neighbouring_gmina_shows_only_its_ops(
    intake: Service,
) -> None:
    here, there = two_gminas()
    pesel = a_pesel()
    elsewhere = await open_case(intake, there, person("Marta", "Wędrowna", pesel=pesel),
                                person("Piotr", "Kowal", date(1975, 6, 1), "M"))  # fmt: skip
    # Nobody here yet: a PESEL search shows the neighbour's OPS, not its case or its data.
    r = await search(intake, here, pesel=pesel)
    assert r.status_code == 200, r.text
    assert r.json()["cases"] == []
    [duplicate] = r.json()["possible_duplicates"]
    assert duplicate == {
        "person_id": None, "matched_by": "pesel", "gmina": there,
        "gmina_name": terc().gmina(there).name,
        "ops": f"ośrodek pomocy społecznej gminy {terc().gmina(there).name}",
    }  # fmt: skip
    assert elsewhere not in r.text and "Marta" not in r.text
    # The same name and birth date, without PESEL, typed with other diacritics
    mine = await open_case(intake, here, person("Piotr", "KOWAL", date(1975, 6, 1), "M"))
    r = await search(intake, here, surname="kowal")
    [found] = r.json()["cases"]
    assert found["case_id"] == mine
    [duplicate] = r.json()["possible_duplicates"]
    assert (duplicate["matched_by"], duplicate["gmina"]) == ("name_and_birth_date", there)
    assert duplicate["person_id"] == found["persons"][0]["person_id"]
    # the neighbour's coordinator sees who checked their case
    checks = [e for e in await audit_of(intake, there) if e["access"] == "duplicate_check"]
    assert [e["case_id"] for e in checks] == [elsewhere, elsewhere]
    # a closed case elsewhere is no duplicate
    closed = await intake.call("POST", f"/cases/{elsewhere}/close",
                               intake.as_(Role.CASEWORKER, gmina=there),
                               json={"outcome": "moved_away"})  # fmt: skip
    assert closed.status_code == 200, closed.text
    assert (await search(intake, here, pesel=pesel)).json()["possible_duplicates"] == []


# --- household changes ----------------------------------------------------------------------


async def test_household_changes_pass_the_checks_of_an_opening_and_emit_codes_only(
    intake: Service, tap: EventTap
) -> None:
    gmina, _ = two_gminas()
    head_pesel = a_pesel()
    case = await open_case(intake, gmina, person("Halina", "Domowa", pesel=head_pesel))
    who = intake.as_(Role.CASEWORKER, gmina=gmina)
    child_birth = date(2015, 8, 20)
    child = person("Zosia", "Domowa", child_birth, relation="child")

    bad = await intake.call("POST", f"/cases/{case}/members", who,
                            json={**child, "pesel": "15282012345"})  # fmt: skip
    assert bad.status_code == 422 and bad.json()["field"] == "pesel", bad.text
    taken = a_pesel(child_birth)
    await open_case(intake, gmina, person("Zofia", "Inna", child_birth, pesel=taken))
    dup = await intake.call("POST", f"/cases/{case}/members", who,
                            json={**child, "pesel": taken})  # fmt: skip
    assert dup.status_code == 409 and dup.json()["code"] == "duplicate_case", dup.text

    key = {"Idempotency-Key": "add-zosia"}
    added = await intake.call("POST", f"/cases/{case}/members", who, json=child, headers=key)
    again = await intake.call("POST", f"/cases/{case}/members", who, json=child, headers=key)
    assert added.status_code == again.status_code == 201, added.text
    assert added.json() == again.json()
    assert added.json()["household_size"] == 2 and added.json()["counted"] is True
    zosia = added.json()["person_id"]

    renamed = await intake.call("PATCH", f"/cases/{case}/members/{zosia}", who,
                                json={"first_name": "Zofia"})  # fmt: skip
    assert renamed.status_code == 200 and renamed.json()["counted"] is False, renamed.text
    mismatch = await intake.call("PATCH", f"/cases/{case}/members/{zosia}", who,
                                 json={"pesel": a_pesel(date(2001, 1, 1))})  # fmt: skip
    assert mismatch.status_code == 422 and mismatch.json()["field"] == "pesel", mismatch.text
    older = await intake.call("PATCH", f"/cases/{case}/members/{zosia}", who,
                              json={"birth_date": "2001-01-01"})  # fmt: skip
    assert older.status_code == 200 and older.json()["counted"] is True, older.text

    reasons = await intake.call("POST", f"/cases/{case}/reasons", who, json={"reasons": ["10"]})
    assert reasons.status_code == 422 and "uchylony" in reasons.json()["detail"]
    reasons = await intake.call("POST", f"/cases/{case}/reasons", who,
                                json={"reasons": ["13", "1"]})  # fmt: skip
    assert reasons.status_code == 200 and reasons.json()["counted"] is True, reasons.text

    left = await intake.call("POST", f"/cases/{case}/members/{zosia}/left", who,
                             json={"left_on": date.today().isoformat()})  # fmt: skip
    assert left.status_code == 200 and left.json()["household_size"] == 1, left.text
    [head_id] = [
        m["person_id"]
        for m in (await intake.call("GET", f"/cases/{case}", who, headers=REASON)).json()["members"]
        if m["first_name"] == "Halina"
    ]
    last = await intake.call("POST", f"/cases/{case}/members/{head_id}/left", who,
                             json={"left_on": date.today().isoformat()})  # fmt: skip
    assert last.status_code == 409 and last.json()["code"] == "last_member", last.text

    changes = await tap.wait_for(case, "case.household_changed.v1", count=4)
    today = date.today()
    as_seen = [(e.data["household_size"], e.data["age_bands"], e.data["reasons"]) for e in changes]
    head_band = "45-59" if today.year - 1979 >= 45 else "30-44"
    child_band = "6-17"
    assert as_seen == [
        (2, {head_band: 1, child_band: 1}, ["1"]),  # Zosia joined
        (2, {head_band: 1, "18-29": 1}, ["1"]),  # her birth date corrected
        (2, {head_band: 1, "18-29": 1}, ["1", "13"]),  # reasons revised
        (1, {head_band: 1}, ["1", "13"]),  # she left
    ]
    sequences = [e.sequence for e in changes]
    assert sequences == sorted(sequences) and len(set(sequences)) == 4
    raw = b"".join(e.to_bytes() for e in changes)
    for personal in (b"Zosia", b"Zofia", b"Domowa", head_pesel.encode(), b"2001-01-01"):
        assert personal not in raw
    history = (await intake.call("GET", f"/cases/{case}", who, headers=REASON)).json()["history"]
    assert [h["step"] for h in history][1:] == [
        "member_added", "member_corrected", "member_corrected", "reasons_revised", "member_left",
    ]  # fmt: skip
    audited = [e["access"] for e in reversed(await audit_of(intake, gmina)) if e["case_id"] == case]
    assert [a for a in audited if a.startswith("member") or a == "reasons_revised"] == [
        "member_added", "member_corrected", "member_corrected", "reasons_revised", "member_left",
    ]  # fmt: skip
    after = (await intake.call("GET", f"/cases/{case}", who, headers=REASON)).json()
    assert after["household_size"] == 1 and len(after["members"]) == 2  # she is kept in the file
    [zofia] = [m for m in after["members"] if m["person_id"] == zosia]
    assert (zofia["first_name"], zofia["left_on"]) == ("Zofia", date.today().isoformat())
    persons = await intake.call("GET", f"/cases/{case}/persons", who, headers=REASON)
    assert [p["first_name"] for p in persons.json()["persons"]] == ["Halina"]


# --- interview entries and notes ------------------------------------------------------------


async def test_interview_entries_and_notes_are_dated_authored_kept_and_read_with_an_audit(
    intake: Service, tap: EventTap
) -> None:
    gmina, neighbour = two_gminas()
    case = await open_case(intake, gmina, person("Irena", "Wywiadowa"))
    who = intake.as_(Role.CASEWORKER, gmina=gmina)
    today = date.today()
    first = await intake.call("POST", f"/cases/{case}/interviews", who,
                              json={"conducted_on": (today - timedelta(days=3)).isoformat(),
                                    "summary": "Mieszkanie zawilgocone."})  # fmt: skip
    assert first.status_code == 201 and first.json()["kind"] == "home_interview", first.text
    later = await intake.call("POST", f"/cases/{case}/interviews", who,
                              json={"conducted_on": today.isoformat(),
                                    "summary": "Wilgoć usunięta."})  # fmt: skip
    assert later.status_code == 201 and later.json()["kind"] == "update", later.text
    future = await intake.call("POST", f"/cases/{case}/interviews", who,
                               json={"conducted_on": (today + timedelta(days=1)).isoformat(),
                                     "summary": "x"})  # fmt: skip
    assert future.status_code == 422 and future.json()["field"] == "conducted_on"
    note = await intake.call("POST", f"/cases/{case}/notes", who,
                             json={"text": "Tajna notatka o rodzinie.",
                                   "follow_up_on": str(today + timedelta(days=7))})  # fmt: skip
    assert note.status_code == 201 and note.json()["author"] == "it-caseworker", note.text

    r = await intake.call("GET", f"/cases/{case}/interviews", who)
    assert r.status_code == 422 and r.json()["field"] == "X-Access-Reason"
    entries = (await intake.call("GET", f"/cases/{case}/interviews", who, headers=REASON)).json()
    assert [e["summary"] for e in entries] == ["Mieszkanie zawilgocone.", "Wilgoć usunięta."]
    assert all(e["author"] == "it-caseworker" for e in entries)
    notes = (await intake.call("GET", f"/cases/{case}/notes", who, headers=REASON)).json()
    assert [n["text"] for n in notes] == ["Tajna notatka o rodzinie."]
    stranger = intake.as_(Role.CASEWORKER, gmina=neighbour)
    for path in (f"/cases/{case}/notes", f"/cases/{case}/interviews"):
        assert (await intake.call("GET", path, stranger, headers=REASON)).status_code == 403
    reads = [e["access"] for e in await audit_of(intake, gmina) if e["case_id"] == case]
    assert {"interviews", "notes", "interview_added", "note_added"} <= set(reads)
    assert all(b"Tajna" not in body and b"Wilgo" not in body for body in tap.bodies)


# --- transfers and the worklist ---------------------------------------------------------------


async def test_a_case_transferred_to_another_gminas_ops_keeps_its_history(
    intake: Service, tap: EventTap
) -> None:
    sending, receiving = two_gminas()
    case = await open_case(intake, sending, person("Teresa", "Przeprowadzka"))
    sender = intake.as_(Role.CASEWORKER, gmina=sending)
    receiver = intake.as_(Role.CASEWORKER, gmina=receiving)

    same = await intake.call("POST", f"/cases/{case}/transfer", sender, json={"to_gmina": sending})
    assert same.status_code == 422 and same.json()["field"] == "to_gmina"
    asked = await intake.call("POST", f"/cases/{case}/transfer", sender,
                              json={"to_gmina": receiving})  # fmt: skip
    assert asked.status_code == 201 and asked.json()["state"] == "requested", asked.text
    twice = await intake.call("POST", f"/cases/{case}/transfer", sender,
                              json={"to_gmina": receiving})  # fmt: skip
    assert twice.status_code == 409 and twice.json()["code"] == "transfer_waiting"

    [waiting] = (await intake.call("GET", "/transfers", receiver)).json()
    assert (waiting["case_id"], waiting["direction"]) == (case, "in")
    assert "Teresa" not in str(waiting)
    [outgoing] = (await intake.call("GET", "/transfers", sender)).json()
    assert outgoing["direction"] == "out"
    work = (await intake.call("GET", "/worklist", receiver)).json()["items"]
    assert {"case_id": case, "kind": "transfer_to_accept"}.items() <= work[0].items()

    assert (await intake.call("POST", f"/cases/{case}/transfer/accept", sender)).status_code == 403
    accepted = await intake.call("POST", f"/cases/{case}/transfer/accept", receiver)
    assert accepted.status_code == 200 and accepted.json()["state"] == "accepted", accepted.text
    [event] = await tap.wait_for(case, "case.transferred.v1")
    assert event.data["place"]["gmina"] == receiving
    assert event.data["from_place"]["gmina"] == sending
    assert event.data["transferred_on"] == date.today().isoformat()

    assert (await intake.call("GET", f"/cases/{case}", sender, headers=REASON)).status_code == 403
    now = (await intake.call("GET", f"/cases/{case}", receiver, headers=REASON)).json()
    assert now["gmina"] == receiving
    assert [h["step"] for h in now["history"]] == ["open", "transfer_requested",
                                                   "transfer_accepted"]  # fmt: skip
    assert (await intake.call("GET", "/transfers", receiver)).json() == []

    # a declined transfer leaves the case where it was
    other = await open_case(intake, sending, person("Ula", "Zostaje"))
    await intake.call("POST", f"/cases/{other}/transfer", sender, json={"to_gmina": receiving})
    declined = await intake.call("POST", f"/cases/{other}/transfer/decline", receiver)
    assert declined.status_code == 200 and declined.json()["state"] == "declined", declined.text
    kept = (await intake.call("GET", f"/cases/{other}", sender, headers=REASON)).json()
    assert kept["gmina"] == sending
    assert (
        await intake.call("POST", f"/cases/{other}/transfer/accept", receiver)
    ).status_code == 404
    # a request the sending OPS withdraws: only it may, and the case stays
    third = await open_case(intake, sending, person("Wanda", "Rozmyślona"))
    await intake.call("POST", f"/cases/{third}/transfer", sender, json={"to_gmina": receiving})
    refused = await intake.call("POST", f"/cases/{third}/transfer/withdraw", receiver)
    assert refused.status_code == 403, refused.text
    withdrawn = await intake.call("POST", f"/cases/{third}/transfer/withdraw", sender)
    assert withdrawn.status_code == 200 and withdrawn.json()["state"] == "withdrawn"
    assert (await intake.call("GET", "/transfers", receiver)).json() == []
    late = await intake.call("POST", f"/cases/{third}/transfer/accept", receiver)
    assert late.status_code == 404, late.text
    assert tap.about(third, "case.transferred.v1") == []


async def test_the_worklist_shows_the_home_interview_updates_and_follow_ups_due(
    intake: Service,
) -> None:
    gmina, _ = two_gminas()
    who = intake.as_(Role.CASEWORKER, gmina=gmina)
    today = date.today()
    fresh = await open_case(intake, gmina, person("Nowa", "Sprawa"))
    known = await open_case(intake, gmina, person("Znana", "Sprawa"),
                            interview_summary="Wywiad przeprowadzony przy otwarciu.")  # fmt: skip
    r = await intake.call("GET", "/worklist", who, params={"horizon_days": 14})
    assert r.status_code == 200, r.text
    items = {(i["case_id"], i["kind"]): i for i in r.json()["items"]}
    assert items[(fresh, "home_interview")]["due_on"] == (today + timedelta(days=14)).isoformat()
    assert (known, "home_interview") not in items  # the interview came with the opening
    assert (known, "interview_update") not in items  # due in six months, beyond the horizon

    follow_up = (today + timedelta(days=5)).isoformat()
    await intake.call("POST", f"/cases/{known}/notes", who,
                      json={"text": "Zadzwonić do szkoły.", "follow_up_on": follow_up})  # fmt: skip
    await intake.call("POST", f"/cases/{fresh}/interviews", who,
                      json={"conducted_on": today.isoformat(), "summary": "Wizyta."})  # fmt: skip
    r = await intake.call("GET", "/worklist", who, params={"horizon_days": 200})
    items = {(i["case_id"], i["kind"]): i for i in r.json()["items"]}
    assert (fresh, "home_interview") not in items
    assert items[(fresh, "interview_update")]["due_on"] == (today + timedelta(days=182)).isoformat()
    one = await intake.call("GET", "/worklist", who, params={"horizon_days": 200, "limit": 1})
    assert len(one.json()["items"]) == 1 and one.json()["limited"] is True, one.text
    assert r.json()["limited"] is False
    assert items[(known, "follow_up")] == {"case_id": known, "kind": "follow_up",
                                            "due_on": follow_up, "overdue": False,
                                            "assigned_to": "it-caseworker"}  # fmt: skip
    mine = await intake.call("GET", "/worklist", intake.as_(Role.CASEWORKER, gmina=gmina,
                                                             subject="someone-else"),
                             params={"mine": "true"})  # fmt: skip
    assert mine.status_code == 200 and mine.json()["items"] == [], mine.text


async def test_the_responsible_caseworker_is_the_opener_until_reassigned_and_mine_follows(
    intake: Service,
) -> None:
    gmina, neighbour = two_gminas()
    opener = intake.as_(Role.CASEWORKER, gmina=gmina, subject="cw-opener")
    coordinator = intake.as_(Role.COORDINATOR, gmina=gmina, subject="coord-1")
    r = await intake.call("POST", "/cases", opener, json={
        "gmina": gmina, "members": [person("Prowadzona", "Sprawa")], "reasons": ["1"],
        "notified_by": "self", "consent_to_share": False})  # fmt: skip
    case = r.json()["case_id"]
    overview = (await intake.call("GET", f"/cases/{case}/overview", opener)).json()
    assert (overview["assigned_to"], overview["assigned_on"]) == (
        "cw-opener",
        date.today().isoformat(),
    )

    async def mine(subject: str) -> set[str]:
        who = intake.as_(Role.CASEWORKER, gmina=gmina, subject=subject)
        r = await intake.call("GET", "/worklist", who, params={"mine": "true"})
        assert r.status_code == 200, r.text
        return {i["case_id"] for i in r.json()["items"]}

    assert case in await mine("cw-opener") and case not in await mine("cw-second")

    key = {"Idempotency-Key": f"assign-{case}"}
    body = {"assignee": "cw-second"}
    path = f"/cases/{case}/assignment"
    elsewhere = intake.as_(Role.CASEWORKER, gmina=neighbour)
    assert (await intake.call("POST", path, elsewhere, json=body)).status_code == 403
    for blank in (" ", " cw-second", ""):
        bad = await intake.call("POST", path, coordinator, json={"assignee": blank})
        assert bad.status_code == 422 and bad.json()["field"] == "assignee", bad.text
    first = await intake.call("POST", path, coordinator, json=body, headers=key)
    assert first.status_code == 200, first.text
    assert first.json() == {"case_id": case, "assigned_to": "cw-second",
                            "assigned_on": date.today().isoformat(),
                            "previous": "cw-opener"}  # fmt: skip
    again = await intake.call("POST", path, coordinator, json=body, headers=key)
    assert again.json() == first.json()
    other = await intake.call("POST", path, coordinator, json={"assignee": "x"}, headers=key)
    assert other.status_code == 422, other.text  # the same key with another body
    assert case in await mine("cw-second") and case not in await mine("cw-opener")

    record = (await intake.call("GET", f"/cases/{case}", coordinator, headers=REASON)).json()
    assert record["assigned_to"] == "cw-second"
    assert [h["step"] for h in record["history"]].count("assigned") == 1  # the replay added none
    audit = [e for e in await audit_of(intake, gmina)
             if e["case_id"] == case and e["access"] == "assigned"]  # fmt: skip
    assert [(e["subject"], e["purpose"]) for e in audit] == [
        ("coord-1", "pracownik prowadzący: cw-opener → cw-second")
    ]
    # the same person once more changes nothing and records nothing
    same = await intake.call("POST", path, opener, json=body)
    assert same.status_code == 200 and same.json()["previous"] == "cw-second"
    record = (await intake.call("GET", f"/cases/{case}", coordinator, headers=REASON)).json()
    assert [h["step"] for h in record["history"]].count("assigned") == 1


async def test_an_accepted_transfer_makes_the_acceptor_responsible_and_a_closing_withdraws_one(
    intake: Service, tap: EventTap
) -> None:
    sending, receiving = two_gminas()
    sender = intake.as_(Role.CASEWORKER, gmina=sending, subject="cw-sending")
    receiver = intake.as_(Role.CASEWORKER, gmina=receiving, subject="cw-receiving")
    moved = await open_case(intake, sending, person("Ruchoma", "Rodzina"))
    await intake.call("POST", f"/cases/{moved}/transfer", sender, json={"to_gmina": receiving})
    assert (await intake.call("POST", f"/cases/{moved}/transfer/accept", receiver)).is_success
    now = (await intake.call("GET", f"/cases/{moved}/overview", receiver)).json()
    assert now["assigned_to"] == "cw-receiving"
    r = await intake.call("GET", "/worklist", receiver, params={"mine": "true"})
    assert moved in {i["case_id"] for i in r.json()["items"]}

    closing = await open_case(intake, sending, person("Zamykana", "Rodzina"))
    await intake.call("POST", f"/cases/{closing}/transfer", sender, json={"to_gmina": receiving})
    assert [t["case_id"] for t in (await intake.call("GET", "/transfers", receiver)).json()] == [
        closing
    ]
    closed = await intake.call("POST", f"/cases/{closing}/close", sender,
                               json={"outcome": "moved_away"})  # fmt: skip
    assert closed.status_code == 200, closed.text
    assert (await intake.call("GET", "/transfers", receiver)).json() == []
    late = await intake.call("POST", f"/cases/{closing}/transfer/accept", receiver)
    assert late.status_code == 404 and late.json()["code"] == "no_transfer_waiting", late.text
    history = (await intake.call("GET", f"/cases/{closing}/overview", sender)).json()["history"]
    assert [h["step"] for h in history] == ["open", "transfer_requested", "close",
                                            "transfer_withdrawn"]  # fmt: skip
    audit = [e for e in await audit_of(intake, sending)
             if e["case_id"] == closing and e["access"] == "transfer_withdrawn"]  # fmt: skip
    assert len(audit) == 1 and "sprawa zamknięta" in audit[0]["purpose"]
    # reopened, it is still the sending gmina's and waits for no one
    assert (await intake.call("POST", f"/cases/{closing}/reopen", sender)).status_code == 200
    assert (await intake.call("GET", "/transfers", sender)).json() == []
    await tap.wait_for(closing, "case.reopened.v1")
    assert tap.about(closing, "case.transferred.v1") == []
