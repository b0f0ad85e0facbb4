"""E-mail through a real SMTP server the tests start (aiosmtpd): an overdue referral reaches the
coordinator's inbox and mailbox (while that server is not there, sending fails, is counted and
retried, and the service stays up and ready); a partner institution without users gets its
referral by e-mail and answers through the link — accept, then complete — while a reused,
expired or tampered link is refused."""

from __future__ import annotations

import re
from collections.abc import Iterator
from email import message_from_bytes
from email.message import Message
from typing import Any

import asyncpg
import httpx
import pytest
from aiosmtpd.controller import Controller

from services.web.app import build_app
from shared.auth import Role
from shared.settings import Settings
from tests.conftest import SMTP_PORT
from tests.e2e.conftest import Api

pytestmark = pytest.mark.e2e

GMINA = "0612012"  # Chodel (opolski): this test's own gmina
SURNAME = "Poczciwska"


class Mailbox:
    """What the test's SMTP server received."""

    def __init__(self) -> None:
        self.messages: list[Message] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append(message_from_bytes(envelope.original_content or envelope.content))
        return "250 OK"


@pytest.fixture
def smtp_server() -> Iterator[tuple[Controller, Mailbox]]:
    mailbox = Mailbox()
    controller = Controller(mailbox, hostname="127.0.0.1", port=SMTP_PORT)
    yield controller, mailbox
    if getattr(controller, "_thread", None) is not None:
        controller.stop()


async def _failures(api: Api) -> float:
    r = await api.http.get(f"{api.settings.base_url('notifications')}/metrics")
    found = re.search(
        r'^kooperacja_mail_failures_total\{service="notifications"\} (\S+)$', r.text, re.M
    )
    return float(found.group(1)) if found else 0.0


async def _plan_for(api: Api, gmina: str, surname: str) -> str:
    """A case of the gmina with a completed diagnosis and an agreed plan (a family assistant):
    support starts. Returns the case id."""
    coordinator = api.as_(Role.COORDINATOR, gmina=gmina)
    case = await api.open_case(
        gmina,
        {"first_name": "Halina", "last_name": surname, "birth_date": "1970-05-05", "sex": "F"},
        reasons=["2"],
        notified_by="health",
    )
    diagnosis = await api.diagnosis_of(case, coordinator)
    r = await api.call(
        "POST",
        "diagnosis",
        f"/diagnoses/{diagnosis['diagnosis_id']}/assessments",
        coordinator,
        json={
            "need_area": "parenting",
            "severity": 2,
            "recommendations": [{"support_type": "family_assistant", "priority": 1}],
        },
    )
    assert r.status_code == 201, r.text
    r = await api.call(
        "POST", "diagnosis", f"/diagnoses/{diagnosis['diagnosis_id']}/complete", coordinator
    )
    assert r.status_code == 200, r.text
    await api.agree_plan(diagnosis["diagnosis_id"], coordinator)
    return case


async def _referral_of(api: Api, case: str, who: dict[str, str]) -> dict[str, Any]:
    async def routed() -> Any:
        r = await api.call("GET", "referrals", f"/cases/{case}/referrals", who)
        return r.json() if r.status_code == 200 and r.json() else None

    [referral] = await api.eventually(routed, what="the referral to be routed")
    return referral  # type: ignore[no-any-return]


async def test_an_overdue_referral_reaches_the_coordinator_inbox_and_mail(
    api: Api, stack: Settings, smtp_server: tuple[Controller, Mailbox]
) -> None:
    controller, mailbox = smtp_server
    coordinator = api.as_(Role.COORDINATOR, gmina=GMINA)
    address = "koordynator.chodel@gmina.example"
    r = await api.call(
        "PUT",
        "notifications",
        "/preferences",
        coordinator,
        json={"email": address, "email_kinds": ["referral_overdue"]},
    )
    assert r.status_code == 200, r.text
    assert r.json()["email_kinds"] == ["referral_overdue"]

    await api.register_institution(GMINA, "GOPS Chodel", ["family_assistant"])
    case = await _plan_for(api, GMINA, SURNAME)
    referral = await _referral_of(api, case, coordinator)

    # A week passes without an answer: the acceptance deadline is moved into the past in
    # referrals' own database (the test's only way to make time pass); its watch reports it.
    db = await asyncpg.connect(stack.database_url("referrals"))
    try:
        await db.execute(
            "UPDATE referrals SET accept_by = now() - interval '1 minute' WHERE referral_id = $1",
            referral["referral_id"],
        )
    finally:
        await db.close()

    async def in_inbox() -> Any:
        r = await api.call("GET", "notifications", "/notifications", coordinator)
        assert r.status_code == 200, r.text
        return [
            n
            for n in r.json()["items"]
            if n["kind"] == "referral_overdue" and n["referral_id"] == referral["referral_id"]
        ]

    [notification] = await api.eventually(in_inbox, within=60, what="the overdue notification")
    assert notification["details"]["stage"] == "acceptance"
    assert notification["read_at"] is None

    # No SMTP server yet: sending fails, is counted, and the service stays ready.
    await api.eventually(
        lambda: _positive(_failures(api)), within=30, what="a counted failure to send"
    )
    ready = await api.http.get(f"{stack.base_url('notifications')}/ready")
    assert ready.status_code == 200, ready.text

    controller.start()

    async def delivered() -> list[Message]:
        return [m for m in mailbox.messages if m["To"] == address]

    [mail] = await api.eventually(delivered, within=60, what="the e-mail in the test's server")
    body = mail.get_payload(decode=True).decode()
    link = f"/powiadomienia/{notification['notification_id']}"
    assert link in body
    assert notification["case_reference"] in mail["Subject"]
    for personal in (SURNAME, "Halina", case):
        assert personal not in body and personal not in mail["Subject"]

    # Reading the notification marks it read.
    r = await api.call(
        "GET", "notifications", f"/notifications/{notification['notification_id']}", coordinator
    )
    assert r.status_code == 200 and r.json()["read_at"] is not None


async def _positive(value: Any) -> bool:
    return bool(await value > 0)


async def test_nothing_is_mailed_to_whom_did_not_ask(api: Api) -> None:
    staff = api.as_(Role.INSTITUTION_STAFF, institution="5f0c8c5e-3a4b-4c4f-9a7e-2d1f0e9b8a77")
    r = await api.call("GET", "notifications", "/preferences", staff)
    assert r.status_code == 200
    assert r.json() == {
        "email": None,
        "email_kinds": [],
        "available_kinds": ["referral_received"],
    }
    r = await api.call(
        "PUT",
        "notifications",
        "/preferences",
        staff,
        json={"email": "sekretariat@ops.example", "email_kinds": ["referral_overdue"]},
    )
    assert r.status_code == 422 and r.json()["field"] == "email_kinds[0]"
    r = await api.call(
        "PUT", "notifications", "/preferences", staff, json={"email_kinds": ["referral_received"]}
    )
    assert r.status_code == 422 and r.json()["field"] == "email"


LINK_GMINA = "0612032"  # Karczmiska (opolski): the link test's own gmina


async def test_an_institution_without_users_answers_through_the_emailed_link(
    api: Api, stack: Settings, smtp_server: tuple[Controller, Mailbox]
) -> None:
    controller, mailbox = smtp_server
    controller.start()
    coordinator = api.as_(Role.COORDINATOR, gmina=LINK_GMINA)
    office = "biuro@fundacja-karczmiska.example"
    r = await api.call(
        "POST",
        "referrals",
        "/institutions",
        coordinator,
        json={
            "name": "Fundacja Rodzina Karczmiska",
            "sector": "ngo",
            "support_types": ["family_assistant"],
            "gminas": [LINK_GMINA],
            "capacity": 5,
            "contact_email": office,
        },
    )
    assert r.status_code == 201, r.text
    institution = r.json()["institution_id"]
    case = await _plan_for(api, LINK_GMINA, "Odnośnikowa")

    async def mailed() -> list[Message]:
        return [m for m in mailbox.messages if m["To"] == office]

    [mail] = await api.eventually(mailed, within=60, what="the referral e-mailed to the office")
    body = mail.get_payload(decode=True).decode()
    [url] = re.findall(r"http://\S+/odpowiedz/\S+", body)
    token = url.rsplit("/", 1)[1]
    for personal in ("Odnośnikowa", "Halina", case, "family_assistant", "asystent"):
        assert personal not in body and personal not in mail["Subject"] and personal not in url
    link = {"X-Referral-Link": token}

    r = await api.call("GET", "referrals", "/referral-link", link)
    assert r.status_code == 200, r.text
    seen = r.json()
    assert (seen["state"], seen["can"]) == ("assigned", ["accept", "decline"])
    assert seen["case_reference"] in mail["Subject"]

    tampered = {"X-Referral-Link": token[:-3] + ("AAA" if token[-3:] != "AAA" else "BBB")}
    r = await api.call("POST", "referrals", "/referral-link/accept", tampered)
    assert r.status_code == 401 and r.json()["code"] == "link_invalid"

    # The institution opens the link in its browser: the web front's page, no sign-in.
    web = build_app(stack)
    async with (
        web.router.lifespan_context(web),
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=web), base_url="https://web"
        ) as browser,
    ):
        page = await browser.get(f"/odpowiedz/{token}")
        assert page.status_code == 200, page.text
        assert "Przyjmij skierowanie" in page.text and seen["case_reference"] in page.text
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)  # type: ignore[union-attr]
        r = await browser.post(f"/odpowiedz/{token}/przyjecie", data={})
        assert r.status_code == 403  # no CSRF token, no answer
        r = await browser.post(f"/odpowiedz/{token}/przyjecie", data={"csrf_token": csrf})
        assert r.status_code == 303, r.text
        page = await browser.get(r.headers["location"])
        assert "Zapisz realizację wsparcia" in page.text
        r = await browser.post(
            f"/odpowiedz/{token}/realizacja", data={"csrf_token": csrf, "outcome": ""}
        )
        assert r.status_code == 422 and 'id="outcome-blad"' in r.text  # the error at its field
        r = await browser.post(
            f"/odpowiedz/{token}/realizacja", data={"csrf_token": csrf, "outcome": "achieved"}
        )
        assert r.status_code == 303, r.text
        page = await browser.get(f"/odpowiedz/{token}")
        assert page.status_code == 410 and "już zapisana" in page.text

    # Used up: the link answers nothing more, not even a read.
    r = await api.call(
        "POST", "referrals", "/referral-link/complete", link, json={"outcome": "achieved"}
    )
    assert r.status_code == 410 and r.json()["code"] == "link_used"
    r = await api.call("GET", "referrals", "/referral-link", link)
    assert r.status_code == 410

    # The gmina sees the support completed by the institution.
    r = await api.call("GET", "referrals", f"/cases/{case}/referrals", coordinator)
    [referral] = r.json()
    assert (referral["state"], referral["institution_id"]) == ("completed", institution)

    db = await asyncpg.connect(stack.database_url("referrals"))
    try:
        # Expired: the link's day passes (moved into the past in referrals' database).
        await db.execute(
            "UPDATE referral_links SET expires_at = now() - interval '1 minute' "
            "WHERE referral_id = $1",
            referral["referral_id"],
        )
        r = await api.call("GET", "referrals", "/referral-link", link)
        assert r.status_code == 401 and r.json()["code"] == "link_expired"
        audit = await db.fetch(
            "SELECT action, result, detail FROM referral_link_audit WHERE referral_id = $1 "
            "ORDER BY entry_id",
            referral["referral_id"],
        )
    finally:
        await db.close()
    entries = [(a["action"], a["result"]) for a in audit]
    assert ("accept", "done") in entries and ("complete", "done") in entries
    assert ("complete", "refused:link_used") in entries
    assert ("read", "refused:link_expired") in entries
