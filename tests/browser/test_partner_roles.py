"""The partner roles' path in a real browser, after the caseworker's: a member of the PZK adds
the team's view, the coordinator completes the diagnosis, the labour office accepts the referral,
reads the family's contact with a reason and records the support given, and the reports move.
Every page on the way is checked with axe-core and photographed."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Download, Page

from kooperacja.demo_data import pesel_for
from shared.auth import Role
from shared.settings import Settings
from tests.browser.conftest import Visit
from tests.browser.partners import (
    GMINA,
    PCPR,
    PERSON,
    PUP,
    demo_partners,
    open_case,
    routed_to_pup,
)
from tests.browser.test_caseworker import open_a_case
from tests.stack import Api

SEEDED = 8


@pytest.fixture(scope="module")
async def partners(stack: Settings) -> AsyncIterator[dict[str, str]]:
    api = Api(stack)
    yield await demo_partners(api)
    await api.http.aclose()


async def switch_to(visit: Visit, role: str, then: str = "/") -> None:
    """Sign out whoever is signed in (when someone is), then sign in as the demo person."""
    sign_out = visit.page.get_by_role("button", name="Wyloguj się")
    if await sign_out.count():
        await sign_out.click()
        await visit.page.wait_for_url("**/logowanie?wylogowano=1")
    await visit.sign_in_as(PERSON[role]["subject"], then=then)


async def figures(page: Page) -> dict[str, str]:
    """The indicators table's total row as shown: header → text ("ukryte" when withheld)."""
    headers = await page.locator("table.figures thead th").all_inner_texts()
    cells = await page.locator("table.figures tr.total td").all_inner_texts()
    return dict(zip(headers[1:], (c.strip() for c in cells), strict=True))


async def report_until(visit: Visit, path: str, changed: Any, what: str) -> dict[str, str]:
    """Reload the report until `changed(figures)` holds: reporting counts asynchronously."""
    for _ in range(40):
        await visit.goto(path)
        shown = await figures(visit.page)
        if shown and changed(shown):
            return shown
        await visit.page.wait_for_timeout(250)
    raise AssertionError(f"the report never showed {what}: {shown}")


async def enough_for_the_analyst(api: Api) -> None:
    """Families elsewhere in the region, counted before the path starts: the analyst's region
    total is then large enough to be shown, and its change can be seen."""
    elsewhere = "0602032"  # Biłgoraj (gmina wiejska): no other test's
    for _ in range(SEEDED):
        await open_case(api, surname="Regionalna", gmina=elsewhere, consent=False)
    reader = api.as_(Role.COORDINATOR, gmina=elsewhere)

    async def counted() -> bool:
        r = await api.call("GET", "reporting", "/reports/summary", reader)
        return r.status_code == 200 and r.json()["total"]["cases_opened"] >= SEEDED

    await api.eventually(counted, what="reporting to count the region's families")


async def downloaded(download: Download) -> bytes:
    return await asyncio.to_thread(Path(await download.path()).read_bytes)


def count(text: str) -> int:
    return int(text.replace("\u00a0", "").replace(" ", ""))


async def test_team_member_assesses_coordinator_completes_institution_answers_reports_move(
    visit: Visit, api: Api, partners: dict[str, str]
) -> None:
    page = visit.page
    today = date.today().isoformat()
    own_report = f"/raporty?gmina={GMINA}&grupowanie=gmina"
    region_report = f"/raporty?region=06&grupowanie=region&od={today}&do={today}"
    await enough_for_the_analyst(api)

    # Before: the gmina's coordinator reads their gmina in full; the analyst the region.
    await switch_to(visit, "coordinator")
    assert page.url.endswith("/pulpit") and await visit.heading() == "Pulpit koordynatora"
    await visit.check("pulpit koordynatora")
    await visit.goto(own_report)
    before = await figures(page)
    await visit.check("raport koordynatora przed")
    await switch_to(visit, "analyst")
    assert page.url.endswith("/raporty")
    await visit.goto(region_report)
    analyst_before = await figures(page)
    await visit.check("raport analityka przed")

    # The caseworker opens the family's case through the form, with consent.
    await switch_to(visit, "caseworker")
    birth = date(1986, 4, 17)
    case_id = await open_a_case(
        visit, surname="Kwiatkowska-Ścisła", pesel=pesel_for(birth, "F", 2468), birth=birth
    )
    await visit.check("sprawa otwarta")
    coordinator = api.as_(Role.COORDINATOR, gmina=GMINA)
    diagnosis_id = (await api.diagnosis_of(case_id, coordinator))["diagnosis_id"]

    # A member of the PZK (PCPR) finds the diagnosis waiting and adds the team's view.
    await switch_to(visit, "team_member")
    assert page.url.endswith("/diagnozy")
    assert await visit.heading() == "Diagnozy do uzupełnienia"
    row = page.locator("tr", has=page.locator(f"a[href='/diagnozy/{diagnosis_id}']"))
    assert await row.locator("td").nth(4).inner_text() == "jeszcze nie"
    await visit.check("diagnozy do uzupelnienia")
    await page.locator(f"a[href='/diagnozy/{diagnosis_id}']").click()
    assert await visit.heading() == "Diagnoza rodziny — Biała Podlaska"
    await visit.check("diagnoza")
    # Sent without a need area: the error is named at the top and beside the field.
    await page.get_by_label("Rodzaj wsparcia 1").select_option(label="doradztwo zawodowe")
    await page.get_by_role("button", name="Dodaj ocenę").click()
    summary = page.locator(".error-summary")
    assert await summary.locator("a[href='#need_area']").inner_text() == "To pole jest wymagane."
    assert await summary.locator("a[href='#severity']").inner_text() == "To pole jest wymagane."
    assert await page.locator("#need_area-blad").text_content() == "Błąd: To pole jest wymagane."
    assert await page.locator("#need_area").get_attribute("aria-invalid") == "true"
    # what was chosen is kept
    assert await page.get_by_label("Rodzaj wsparcia 1").input_value() == "vocational_counselling"
    await visit.check("ocena z bledem")
    await page.get_by_label("Obszar potrzeb").select_option(label="zatrudnienie")
    await page.get_by_label("2 — średnia").check()
    await page.get_by_label("Notatka (widzi ją tylko zespół)").fill("Matka szuka pracy.")
    await page.get_by_label("Pilność wsparcia 1").select_option(label="1 — pilne")
    await page.get_by_role("button", name="Dodaj ocenę").click()
    assert await page.get_by_role("status").inner_text() == "Ocena została dodana do diagnozy."
    assessment = page.locator(".assessments li").last
    assert PCPR in await assessment.inner_text()
    assert "zatrudnienie, waga średnia" in await assessment.inner_text()
    needs = await page.locator("section[aria-labelledby=rekomendacje] tbody tr").all_inner_texts()
    assert needs == ["doradztwo zawodowe\tzatrudnienie\t1"]
    await visit.check("ocena dodana")
    # a member may not complete: no button for them
    assert await page.get_by_role("button", name="Zakończ diagnozę").count() == 0

    # The coordinator sees it waiting on the dashboard and completes it.
    await switch_to(visit, "coordinator")
    waiting = page.locator(f"section[aria-labelledby=czekajace] a[href='/diagnozy/{diagnosis_id}']")
    assert await waiting.count() == 1
    team = await page.locator("section[aria-labelledby=zespol]").inner_text()
    assert "instytucje w zespole" in team or "instytucji w zespole" in team
    await waiting.click()
    await visit.check("diagnoza koordynatora")
    await page.get_by_role("button", name="Zakończ diagnozę").click()
    assert await page.get_by_role("status").inner_text() == (
        "Diagnoza została zakończona. Rekomendacje trafią do instytucji."
    )
    assert await page.locator(".status").first.inner_text() == "zakończona"
    await visit.check("diagnoza zakonczona")
    # ...and agrees the plan (IPW) with the family: one goal per need area, its support checked.
    form = page.locator("section[aria-labelledby=uzgodnij-plan]")
    assert await form.get_by_role("heading").inner_text() == "Uzgodnij plan (IPW)"
    support = form.get_by_label("doradztwo zawodowe (pilność 1)")
    assert await support.is_checked()
    assert await form.get_by_label("Data uzgodnienia planu z rodziną").input_value() != ""
    responsible = form.get_by_label("Kto odpowiada za cel (zatrudnienie)")
    await responsible.select_option(label=PUP)
    # a review after the due date is refused beside its field, the form keeps what was sent
    due = form.get_by_label("Termin realizacji celu (zatrudnienie)")
    review = form.get_by_label("Data przeglądu celu (zatrudnienie)")
    await review.fill(await due.input_value())
    await due.fill("2000-01-01")
    await form.get_by_label("Opis celu (zatrudnienie)").fill("Podjęcie pracy przez matkę.")
    await form.get_by_role("button", name="Uzgodnij plan").click()
    form = page.locator("section[aria-labelledby=uzgodnij-plan]")
    shown = await form.locator(".field-error").all_inner_texts()
    assert [t.replace("Błąd:", "").strip() for t in shown] == [
        "Termin realizacji nie może być wcześniejszy niż uzgodnienie planu."
    ]
    assert await form.locator(".has-error #goals-0-due_on").count() == 1
    await visit.check("plan z bledem")
    await form.get_by_label("Termin realizacji celu (zatrudnienie)").fill(
        await form.get_by_label("Data przeglądu celu (zatrudnienie)").input_value()
    )
    assert await form.get_by_label("Opis celu (zatrudnienie)").input_value() == (
        "Podjęcie pracy przez matkę."
    )
    await form.get_by_role("button", name="Uzgodnij plan").click()
    assert await page.get_by_role("status").inner_text() == (
        "Plan (IPW) został uzgodniony. Wsparcie trafi do instytucji."
    )
    goals = await page.locator("section[aria-labelledby=plan] tbody tr").all_inner_texts()
    assert len(goals) == 1
    cells = goals[0].split("\t")
    assert cells[:4] == ["zatrudnienie", "Podjęcie pracy przez matkę.", "doradztwo zawodowe", PUP]
    assert await page.locator("section[aria-labelledby=uzgodnij-plan]").count() == 0
    await visit.check("plan uzgodniony")
    await visit.goto("/pulpit/zespol")
    members = await page.locator("tbody tr td:first-child").all_inner_texts()
    assert {PCPR, PUP} <= set(members)
    await visit.check("zespol pzk")

    # The labour office: the referral in its inbox, accepted, the family's contact, done.
    referral_id = await routed_to_pup(api, case_id, partners)
    await switch_to(visit, "institution_staff")
    assert page.url.endswith("/skierowania")
    line = page.locator("tr", has=page.locator(f"a[href='/skierowania/{referral_id}']"))
    cells = await line.locator("td").all_inner_texts()
    assert cells[:3] == ["doradztwo zawodowe", "Biała Podlaska", "przydzielone"]
    assert cells[3].startswith("przyjęcie do ")
    await visit.check("skierowania")
    await page.locator(f"a[href='/skierowania/{referral_id}']").click()
    assert await visit.heading() == "Skierowanie: doradztwo zawodowe"
    # no family data before the referral is accepted
    assert await page.get_by_role("button", name="Pokaż dane rodziny").count() == 0
    await visit.check("skierowanie")
    await page.get_by_role("button", name="Przyjmij skierowanie").click()
    assert await page.get_by_role("status").inner_text() == "Skierowanie zostało przyjęte."
    assert await page.locator(".status").inner_text() == "przyjęte"
    await visit.check("skierowanie przyjete")
    await page.get_by_label("Powód wglądu w dane").fill("umówienie pierwszej wizyty w PUP")
    await page.get_by_role("button", name="Pokaż dane rodziny").click()
    persons = await page.locator("section[aria-labelledby=dane-rodziny] tbody tr").all_inner_texts()
    assert [p.split("\t")[0] for p in persons] == ["Halina Kwiatkowska-Ścisła"]
    await visit.check("dane rodziny")
    # Recorded without an outcome: the error is by the field.
    await page.get_by_role("button", name="Zapisz realizację").click()
    assert await page.locator(".error-summary a[href='#outcome']").count() == 1
    await visit.check("realizacja z bledem")
    await page.get_by_label("cel osiągnięty częściowo").check()
    await page.get_by_role("button", name="Zapisz realizację").click()
    assert await page.get_by_role("status").inner_text() == "Realizacja wsparcia została zapisana."
    assert await page.locator(".status").inner_text() == "zrealizowane"
    facts = await page.locator("dl.facts").inner_text()
    assert "cel osiągnięty częściowo" in facts
    await visit.check("skierowanie zrealizowane")
    # the family's data is no longer offered once the support is done
    assert await page.get_by_role("button", name="Pokaż dane rodziny").count() == 0

    # The caseworker sees the whole path on the case's timeline: the diagnosis with its needs
    # and recommendations, the plan, the referral's states and outcome; and closes the case.
    await switch_to(visit, "caseworker", then=f"/sprawy/{case_id}")
    timeline = page.locator("ol.timeline")
    entries = await timeline.locator("> li").all_inner_texts()
    titles = [e.split("\n")[0].split(" — ", 1)[1] for e in entries]
    path = [
        "Otwarcie sprawy",
        f"Ocena w diagnozie PZK: {PCPR}",
        "Diagnoza PZK zakończona",
        "Indywidualny Plan Wsparcia (IPW) uzgodniony",
        "Skierowanie „doradztwo zawodowe”: przydzielone",
        "Skierowanie „doradztwo zawodowe”: przyjęte",
        "Skierowanie „doradztwo zawodowe”: zrealizowane",
    ]
    assert [t for t in titles if t in path] == path, titles
    completed = entries[titles.index("Diagnoza PZK zakończona")]
    assert "Potrzeba: zatrudnienie (waga: średnia)" in completed
    assert "Rekomendacja: doradztwo zawodowe (priorytet 1)" in completed
    assigned = entries[titles.index("Skierowanie „doradztwo zawodowe”: przydzielone")]
    assert f"Instytucja: {PUP}" in assigned
    done = entries[titles.index("Skierowanie „doradztwo zawodowe”: zrealizowane")]
    assert "Wynik: cel osiągnięty częściowo" in done
    assert await page.locator("dl .status").inner_text() == "we wsparciu"
    await visit.check("przebieg sprawy")
    await page.get_by_label("Wynik współpracy z rodziną").select_option("completed_partly")
    await page.get_by_role("button", name="Zamknij sprawę").click()
    await page.wait_for_url(re.compile(f"/sprawy/{case_id}$"))
    assert await page.locator("dl .status").inner_text() == "zamknięta"
    last = await timeline.locator("> li").last.inner_text()
    assert "Zamknięcie sprawy" in last and "Wynik: zakończona częściowo" in last
    await visit.check("sprawa zamknieta")

    # The coordinator's figures moved by exactly this family and its referral.
    await switch_to(visit, "coordinator")
    after = await report_until(
        visit,
        own_report,
        lambda f: count(f["przyjęte"]) > count(before["przyjęte"]),
        "the referral accepted",
    )
    assert count(after["rodziny objęte wsparciem"]) == count(before["rodziny objęte wsparciem"]) + 1
    assert count(after["skierowania"]) == count(before["skierowania"]) + 1
    assert count(after["przyjęte"]) == count(before["przyjęte"]) + 1
    await visit.check("raport koordynatora po")

    # The analyst's region-wide figures for today are reporting's protected answer to the
    # analyst now that the family is counted (perturbed by the cell key, so a +1 need not show
    # as a change): the page shows exactly what the analyst's own API call gives, withheld
    # figures marked, never a bare 0 for one.
    await switch_to(visit, "analyst")
    await visit.goto(region_report)
    analyst_after = await figures(page)
    answer = await api.call(
        "GET", "reporting", "/reports/indicators", api.as_(Role.ANALYST, region="06"),
        params={"region": "06", "by": "region", "from": today, "to": today},
    )  # fmt: skip
    assert answer.status_code == 200, answer.text
    total = answer.json()["total"]
    for field, header in (
        ("cases_opened", "rodziny objęte wsparciem"),
        ("referrals", "skierowania"),
        ("referrals_accepted", "przyjęte"),
    ):
        shown = analyst_after[header]
        if total[field] is None:
            assert shown == "ukryte", (header, shown)
        else:
            assert count(shown) == total[field], (header, shown, total[field])
    assert set(analyst_before) == set(analyst_after)
    await visit.check("raport analityka po")
    charts = page.locator("figure.chart")
    assert await charts.count() == 4
    for i in range(4):
        figure = charts.nth(i)
        assert await figure.locator("svg[role=img] title").count() == 1
        assert await figure.locator("table caption").inner_text() != ""

    # Downloads work from the browser, made by reporting for this person.
    async with page.expect_download() as csv_download:
        await page.get_by_role("link", name="CSV — Wskaźniki realizacji modelu").click()
    text = (await downloaded(await csv_download.value)).decode("utf-8-sig")
    assert text.splitlines()[0].startswith("kod;nazwa;")
    assert (await csv_download.value).suggested_filename == "kooperacja_indicators.csv"
    async with page.expect_download() as xlsx_download:
        await page.get_by_role("link", name="XLSX — Wsparcie według rodzaju").click()
    xlsx = await downloaded(await xlsx_download.value)
    assert xlsx[:2] == b"PK"
    # The family's name was on a page, never in an address.
    assert visit.urls and not [u for u in visit.urls if "Kwiatkowsk" in u or "%C5%9A" in u]
