"""The individual support plan (IPW) after its agreement, in a real browser: the coordinator
revises it (a support added, a review date refused beside its field), reviews a goal (its
result and a note), and the plan's history keeps each version; the caseworker reads the plan
and sees the revision and the review on the case's timeline. Every page is checked with
axe-core and photographed."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import date, timedelta

import pytest

from shared.auth import Role
from shared.settings import Settings
from tests.browser.conftest import Visit
from tests.browser.partners import GMINA, PERSON, demo_partners, open_case, referral_to_pup
from tests.stack import Api

CASEWORKER = "demo-anna-kowalczyk"  # the demo people's gmina, 0601032


@pytest.fixture(scope="module")
async def partners(stack: Settings) -> AsyncIterator[dict[str, str]]:
    api = Api(stack)
    yield await demo_partners(api)
    await api.http.aclose()


async def test_the_coordinator_revises_the_plan_and_reviews_a_goal_the_history_is_kept(
    visit: Visit, api: Api, partners: dict[str, str]
) -> None:
    # A family's plan agreed through the APIs (the partner roles' test agrees one through the
    # form); then the team recommends training too, which no goal holds yet.
    case_id = await open_case(api, surname="Planowska")
    await referral_to_pup(api, case_id, partners)
    coordinator = api.as_(Role.COORDINATOR, gmina=GMINA)
    diagnosis_id = (await api.diagnosis_of(case_id, coordinator))["diagnosis_id"]
    r = await api.call(
        "POST",
        "diagnosis",
        f"/diagnoses/{diagnosis_id}/revisions",
        coordinator,
        json={"add": [{"support_type": "training", "need_area": "employment", "priority": 2}]},
    )
    assert r.status_code == 200, r.text

    page = visit.page
    await visit.sign_in_as(PERSON["coordinator"]["subject"], then=f"/diagnozy/{diagnosis_id}")
    await page.get_by_role("link", name="Plan (IPW): przeglądy celów i historia zmian").click()
    assert await visit.heading() == "Indywidualny Plan Wsparcia (IPW) — Biała Podlaska"
    assert (
        "jeszcze bez przeglądu" in await page.locator("section[aria-labelledby=cele]").inner_text()
    )
    await visit.check("plan")

    # The revision: training added to the employment goal; a review after the due date first.
    await page.get_by_role("link", name="Zmień plan (rewizja)").click()
    assert await visit.heading() == "Zmiana planu (IPW)"
    await visit.check("rewizja planu")
    goal = page.locator("fieldset.member").first
    assert await goal.get_by_label("Cel zostaje w planie (zatrudnienie)").is_checked()
    assert await goal.get_by_label("doradztwo zawodowe (zatrudnienie").is_checked()
    training = goal.get_by_label("szkolenie zawodowe (zatrudnienie")
    assert not await training.is_checked()
    await training.check()
    due = goal.get_by_label("Termin realizacji celu (zatrudnienie)")
    review = goal.get_by_label("Data przeglądu celu (zatrudnienie)")
    later = date.fromisoformat(await due.input_value()) + timedelta(days=1)
    await review.fill(later.isoformat())
    await page.get_by_role("button", name="Zapisz zmiany planu").click()
    assert "Przegląd musi przypadać między uzgodnieniem planu a terminem." in (
        await page.locator("#goals-0-review_on-blad").inner_text()
    )
    link = page.locator(".error-summary a[href='#goals-0-review_on']")
    assert await link.count() == 1
    goal = page.locator("fieldset.member").first
    assert await goal.get_by_label("szkolenie zawodowe (zatrudnienie").is_checked()  # kept
    await visit.check("rewizja z bledem")
    await goal.get_by_label("Data przeglądu celu (zatrudnienie)").fill(date.today().isoformat())
    await page.get_by_role("button", name="Zapisz zmiany planu").click()
    await page.wait_for_url(re.compile(f"/diagnozy/{diagnosis_id}/plan\\?zapisano=rewizja$"))
    assert (await page.get_by_role("status").inner_text()).startswith(
        "Zmiany planu zostały zapisane."
    )
    facts = await page.locator("dl.facts").inner_text()
    assert "Wersja planu\n2 (zmieniany 1 raz)" in facts
    goals = await page.locator("section[aria-labelledby=cele] tbody tr").all_inner_texts()
    assert "doradztwo zawodowe, szkolenie zawodowe" in goals[0]
    history = page.locator("section[aria-labelledby=historia] caption")
    captions = await history.all_inner_texts()
    assert [c.split(" z ")[0] for c in captions] == ["Wersja 2", "Wersja 1"]
    assert "rewizja" in captions[0] and "uzgodnienie z rodziną" in captions[1]
    await visit.check("plan po rewizji")

    # The goal's review: the result is required, beside its field; then recorded with a note.
    await page.get_by_role("link", name="Zapisz przegląd celu: zatrudnienie").click()
    assert await visit.heading() == "Przegląd celu: zatrudnienie"
    await page.get_by_label("Uwagi z przeglądu (opcjonalnie)").fill("Matka jest na szkoleniu.")
    await page.get_by_role("button", name="Zapisz przegląd").click()
    await page.locator(".error-summary").wait_for()
    assert await page.locator("#result-blad").text_content() == "Błąd: To pole jest wymagane."
    note = page.get_by_label("Uwagi z przeglądu (opcjonalnie)")
    assert await note.input_value() == "Matka jest na szkoleniu."
    await visit.check("przeglad z bledem")
    await page.get_by_label("cel w trakcie realizacji").check()
    await page.get_by_role("button", name="Zapisz przegląd").click()
    await page.wait_for_url(re.compile("zapisano=przeglad$"))
    assert await page.get_by_role("status").inner_text() == "Przegląd celu został zapisany."
    [row] = await page.locator("section[aria-labelledby=przeglady] tbody tr").all_inner_texts()
    assert row.split("\t")[1:4] == [
        "zatrudnienie",
        "cel w trakcie realizacji",
        "Matka jest na szkoleniu.",
    ]
    goals = await page.locator("section[aria-labelledby=cele] tbody tr").all_inner_texts()
    assert "cel w trakcie realizacji" in goals[0]
    await visit.check("przeglad zapisany")

    # The caseworker: the revision and the review on the timeline, the plan readable.
    await page.get_by_role("button", name="Wyloguj się").click()
    await visit.sign_in_as(CASEWORKER, then=f"/sprawy/{case_id}")
    timeline = await page.locator("ol.timeline").inner_text()
    assert "Plan (IPW) zmieniony — wersja 2" in timeline
    assert "Dodane wsparcie: szkolenie zawodowe" in timeline
    assert "Przegląd celu planu (zatrudnienie): cel w trakcie realizacji" in timeline
    await visit.check("przebieg sprawy z planem")
    await page.get_by_role("link", name="Plan (IPW)").click()
    assert await visit.heading() == "Indywidualny Plan Wsparcia (IPW) — Biała Podlaska"
    assert await page.get_by_role("link", name="Zmień plan (rewizja)").count() == 0
    assert await page.get_by_role("link", name=re.compile("^Zapisz przegląd")).count() == 0
    await visit.check("plan dla pracownika socjalnego")
