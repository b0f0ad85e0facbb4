"""The operator's "Stan systemu" in a real browser: every service's row, a dead letter seen,
replayed (it fails again and comes back, being unreadable) and purged — through the services'
operator APIs only."""

from __future__ import annotations

from uuid import uuid4

import aio_pika

from services.web.client import SERVICES
from shared.settings import Settings
from shared.topology import dead_letter_queue_name
from tests.browser.conftest import Visit
from tests.support import eventually

OPERATOR = "demo-agnieszka-lis"


async def poison(settings: Settings, service: str, message_id: str) -> None:
    connection = await aio_pika.connect(settings.amqp_url)
    try:
        channel = await connection.channel(publisher_confirms=True)
        await channel.default_exchange.publish(
            aio_pika.Message(
                body=b"{not json",
                message_id=message_id,
                headers={"x-error": "malformed JSON (browser test)", "x-attempts": 1},
                delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
            ),
            routing_key=dead_letter_queue_name(service),
        )
    finally:
        await connection.close()


async def reload_until(visit: Visit, present: bool, text: str, within: float = 20) -> None:
    async def shown_as_wanted() -> bool:
        await visit.goto("/stan-systemu")
        return (await visit.page.get_by_text(text).count() > 0) == present

    what = f"{text!r} to be {'shown' if present else 'gone'}"
    await eventually(shown_as_wanted, within=within, what=what, every=0.5)


async def test_operator_sees_the_services_and_replays_and_purges_a_dead_letter(
    visit: Visit, settings: Settings
) -> None:
    await visit.sign_in_as(OPERATOR)
    assert visit.page.url.endswith("/stan-systemu")
    assert await visit.heading() == "Stan systemu"
    rows = visit.page.locator("table").first.locator("tbody tr")
    assert await rows.count() == len(SERVICES)
    for service in SERVICES:
        row = rows.filter(has=visit.page.get_by_role("rowheader", name=service))
        assert (await row.locator("td").first.inner_text()) == "tak"
    await visit.check("stan systemu")

    message_id = str(uuid4())
    await poison(settings, "referrals", message_id)
    await reload_until(visit, True, message_id)
    section = visit.page.locator(
        "section", has=visit.page.get_by_role("heading", name="Usługa referrals")
    )
    assert "malformed JSON (browser test)" in await section.inner_text()
    assert (
        await visit.page.get_by_role("alert")
        .get_by_text("1 wiadomość w kolejce nieobsłużonych usługi referrals")
        .count()
        == 1
    )
    await visit.check("wiadomosc nieobsluzona")

    await section.get_by_role("button", name=f"Ponów {message_id}").click()
    assert (
        "Usługa referrals: ponownie wysłano 1 wiadomość."
        in await visit.page.locator("[role=status]").first.inner_text()
    )
    # Unreadable, it is dead-lettered again at once by referrals' consumer.
    await reload_until(visit, True, message_id)
    await (
        visit.page.locator(
            "section", has=visit.page.get_by_role("heading", name="Usługa referrals")
        )
        .get_by_role("button", name=f"Usuń {message_id}")
        .click()
    )
    assert (
        "Usługa referrals: usunięto 1 wiadomość."
        in await visit.page.locator("[role=status]").first.inner_text()
    )
    await reload_until(visit, False, message_id)
    await visit.check("po usunieciu")
