"""A coordinator's notifications in a real browser: the unread count in the navigation, the
inbox, opening one (which marks it read), and the e-mail preferences with an error beside its
field; axe-core at every step."""

from __future__ import annotations

import asyncio
import time
from uuid import uuid4

import aio_pika

from shared.codes import SupportType
from shared.envelope import CONTENT_TYPE, wrap
from shared.events import SupportOverdue
from shared.settings import Settings
from shared.teryt import terc
from shared.topology import queue_name
from tests.browser.conftest import Visit

COORDINATOR = "demo-marek-wrobel"
GMINA = "0601032"


async def overdue_for_the_coordinator(settings: Settings) -> SupportOverdue:
    """Straight into the notifications service's queue: no other service (reporting) counts it."""
    event = SupportOverdue(
        referral_id=uuid4(),
        case_id=uuid4(),
        place=terc().gmina(GMINA).place,
        support_type=SupportType.PSYCHOLOGIST,
        institution_id=uuid4(),
        stage="acceptance",
    )
    connection = await aio_pika.connect(settings.amqp_url)
    try:
        channel = await connection.channel(publisher_confirms=True)
        envelope = wrap(event, region="06", service="browsertest")
        await channel.default_exchange.publish(
            aio_pika.Message(
                body=envelope.to_bytes(),
                content_type=CONTENT_TYPE,
                delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
            ),
            routing_key=queue_name("notifications"),
        )
    finally:
        await connection.close()
    return event


async def test_the_coordinator_reads_a_notification_and_chooses_email(
    visit: Visit, settings: Settings
) -> None:
    event = await overdue_for_the_coordinator(settings)
    await visit.sign_in_as(COORDINATOR, then="/powiadomienia")
    deadline = time.monotonic() + 30
    row = visit.page.locator("tbody tr").filter(has_text="Skierowanie po terminie")
    while await row.count() == 0:
        assert time.monotonic() < deadline, "the notification never reached the inbox"
        await asyncio.sleep(0.5)
        await visit.goto("/powiadomienia")
    assert await visit.heading() == "Powiadomienia"
    badge = visit.page.locator("nav .badge")
    assert int((await badge.inner_text()).split()[0]) >= 1
    await visit.check("powiadomienia")
    unread_before = int((await badge.inner_text()).split()[0])

    # Opening it marks it read and goes to the referral it is about.
    async with visit.page.expect_navigation():
        await row.first.locator("a").click()
    assert str(event.referral_id) in visit.page.url
    await visit.goto("/powiadomienia")
    badge = visit.page.locator("nav .badge")
    after = int((await badge.inner_text()).split()[0]) if await badge.count() else 0
    assert after == unread_before - 1

    # E-mail preferences: a kind chosen without an address is refused beside the field.
    await visit.goto("/powiadomienia/ustawienia")
    await visit.page.get_by_label("Skierowanie po terminie").check()
    await visit.page.get_by_role("button", name="Zapisz ustawienia").click()
    await visit.page.wait_for_load_state()
    assert await visit.page.locator(".error-summary").count() == 1
    assert await visit.page.locator("#email-blad").count() == 1
    await visit.check("ustawienia z błędem")
    await visit.page.get_by_label("Adres e-mail").fill("marek.wrobel@gmina.example")
    await visit.page.get_by_role("button", name="Zapisz ustawienia").click()
    await visit.page.wait_for_load_state()
    assert "zapisane" in await visit.page.locator("[role=status]").inner_text()
    assert await visit.page.get_by_label("Skierowanie po terminie").is_checked()
    await visit.check("ustawienia zapisane")
