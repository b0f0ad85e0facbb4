"""The lock files pin exactly what pyproject.toml asks for: every requirement (runtime in both,
dev in the dev lock) is pinned with hashes to a version its specifier allows, and the image's lock
and CI's agree on every package they share. After changing a dependency: deploy/lock.sh."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[2]
PIN = re.compile(r"^([A-Za-z0-9._-]+)(?:\[[^\]]*\])?==([^\s\\;]+)", re.MULTILINE)


def _pins(name: str) -> dict[str, str]:
    text = (ROOT / "deploy" / name).read_text()
    pins = {canonicalize_name(n): v for n, v in PIN.findall(text)}
    assert pins and text.count("--hash=sha256:") >= len(pins), f"{name}: a pin without a hash"
    return pins


def _requirements(extra: str | None) -> list[Requirement]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    listed = project["optional-dependencies"][extra] if extra else project["dependencies"]
    return [Requirement(line) for line in listed]


def _unmet(requirements: list[Requirement], pins: dict[str, str]) -> list[str]:
    unmet = []
    for req in requirements:
        pinned = pins.get(canonicalize_name(req.name))
        if pinned is None or not req.specifier.contains(pinned, prereleases=True):
            unmet.append(f"{req} (locked: {pinned})")
    return unmet


def test_the_image_lock_pins_every_runtime_requirement() -> None:
    assert not _unmet(_requirements(None), _pins("requirements.lock")), "run deploy/lock.sh"


def test_the_ci_lock_pins_every_runtime_and_dev_requirement() -> None:
    pins = _pins("requirements-dev.lock")
    assert not _unmet(_requirements(None) + _requirements("dev"), pins), "run deploy/lock.sh"


def test_the_image_runs_the_versions_ci_tests() -> None:
    image, ci = _pins("requirements.lock"), _pins("requirements-dev.lock")
    assert {n: v for n, v in ci.items() if n in image} == image
