"""The partnership (G-PZK) and its meetings in a real browser: the gmina's coordinator records
the agreement (a signing date in the future refused beside its field), a representative (an
e-mail refused beside its field), the animator and the diagnostic team; records a meeting that
agrees a family's plan; the caseworker then sees on the case's timeline that it was decided at
that meeting. Every page is checked with axe-core and photographed."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import date, timedelta

import pytest

from shared.settings import Settings
from tests.browser.conftest import Visit
from tests.browser.partners import PCPR, PERSON, PUP, demo_partners, open_case
from tests.stack import Api

CASEWORKER = "demo-anna-kowalczyk"  # the demo people's gmina, 0601032


@pytest.fixture(scope="module")
async def partners(stack: Settings) -> AsyncIterator[dict[str, str]]:
    api = Api(stack)
    yield await demo_partners(api)
    await api.http.aclose()


async def test_the_coordinator_keeps_the_partnership_and_its_meeting_reaches_the_timeline(
    visit: Visit, api: Api, partners: dict[str, str]
) -> None:
    case_id = await open_case(api, surname="Spotkaniowska")
    page = visit.page
    await visit.sign_in_as(PERSON["coordinator"]["subject"], then="/partnerstwo")
    assert await visit.heading() == "Partnerstwo (G-PZK)"
    await visit.check("partnerstwo")

    # The agreement: a signing day in the future first, refused beside its field.
    form = page.locator("form[action='/partnerstwo/porozumienie']")
    tomorrow = date.today() + timedelta(days=1)
    await form.get_by_label("Dzień podpisania").fill(tomorrow.isoformat())
    await form.get_by_label(PCPR).check()
    await form.get_by_label(PUP).check()
    await form.get_by_label("Dokumenty (sygnatury, po jednej w wierszu)").fill(
        "Porozumienie nr 7/2026"
    )
    await form.get_by_role("button", name="Zapisz porozumienie").click()
    assert "Porozumienie nie może być podpisane w przyszłości." in (
        await page.locator("#signed_on-blad").inner_text()
    )
    assert await page.locator(".error-summary a[href='#signed_on']").count() == 1
    await visit.check("porozumienie z bledem")
    form = page.locator("form[action='/partnerstwo/porozumienie']")
    assert await form.get_by_label(PCPR).is_checked()  # what was chosen is kept
    signed = date.today() - timedelta(days=30)
    await form.get_by_label("Dzień podpisania").fill(signed.isoformat())
    await form.get_by_role("button", name="Zapisz porozumienie").click()
    await page.wait_for_url(re.compile("/partnerstwo\\?zapisano=porozumienie$"))
    assert await page.get_by_role("status").inner_text() == "Porozumienie zostało zapisane."
    assert "Porozumienie nr 7/2026" in await page.locator("#tabela-porozumien").inner_text()
    await visit.check("porozumienie zapisane")

    # A representative: an e-mail that is none first.
    form = page.locator("form[action='/partnerstwo/przedstawiciele']")
    await form.get_by_label("Instytucja członkowska").select_option(label=PCPR)
    await form.get_by_label("Imię i nazwisko").fill("Halina Zawadzka")
    await form.get_by_label("Funkcja").fill("dyrektorka PCPR")
    await form.get_by_label("Adres e-mail").fill("halina.zawadzka")
    # the browser's own check of type=email would stop the form before the service sees it
    await page.evaluate("document.getElementById('email').type = 'text'")
    await form.get_by_role("button", name="Dodaj przedstawiciela").click()
    assert "Podaj adres e-mail" in await page.locator("#email-blad").inner_text()
    await visit.check("przedstawiciel z bledem")
    form = page.locator("form[action='/partnerstwo/przedstawiciele']")
    await form.get_by_label("Adres e-mail").fill("h.zawadzka@pcpr.example.pl")
    await form.get_by_role("button", name="Dodaj przedstawiciela").click()
    await page.wait_for_url(re.compile("zapisano=przedstawiciel$"))
    assert "Halina Zawadzka" in await page.locator("#tabela-przedstawicieli").inner_text()

    # The animator, and the diagnostic team.
    form = page.locator("form[action='/partnerstwo/role']")
    await form.get_by_label("Rola").select_option("animator")
    await form.get_by_label("Instytucja").select_option(label=PCPR)
    await form.get_by_role("button", name="Przypisz rolę").click()
    await page.wait_for_url(re.compile("zapisano=rola$"))
    form = page.locator("form[action='/partnerstwo/zespol-diagnostyczny']")
    await form.get_by_label(PCPR).check()
    await form.get_by_role("button", name="Zapisz skład zespołu").click()
    await page.wait_for_url(re.compile("zapisano=zespol$"))
    assert PCPR in await page.locator("#zespol-diagnostyczny").inner_text()
    roles = await page.locator("section[aria-labelledby=role-i-zespol]").inner_text()
    assert f"animator partnerstwa\n{PCPR}" in roles
    await visit.check("role i zespol")

    # The meeting: who attended, the case, the plan agreed.
    await page.get_by_role("link", name="Spotkania zespołu").click()
    assert await visit.heading() == "Spotkania zespołu"
    await visit.check("spotkania")
    form = page.locator("form[action='/spotkania']")
    held = date.today() - timedelta(days=2)
    await form.get_by_label("Dzień spotkania").fill(held.isoformat())
    await form.get_by_label("Porządek spotkania").fill("1. Sytuacja rodziny\n2. Plan")
    await form.get_by_label(PCPR).check()
    await form.get_by_label(PUP).check()
    await form.get_by_label("Rodzaj ustalenia").select_option("plan_agreed")
    await form.get_by_role("button", name="Zapisz spotkanie").click()
    # a decision about a case needs the case, said beside its field
    assert "podaj jej numer" in await page.locator("#decisions-0-case_id-blad").inner_text()
    await visit.check("spotkanie z bledem")
    form = page.locator("form[action='/spotkania']")
    await form.get_by_label("Numer sprawy, której dotyczy").fill(case_id)
    await form.get_by_label("Protokół").fill("Zespół uzgodnił plan z rodziną.")
    await form.get_by_role("button", name="Zapisz spotkanie").click()
    await page.wait_for_url(re.compile("/spotkania/[0-9a-f-]+\\?zapisano=spotkanie$"))
    day = held.strftime("%d.%m.%Y")
    assert await visit.heading() == f"Spotkanie zespołu z dnia {day}"
    assert "zespół uzgodnił plan (IPW)" in await page.locator("#ustalenia").inner_text()
    await visit.check("spotkanie zapisane")

    # The caseworker: the decision on the case's timeline.
    await page.get_by_role("button", name="Wyloguj się").click()
    await visit.sign_in_as(CASEWORKER, then=f"/sprawy/{case_id}")
    timeline = await page.locator("ol.timeline").inner_text()
    assert "Zespół uzgodnił plan (IPW)" in timeline
    assert f"Ustalono na spotkaniu zespołu PZK z dnia {day}" in timeline
    await visit.check("przebieg sprawy z ustaleniem")
