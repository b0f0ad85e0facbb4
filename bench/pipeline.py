"""The whole chain under load: the services as processes on a vhost and databases of the
benchmark's own, driven as people drive them (open a case over HTTP, assess, complete) and fed
straight with events (the pure event chain), against the raw durable hop measured in the same run.

    python -m bench.pipeline --cases 300 --concurrency 24 --paced-seconds 10

Chain per case: POST /cases (intake) → case.opened.v1 → diagnosis opens → POST assessment, POST
complete, POST plan (HTTP) → plan.agreed.v1 → referrals routes → support.assigned.v1 → reporting.
Progress is read from the services' databases (one PostgreSQL server, one clock), polled every
`POLL_SECONDS`, which bounds the resolution of the latencies.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import date
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import aio_pika
import asyncpg
import httpx

from bench import baseline
from bench.environment import (
    bench_settings,
    fresh_databases,
    fresh_vhost,
    peak_rss_mb,
    percentile,
    service_env,
)
from kooperacja import processes
from kooperacja.plans import plan_agreed, plan_covering
from shared.auth import Role, issue_token
from shared.envelope import CONTENT_TYPE, wrap
from shared.events import CaseOpened, Place
from shared.settings import Settings
from shared.teryt import terc
from shared.topology import declare_exchange

POWIAT = "0601"
SUPPORT = ["family_assistant", "psychologist"]
POLL_SECONDS = 0.01
CHAIN_POLL_SECONDS = 0.2  # the event chain's check that reporting has counted everything
CAPACITY = 10_000  # the most an institution may declare per support type
PORT_BASE = int(os.environ.get("KOOP_BENCH_PORT_BASE", "8290"))


@dataclass
class ChainRun:
    """One closed-loop or paced run of cases through the whole chain."""

    mode: str
    cases: int
    seconds: float
    cases_per_s: float
    deliveries_handled: int  # inbox rows written in the four services during the run
    events_per_s: float
    http_ms_p50: float  # HTTP calls of a case (open, assess, complete, agree the plan), summed
    to_reporting_ms_p50: float  # intake's 201 → the case in reporting (one hop)
    to_reporting_ms_p99: float
    chain_ms_p50: float  # intake's 201 → its supports in reporting (HTTP steps included)
    chain_ms_p99: float
    target_rate: float = 0.0
    http_share_p50: float = float("nan")  # of each case's whole time, its HTTP calls


@dataclass
class EventChainRun:
    """plan.agreed.v1 published straight onto the exchange: referrals + reporting only."""

    diagnoses: int
    seconds: float
    diagnoses_per_s: float
    deliveries_handled: int
    events_per_s: float
    cpu_ms_per_event: float = float("nan")  # referrals' and reporting's processes, summed


@dataclass
class HopFlood:
    """case.opened.v1 flooded onto the exchange: each consuming service's own hop rate."""

    events: int
    seconds: dict[str, float]
    rate: dict[str, float]
    # CPU time of the service's process per message: unlike rates, hardly moved by other load.
    cpu_ms_per_msg: dict[str, float] = field(default_factory=dict)


@dataclass
class Results:
    baseline_flood: dict[str, Any] = field(default_factory=dict)
    saturation: dict[str, Any] = field(default_factory=dict)
    paced: list[dict[str, Any]] = field(default_factory=list)
    event_chain: dict[str, Any] = field(default_factory=dict)
    hop_flood: dict[str, Any] = field(default_factory=dict)
    preload: dict[str, Any] = field(default_factory=dict)
    peak_rss_mb: dict[str, float] = field(default_factory=dict)
    ratios: dict[str, float] = field(default_factory=dict)


class Progress:
    """Watches the services' databases for each case: its diagnosis opened, the case counted in
    reporting, its supports counted in reporting. One query per table per poll for all pending."""

    def __init__(self, settings: Settings, supports_per_case: int) -> None:
        self.settings = settings
        self.supports_per_case = supports_per_case
        self.diagnosis: dict[UUID, asyncio.Future[UUID]] = {}
        self.reported: dict[UUID, asyncio.Future[float]] = {}
        self.supported: dict[UUID, asyncio.Future[float]] = {}
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self.diagnosis_db = await asyncpg.connect(self.settings.database_url("diagnosis"))
        self.reporting_db = await asyncpg.connect(self.settings.database_url("reporting"))
        self._task = asyncio.create_task(self._poll())

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
        await self.diagnosis_db.close()
        await self.reporting_db.close()

    def watch(
        self, case_id: UUID
    ) -> tuple[asyncio.Future[UUID], asyncio.Future[float], asyncio.Future[float]]:
        """Futures for the diagnosis id, the time reporting counted the case, and the time it
        counted its supports; the poller forgets each one once it is resolved."""
        loop = asyncio.get_running_loop()
        futures = (loop.create_future(), loop.create_future(), loop.create_future())
        self.diagnosis[case_id], self.reported[case_id], self.supported[case_id] = futures
        return futures

    async def _poll(self) -> None:
        try:
            await self._poll_until_cancelled()
        except Exception as exc:
            # A broken query must stop the run at once, not after every case's timeout.
            for pending in (self.diagnosis, self.reported, self.supported):
                for future in pending.values():
                    future.set_exception(exc)
            raise

    async def _poll_until_cancelled(self) -> None:
        while True:
            await asyncio.sleep(POLL_SECONDS)
            now = time.perf_counter()
            if ids := list(self.diagnosis):
                for row in await self.diagnosis_db.fetch(
                    "SELECT case_id, diagnosis_id FROM diagnoses WHERE case_id = ANY($1)", ids
                ):
                    self.diagnosis.pop(row["case_id"]).set_result(row["diagnosis_id"])
            if ids := list(self.reported):
                for row in await self.reporting_db.fetch(
                    "SELECT case_id FROM case_facts WHERE case_id = ANY($1)", ids
                ):
                    self.reported.pop(row["case_id"]).set_result(now)
            if ids := list(self.supported):
                for row in await self.reporting_db.fetch(
                    "SELECT case_id FROM referral_facts WHERE case_id = ANY($1)"
                    " AND assigned_on IS NOT NULL GROUP BY case_id HAVING count(*) >= $2",
                    ids,
                    self.supports_per_case,
                ):
                    self.supported.pop(row["case_id"]).set_result(now)


@dataclass
class CaseTiming:
    http_s: float  # the case's HTTP calls, summed
    to_reporting_s: float
    chain_s: float
    open_s: float = 0.0  # POST /cases until its 201

    @property
    def http_share(self) -> float:
        """The share of the case's whole time (its opening, then 201 → supports in
        reporting) spent waiting on its HTTP calls."""
        return self.http_s / (self.open_s + self.chain_s)


class Driver:
    """Drives cases through the chain over HTTP as a caseworker, a team member and a
    coordinator would."""

    def __init__(
        self, settings: Settings, http: httpx.AsyncClient, progress: Progress, team: dict[str, str]
    ) -> None:
        self.settings = settings
        self.http = http
        self.progress = progress
        self.gminas = sorted(team)
        self.team = team  # gmina → institution id on its PZK
        self.retries = 0  # calls sent again after a transport error

    def token(self, role: Role, **scope: Any) -> dict[str, str]:
        signed = issue_token(self.settings, subject="bench", role=role, **scope)
        return {"Authorization": f"Bearer {signed}"}

    def url(self, service: str, path: str) -> str:
        return f"{self.settings.base_url(service)}/api/v1{path}"

    async def call(self, method: str, service: str, path: str, **kw: Any) -> httpx.Response:
        """One call; a POST carries an Idempotency-Key, so that a connection lost on the way
        (the server closing an idle keep-alive connection just as it is reused) is retried
        with the same key and answered once."""
        if method == "POST":
            kw["headers"] = {**kw.get("headers", {}), "Idempotency-Key": str(uuid4())}
        for attempt in range(3):
            try:
                response = await self.http.request(method, self.url(service, path), **kw)
                break
            except (httpx.ReadError, httpx.RemoteProtocolError, httpx.ConnectError):
                if attempt == 2:
                    raise
                self.retries += 1
        if response.status_code >= 400:
            raise RuntimeError(f"{method} {service}{path}: {response.status_code} {response.text}")
        return response

    async def one_case(self, serial: int) -> CaseTiming:
        gmina = self.gminas[serial % len(self.gminas)]
        household = {
            "gmina": gmina,
            "members": [
                # No PESEL: the duplicate check would refuse a rerun's people otherwise.
                {
                    "first_name": "Anna",
                    "last_name": "Testowa",
                    "birth_date": "1980-01-01",
                    "sex": "F",
                },
                {
                    "first_name": "Jan",
                    "last_name": "Testowy",
                    "birth_date": "2015-05-05",
                    "sex": "M",
                },
            ],
            "reasons": ["1", "4"],
            "notified_by": "self",
            "consent_to_share": True,
        }
        started = time.perf_counter()
        r = await self.call(
            "POST",
            "intake",
            "/cases",
            json=household,
            headers=self.token(Role.CASEWORKER, gmina=gmina),
        )
        answered = time.perf_counter()
        http_s = answered - started
        case_id = UUID(r.json()["case_id"])
        diagnosed, reported_at, supported_at = self.progress.watch(case_id)
        diagnosis_id = await asyncio.wait_for(diagnosed, 120)
        t = time.perf_counter()
        assessed = await self.call(
            "POST",
            "diagnosis",
            f"/diagnoses/{diagnosis_id}/assessments",
            headers=self.token(Role.TEAM_MEMBER, gmina=gmina, institution=self.team[gmina]),
            json={
                "need_area": "parenting",
                "severity": 2,
                "recommendations": [
                    {"support_type": s, "priority": i + 1} for i, s in enumerate(SUPPORT)
                ],
            },
        )
        await self.call(
            "POST",
            "diagnosis",
            f"/diagnoses/{diagnosis_id}/complete",
            headers=self.token(Role.COORDINATOR, gmina=gmina),
        )
        # The family agrees to its plan: support starts.
        recommended = [
            {"recommendation_id": rid, "need_area": "parenting"}
            for rid in assessed.json()["recommendations"]
        ]
        await self.call(
            "POST",
            "diagnosis",
            f"/diagnoses/{diagnosis_id}/plan",
            json=plan_covering({"recommendations": recommended}, date.today()),
            headers=self.token(Role.COORDINATOR, gmina=gmina),
        )
        http_s += time.perf_counter() - t
        reported = await asyncio.wait_for(reported_at, 120)
        supported = await asyncio.wait_for(supported_at, 120)
        return CaseTiming(
            http_s, reported - answered, supported - answered, open_s=answered - started
        )


async def register_partners(
    settings: Settings, http: httpx.AsyncClient, gminas: list[str], capacity: int
) -> dict[str, str]:
    coordinator = {
        "Authorization": "Bearer "
        + issue_token(settings, subject="bench", role=Role.COORDINATOR, powiat=POWIAT)
    }
    team = {}
    for gmina in gminas:
        r = await http.post(
            f"{settings.base_url('referrals')}/api/v1/institutions",
            headers=coordinator,
            json={
                "name": f"GOPS {gmina}",
                "sector": "social_assistance",
                "support_types": SUPPORT,
                "gminas": [gmina],
                "capacity": capacity,
            },
        )
        if r.status_code != 201:
            raise RuntimeError(f"registering an institution: {r.status_code} {r.text}")
        team[gmina] = r.json()["institution_id"]
        # The gmina's PZK is the partnership service's: its coordinator takes the OPS in.
        r = await http.post(
            f"{settings.base_url('partnership')}/api/v1/partnerships/{gmina}/members",
            headers={
                "Authorization": "Bearer "
                + issue_token(settings, subject="bench", role=Role.COORDINATOR, gmina=gmina)
            },
            json={"institution_id": team[gmina], "joined_on": date.today().isoformat()},
        )
        if r.status_code != 201:
            raise RuntimeError(f"joining the PZK: {r.status_code} {r.text}")
    return team


async def handled_deliveries(settings: Settings, services: tuple[str, ...]) -> int:
    total = 0
    for name in services:
        conn = await asyncpg.connect(settings.database_url(name))
        try:
            total += await conn.fetchval("SELECT count(*) FROM inbox")
        finally:
            await conn.close()
    return total


def summarise(mode: str, timings: list[CaseTiming], seconds: float, handled: int) -> ChainRun:
    return ChainRun(
        mode=mode,
        cases=len(timings),
        seconds=seconds,
        cases_per_s=len(timings) / seconds,
        deliveries_handled=handled,
        events_per_s=handled / seconds,
        http_ms_p50=percentile([t.http_s * 1000 for t in timings], 50),
        to_reporting_ms_p50=percentile([t.to_reporting_s * 1000 for t in timings], 50),
        to_reporting_ms_p99=percentile([t.to_reporting_s * 1000 for t in timings], 99),
        chain_ms_p50=percentile([t.chain_s * 1000 for t in timings], 50),
        chain_ms_p99=percentile([t.chain_s * 1000 for t in timings], 99),
        http_share_p50=percentile([t.http_share for t in timings], 50),
    )


async def saturate(driver: Driver, settings: Settings, cases: int, concurrency: int) -> ChainRun:
    """Closed loop: `concurrency` cases in flight until `cases` went through."""
    before = await handled_deliveries(settings, processes.SERVICES)
    serials = iter(range(cases))
    timings: list[CaseTiming] = []

    async def worker() -> None:
        for serial in serials:
            timings.append(await driver.one_case(serial))

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    seconds = time.perf_counter() - started
    handled = await handled_deliveries(settings, processes.SERVICES) - before
    return summarise("saturation", timings, seconds, handled)


async def paced(driver: Driver, settings: Settings, rate: float, seconds: float) -> ChainRun:
    """Open loop: a new case every 1/rate seconds, whatever the ones before are doing."""
    before = await handled_deliveries(settings, processes.SERVICES)
    count = max(1, round(rate * seconds))
    started = time.perf_counter()
    tasks = []
    for serial in range(count):
        delay = started + serial / rate - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(driver.one_case(1_000_000 + serial)))
    timings = await asyncio.gather(*tasks)
    elapsed = time.perf_counter() - started
    handled = await handled_deliveries(settings, processes.SERVICES) - before
    run = summarise("paced", list(timings), elapsed, handled)
    run.target_rate = rate
    return run


async def event_chain(
    settings: Settings, services: Services, gminas: list[str], diagnoses: int
) -> EventChainRun:
    """Agreed plans (routing's trigger) queued while referrals and reporting are stopped, as the
    baseline's
    flood is preloaded; then both started and timed, on the database's clock, from the first
    delivery referrals handles until reporting counts every support: their hops without HTTP."""
    consumers = ("referrals", "reporting")
    before = await handled_deliveries(settings, processes.SERVICES)
    bodies = []
    case_ids = []
    for n in range(diagnoses):
        gmina = terc().gmina(gminas[n % len(gminas)])
        case_id = uuid4()
        case_ids.append(case_id)
        place = Place(gmina=gmina.code, powiat=POWIAT, region="06", variant=gmina.variant)
        event = plan_agreed(case_id, place, SUPPORT, date(2026, 5, 1))
        bodies.append(wrap(event, region="06", service="diagnosis").to_bytes())
    reporting = await asyncpg.connect(settings.database_url("reporting"))
    referrals = await asyncpg.connect(settings.database_url("referrals"))
    try:
        since = await referrals.fetchval("SELECT now()")
        await asyncio.to_thread(services.stop, *consumers)
        await publish_all(settings, bodies, "plan.agreed.v1")
        await asyncio.to_thread(services.start, *consumers)
        cpu_began = sum(services.cpu_seconds(n) for n in consumers)
        deadline = time.monotonic() + 600 + diagnoses / 20  # a large preload takes long
        want = len(SUPPORT) * diagnoses
        query = (
            "SELECT count(*) = $2, clock_timestamp() FROM referral_facts"
            " WHERE case_id = ANY($1) AND assigned_on IS NOT NULL"
        )
        while not (done := await reporting.fetchrow(query, case_ids, want))[0]:
            if time.monotonic() > deadline:
                raise TimeoutError("reporting never counted every support")
            # Not every 10 ms: with no index on case_id, the poll scans every fact, which on a
            # preloaded database took a share of the CPU the chain measured needs. The end is
            # timed on the database's clock all the same, to within this interval.
            await asyncio.sleep(CHAIN_POLL_SECONDS)
        first = await referrals.fetchval(
            "SELECT min(received_at) FROM inbox WHERE received_at > $1", since
        )
        seconds = (done[1] - first).total_seconds()
        cpu_used = sum(services.cpu_seconds(n) for n in consumers) - cpu_began
    finally:
        await reporting.close()
        await referrals.close()
    handled = await handled_deliveries(settings, processes.SERVICES) - before
    return EventChainRun(
        diagnoses,
        seconds,
        diagnoses / seconds,
        handled,
        handled / seconds,
        cpu_used * 1000 / handled if handled else float("nan"),
    )


async def publish_all(settings: Settings, bodies: list[bytes], routing_key: str) -> None:
    """Persistent, with publisher confirms, 100 in flight: as fast as the broker takes them."""
    connection = await aio_pika.connect_robust(settings.amqp_url)
    try:
        channel = await connection.channel(publisher_confirms=True)
        exchange = await declare_exchange(channel, settings.exchange)
        for chunk in range(0, len(bodies), 100):
            await asyncio.gather(
                *(
                    exchange.publish(
                        aio_pika.Message(
                            body=b,
                            content_type=CONTENT_TYPE,
                            delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
                        ),
                        routing_key=routing_key,
                    )
                    for b in bodies[chunk : chunk + 100]
                )
            )
    finally:
        await connection.close()


class Services:
    """The four service processes of a run; one can be stopped and started again."""

    def __init__(self, settings: Settings, port_base: int = PORT_BASE) -> None:
        self.settings = settings
        self.env = service_env(settings, port_base)
        self.procs: dict[str, subprocess.Popen[bytes]] = {}
        self.peak_rss: dict[str, float] = {}

    def start(self, *names: str) -> None:
        # base_url (wait_ready's) reads KOOP_<SERVICE>_PORT from this process's environment
        os.environ.update(self.env)
        procs = processes.start(self.settings, env=self.env, only=names)
        self.procs.update(procs)
        # a machine loaded by other work takes its time to start four services
        processes.wait_ready(self.settings, procs, timeout=300)

    def stop(self, *names: str) -> None:
        self.note_rss()
        processes.stop({n: self.procs.pop(n) for n in names})

    def cpu_seconds(self, name: str) -> float:
        """User + system CPU time the service's process has used (from /proc)."""
        fields = Path(f"/proc/{self.procs[name].pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def note_rss(self) -> None:
        for name, proc in self.procs.items():
            if proc.poll() is None:  # one that died has no /proc entry to read
                self.peak_rss[name] = max(self.peak_rss.get(name, 0.0), peak_rss_mb(proc.pid))


async def hop_flood(
    settings: Settings, services: Services, gminas: list[str], events: int
) -> HopFlood:
    """One hop per service, measured as the baseline's is: the queue is filled while the
    consumer is stopped, then the consumer alone drains it. Opened cases (new ids) go to diagnosis
    (which opens a diagnosis for each) and to reporting (which counts them). Timed on the
    database's clock: from the first batch's transaction to the poll that finds the inbox
    complete and the outbox empty."""
    bodies = []
    for n in range(events):
        gmina = terc().gmina(gminas[n % len(gminas)])
        event = CaseOpened(
            case_id=uuid4(),
            place=gmina.place,
            opened_on=date(2026, 5, 1),
            household_size=2,
            age_bands={"30-44": 1, "6-17": 1},
            reasons=["1"],
            notified_by="self",
            consent_to_share=True,
        )
        bodies.append(wrap(event, region="06", service="intake").to_bytes())
    # One after the other, so that no timed consumer shares the machine with another.
    order = {"diagnosis": events, "reporting": events}
    conns = {name: await asyncpg.connect(settings.database_url(name)) for name in order}
    try:
        before = {name: await conn.fetchval("SELECT now()") for name, conn in conns.items()}
        await asyncio.to_thread(services.stop, *order)
        await publish_all(settings, bodies, "case.opened.v1")
        seconds: dict[str, float] = {}
        cpu: dict[str, float] = {}
        for name, expected in order.items():
            await asyncio.to_thread(services.start, name)
            seconds[name], cpu[name] = await drained(
                conns[name], before[name], expected, lambda n=name: services.cpu_seconds(n)
            )
    finally:
        for conn in conns.values():
            await conn.close()
    return HopFlood(events, seconds, {k: order[k] / v for k, v in seconds.items()}, cpu)


async def drained(
    conn: asyncpg.Connection, since: Any, expected: int, cpu_seconds: Callable[[], float]
) -> tuple[float, float]:
    """Seconds from the first delivery handled after `since` until `expected` are handled and
    the outbox is empty, on the database's clock; and the service's CPU milliseconds per
    message from the first poll that saw deliveries handled (start-up is not counted)."""
    deadline = time.monotonic() + 120
    first_cpu: tuple[float, int] | None = None
    while True:
        row = await conn.fetchrow(
            """SELECT count(*) AS handled, min(received_at) AS first, clock_timestamp() AS now,
                      (SELECT count(*) FROM outbox) AS unpublished
               FROM inbox WHERE received_at > $1""",
            since,
        )
        if first_cpu is None and row["handled"] > 0:
            first_cpu = (cpu_seconds(), row["handled"])
        if row["handled"] >= expected and row["unpublished"] == 0:
            assert first_cpu is not None
            used, counted = cpu_seconds() - first_cpu[0], row["handled"] - first_cpu[1]
            cpu_ms = used * 1000 / counted if counted else float("nan")
            return (row["now"] - row["first"]).total_seconds(), cpu_ms
        if time.monotonic() > deadline:
            raise TimeoutError(f"the hop flood never drained: {row}")
        await asyncio.sleep(POLL_SECONDS)


async def drive_chain(
    args: argparse.Namespace,
    settings: Settings,
    http: httpx.AsyncClient,
    team: dict[str, str],
    gminas: list[str],
    results: Results,
) -> None:
    """Saturation, then paced runs at 25/50/75 % of it, all driven over HTTP."""
    progress = Progress(settings, len(SUPPORT))
    await progress.start()
    try:
        driver = Driver(settings, http, progress, team)
        # Warm-up: diagnosis learns each PZK from partnership.changed.v1; until it has, an
        # assessment is refused, so retry the first case of each gmina until it passes.
        deadline = time.monotonic() + 60
        for i in range(len(gminas)):
            while True:
                try:
                    await driver.one_case(i)
                    break
                except RuntimeError:
                    if time.monotonic() > deadline:
                        raise
                    await asyncio.sleep(0.2)
        sat = await saturate(driver, settings, args.cases, args.concurrency)
        results.saturation = asdict(sat)
        print_chain(sat)
        for share in (0.25, 0.5, 0.75):
            run = await paced(driver, settings, sat.cases_per_s * share, args.paced_seconds)
            run.mode = f"paced {share:.0%}"
            results.paced.append(asdict(run))
            print_chain(run)
    finally:
        await progress.stop()


async def measure(
    args: argparse.Namespace, settings: Settings, services: Services, results: Results
) -> None:
    # Room for every referral the run makes: the benchmark never accepts or completes one, so
    # each stays open (the worst case for routing's count of open load); a large preload
    # spreads over more gminas, each with its institution.
    wanted = max(args.gminas, -(-(args.preload + 10_000) // (CAPACITY * 8 // 10)))
    gminas = sorted(g.code for g in terc().in_region("06") if g.powiat == POWIAT)[:wanted]
    async with client() as http:
        team = await register_partners(settings, http, gminas, CAPACITY)
        if args.preload:
            # Scale: the measured runs then work on databases that already hold this many
            # cases with their referrals (sent as agreed plans, as the event chain).
            pre = await event_chain(settings, services, gminas, args.preload)
            results.preload = asdict(pre)
            print(
                f"preloaded {pre.diagnoses} agreed plans in {pre.seconds:.1f}s "
                f"({pre.diagnoses_per_s:,.0f}/s)"
            )
        if "chain" in args.parts:
            await drive_chain(args, settings, http, team, gminas, results)
    if "hop" in args.parts:
        flood = await hop_flood(settings, services, gminas, args.hop_events)
        results.hop_flood = asdict(flood)
        print(
            f"one hop, flood of {flood.events} case.opened.v1: "
            + ", ".join(
                f"{k} {v:,.0f} msg/s ({flood.cpu_ms_per_msg[k]:.2f} ms CPU/msg)"
                for k, v in flood.rate.items()
            )
        )
    if "events" not in args.parts:
        return
    chain = await event_chain(settings, services, gminas, args.diagnoses)
    results.event_chain = asdict(chain)
    print(
        f"event chain (plan.agreed.v1 → referrals → reporting, no HTTP): "
        f"{chain.diagnoses} diagnoses in {chain.seconds:.2f}s = {chain.diagnoses_per_s:,.0f}/s, "
        f"{chain.deliveries_handled} deliveries handled = {chain.events_per_s:,.0f} events/s"
    )


def client() -> httpx.AsyncClient:
    """The drivers' HTTP client. Idle connections expire after 2 s, before the services'
    uvicorn closes them (5 s): with httpx's default of 5 s both ends gave up on an idle
    connection at the same moment, and a request sent on it just then died with
    httpx.ReadError (the crash of `python -m bench --paced-seconds 4`, whose slow paced runs
    leave connections idle about that long)."""
    return httpx.AsyncClient(
        timeout=60, limits=httpx.Limits(max_connections=200, keepalive_expiry=2.0)
    )


def print_chain(run: ChainRun) -> None:
    rate = f" (target {run.target_rate:.1f}/s)" if run.target_rate else ""
    print(
        f"{run.mode:<12}{rate}: {run.cases} cases in {run.seconds:.2f}s = "
        f"{run.cases_per_s:.1f} cases/s, {run.events_per_s:,.0f} events/s handled; "
        f"HTTP p50 {run.http_ms_p50:.0f} ms/case; 201→reporting p50 {run.to_reporting_ms_p50:.0f}"
        f" p99 {run.to_reporting_ms_p99:.0f} ms; whole chain p50 {run.chain_ms_p50:.0f}"
        f" p99 {run.chain_ms_p99:.0f} ms; HTTP calls {run.http_share_p50:.0%} of a case's time"
    )


async def run(args: argparse.Namespace, flood: baseline.HopResult | None = None) -> Results:
    settings = bench_settings()
    results = Results()
    if flood is None:
        fresh_vhost()
        await fresh_databases(settings)
        flood = await baseline.flood(settings, args.messages)
        print(f"baseline hop, flood: {flood.rate:,.0f} msg/s")
    results.baseline_flood = asdict(flood)
    # base_url reads KOOP_<SERVICE>_PORT from the environment: this process's too.
    os.environ.update(service_env(settings, PORT_BASE))
    services = Services(settings)
    try:
        await asyncio.to_thread(services.start, *processes.SERVICES)
        await measure(args, settings, services, results)
        services.note_rss()
        results.peak_rss_mb = services.peak_rss
    finally:
        services.stop(*services.procs)
    ratios = {f"{k} hop": v for k, v in results.hop_flood.get("rate", {}).items()}
    if results.saturation:
        ratios["chain (events handled/s)"] = results.saturation["events_per_s"]
    if results.event_chain:
        ratios["event chain (events handled/s)"] = results.event_chain["events_per_s"]
    results.ratios = {k: v / flood.rate for k, v in ratios.items()}
    print(
        "peak RSS (VmHWM): " + ", ".join(f"{k} {v:.0f} MB" for k, v in results.peak_rss_mb.items())
    )
    print(
        f"ratio to the baseline hop ({flood.rate:,.0f} msg/s): "
        + ", ".join(f"{k} {v:.2f}" for k, v in results.ratios.items())
    )
    return results


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--cases", type=int, default=300, help="cases in the saturation run")
    parser.add_argument("--concurrency", type=int, default=24, help="cases in flight at saturation")
    parser.add_argument("--diagnoses", type=int, default=2000, help="for the pure event chain")
    parser.add_argument("--gminas", type=int, default=8)
    parser.add_argument(
        "--parts",
        type=lambda v: set(v.split(",")),
        default={"chain", "hop", "events", "latency", "http"},
        help="which runs: chain (HTTP-driven), hop (one-hop flood), events (event chain); "
        "`python -m bench` only: latency (the baseline hop paced), http (the HTTP write path "
        "and reads against a raw endpoint)",
    )
    parser.add_argument("--hop-events", type=int, default=3000, help="for the one-hop flood")
    parser.add_argument(
        "--preload", type=int, default=0, help="cases with referrals in the databases first"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(prog="python -m bench.pipeline")
    add_arguments(parser)
    parser.add_argument("--paced-seconds", type=float, default=10, help="each paced run")
    parser.add_argument("--messages", type=int, default=3000, help="baseline flood size")
    parser.add_argument("--out", default="bench/results/pipeline.json")
    args = parser.parse_args()
    results = asyncio.run(run(args))
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(asdict(results), indent=2))
    print(f"written to {args.out}")
