"""No personal data leaves where it belongs: a PESEL and a surname typed into the web front
never appear in any address the browser asked for, in its cookies, localStorage or
sessionStorage, nor in the web front's or the services' logs — along the caseworker's whole
path, a refused form included."""

from __future__ import annotations

import json
import re
from datetime import date
from pathlib import Path

from kooperacja.demo_data import pesel_for
from tests.browser.conftest import Visit, WebFront
from tests.stack import Stack

CASEWORKER = "demo-anna-kowalczyk"
SURNAME = "Wierzbięcka-Ostoja"


async def test_a_pesel_and_a_surname_stay_out_of_urls_storage_cookies_and_logs(
    visit: Visit, web: WebFront, running: Stack
) -> None:
    birth = date(1968, 2, 29)
    pesel = pesel_for(birth, "F", 3917)
    wrong = pesel[:-1] + str((int(pesel[-1]) + 3) % 10)
    requested: list[str] = []
    visit.page.on("request", lambda r: requested.append(r.url))
    page = visit.page

    await visit.sign_in_as(CASEWORKER)
    await visit.goto("/sprawy/nowa")
    await page.get_by_label("Imię").fill("Bożena")
    await page.get_by_label("Nazwisko").fill(SURNAME)
    await page.get_by_label("Data urodzenia").fill(birth.isoformat())
    await page.get_by_label("Płeć").select_option("F")
    await page.get_by_label("PESEL (jeśli jest)").fill(wrong)
    await page.get_by_label("art. 7 pkt 6 — długotrwała lub ciężka choroba").check()
    await page.get_by_label("Kto zgłosił sytuację rodziny").select_option("health")
    await page.get_by_label("Rodzina wyraziła zgodę").check()
    await page.get_by_role("button", name="Otwórz sprawę").click()
    await page.locator(".error-summary").wait_for()
    await page.get_by_label("PESEL (jeśli jest)").fill(pesel)
    await page.get_by_role("button", name="Otwórz sprawę").click()
    await page.wait_for_url(re.compile(r"/sprawy/[0-9a-f-]{36}$"))
    case_url = page.url
    await page.get_by_label("Powód wglądu w dane osobowe").fill("weryfikacja danych")
    await page.get_by_role("button", name="Pokaż dane gospodarstwa").click()
    assert await page.get_by_role("cell", name=pesel).count() == 1  # shown on the page itself
    await page.goto(case_url)
    await page.get_by_label("Wynik współpracy z rodziną").select_option("moved_away")
    await page.get_by_role("button", name="Zamknij sprawę").click()
    await page.wait_for_url(case_url)
    await visit.goto("/sprawy?status=closed")
    for term, value in (("Nazwisko (lub jego początek)", SURNAME[:6]), ("PESEL", pesel)):
        await visit.goto("/sprawy")
        await page.get_by_label(term, exact=True).fill(value)
        await page.get_by_label("Powód wyszukiwania").fill("weryfikacja danych")
        await page.get_by_role("button", name="Szukaj").click()
        assert await page.get_by_role("cell", name=f"Bożena {SURNAME}").count() == 1

    secrets = (pesel, wrong, SURNAME, "Wierzbi")
    addresses = requested + visit.urls
    assert len(addresses) > 10
    for url in addresses:
        assert not any(s in url for s in secrets), url
    cookies = json.dumps(await visit.context.cookies(), ensure_ascii=False)
    storage = await page.evaluate(
        "() => JSON.stringify([Object.entries(localStorage), Object.entries(sessionStorage)])"
    )
    for where, text in (("cookies", cookies), ("storage", storage)):
        assert not any(s in text for s in secrets), where
    logs: list[Path] = [web.log, *running.log_dir.glob("*.log")]
    assert {p.name for p in logs} >= {"intake.log", "diagnosis.log", "referrals.log", "web.log"}
    for log in logs:
        text = log.read_text(encoding="utf-8", errors="replace")
        for secret in secrets:
            assert secret not in text, f"{secret!r} in {log}"
