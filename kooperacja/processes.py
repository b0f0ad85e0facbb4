"""Start the four services as their own processes and stop them cleanly."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import httpx

from shared.settings import Settings

SERVICES = ("intake", "diagnosis", "referrals", "reporting")


def start(
    settings: Settings,
    env: dict[str, str] | None = None,
    only: tuple[str, ...] = SERVICES,
) -> dict[str, subprocess.Popen]:
    procs = {}
    for name in only:
        procs[name] = subprocess.Popen(
            [sys.executable, "-m", f"services.{name}"], env={**os.environ, **(env or {})}
        )
    return procs


def wait_ready(settings: Settings, procs: dict[str, subprocess.Popen], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    pending = set(procs)
    while pending:
        for name in list(pending):
            if procs[name].poll() is not None:
                raise RuntimeError(f"{name} exited with code {procs[name].returncode}")
            try:
                if httpx.get(f"{settings.base_url(name)}/ready", timeout=1).status_code == 200:
                    pending.discard(name)
            except httpx.HTTPError:
                pass
        if time.monotonic() > deadline:
            raise TimeoutError(f"not ready after {timeout:.0f}s: {', '.join(sorted(pending))}")
        if pending:
            time.sleep(0.2)


def stop(procs: dict[str, subprocess.Popen], timeout: float = 40) -> None:
    """SIGTERM, then wait: each service finishes its in-flight messages before it exits."""
    for proc in procs.values():
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + timeout
    for proc in procs.values():
        try:
            proc.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
