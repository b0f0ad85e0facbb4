"""The case file's pages in a real browser (issue 13 through the web front): the household
changed (a person joins with a wrong PESEL shown beside its field, a correction, one who left),
the interview's dated entries and the case notes read only with a reason, the caseworker's due
work ("Moja praca"), and a family that moves: the transfer asked for by one gmina's OPS and
accepted by the other's. Every page on the way is checked with axe-core and photographed."""

from __future__ import annotations

import re
from datetime import date, timedelta

from kooperacja.demo_data import pesel_for
from shared.auth import Role
from tests.browser.conftest import Visit
from tests.browser.partners import GMINA, open_case
from tests.stack import Api

CASEWORKER = "demo-anna-kowalczyk"  # gmina 0601032 (Biała Podlaska, gmina wiejska)
OTHER_CASEWORKER = "demo-tomasz-mazur"  # gmina 0601011 (Międzyrzec Podlaski, miasto)
OTHER_GMINA = "0601011"


async def test_the_household_changes_with_errors_beside_the_fields_and_the_timeline_follows(
    visit: Visit, api: Api
) -> None:
    case_id = await open_case(api, surname="Domańska")
    page = visit.page
    await visit.sign_in_as(CASEWORKER, then=f"/sprawy/{case_id}")
    assert "2 osoby" in await page.locator("dl").first.inner_text()

    # A person joins: a PESEL that does not match the birth date is refused beside its field.
    await page.get_by_role("link", name="Dodaj osobę do gospodarstwa domowego").click()
    assert await visit.heading() == "Nowa osoba w gospodarstwie domowym"
    await visit.check("nowa osoba")
    birth = date(2019, 5, 20)
    await page.get_by_label("Imię").fill("Ignacy")
    await page.get_by_label("Nazwisko").fill("Domański")
    await page.get_by_label("Data urodzenia").fill(birth.isoformat())
    await page.get_by_label("Płeć").select_option("M")
    await page.get_by_label("PESEL (jeśli jest)").fill(pesel_for(date(2018, 5, 20), "M", 31))
    await page.get_by_role("button", name="Dodaj osobę").click()
    summary = page.locator(".error-summary")
    await summary.wait_for()
    link = summary.get_by_role("link", name="Numer PESEL nie zgadza się z datą urodzenia.")
    assert await link.get_attribute("href") == "#pesel"
    assert "nie zgadza się z datą urodzenia" in await page.locator("#pesel-blad").inner_text()
    assert await page.locator("#pesel").get_attribute("aria-invalid") == "true"
    assert await page.get_by_label("Imię").input_value() == "Ignacy"  # what was typed is kept
    await visit.check("nowa osoba z bledem")
    await page.get_by_label("PESEL (jeśli jest)").fill(pesel_for(birth, "M", 31))
    await page.get_by_role("button", name="Dodaj osobę").click()
    await page.wait_for_url(re.compile(f"/sprawy/{case_id}$"))
    status = page.get_by_role("status")
    assert await status.inner_text() == "Nowa osoba została dodana do gospodarstwa."
    assert "3 osoby" in await page.locator("dl").first.inner_text()
    timeline = page.locator("ol.timeline")
    assert "Nowa osoba w gospodarstwie domowym" in await timeline.inner_text()
    await visit.check("osoba dodana")

    # A correction: shown after a reason, refused beside the field, then saved.
    await page.get_by_label("Powód wglądu w dane osobowe").fill("korekta danych rodziny")
    await page.get_by_role("button", name="Pokaż dane gospodarstwa").click()
    await page.get_by_role(
        "button", name=re.compile("^Popraw lub odnotuj odejście.*Kacper Domańska$")
    ).click()
    assert await visit.heading() == "Kacper Domańska"
    await visit.check("dane osoby")
    await page.get_by_label("Data urodzenia").fill((date.today() + timedelta(days=3)).isoformat())
    await page.get_by_role("button", name="Zapisz poprawione dane").click()
    beside = page.locator("#birth_date-blad")
    assert "Data urodzenia nie może być w przyszłości." in await beside.inner_text()
    assert await page.get_by_label("Nazwisko").input_value() == "Domańska"
    await visit.check("korekta z bledem")
    await page.get_by_label("Data urodzenia").fill("2014-09-01")
    await page.get_by_label("Nazwisko").fill("Domański")
    await page.get_by_role("button", name="Zapisz poprawione dane").click()
    await page.wait_for_url(re.compile(f"/sprawy/{case_id}$"))
    assert await status.inner_text() == "Dane osoby zostały poprawione."
    assert "Poprawienie danych osoby" in await timeline.inner_text()

    # One left: kept in the file with the date, no longer counted.
    await page.get_by_label("Powód wglądu w dane osobowe").fill("zmiana składu rodziny")
    await page.get_by_role("button", name="Pokaż dane gospodarstwa").click()
    assert await page.get_by_role("cell", name="Kacper Domański", exact=True).count() == 1
    await page.get_by_role(
        "button", name=re.compile("^Popraw lub odnotuj odejście.*Kacper Domański$")
    ).click()
    await page.get_by_label("Data odejścia z gospodarstwa").fill("2001-01-01")
    await page.get_by_role("button", name="Zapisz odejście").click()
    assert "między otwarciem sprawy a dziś" in await page.locator("#left_on-blad").inner_text()
    await visit.check("odejscie z bledem")
    await page.get_by_label("Data odejścia z gospodarstwa").fill(date.today().isoformat())
    await page.get_by_role("button", name="Zapisz odejście").click()
    await page.wait_for_url(re.compile(f"/sprawy/{case_id}$"))
    assert await status.inner_text() == "Odejście osoby z gospodarstwa zostało zapisane."
    assert "2 osoby" in await page.locator("dl").first.inner_text()
    assert "Osoba opuściła gospodarstwo domowe" in await timeline.inner_text()
    await visit.check("odejscie zapisane")

    # The reasons (art. 7) as they stand now: none is refused beside the list.
    await page.get_by_role("link", name="Zmień powody przyznania pomocy (art. 7)").click()
    assert await visit.heading() == "Powody przyznania pomocy"
    unemployment = page.get_by_label("art. 7 pkt 4 — bezrobocie")
    assert await unemployment.is_checked()
    await unemployment.uncheck()
    await page.get_by_role("button", name="Zapisz powody").click()
    await page.locator(".error-summary").wait_for()
    assert await page.locator("#reasons-blad").text_content() == (
        "Błąd: Wybierz co najmniej jedną możliwość."
    )
    await visit.check("powody z bledem")
    await page.get_by_label("art. 7 pkt 1 — ubóstwo").check()
    await page.get_by_label("art. 7 pkt 4 — bezrobocie").check()
    await page.get_by_role("button", name="Zapisz powody").click()
    await page.wait_for_url(re.compile(f"/sprawy/{case_id}$"))
    assert await status.inner_text() == "Powody przyznania pomocy zostały zmienione."
    facts = await page.locator("dl").first.inner_text()
    assert "ubóstwo (pkt 1)" in facts and "bezrobocie (pkt 4)" in facts
    assert "Zmiana powodów przyznania pomocy" in await timeline.inner_text()
    # Intake keeps each change in its audit log with the reasons given.
    audit = await api.call(
        "GET", "intake", "/audit", api.as_(Role.COORDINATOR, gmina=GMINA),
        params={"case_id": case_id},
    )  # fmt: skip
    assert audit.status_code == 200, audit.text
    accesses = {(e["access"], e["purpose"]) for e in audit.json()}
    changes = {"member_added", "member_corrected", "member_left", "reasons_revised"}
    assert changes <= {a for a, _ in accesses}
    assert {"korekta danych rodziny", "zmiana składu rodziny"} <= {p for _, p in accesses}
    assert not [u for u in visit.urls if "Doma" in u]


async def test_interview_entries_and_notes_are_kept_and_read_with_a_reason_and_the_worklist(
    visit: Visit, api: Api
) -> None:
    case_id = await open_case(api, surname="Wywiadowska")
    page = visit.page
    await visit.sign_in_as(CASEWORKER, then="/moja-praca?zakres=gmina")
    assert await visit.heading() == "Moja praca"
    # The new case's home interview is due within 14 days of its opening.
    due = date.today() + timedelta(days=14)
    row = page.get_by_role("row").filter(has=page.locator(f"a[href='/sprawy/{case_id}/wywiad']"))
    assert await row.count() == 1
    cells = await row.locator("td").all_inner_texts()
    assert cells[0].startswith(due.strftime("%d.%m.%Y"))
    assert cells[1] == "wywiad środowiskowy w domu rodziny (14 dni od otwarcia)"
    await visit.check("moja praca gmina")

    await row.get_by_role("link").click()
    assert await visit.heading() == "Wywiad środowiskowy"
    await visit.check("wywiad")
    await page.get_by_label("Data przeprowadzenia wywiadu").fill(
        (date.today() + timedelta(days=1)).isoformat()
    )
    await page.get_by_label("Ustalenia wywiadu").fill("Rodzina mieszka w dwóch pokojach.")
    await page.get_by_role("button", name="Zapisz wpis wywiadu").click()
    beside = page.locator("#conducted_on-blad")
    assert "Data wywiadu nie może być w przyszłości." in await beside.inner_text()
    await visit.check("wywiad z bledem")
    await page.get_by_label("Data przeprowadzenia wywiadu").fill(date.today().isoformat())
    await page.get_by_role("button", name="Zapisz wpis wywiadu").click()
    assert await page.get_by_role("status").inner_text() == (
        "Wpis wywiadu środowiskowego został zapisany."
    )
    await page.get_by_label("Ustalenia wywiadu").fill("Ojciec podjął pracę sezonową.")
    await page.get_by_role("button", name="Zapisz wpis wywiadu").click()
    # the entries: only after a reason; both kept, each dated with its author
    assert await page.get_by_text("Rodzina mieszka w dwóch pokojach.").count() == 0
    await page.get_by_role("button", name="Pokaż wpisy wywiadu").click()
    assert "Podaj powód wglądu" in await page.locator("#access_reason-blad").inner_text()
    await page.get_by_label("Powód wglądu").fill("przygotowanie planu pomocy")
    await page.get_by_role("button", name="Pokaż wpisy wywiadu").click()
    entries = await page.locator("ol.timeline > li").all_inner_texts()
    assert len(entries) == 2
    assert "wywiad w domu rodziny" in entries[0] and "autor: Ty" in entries[0]
    assert "Rodzina mieszka w dwóch pokojach." in entries[0]
    assert "aktualizacja wywiadu" in entries[1] and "Ojciec podjął pracę" in entries[1]
    await visit.check("wpisy wywiadu")

    # A note asks to come back in a week: the worklist shows the follow-up, the home interview
    # is done and no longer due.
    await visit.goto(f"/sprawy/{case_id}")
    await page.get_by_role("link", name="Notatki w sprawie").click()
    assert await visit.heading() == "Notatki w sprawie"
    follow_up = date.today() + timedelta(days=7)
    await page.get_by_label("Treść notatki").fill("Zadzwonić do szkoły w sprawie Kacpra.")
    await page.get_by_label("Termin dalszych działań (jeśli potrzebny)").fill(follow_up.isoformat())
    await page.get_by_role("button", name="Zapisz notatkę").click()
    assert await page.get_by_role("status").inner_text() == "Notatka została zapisana."
    await page.get_by_label("Powód wglądu").fill("kontrola terminów")
    await page.get_by_role("button", name="Pokaż notatki").click()
    [note] = await page.locator("ol.timeline > li").all_inner_texts()
    assert "Zadzwonić do szkoły w sprawie Kacpra." in note
    assert f"Dalsze działania do {follow_up.strftime('%d.%m.%Y')}" in note
    await visit.check("notatki")

    await page.get_by_role("link", name="Moja praca").click()
    assert page.url.endswith("/moja-praca")  # my own cases by default
    mine = await page.locator("main").inner_text()
    await page.get_by_role("link", name="Cała gmina").click()
    items = page.locator(f"a[href^='/sprawy/{case_id}/']")
    assert await items.count() == 1
    assert await items.get_attribute("href") == f"/sprawy/{case_id}/notatki"
    row = page.get_by_role("row").filter(has=items)
    cells = await row.locator("td").all_inner_texts()
    assert cells[0] == follow_up.strftime("%d.%m.%Y")
    assert cells[1] == "dalsze działania zapisane w notatce"
    assert await page.get_by_role("link", name="Cała gmina").get_attribute("aria-current") == "page"
    await visit.check("moja praca po notatce")
    assert case_id[:8] not in mine  # opened through the API by someone else, not mine

    # Taken over (pracownik prowadzący): now it is among my own cases' work.
    await visit.goto(f"/sprawy/{case_id}")
    await page.get_by_role("button", name="Przekaż prowadzenie sprawy").click()
    await page.locator(".error-summary").wait_for()
    assert await page.locator("#assignee-blad").text_content() == "Błąd: To pole jest wymagane."
    await visit.check("prowadzacy z bledem")
    await page.get_by_role("button", name="Przejmij prowadzenie sprawy").click()
    await page.wait_for_url(re.compile(f"/sprawy/{case_id}$"))
    assert await page.get_by_role("status").inner_text() == "Prowadzisz teraz tę sprawę."
    assert "Pracownik prowadzący\nTy" in await page.locator("dl").first.inner_text()
    assert "Zmiana pracownika prowadzącego" in await page.locator("ol.timeline").inner_text()
    await visit.check("sprawa przejeta")
    await page.get_by_role("link", name="Moja praca").click()
    assert await page.locator(f"a[href='/sprawy/{case_id}/notatki']").count() == 1


async def test_a_family_moves_the_other_gminas_ops_accepts_the_transfer(
    visit: Visit, api: Api
) -> None:
    case_id = await open_case(api, surname="Przeprowadzka")
    page = visit.page
    await visit.sign_in_as(CASEWORKER, then=f"/sprawy/{case_id}")
    await page.get_by_role("link", name="Przekaż sprawę do innej gminy").click()
    assert await visit.heading() == "Przekazanie sprawy do innej gminy"
    await visit.check("przekazanie")
    # the same gmina is refused beside the field
    await page.get_by_label("Nowa gmina rodziny").select_option(GMINA)
    await page.get_by_role("button", name="Poproś o przejęcie sprawy").click()
    beside = page.locator("#to_gmina-blad")
    assert "Sprawa jest już w tej gminie" in await beside.inner_text()
    await visit.check("przekazanie z bledem")
    await page.get_by_label("Nowa gmina rodziny").select_option(OTHER_GMINA)
    await page.get_by_role("button", name="Poproś o przejęcie sprawy").click()
    await page.wait_for_url(re.compile(f"/sprawy/{case_id}$"))
    assert "Międzyrzec Podlaski (gmina miejska" in await page.get_by_role("status").inner_text()
    section = page.locator("section[aria-labelledby=przekazanie-tytul]")
    assert "czeka na przyjęcie" in await section.inner_text()
    assert (
        "Prośba o przekazanie sprawy do innej gminy"
        in await page.locator("ol.timeline").inner_text()
    )
    await visit.check("przekazanie wyslane")
    await page.get_by_role("link", name="Przekazania").click()
    outgoing = page.locator("section[aria-labelledby=wychodzace-tytul]")
    assert await outgoing.locator(f"a[href='/sprawy/{case_id}']").count() == 1
    await visit.check("przekazania wychodzace")

    # The receiving OPS: the transfer on its worklist and its transfers, accepted.
    await page.get_by_role("button", name="Wyloguj się").click()
    await visit.sign_in_as(OTHER_CASEWORKER, then="/moja-praca?zakres=gmina")
    row = page.get_by_role("row").filter(has_text="przekazanie sprawy z innej gminy do przyjęcia")
    assert await row.count() >= 1
    await visit.check("moja praca odbiorcy")
    await page.get_by_role("link", name="Przekazania").first.click()
    assert await visit.heading() == "Przekazania spraw"
    incoming = page.locator("section[aria-labelledby=przychodzace-tytul]")
    line = incoming.locator(
        "tr", has=page.locator(f"form[action='/przekazania/{case_id}/przyjmij']")
    )
    cells = await line.locator("td").all_inner_texts()
    assert cells[0].startswith("Biała Podlaska (gmina wiejska")
    assert (cells[3], cells[4]) == ("2 osoby", "bezrobocie")
    assert "Przeprowadzka" not in await page.content()  # no personal data before accepting
    await visit.check("przekazania przychodzace")
    await line.get_by_role("button", name=re.compile("^Przyjmij sprawę")).click()
    await page.wait_for_url(re.compile(f"/sprawy/{case_id}$"))
    assert await page.get_by_role("status").inner_text() == (
        "Sprawa została przyjęta — prowadzi ją teraz Twój ośrodek."
    )
    timeline = await page.locator("ol.timeline").inner_text()
    assert "Otwarcie sprawy" in timeline  # the history came with the case
    assert "Przekazanie sprawy przyjęte przez inną gminę" in timeline
    await visit.check("sprawa przyjeta")

    # The sending OPS no longer has it.
    await page.get_by_role("button", name="Wyloguj się").click()
    await visit.sign_in_as(CASEWORKER)
    response = await page.goto(f"{visit.base_url}/sprawy/{case_id}")
    assert response is not None and response.status == 403
