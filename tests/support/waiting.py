"""Waiting for what happens elsewhere (a consumer, a process, a page) with a deadline: never a
bare sleep, never a loop of its own in a test."""

from __future__ import annotations

import asyncio
import subprocess
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import httpx

T = TypeVar("T")


async def eventually(
    check: Callable[[], Awaitable[T]],
    *,
    within: float = 20,
    what: str = "condition",
    every: float = 0.05,
) -> T:
    """Call `check` until it returns something truthy and return that; fail after `within`
    seconds, naming `what` was awaited. An assertion inside `check` fails at once."""
    deadline = time.monotonic() + within
    while True:
        result = await check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {within}s waiting for {what}")
        await asyncio.sleep(every)


def wait_until(
    check: Callable[[], T], *, within: float = 20, what: str = "condition", every: float = 0.2
) -> T:
    """`eventually` for a blocking check (a command run, a process polled)."""
    deadline = time.monotonic() + within
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {within}s waiting for {what}")
        time.sleep(every)


def wait_ready(proc: subprocess.Popen[Any], url: str, *, name: str, within: float = 60) -> None:
    """A service started as a process answers /ready; fails at once if the process exits."""

    def ready() -> bool:
        if proc.poll() is not None:
            raise RuntimeError(f"{name} exited with code {proc.returncode}")
        try:
            return httpx.get(f"{url}/ready", timeout=1).status_code == 200
        except httpx.HTTPError:
            return False

    wait_until(ready, within=within, what=f"{name} at {url} to be ready")
