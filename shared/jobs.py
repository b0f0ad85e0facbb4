"""Periodic work of a service (ServiceSpec.jobs): one runner for every job.

A job is one pass of work (`async def pass_(ctx)`) that `every(seconds)` makes periodic. The
runner calls it, waits, and calls it again until the service stops. A pass that fails, for any
reason, is logged with its traceback and counted in /metrics
(`kooperacja_job_failures_total{service, job}`); the next pass waits longer after each failure
in a row (doubling, up to BACKOFF_CAP_SECONDS or the job's own period when that is longer),
and the service goes on: a job never stops its service, and its failures never stop its later
passes. What a pass leaves undone stays in the database for the next one.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from shared import metrics

if TYPE_CHECKING:
    from shared.runtime import ServiceContext

log = logging.getLogger(__name__)

BACKOFF_CAP_SECONDS = 300.0

Pass = Callable[["ServiceContext"], Awaitable[object]]


@dataclass(frozen=True)
class Job:
    name: str
    period: Callable[[], float]  # seconds between passes, read when the job starts
    pass_: Pass

    def wait_after(self, failures: int, period: float) -> float:
        """Seconds to wait before the next pass, after `failures` failed passes in a row."""
        if failures == 0:
            return period
        return min(period * 2**failures, max(period, BACKOFF_CAP_SECONDS))

    async def run(self, ctx: ServiceContext, stopping: asyncio.Event) -> None:
        """Pass after pass until `stopping` is set; returns only then."""
        period = self.period()
        failed = metrics.JOB_FAILURES.labels(ctx.name, self.name)
        failures = 0
        while not stopping.is_set():
            try:
                await self.pass_(ctx)
                failures = 0
            except Exception:
                failures += 1
                failed.inc()
                log.exception("%s: job %s failed (%d in a row)", ctx.name, self.name, failures)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stopping.wait(), self.wait_after(failures, period))


def every(
    seconds: float | Callable[[], float], *, name: str | None = None
) -> Callable[[Pass], Job]:
    """Make a pass periodic: `@every(60)`, or `@every(lambda: settings().x_seconds)` for a
    period read from settings when the service starts."""
    period = seconds if callable(seconds) else (lambda: float(seconds))

    def job(pass_: Pass) -> Job:
        return Job(name=name or pass_.__name__, period=period, pass_=pass_)

    return job
