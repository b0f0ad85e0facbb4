"""The HTTP write path against its raw baseline (`bench.http_raw`), in interleaved pairs:
`concurrency` clients sending POST /cases as fast as answered for `seconds`, to the raw
endpoint, then to intake; likewise GET /cases (a page of 50) and GET /cases/{id}. Each ratio is
the median of the pairs' own, with the CPU per request of each server's process beside it.

Intake runs alone while it is measured (the consumers downstream are stopped, so that the
events it publishes wait in their queues rather than take the CPU the two servers compete for).
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any
from uuid import uuid4

import httpx

from bench.environment import Spread
from shared.auth import Role, issue_token
from shared.settings import Settings

HOUSEHOLD = {
    "members": [
        {"first_name": "Anna", "last_name": "Testowa", "birth_date": "1980-01-01", "sex": "F"},
        {"first_name": "Jan", "last_name": "Testowy", "birth_date": "2015-05-05", "sex": "M"},
    ],
    "reasons": ["1", "4"],
    "notified_by": "self",
    "consent_to_share": True,
}


@dataclass
class Load:
    requests: int
    seconds: float
    rate: float
    cpu_ms_per_request: float


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def drive(
    http: httpx.AsyncClient,
    pid: int,
    request: Callable[[httpx.AsyncClient], Any],
    seconds: float,
    concurrency: int,
) -> Load:
    done = 0
    stop_at = time.perf_counter() + seconds

    async def client() -> None:
        nonlocal done
        while time.perf_counter() < stop_at:
            response = await request(http)
            if response.status_code >= 400:
                raise RuntimeError(
                    f"{response.request.url}: {response.status_code} {response.text}"
                )
            done += 1

    cpu = cpu_seconds(pid)
    began = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(concurrency)))
    elapsed = time.perf_counter() - began
    return Load(done, elapsed, done / elapsed, (cpu_seconds(pid) - cpu) * 1000 / max(done, 1))


def start_raw(settings: Settings, port: int) -> subprocess.Popen[bytes]:
    env = os.environ | {"KOOP_BENCH_RAW_DATABASE_URL": settings.database_url("intake")}
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "bench.http_raw:app",
            "--port",
            str(port),
            "--log-level",
            "warning",
            "--no-access-log",
        ],
        env=env,
    )
    deadline = time.monotonic() + 60
    while True:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/ready", timeout=1).status_code == 200:
                return proc
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline:
            proc.kill()
            raise TimeoutError("the raw HTTP baseline never got ready")
        time.sleep(0.2)


async def measure(
    settings: Settings,
    intake_pid: int,
    gmina: str,
    port: int,
    pairs: int,
    seconds: float,
    concurrency: int,
) -> dict[str, Any]:
    raw = start_raw(settings, port)
    try:
        return await _measure(
            settings, intake_pid, raw.pid, gmina, port, pairs, seconds, concurrency
        )
    finally:
        raw.terminate()
        raw.wait(30)


async def _measure(
    settings: Settings,
    intake_pid: int,
    raw_pid: int,
    gmina: str,
    port: int,
    pairs: int,
    seconds: float,
    concurrency: int,
) -> dict[str, Any]:
    raw_url = f"http://127.0.0.1:{port}"
    service_url = f"{settings.base_url('intake')}/api/v1"
    token = issue_token(settings, subject="bench", role=Role.CASEWORKER, gmina=gmina)
    auth = {"Authorization": f"Bearer {token}"}
    body = HOUSEHOLD | {"gmina": gmina}
    limits = httpx.Limits(max_connections=concurrency * 2, keepalive_expiry=2.0)
    async with httpx.AsyncClient(timeout=60, limits=limits) as http:
        # a case opened through the service, read back by both sides
        opened = await http.post(
            f"{service_url}/cases", json=body, headers=auth | {"Idempotency-Key": str(uuid4())}
        )
        opened.raise_for_status()
        case_id = opened.json()["case_id"]
        reason = {"X-Access-Reason": "bench"}
        shapes: dict[str, tuple[Callable[..., Any], Callable[..., Any]]] = {
            "POST /cases": (
                lambda h: h.post(f"{raw_url}/cases", json=body),
                lambda h: h.post(
                    f"{service_url}/cases",
                    json=body,
                    headers=auth | {"Idempotency-Key": str(uuid4())},
                ),
            ),
            "GET /cases (50)": (
                lambda h: h.get(f"{raw_url}/cases", params={"gmina": gmina, "limit": 50}),
                lambda h: h.get(
                    f"{service_url}/cases", params={"gmina": gmina, "limit": 50}, headers=auth
                ),
            ),
            "GET /cases/{id}": (
                lambda h: h.get(f"{raw_url}/cases/{case_id}"),
                lambda h: h.get(f"{service_url}/cases/{case_id}", headers=auth | reason),
            ),
        }
        results: dict[str, Any] = {}
        for name, (raw_call, service_call) in shapes.items():
            # warm-up both sides
            await drive(http, raw_pid, raw_call, 1, concurrency)
            await drive(http, intake_pid, service_call, 1, concurrency)
            runs = []
            for _ in range(pairs):
                a = await drive(http, raw_pid, raw_call, seconds, concurrency)
                b = await drive(http, intake_pid, service_call, seconds, concurrency)
                runs.append({"raw": asdict(a), "service": asdict(b), "ratio": b.rate / a.rate})
            ratio = Spread.of([r["ratio"] for r in runs])
            raw_rate = Spread.of([r["raw"]["rate"] for r in runs])
            service_rate = Spread.of([r["service"]["rate"] for r in runs])
            raw_cpu = Spread.of([r["raw"]["cpu_ms_per_request"] for r in runs])
            service_cpu = Spread.of([r["service"]["cpu_ms_per_request"] for r in runs])
            results[name] = {
                "ratio": asdict(ratio),
                "raw_per_s": asdict(raw_rate),
                "service_per_s": asdict(service_rate),
                "raw_cpu_ms": asdict(raw_cpu),
                "service_cpu_ms": asdict(service_cpu),
                "pairs": runs,
            }
            print(
                f"{name}: service {service_rate.median:,.0f}/s ({service_cpu.median:.2f} ms CPU)"
                f" vs raw {raw_rate.median:,.0f}/s ({raw_cpu.median:.2f} ms CPU) = {ratio}× "
                f"(median of {pairs} pairs, {concurrency} clients)"
            )
    return results
