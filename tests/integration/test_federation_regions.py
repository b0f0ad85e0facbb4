"""Two regions and a macro-region on the local broker, linked by deploy/regions/link.py with
RabbitMQ shovels: cases opened by each region's intake reach the macro-region's reporting, and
the link holds events while the macro-region is down."""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import quote
from uuid import uuid4

import aio_pika
import httpx
import pytest

from kooperacja import processes
from kooperacja.demo_data import pesel_for
from shared.auth import Role, issue_token
from shared.codes import AgeBand, NotifiedBy, Reason
from shared.envelope import CONTENT_TYPE, Envelope, parse_envelope, wrap
from shared.events import CaseOpened, Place
from shared.settings import Settings
from shared.teryt import terc
from tests.conftest import NAMESPACE, PORT_BASE
from tests.integration.conftest import eventually
from tests.support import wait_ready

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
LINK_SCRIPT = ROOT / "deploy" / "regions" / "link.py"
REGIONS = ("06", "14")
MACRO_VHOST = f"{NAMESPACE}_macro"
LINK_QUEUE = "kooperacja.link.macro-region"
# The shovels log in to the macro-region as a user that may only publish into its exchange,
# as deploy/kubernetes/macro-region/link-user.yaml sets it up.
LINK_USER = f"{NAMESPACE}_link"
LINK_PASSWORD = secrets.token_hex(16)


def vhost(region: str) -> str:
    return f"{NAMESPACE}_region{region}"


def amqp_uri(name: str, user: str = "guest", password: str = "guest") -> str:
    return f"amqp://{user}:{password}@127.0.0.1:5672/{quote(name, safe='')}"


def rabbitmqctl(*args: str, check: bool = True) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        ["rabbitmqctl", "-q", *args], check=check, capture_output=True, timeout=120
    )


def link(*action: str) -> None:
    """Run the deploy script exactly as an operator would."""
    args = ["--macro", amqp_uri(MACRO_VHOST, LINK_USER, LINK_PASSWORD)]
    for region in REGIONS:
        args += ["--region", f"{region}={amqp_uri(vhost(region))}"]
    done = subprocess.run(
        [sys.executable, str(LINK_SCRIPT), *args, *action], capture_output=True, timeout=180
    )
    assert done.returncode == 0, done.stderr.decode()


def ensure_shovel_plugin() -> None:
    enabled = subprocess.run(
        ["rabbitmq-plugins", "list", "-e", "-m"], capture_output=True, text=True, timeout=60
    )
    if "rabbitmq_shovel" in enabled.stdout.split():
        return
    done = subprocess.run(
        ["rabbitmq-plugins", "enable", "rabbitmq_shovel"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    if done.returncode != 0:
        pytest.fail(
            "the region links need the RabbitMQ shovel plugin and it could not be enabled "
            f"(run as root: rabbitmq-plugins enable rabbitmq_shovel): {done.stderr.strip()}"
        )


class Service:
    """One service process of one region (or of the macro-region), with its own env."""

    def __init__(self, name: str, port: int, env: dict[str, str]) -> None:
        self.name = name
        self.url = f"http://127.0.0.1:{port}"
        self.env = {**os.environ, **env, f"KOOP_{name.upper()}_PORT": str(port)}
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 90) -> None:
        self.proc = subprocess.Popen([sys.executable, "-m", f"services.{self.name}"], env=self.env)
        wait_ready(self.proc, self.url, name=self.name, within=timeout)

    def stop(self) -> None:
        if self.proc is not None:
            processes.stop({self.name: self.proc})
            self.proc = None


def region_env(region: str) -> dict[str, str]:
    return {
        "KOOP_REGION": region,
        "KOOP_AMQP_URL": amqp_uri(vhost(region)),
        "KOOP_DATABASE_PREFIX": f"{NAMESPACE}_r{region}",
    }


@pytest.fixture(scope="module")
def linked_broker() -> Iterator[None]:
    """Fresh region and macro-region vhosts on the local broker, linked by the deploy script."""
    if shutil.which("rabbitmq-plugins") is None:
        pytest.fail("rabbitmq-plugins not found: the region links need the shovel plugin")
    ensure_shovel_plugin()
    names = [*(vhost(r) for r in REGIONS), MACRO_VHOST]
    for name in names:
        rabbitmqctl("delete_vhost", name, check=False)
        rabbitmqctl("add_vhost", name)
        rabbitmqctl("set_permissions", "-p", name, "guest", ".*", ".*", ".*")
    rabbitmqctl("delete_user", LINK_USER, check=False)
    rabbitmqctl("add_user", LINK_USER, LINK_PASSWORD)
    rabbitmqctl(
        "set_permissions", "-p", MACRO_VHOST, LINK_USER, "^$", r"^kooperacja\.events$", "^$"
    )
    link("--apply")
    yield
    for name in names:
        rabbitmqctl("delete_vhost", name, check=False)
    rabbitmqctl("delete_user", LINK_USER, check=False)


@pytest.fixture(scope="module")
def intakes(linked_broker: None) -> Iterator[dict[str, Service]]:
    services = {
        region: Service("intake", PORT_BASE + 10 + i, region_env(region))
        for i, region in enumerate(REGIONS)
    }
    try:
        for service in services.values():
            service.start()
        yield services
    finally:
        for service in services.values():
            service.stop()


@pytest.fixture(scope="module")
def macro_reporting(linked_broker: None) -> Iterator[Service]:
    service = Service(
        "reporting",
        PORT_BASE + 12,
        {
            "KOOP_AMQP_URL": amqp_uri(MACRO_VHOST),
            "KOOP_DATABASE_PREFIX": f"{NAMESPACE}_macro",
            # The macro-region's own origin; it publishes nothing of the regions' events.
            "KOOP_REGION": "00",
            # No cell withheld: an analyst sees single cases (perturbed, so the test counts
            # them exactly through each gmina's coordinator).
            "KOOP_REPORTING_MIN_CELL": "1",
        },
    )
    try:
        service.start()
        yield service
    finally:
        service.stop()


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=10) as client:
        yield client


def bearer(settings: Settings, role: Role, **scope: str) -> dict[str, str]:
    token = issue_token(settings, subject=f"federation-{role}", role=role, **scope)
    return {"Authorization": f"Bearer {token}"}


async def open_case(
    http: httpx.AsyncClient, settings: Settings, intake: Service, gmina: str, serial: int
) -> str:
    response = await http.post(
        f"{intake.url}/api/v1/cases",
        headers=bearer(settings, Role.CASEWORKER, gmina=gmina),
        json={
            "gmina": gmina,
            "members": [
                {
                    "first_name": "Halina",
                    "last_name": "Wróblewska",
                    "birth_date": "1979-11-02",
                    "sex": "F",
                    "pesel": pesel_for(date(1979, 11, 2), "F", serial),
                }
            ],
            "reasons": ["2", "5"],
            "notified_by": "police",
            "consent_to_share": True,
        },
    )
    assert response.status_code == 201, response.text
    return response.json()["case_id"]


async def cases_reported(
    http: httpx.AsyncClient, settings: Settings, reporting: Service, region: str
) -> dict[str, int]:
    """Cases opened per gmina in the macro-region report, for an analyst scoped to `region`
    (one region, or the macro-region's "06,14"; this reporting withholds no cell)."""
    response = await http.get(
        f"{reporting.url}/api/v1/reports/summary",
        headers=bearer(settings, Role.ANALYST, region=region),
    )
    assert response.status_code == 200, response.text
    return {row["key"]: row["cases_opened"] for row in response.json()["rows"]}


async def exact_cases(
    http: httpx.AsyncClient, settings: Settings, reporting: Service, gmina: str
) -> int:
    """Cases opened in a gmina as its coordinator reads them: exactly (an analyst's figures
    are perturbed by the cell-key method)."""
    response = await http.get(
        f"{reporting.url}/api/v1/reports/summary",
        headers=bearer(settings, Role.COORDINATOR, gmina=gmina),
    )
    assert response.status_code == 200, response.text
    rows = [row for row in response.json()["rows"] if row["key"] == gmina]
    return rows[0]["cases_opened"] if rows else 0


async def held_in_link(region: str) -> int:
    connection = await aio_pika.connect(amqp_uri(vhost(region)))
    try:
        channel = await connection.channel()
        queue = await channel.declare_queue(LINK_QUEUE, passive=True)
        return queue.declaration_result.message_count or 0
    finally:
        await connection.close()


async def test_cases_of_both_regions_reach_the_macro_region_report(
    intakes: dict[str, Service],
    macro_reporting: Service,
    http: httpx.AsyncClient,
    settings: Settings,
) -> None:
    # A subscriber on the macro-region's exchange sees what the shovels deliver.
    connection = await aio_pika.connect(amqp_uri(MACRO_VHOST))
    channel = await connection.channel()
    exchange = await channel.get_exchange("kooperacja.events")
    seen = await channel.declare_queue(exclusive=True)
    await seen.bind(exchange, routing_key="#")

    gminas = {"06": "0602022", "14": "1401022"}  # Aleksandrów (lubelskie), Promna (mazowieckie)
    opened = {
        "06": [await open_case(http, settings, intakes["06"], gminas["06"], s) for s in (11, 12)],
        "14": [await open_case(http, settings, intakes["14"], gminas["14"], 13)],
    }

    for region, gmina in gminas.items():

        async def counted(region: str = region, gmina: str = gmina) -> bool:
            found = await exact_cases(http, settings, macro_reporting, gmina)
            return found == len(opened[region])

        await eventually(counted, within=40, what=f"region {region}'s cases in the macro report")

    # Each region's reader sees only the region; the macro-region's scope sees both, in total.
    in_06 = await cases_reported(http, settings, macro_reporting, "06")
    in_14 = await cases_reported(http, settings, macro_reporting, "14")
    assert gminas["14"] not in in_06 and gminas["06"] not in in_14
    both = await cases_reported(http, settings, macro_reporting, "06,14")
    assert both == {**in_06, **in_14}
    assert sum([await exact_cases(http, settings, macro_reporting, g) for g in both]) == 3

    # The events crossed unchanged: routing key, region extension and place kept.
    arrived: dict[str, Any] = {}
    async with seen.iterator(timeout=10) as messages:
        async for message in messages:
            await message.ack()
            envelope = parse_envelope(message.body)
            arrived[envelope.subject or ""] = (message.routing_key, envelope, message)
            if all(c in arrived for cases in opened.values() for c in cases):
                break
    await connection.close()
    for region, cases in opened.items():
        for case_id in cases:
            routing_key, envelope, message = arrived[case_id]
            assert routing_key == "case.opened.v1" == envelope.routing_key
            assert message.content_type == "application/cloudevents+json"
            assert message.delivery_mode == aio_pika.DeliveryMode.PERSISTENT
            assert envelope.region == region
            assert envelope.source == f"/kooperacja/{region}/intake"
            assert envelope.data["place"]["region"] == region
            assert "Wróblewska".encode() not in message.body
            assert b"1979-11-02" not in message.body


async def test_link_holds_events_while_the_macro_region_is_down(
    intakes: dict[str, Service],
    macro_reporting: Service,
    http: httpx.AsyncClient,
    settings: Settings,
) -> None:
    gminas = {"06": "0603011", "14": "1402011"}  # Rejowiec Fabryczny, Ciechanów
    for region in REGIONS:
        queues = rabbitmqctl("list_queues", "-p", vhost(region), "name", "type").stdout.decode()
        assert f"{LINK_QUEUE}\tquorum" in queues.splitlines()
    link("--unlink")
    macro_reporting.stop()
    try:
        for serial, (region, gmina) in enumerate(gminas.items(), start=21):
            await open_case(http, settings, intakes[region], gmina, serial)
        for region in REGIONS:

            async def held(region: str = region) -> bool:
                return await held_in_link(region) >= 1

            await eventually(held, within=30, what=f"region {region}'s link queue to hold")
    finally:
        link("--apply")
        macro_reporting.start()

    for region, gmina in gminas.items():

        async def counted(gmina: str = gmina) -> bool:
            return await exact_cases(http, settings, macro_reporting, gmina) == 1

        await eventually(counted, within=40, what=f"region {region}'s held case to arrive")
    for region in REGIONS:

        async def drained(region: str = region) -> bool:
            return await held_in_link(region) == 0

        await eventually(drained, within=30, what=f"region {region}'s link queue to drain")


def case_opened(gmina_code: str) -> Envelope:
    gmina = terc().gmina(gmina_code)
    event = CaseOpened(
        case_id=uuid4(),
        place=Place(
            gmina=gmina.code, powiat=gmina.powiat, region=gmina.region, variant=gmina.variant
        ),
        opened_on=date.today(),
        household_size=2,
        age_bands={AgeBand.ADULT_30_44: 1, AgeBand.CHILD_6_17: 1},
        reasons=[Reason("2")],
        notified_by=NotifiedBy.SELF,
        consent_to_share=False,
    )
    return wrap(event, region=gmina.region, service="intake")


async def test_an_event_crossing_the_link_twice_is_counted_once(
    linked_broker: None,
    macro_reporting: Service,
    http: httpx.AsyncClient,
    settings: Settings,
) -> None:
    # A shovel delivers at least once (a lost confirm means a resend): the macro-region's
    # reporting must count the case once, whatever the copies.
    twice, marker = case_opened("1401032"), case_opened("1401042")  # Radzanów, Stara Błotnica
    connection = await aio_pika.connect(amqp_uri(vhost("14")))
    try:
        channel = await connection.channel(publisher_confirms=True)
        exchange = await channel.get_exchange("kooperacja.events")
        for envelope in (twice, twice, marker):
            await exchange.publish(
                aio_pika.Message(
                    envelope.to_bytes(),
                    content_type=CONTENT_TYPE,
                    message_id=str(envelope.id),
                    delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
                ),
                routing_key=envelope.routing_key,
            )
    finally:
        await connection.close()

    async def marker_counted() -> bool:
        return await exact_cases(http, settings, macro_reporting, "1401042") == 1

    # The marker went through the same queues after both copies, so both have been handled.
    await eventually(marker_counted, within=40, what="the marker case in the macro report")
    assert await exact_cases(http, settings, macro_reporting, "1401032") == 1
