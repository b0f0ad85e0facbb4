"""The caseworker's path in a real browser: the gmina's cases, a new case (a wrong PESEL shown
beside its field), the case page with its timeline, consent, closing and reopening; and what a
person sees at another gmina's case."""

from __future__ import annotations

import re
from datetime import date

from kooperacja.demo_data import pesel_for
from tests.browser.conftest import Visit

CASEWORKER = "demo-anna-kowalczyk"  # gmina 0601032
OTHER_CASEWORKER = "demo-tomasz-mazur"  # gmina 0601011


async def test_caseworker_signs_in_and_sees_the_cases_of_the_gmina(visit: Visit) -> None:
    await visit.sign_in_as(CASEWORKER)
    assert visit.page.url.endswith("/sprawy")
    assert await visit.heading() == "Sprawy gminy"
    await visit.check("sprawy")


async def fill_household(visit: Visit, *, pesel: str, birth: date, surname: str) -> None:
    page = visit.page
    await page.get_by_label("Imię").fill("Halina")
    await page.get_by_label("Nazwisko").fill(surname)
    await page.get_by_label("Data urodzenia").fill(birth.isoformat())
    await page.get_by_label("Płeć").select_option("F")
    await page.get_by_label("PESEL (jeśli jest)").fill(pesel)


async def open_a_case(visit: Visit, *, surname: str, pesel: str, birth: date) -> str:
    """Through the form, with consent; the new case's id from the page's address."""
    await visit.goto("/sprawy/nowa")
    await fill_household(visit, pesel=pesel, birth=birth, surname=surname)
    page = visit.page
    await page.get_by_label("art. 7 pkt 1 — ubóstwo").check()
    await page.get_by_label("Kto zgłosił sytuację rodziny").select_option("school")
    await page.get_by_label("Rodzina wyraziła zgodę").check()
    await page.get_by_role("button", name="Otwórz sprawę").click()
    await page.wait_for_url(re.compile(r"/sprawy/[0-9a-f-]{36}$"))
    return page.url.rsplit("/", 1)[1]


async def test_a_wrong_pesel_is_shown_beside_its_field_and_the_case_opens_once_corrected(
    visit: Visit,
) -> None:
    birth = date(1985, 3, 14)
    good = pesel_for(birth, "F", 4321)
    wrong = good[:-1] + str((int(good[-1]) + 1) % 10)  # the check digit off by one
    await visit.sign_in_as(CASEWORKER)
    await visit.page.get_by_role("link", name="Otwórz nową sprawę").click()
    assert await visit.heading() == "Nowa sprawa"
    await visit.check("nowa sprawa")
    page = visit.page
    await fill_household(visit, pesel=wrong, birth=birth, surname="Wrzosek")
    await page.get_by_label("art. 7 pkt 4 — bezrobocie").check()
    await page.get_by_label("Kto zgłosił sytuację rodziny").select_option("self")
    await page.get_by_label("Rodzina wyraziła zgodę").check()
    await page.get_by_role("button", name="Otwórz sprawę").click()

    # The summary at the top links to the field; the message sits beside the field.
    summary = page.locator(".error-summary")
    await summary.wait_for()
    link = summary.get_by_role("link", name="Numer PESEL jest nieprawidłowy — sprawdź cyfry.")
    assert await link.get_attribute("href") == "#members-0-pesel"
    beside = page.locator("#members-0-pesel-blad")
    assert "Numer PESEL jest nieprawidłowy" in await beside.inner_text()
    field = page.locator("#members-0-pesel")
    assert await field.get_attribute("aria-invalid") == "true"
    assert await field.input_value() == wrong  # what was typed is kept
    assert await page.get_by_label("Nazwisko").input_value() == "Wrzosek"
    assert await page.get_by_label("art. 7 pkt 4 — bezrobocie").is_checked()
    assert "/sprawy/nowa" in page.url
    await visit.check("bledny pesel")

    await field.fill(good)
    await page.get_by_role("button", name="Otwórz sprawę").click()
    await page.wait_for_url(re.compile(r"/sprawy/[0-9a-f-]{36}$"))
    assert await page.locator("[role=status]").inner_text() == "Sprawa została otwarta."
    await visit.check("sprawa otwarta")


async def test_the_case_page_shows_the_timeline_and_the_case_closes_and_reopens(
    visit: Visit,
) -> None:
    birth = date(1979, 11, 2)
    await visit.sign_in_as(CASEWORKER)
    case_id = await open_a_case(
        visit, surname="Jabłońska", pesel=pesel_for(birth, "F", 1234), birth=birth
    )
    page = visit.page
    assert (await visit.heading()).startswith("Sprawa otwarta ")
    status = page.locator("dl .status")
    assert await status.inner_text() in ("otwarta", "w diagnozie")  # diagnosis may be quick
    timeline = page.locator("ol.timeline")
    first = timeline.locator("> li").first
    assert "Otwarcie sprawy" in await first.inner_text()
    assert "Powody (art. 7): ubóstwo" in await first.inner_text()
    assert "Zgłaszający: szkoła lub przedszkole" in await first.inner_text()
    # The household is hidden until a reason is given; then shown (and audited by intake).
    assert await page.get_by_text("Jabłońska").count() == 0
    await visit.check("strona sprawy")
    await page.get_by_role("button", name="Pokaż dane gospodarstwa").click()
    beside = await page.locator("#access_reason-blad").text_content()
    assert beside == "Błąd: Podaj powód wglądu w dane osobowe."
    # A Polish reason reaches intake's audit log as written (sent RFC 8187-encoded).
    await page.get_by_label("Powód wglądu w dane osobowe").fill("wizyta w środowisku")
    await page.get_by_role("button", name="Pokaż dane gospodarstwa").click()
    assert await page.get_by_role("cell", name="Halina Jabłońska", exact=True).count() == 1
    await visit.check("dane gospodarstwa")

    await visit.goto(f"/sprawy/{case_id}")
    await page.get_by_label("Data cofnięcia zgody").fill("2001-01-01")
    await page.get_by_role("button", name="Zapisz cofnięcie zgody").click()
    assert "między dniem zgody a dziś" in await page.locator("#withdrawn_on-blad").inner_text()
    await page.get_by_label("Data cofnięcia zgody").fill(date.today().isoformat())
    await page.get_by_role("button", name="Zapisz cofnięcie zgody").click()
    await page.wait_for_url(re.compile(f"/sprawy/{case_id}$"))
    assert "Cofnięcie zgody na udostępnienie danych w PZK" in await timeline.inner_text()
    assert "cofnięta" in await page.locator("dl").inner_text()
    await page.get_by_label("Wynik współpracy z rodziną").select_option("completed_partly")
    await page.get_by_role("button", name="Zamknij sprawę").click()
    await page.wait_for_url(re.compile(f"/sprawy/{case_id}$"))
    assert await page.locator("[role=status]").inner_text() == "Sprawa została zamknięta."
    assert await status.inner_text() == "zamknięta"
    last = timeline.locator("> li").last
    assert "Zamknięcie sprawy" in await last.inner_text()
    assert "Wynik: zakończona częściowo" in await last.inner_text()
    await visit.check("sprawa zamknieta")

    await page.get_by_role("button", name="Wznów sprawę").click()
    await page.wait_for_url(re.compile(f"/sprawy/{case_id}$"))
    # Its consent withdrawn, the reopened case waits for consent (with consent it would be
    # before the PZK again at once).
    assert await status.inner_text() == "wznowiona"
    assert "Wznowienie sprawy" in await timeline.locator("> li").last.inner_text()
    await visit.check("sprawa wznowiona")


async def test_another_gminas_case_is_a_clear_polish_page(visit: Visit) -> None:
    birth = date(1990, 6, 30)
    await visit.sign_in_as(CASEWORKER)
    case_id = await open_a_case(
        visit, surname="Sikorska", pesel=pesel_for(birth, "F", 77), birth=birth
    )
    await visit.page.get_by_role("button", name="Wyloguj się").click()
    await visit.sign_in_as(OTHER_CASEWORKER)
    response = await visit.page.goto(f"{visit.base_url}/sprawy/{case_id}")
    assert response is not None and response.status == 403
    assert await visit.heading() == "Brak dostępu"
    body = await visit.page.locator("main").inner_text()
    assert "Ta sprawa należy do innej gminy — nie masz do niej dostępu." in body
    assert "Traceback" not in await visit.page.content()
    await visit.check("brak dostepu")


async def test_a_person_is_found_by_surname_and_the_search_needs_a_reason(visit: Visit) -> None:
    birth = date(1972, 8, 8)
    await visit.sign_in_as(CASEWORKER)
    case_id = await open_a_case(
        visit, surname="Kołodziejczyk", pesel=pesel_for(birth, "F", 555), birth=birth
    )
    await visit.goto("/sprawy")
    page = visit.page
    await page.get_by_label("Nazwisko (lub jego początek)").fill("kolodziej")
    await page.get_by_role("button", name="Szukaj").click()
    assert "Podaj powód wyszukiwania." in await page.locator("#reason-blad").inner_text()
    assert await page.get_by_label("Nazwisko (lub jego początek)").input_value() == "kolodziej"
    await visit.check("wyszukiwanie bez powodu")
    await page.get_by_label("Powód wyszukiwania").fill("zgłoszenie telefoniczne")
    await page.get_by_role("button", name="Szukaj").click()
    results = page.locator("section", has=page.get_by_role("heading", name="Wyniki wyszukiwania"))
    row = results.get_by_role("row").filter(has_text="Halina Kołodziejczyk")
    assert await row.count() == 1
    assert await row.get_by_role("link").get_attribute("href") == f"/sprawy/{case_id}"
    assert page.url.endswith("/sprawy/szukaj")  # the terms went in the body
    await visit.check("wyniki wyszukiwania")
