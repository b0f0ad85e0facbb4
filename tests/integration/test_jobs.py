"""A job that fails neither stops its service nor stops its later passes (shared/jobs.py)."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from shared import jobs
from shared.http import create_api
from shared.runtime import ServiceContext, ServiceRuntime, ServiceSpec
from shared.settings import Settings
from tests.conftest import PORT_BASE
from tests.integration.conftest import PROBE_MIGRATIONS, eventually

pytestmark = pytest.mark.integration

passes: list[str] = []


@jobs.every(0.02, name="unlucky")
async def unlucky(ctx: ServiceContext) -> None:
    """Fails on its first three passes, as one unexpected row would, then works."""
    passes.append("tried")
    if len(passes) <= 3:
        raise ValueError("an unexpected row")
    passes.append("done")


async def test_a_failing_job_neither_stops_the_service_nor_its_later_passes(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    port = PORT_BASE + 27
    monkeypatch.setenv("KOOP_JOBBER_PORT", str(port))
    spec = ServiceSpec(
        name="jobber",
        migrations=PROBE_MIGRATIONS,
        build_api=lambda: create_api("jobber", description="test"),
        jobs=[unlucky],
    )
    runtime = ServiceRuntime(spec, settings)
    task = asyncio.create_task(runtime.run())
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as http:

            async def failed_three_times_then_worked() -> str | None:
                assert not task.done(), "the service stopped"
                if "done" not in passes:
                    return None
                with_metrics = await http.get("/metrics")
                return with_metrics.text

            text = await eventually(failed_three_times_then_worked, what="a pass after failures")
            assert 'kooperacja_job_failures_total{job="unlucky",service="jobber"} 3.0' in text, text
            assert (await http.get("/health")).status_code == 200
        assert not task.done()
    finally:
        runtime.stopping.set()
        await asyncio.wait_for(task, timeout=30)


def test_failures_in_a_row_wait_longer_up_to_a_cap() -> None:
    job = jobs.every(10)(unlucky.pass_)
    waits = [job.wait_after(failures, 10.0) for failures in range(7)]
    assert waits == [10.0, 20.0, 40.0, 80.0, 160.0, 300.0, 300.0]
    assert jobs.every(3600)(unlucky.pass_).wait_after(4, 3600.0) == 3600.0
