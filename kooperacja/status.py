"""`kooperacja status`: one line per service (ready, outbox backlog, its queue's depth and
consumers, dead letters) and a verdict, readable at a glance; over HTTP and AMQP only."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

import httpx

from kooperacja import operations, processes
from shared.settings import Settings
from shared.topology import EVENT_LOG_STREAM, dead_letter_queue_name, queue_name


@dataclass
class ServiceStatus:
    service: str
    ready: bool
    checks: dict[str, Any] = field(default_factory=dict)
    unreachable: str | None = None
    outbox_backlog: int | None = None
    queued: int | None = None
    consumers: int | None = None
    dead_letters: int | None = None

    def problems(self) -> list[str]:
        found = []
        if self.unreachable:
            found.append(f"{self.service} does not answer")
        elif not self.ready:
            failing = [name for name, ok in self.checks.items() if not ok]
            found.append(f"{self.service} not ready ({', '.join(failing) or 'no reason given'})")
        if self.queued is None:
            found.append(f"{self.service}'s queue is missing")
        elif not self.consumers:
            found.append(f"nobody consumes {self.service}'s queue")
        if self.dead_letters:
            found.append(
                f"{self.dead_letters} dead letter(s) wait in {self.service}'s dead-letter queue"
                f" (kooperacja dlq list {self.service})"
            )
        return found


def _readiness(settings: Settings, service: str) -> ServiceStatus:
    try:
        response = httpx.get(f"{settings.base_url(service)}/ready", timeout=2)
        answer = response.json()
    except (httpx.HTTPError, ValueError) as exc:
        return ServiceStatus(service, ready=False, unreachable=str(exc) or type(exc).__name__)
    return ServiceStatus(
        service,
        ready=response.status_code == 200,
        checks=answer.get("checks", {}),
        outbox_backlog=answer.get("outbox_backlog"),
    )


def gather(settings: Settings) -> tuple[list[ServiceStatus], bool]:
    """Every service's status, and whether the event log stream exists."""
    queues = {row["queue"]: row for row in asyncio.run(operations.queue_stats(settings.amqp_url))}
    rows = []
    for service in processes.SERVICES:
        row = _readiness(settings, service)
        own = queues.get(queue_name(service), {})
        row.queued, row.consumers = own.get("messages"), own.get("consumers")
        row.dead_letters = queues.get(dead_letter_queue_name(service), {}).get("messages")
        rows.append(row)
    return rows, EVENT_LOG_STREAM in queues


def _cell(value: int | None) -> str:
    return "-" if value is None else str(value)


def render(rows: list[ServiceStatus], event_log: bool) -> tuple[str, int]:
    """The table and the verdict; the number of problems (0: all well)."""
    header = f"{'service':<10} {'ready':<6} {'outbox':>7} {'queued':>7} {'consumers':>10} "
    header += f"{'dead letters':>13}"
    lines = [header, "-" * len(header)]
    problems: list[str] = []
    for row in rows:
        ready = "yes" if row.ready else "DOWN" if row.unreachable else "NO"
        dead = _cell(row.dead_letters) + (" <-" if row.dead_letters else "")
        lines.append(
            f"{row.service:<10} {ready:<6} {_cell(row.outbox_backlog):>7} {_cell(row.queued):>7} "
            f"{_cell(row.consumers):>10} {dead:>13}"
        )
        problems += row.problems()
    if not event_log:
        problems.append(f"the event log stream {EVENT_LOG_STREAM} is missing")
    lines.append("")
    if problems:
        lines.append(f"{len(problems)} problem(s):")
        lines += [f"  - {p}" for p in problems]
    else:
        lines.append("all well: every service ready, queues consumed, no dead letters")
    return "\n".join(lines), len(problems)
