"""PostgreSQL with a streaming standby, failing over while cases stream in.

The test makes its own primary and a synchronous streaming standby (two clusters on ports of its
own, in a temporary directory), runs intake against both with a multi-host URL
(`target_session_attrs=read-write`), streams cases through the API, promotes the standby halfway
and stops the primary. Every request the client saw answered 201 must be in the new primary; a
request whose answer was lost is retried with its `Idempotency-Key` and takes effect once. It
checks that the failover really fell mid-stream, and removes everything it started.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import httpx
import pytest

from kooperacja import processes
from shared.auth import Role, issue_token
from shared.settings import Settings, get_settings

pytestmark = [pytest.mark.cluster, pytest.mark.integration]

GMINA = "0601011"
CASES = 60
FAIL_OVER_AFTER = 25
WORKERS = 4
PORT_BASE = int(os.environ.get("KOOP_TEST_PORT_BASE", "8201"))
# Clear of the browser tests' extra processes (PORT_BASE + 40 … + 47) and the integration ones.
PRIMARY_PORT, STANDBY_PORT = PORT_BASE + 48, PORT_BASE + 49
# An intake of this test's own, beside the one the session's stack may be running.
INTAKE_PORT = PORT_BASE + 50


def _pg_bin() -> Path:
    versions = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"))
    if not versions:
        pytest.fail("PostgreSQL server binaries not found under /usr/lib/postgresql")
    return versions[-1].parent


def _as_postgres(*cmd: str | Path) -> subprocess.CompletedProcess[str]:
    """PostgreSQL refuses to run as root: run its tools as the postgres user when we are root."""
    args = [str(c) for c in cmd]
    if os.geteuid() == 0:
        args = ["runuser", "-u", "postgres", "--", *args]
    return subprocess.run(args, check=True, capture_output=True, text=True, timeout=120)


class Pair:
    """A primary and its synchronous streaming standby, each a cluster of its own."""

    def __init__(self, root: Path) -> None:
        self.bin = _pg_bin()
        self.root = root
        self.primary = root / "primary"
        self.standby = root / "standby"

    def _ctl(self, data: Path, *args: str) -> None:
        _as_postgres(self.bin / "pg_ctl", "-D", data, "-w", "-t", "60", *args)

    def start(self) -> None:
        _as_postgres(self.bin / "initdb", "-D", self.primary, "-U", "postgres", "-A", "trust")
        with (self.primary / "postgresql.conf").open("a") as conf:
            conf.write(
                f"port = {PRIMARY_PORT}\nlisten_addresses = '127.0.0.1'\n"
                f"unix_socket_directories = '{self.root}'\nwal_level = replica\n"
                "max_wal_senders = 5\nmax_connections = 100\n"
                # Synchronous: a commit is answered only once the standby has it, so a
                # promotion loses nothing that was answered.
                "synchronous_standby_names = '*'\nsynchronous_commit = on\n"
            )
        with (self.primary / "pg_hba.conf").open("a") as hba:
            hba.write("host replication postgres 127.0.0.1/32 trust\n")
        self._ctl(self.primary, "-l", str(self.root / "primary.log"), "start")
        _as_postgres(
            self.bin / "pg_basebackup", "-h", "127.0.0.1", "-p", str(PRIMARY_PORT),
            "-U", "postgres", "-D", self.standby, "-R", "-X", "stream",
        )  # fmt: skip
        with (self.standby / "postgresql.conf").open("a") as conf:
            # Once promoted it stands alone (in Kubernetes a third instance would be its
            # synchronous standby): it must not wait for a standby it does not have.
            conf.write(f"port = {STANDBY_PORT}\nsynchronous_standby_names = ''\n")
        self._ctl(self.standby, "-l", str(self.root / "standby.log"), "start")

    def promote_standby_and_stop_primary(self) -> None:
        self._ctl(self.standby, "promote")
        self._ctl(self.primary, "-m", "immediate", "stop")

    def stop(self) -> None:
        for data in (self.standby, self.primary):
            if (data / "postmaster.pid").exists():
                subprocess.run(
                    ["runuser", "-u", "postgres", "--", str(self.bin / "pg_ctl"), "-D",
                     str(data), "-m", "immediate", "stop"],
                    capture_output=True, timeout=60,
                )  # fmt: skip


@pytest.fixture
def pair() -> Iterator[Pair]:
    root = Path(tempfile.mkdtemp(prefix="koop-pg-failover-"))
    shutil.chown(root, "postgres", "postgres")
    pair = Pair(root)
    try:
        pair.start()
        yield pair
    finally:
        pair.stop()
        shutil.rmtree(root, ignore_errors=True)


async def _ready(base: str, process: subprocess.Popen[bytes], logs: Path) -> None:
    deadline = time.monotonic() + 90
    async with httpx.AsyncClient(timeout=2) as client:
        while time.monotonic() < deadline:
            if process.poll() is not None:
                log = (logs / "intake.log").read_text(errors="replace")
                pytest.fail(f"intake exited with {process.returncode}:\n{log[-3000:]}")
            with contextlib.suppress(httpx.HTTPError):
                if (await client.get(f"{base}/ready")).status_code == 200:
                    return
            await asyncio.sleep(0.2)
    pytest.fail("intake was not ready in 90 s")


def _household(n: int) -> dict[str, object]:
    return {
        "gmina": GMINA,
        "members": [
            {
                "first_name": "Anna",
                "last_name": f"Testowa{n}",
                "birth_date": "1985-04-02",
                "sex": "F",
            },
        ],
        "reasons": ["2"],
        "notified_by": "school",
        "consent_to_share": True,
    }


async def test_a_promoted_standby_keeps_every_answered_case(pair: Pair) -> None:
    settings: Settings = get_settings()
    hosts = f"127.0.0.1:{PRIMARY_PORT},127.0.0.1:{STANDBY_PORT}"
    database = f"postgresql://postgres@{hosts}/postgres?target_session_attrs=read-write"
    intake = processes.start(
        settings,
        env={"KOOP_INTAKE_DATABASE_URL": database, "KOOP_INTAKE_PORT": str(INTAKE_PORT)},
        only=("intake",),
        log_dir=pair.root,
    )
    token = issue_token(
        settings, subject=f"failover-{uuid.uuid4()}", role=Role.CASEWORKER, gmina=GMINA
    )
    headers = {"Authorization": f"Bearer {token}"}
    answered: dict[str, str] = {}  # Idempotency-Key -> case id answered 201
    number_of: dict[str, int] = {}
    retried: set[str] = set()
    in_flight: set[str] = set()
    in_flight_at_failover: set[str] = set()
    halfway, failed_over = asyncio.Event(), asyncio.Event()
    base = f"http://{settings.http_host}:{INTAKE_PORT}"
    url = f"{base}/api/v1/cases"

    async def one_case(client: httpx.AsyncClient, n: int) -> None:
        key = str(uuid.uuid4())
        deadline = time.monotonic() + 90
        in_flight.add(key)
        try:
            while True:
                try:
                    response = await client.post(
                        url, json=_household(n), headers={**headers, "Idempotency-Key": key}
                    )
                    if response.status_code == 201:
                        answered[key] = response.json()["case_id"]
                        number_of[key] = n
                        if len(answered) == FAIL_OVER_AFTER:
                            halfway.set()
                        return
                    assert response.status_code >= 500, response.text
                except httpx.HTTPError:
                    pass
                # The answer was lost or the database was away: the same request again.
                retried.add(key)
                if time.monotonic() > deadline:
                    log = (pair.root / "intake.log").read_text(errors="replace")
                    pytest.fail(f"case {n} never answered 201; intake's log:\n{log[-4000:]}")
                await asyncio.sleep(0.3)
        finally:
            in_flight.discard(key)

    async def clients(client: httpx.AsyncClient, worker: int) -> None:
        for n in range(worker, CASES, WORKERS):
            await one_case(client, n)

    async def fail_over() -> None:
        await halfway.wait()
        in_flight_at_failover.update(in_flight)
        await asyncio.to_thread(pair.promote_standby_and_stop_primary)
        failed_over.set()

    try:
        await _ready(base, intake["intake"], pair.root)
        async with httpx.AsyncClient(timeout=10) as client:
            await asyncio.gather(fail_over(), *(clients(client, w) for w in range(WORKERS)))
            # A client that lost its answer sends the same request again: one effect only.
            key, case_id = next(iter(answered.items()))
            again = await client.post(
                url, json=_household(number_of[key]), headers={**headers, "Idempotency-Key": key}
            )
            assert again.status_code == 201 and again.json()["case_id"] == case_id
    finally:
        processes.stop(intake)

    conn = await asyncpg.connect(f"postgresql://postgres@127.0.0.1:{STANDBY_PORT}/postgres")
    try:
        assert not await conn.fetchval("SELECT pg_is_in_recovery()"), "the standby was promoted"
        stored = {str(r["case_id"]) for r in await conn.fetch("SELECT case_id FROM cases")}
    finally:
        await conn.close()
    print(
        f"\nfailover: sent {CASES}, answered 201 {len(answered)}, in flight at the failover "
        f"{len(in_flight_at_failover)}, retried {len(retried)}, stored {len(stored)}"
    )
    # It happened mid-stream: requests were on their way when the primary went.
    assert failed_over.is_set() and in_flight_at_failover, "the failover fell between requests"
    # Nothing answered is lost, and each request took effect once, retried or not.
    assert len(answered) == CASES
    assert set(answered.values()) == stored
