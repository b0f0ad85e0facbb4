"""A vhost and databases of the benchmarks' own, made anew for each run."""

from __future__ import annotations

import os
import re
import statistics
import subprocess
from dataclasses import dataclass
from pathlib import Path

import asyncpg

from kooperacja import processes
from shared.settings import Settings

# Two benchmark runs on one machine need names of their own.
NAMESPACE = os.environ.get("KOOP_BENCH_NAMESPACE", "kooperacja_bench")


def bench_settings(namespace: str = NAMESPACE) -> Settings:
    return Settings(
        amqp_url=f"amqp://guest:guest@127.0.0.1:5672/{namespace}",
        database_prefix=namespace,
    )


def fresh_vhost(namespace: str = NAMESPACE) -> None:
    subprocess.run(["rabbitmqctl", "-q", "delete_vhost", namespace], capture_output=True)
    for args in (
        ["add_vhost", namespace],
        ["set_permissions", "-p", namespace, "guest", ".*", ".*", ".*"],
    ):
        subprocess.run(["rabbitmqctl", "-q", *args], check=True, capture_output=True)


async def fresh_databases(settings: Settings) -> None:
    admin = await asyncpg.connect(f"{settings.postgres_url}/postgres")
    try:
        for row in await admin.fetch(
            # The namespace's own databases (<namespace>_<service>), not those of a namespace
            # that merely starts with this one's name.
            "SELECT datname FROM pg_database WHERE datname ~ $1",
            f"^{re.escape(settings.database_prefix)}_[a-z]+$",
        ):
            await admin.execute(f'DROP DATABASE "{row["datname"]}" WITH (FORCE)')
    finally:
        await admin.close()


def percentile(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def service_env(settings: Settings, port_base: int) -> dict[str, str]:
    """The environment that runs the four services on the benchmark's vhost, databases and
    ports (port_base, port_base + 1, …)."""
    env = {
        "KOOP_AMQP_URL": settings.amqp_url,
        "KOOP_DATABASE_PREFIX": settings.database_prefix,
        "KOOP_LOG_LEVEL": "ERROR",
    }
    for i, name in enumerate(processes.SERVICES):
        env[f"KOOP_{name.upper()}_PORT"] = str(port_base + i)
    return env


def peak_rss_mb(pid: int) -> float:
    """VmHWM: the highest resident set size the process has had."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


@dataclass
class Spread:
    median: float
    low: float
    high: float
    values: list[float]

    @classmethod
    def of(cls, values: list[float]) -> Spread:
        return cls(statistics.median(values), min(values), max(values), values)

    def __str__(self) -> str:
        return f"{self.median:.2f} ({self.low:.2f}–{self.high:.2f})"
