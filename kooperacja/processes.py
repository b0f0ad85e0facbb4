"""Start the five services as their own processes and stop them cleanly."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

from shared.settings import Settings

SERVICES = ("intake", "diagnosis", "referrals", "reporting", "partnership", "notifications")


def start(
    settings: Settings,
    env: dict[str, str] | None = None,
    only: tuple[str, ...] = SERVICES,
    log_dir: Path | None = None,
) -> dict[str, subprocess.Popen]:
    """Each service as its own process; with `log_dir`, its output appends to <name>.log there
    (the tests read them), else it shares this terminal."""
    procs = {}
    for name in only:
        out = None
        if log_dir is not None:
            log_dir.mkdir(parents=True, exist_ok=True)
            out = (log_dir / f"{name}.log").open("ab")
        procs[name] = subprocess.Popen(
            [sys.executable, "-m", f"services.{name}"],
            env={**os.environ, **(env or {})},
            stdout=out,
            stderr=subprocess.STDOUT if out else None,
        )
        if out is not None:
            out.close()  # the child holds its own descriptor
    return procs


def web_env(settings: Settings) -> dict[str, str]:
    """The web front's environment for a local run: the demo sign-in of development mode and,
    on plain-http loopback, a session cookie without the Secure flag (each can be overridden)."""
    env = {"KOOP_ENV": os.environ.get("KOOP_ENV", "development")}
    if env["KOOP_ENV"] == "development" and settings.http_host in {"127.0.0.1", "localhost"}:
        env["KOOP_WEB_COOKIE_SECURE"] = os.environ.get("KOOP_WEB_COOKIE_SECURE", "false")
    return env


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
