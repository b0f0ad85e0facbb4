"""Schemathesis against each running service's OpenAPI document, with a valid token of a role
that may use most of the service: no generated input may make a service answer 5xx.

Bounded in examples per operation so the whole test stays within about a minute.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from shared.auth import Role, issue_token
from shared.settings import Settings

pytestmark = pytest.mark.e2e

GMINA = "0610022"  # Ludwin (łęczyński): what schemathesis creates stays in a powiat of its own
MAX_EXAMPLES = os.environ.get("KOOP_SCHEMATHESIS_EXAMPLES", "10")
CHECKS = ",".join(
    (
        "not_a_server_error",
        "content_type_conformance",
        "response_headers_conformance",
        "response_schema_conformance",
        "negative_data_rejection",  # input off the schema is refused, never quietly taken
    )
)

# (service, role, scope): the role that reaches the deepest into that service's operations.
RUNS: list[tuple[str, Role, dict[str, str]]] = [
    ("intake", Role.CASEWORKER, {"gmina": GMINA}),
    ("intake", Role.COORDINATOR, {"gmina": GMINA}),
    ("diagnosis", Role.COORDINATOR, {"gmina": GMINA}),
    ("referrals", Role.COORDINATOR, {"gmina": GMINA}),
    ("referrals", Role.INSTITUTION_STAFF, {"institution": "7c2b6a58-1f0e-4d43-9d2c-5b0e8d3f4a11"}),
    ("reporting", Role.ANALYST, {"region": GMINA[:2]}),
    ("partnership", Role.COORDINATOR, {"gmina": GMINA}),
    ("notifications", Role.COORDINATOR, {"gmina": GMINA}),
    (
        "notifications",
        Role.INSTITUTION_STAFF,
        {"institution": "7c2b6a58-1f0e-4d43-9d2c-5b0e8d3f4a11"},
    ),
]


def _schemathesis() -> str:
    found = Path(sys.executable).with_name("schemathesis")
    if not found.exists():
        pytest.fail("schemathesis is not installed: pip install -e '.[dev]'")
    return str(found)


@pytest.mark.parametrize(("service", "role", "scope"), RUNS, ids=lambda v: str(v)[:12])
def test_no_generated_input_makes_a_service_fail(
    stack: Settings, service: str, role: Role, scope: dict[str, str], tmp_path: Path
) -> None:
    token = issue_token(stack, subject=f"schemathesis-{role}", role=role, **scope)
    base = stack.base_url(service)
    command = [
        _schemathesis(),
        "run",
        f"{base}/api/v1/openapi.json",
        "--url",
        base,
        "--checks",
        CHECKS,
        "--max-examples",
        MAX_EXAMPLES,
        "--phases",
        "examples,coverage,fuzzing",
        "--workers",
        "1",
        "--seed",
        "20261123",
        "--request-timeout",
        "10",
        # Replaying the whole event log is an operator's heavy action, tested on its own.
        "--exclude-path",
        "/api/v1/admin/rebuild",
        "-H",
        f"Authorization: Bearer {token}",
        "-H",
        "X-Access-Reason: test schemathesis",
        "--suppress-health-check",
        "all",
        "--no-color",
    ]
    # NDJSON (intake's bulk import) has no serializer in schemathesis: the hooks give it one.
    env = {
        **os.environ,
        "SCHEMATHESIS_HOOKS": "tests.e2e.schemathesis_hooks",
        "PYTHONPATH": str(Path(__file__).parents[2]),
    }
    done = subprocess.run(
        command, capture_output=True, text=True, timeout=240, cwd=tmp_path, check=False, env=env
    )
    report = done.stdout[-6000:] + done.stderr[-2000:]
    assert done.returncode == 0, f"schemathesis found failures in {service}:\n{report}"
    assert "No issues found" in done.stdout or "passed" in done.stdout, report
