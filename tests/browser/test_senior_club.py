"""The senior club's path in a real browser: the coordinator registers a club of the gmina's
team and records its sessions, the caseworker marks which of a family's members take part (on
the case page, after giving a reason), the coordinator sees the participants counted and the
club's sessions, hours and participants in "Zajęcia grupowe i ewaluacja". Then the team's
survey: a round opened, answered once by a member (a question left out is named), closed with
too few answers to show. Every page on the way is checked with axe-core and photographed."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from datetime import date, timedelta

import pytest

from shared.auth import Role
from shared.settings import Settings
from tests.browser.conftest import Visit
from tests.browser.partners import GMINA, PCPR, PERSON, demo_partners, open_case
from tests.stack import Api

CASEWORKER = "demo-anna-kowalczyk"  # gmina 0601032
CLUB = "Klub Seniora w Kobylinie-Borzymach"


@pytest.fixture(scope="module")
async def family(stack: Settings) -> AsyncIterator[str]:
    api = Api(stack)
    await demo_partners(api)
    yield await open_case(api, surname="Seniorska")
    await api.http.aclose()


async def switch_to(visit: Visit, subject: str, then: str) -> None:
    sign_out = visit.page.get_by_role("button", name="Wyloguj się")
    if await sign_out.count():
        await sign_out.click()
        await visit.page.wait_for_url("**/logowanie?wylogowano=1")
    await visit.sign_in_as(subject, then=then)


async def cell(visit: Visit, table: str, row: str, column: int) -> str:
    """The text of a table's cell: the row whose header starts with `row`, the column-th cell."""
    line = visit.page.locator(f"#{table} tbody tr", has=visit.page.locator("th", has_text=row))
    return (await line.first.locator("td").nth(column).inner_text()).strip()


async def test_a_senior_club_with_sessions_and_participants_counted_in_reporting(
    visit: Visit, family: str
) -> None:
    page = visit.page
    coordinator = PERSON["coordinator"]["subject"]
    await visit.sign_in_as(coordinator, then="/zajecia")
    assert await visit.heading() == "Zajęcia grupowe"
    await visit.check("zajecia")
    await page.get_by_label("Rodzaj zajęć").select_option("club")
    await page.get_by_label("Nazwa").fill(CLUB)
    await page.get_by_label("Początek zajęć").fill((date.today() - timedelta(days=30)).isoformat())
    await page.get_by_role("button", name="Zapisz zajęcia").click()
    await page.wait_for_url(re.compile(r"/zajecia/[0-9a-f-]{36}\?zapisano=zajecia$"))
    club = page.url.split("/zajecia/")[1].split("?")[0]
    assert await visit.heading() == CLUB
    await visit.check("nowe zajecia")

    # a session before the club started is refused beside its field
    await page.get_by_label("Dzień spotkania").fill((date.today() - timedelta(days=40)).isoformat())
    await page.get_by_role("button", name="Zapisz spotkanie").click()
    assert "wcześniejsze niż początek zajęć" in await page.locator(".error-summary").inner_text()
    await visit.check("spotkanie przed poczatkiem")
    for days_ago, hours in ((21, "1,5"), (14, "2")):
        await page.get_by_label("Dzień spotkania").fill(
            (date.today() - timedelta(days=days_ago)).isoformat()
        )
        await page.get_by_label("Czas spotkania (godziny)").fill(hours)
        await page.get_by_role("button", name="Zapisz spotkanie").click()
        await page.wait_for_url(re.compile(r"\?zapisano=spotkanie$"))
    assert (await page.locator("#liczba-spotkan").inner_text()).startswith("2 (3,5 godz.)")
    await visit.check("spotkania")

    # the caseworker: the family's senior joins the club, on the case page
    await switch_to(visit, CASEWORKER, f"/sprawy/{family}")
    await page.get_by_label("Powód wglądu w dane osobowe").fill("zapis na zajęcia klubu")
    await page.get_by_role("button", name="Pokaż dane gospodarstwa").click()
    club_form = page.locator(f"#zajecia-{club}")
    for _ in range(30):  # intake learns of the club from its event
        if await club_form.count():
            break
        await asyncio.sleep(0.5)
        await page.get_by_label("Powód wglądu w dane osobowe").fill("zapis na zajęcia klubu")
        await page.get_by_role("button", name="Pokaż dane gospodarstwa").click()
    await visit.check("sprawa z zajeciami")
    await club_form.get_by_label("Zofia Seniorska").check()
    await club_form.locator("xpath=..").get_by_role("button", name="Zapisz uczestników").click()
    assert "Uczestnicy zajęć zostali zapisani" in await page.locator(".notice").inner_text()
    await visit.check("uczestnicy zapisani")

    # the coordinator: one participant, and the club in the reports
    await switch_to(visit, coordinator, f"/zajecia/{club}")
    assert (await page.locator("#liczba-uczestnikow").inner_text()).strip() == "1"
    await visit.check("zajecia z uczestnikiem")
    shown = {}
    for _ in range(40):  # reporting counts asynchronously
        await visit.goto("/raporty/ewaluacja")
        shown = {
            "sessions": await cell(visit, "raport-activity_sessions", "ogółem", 0),
            "hours": await cell(visit, "raport-activity_sessions", "ogółem", 5),
            "participants": await cell(visit, "raport-activity_participants", "ogółem", 0),
        }
        if shown == {"sessions": "2", "hours": "3,5", "participants": "1"}:
            break
        await asyncio.sleep(0.5)
    assert shown == {"sessions": "2", "hours": "3,5", "participants": "1"}
    assert "140 ze 172" in await page.locator(".reference").inner_text()
    await visit.check("raport zajec i ewaluacji")


@pytest.fixture(scope="module")
async def representative(stack: Settings) -> AsyncIterator[None]:
    """A representative of the PCPR on the gmina's team: whom a survey round asks."""
    api = Api(stack)
    ids = await demo_partners(api)
    r = await api.call(
        "POST", "partnership", f"/partnerships/{GMINA}/representatives",
        api.as_(Role.COORDINATOR, gmina=GMINA),
        json={"institution_id": ids[PCPR], "name": "Ewa Sadowska", "function": "psycholożka",
              "email": "e.sadowska@pcpr.example.pl"},
    )  # fmt: skip
    assert r.status_code == 201, r.text
    yield
    await api.http.aclose()


async def test_a_survey_round_answered_once_and_withheld_when_few_answered(
    visit: Visit, representative: None
) -> None:
    page = visit.page
    coordinator = PERSON["coordinator"]["subject"]
    await visit.sign_in_as(coordinator, then="/ankieta")
    assert await visit.heading() == "Ankieta zespołu"
    await visit.check("ankieta")
    await page.get_by_role("button", name="Otwórz rundę").click()
    await page.wait_for_url("**/ankieta?zapisano=runda")
    await visit.check("runda otwarta")

    await switch_to(visit, PERSON["team_member"]["subject"], "/ankieta")
    questions = page.locator("form fieldset")
    # one question left out: the error names it, beside its field
    for i in range(await questions.count() - 1):
        await questions.nth(i).get_by_label("4 — raczej się zgadzam").check()
    await page.get_by_role("button", name="Wyślij odpowiedzi").click()
    assert "Odpowiedz na każde pytanie" in await page.locator(".error-summary").inner_text()
    await visit.check("ankieta bez odpowiedzi")
    await questions.last.get_by_label("5 — zdecydowanie się zgadzam").check()
    await page.get_by_role("button", name="Wyślij odpowiedzi").click()
    await page.wait_for_url("**/ankieta?zapisano=odpowiedz")
    assert "już zapisane" in await page.locator("main").inner_text()
    assert not await page.get_by_role("button", name="Wyślij odpowiedzi").count()
    await visit.check("ankieta wyslana")

    await switch_to(visit, coordinator, "/ankieta")
    await page.get_by_role("button", name="Zamknij rundę").click()
    await page.wait_for_url("**/ankieta?zapisano=zamknieta")
    assert "Wyniki ukryte" in await page.locator("main").inner_text()
    await visit.check("runda zamknieta")
