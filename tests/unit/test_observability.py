"""The operator's files in deploy/observability are checked, not just kept: promtool validates the
Prometheus config and alert rules and runs the rules' unit tests (each alert fires on its fault and
stays silent when healthy); every query of the Grafana dashboard is valid PromQL and names only
series that something really exposes."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml
from fastapi.testclient import TestClient

from shared import metrics
from shared.http import create_api

HERE = Path(__file__).resolve().parents[2] / "deploy" / "observability"
RABBITMQ_SERIES = {"rabbitmq_queue_messages_ready", "rabbitmq_queue_consumers"}
HTTP_SERIES = {"http_requests_total", "http_request_duration_seconds_bucket"}


def _promtool() -> str:
    found = shutil.which("promtool")
    if not found:
        if os.environ.get("CI"):
            pytest.fail(
                "promtool is missing (Debian: apt-get install prometheus); infra.sh installs it"
            )
        pytest.skip("promtool not installed (Debian package prometheus)")
    return found


def _run(*args: str) -> None:
    done = subprocess.run([_promtool(), *args], cwd=HERE, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr


def test_prometheus_config_and_rules_are_valid() -> None:
    _run("check", "config", "prometheus.yml")
    _run("check", "rules", "alerts.yml")


def test_alert_rules_pass_their_unit_tests() -> None:
    _run("test", "rules", "alerts.test.yml")


def test_every_alert_the_issue_names_exists() -> None:
    rules = yaml.safe_load((HERE / "alerts.yml").read_text())
    names = {r["alert"] for g in rules["groups"] for r in g["rules"]}
    assert {
        "KooperacjaDeadLettersWaiting",
        "KooperacjaOutboxBacklogGrowing",
        "KooperacjaQueueWithoutConsumer",
        "KooperacjaServiceNotReady",
        "KooperacjaOverdueReferralsRising",
    } <= names
    tested = (HERE / "alerts.test.yml").read_text()
    for name in names:
        assert f"alertname: {name}" in tested, f"{name} has no promtool test"


def _dashboard_queries() -> list[str]:
    dashboard = json.loads((HERE / "grafana-dashboard.json").read_text())
    return [t["expr"] for p in dashboard["panels"] for t in p["targets"]]


def test_dashboard_queries_are_valid_promql(tmp_path: Path) -> None:
    records = [{"record": f"dashboard:q{i}", "expr": e} for i, e in enumerate(_dashboard_queries())]
    (tmp_path / "q.yml").write_text(yaml.safe_dump({"groups": [{"name": "d", "rules": records}]}))
    done = subprocess.run(
        [_promtool(), "check", "rules", str(tmp_path / "q.yml")], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stdout + done.stderr


def _service_app() -> TestClient:
    # One app per process, as in production: the instrumentator's series are registered once per
    # process, so a second app built in the same process would not show its requests.
    app = create_api("intake", description="probe")

    @app.get("/cases/{case_id}")
    async def case(case_id: str) -> dict[str, str]:
        return {}

    return TestClient(app)


SERVICE = _service_app()


def _exposed_by_a_service() -> set[str]:
    SERVICE.get("/cases/x")
    # Labelled series appear once a label set is used; touch each as the running service does.
    metrics.EVENTS_HANDLED.labels("intake", "case.opened.v1")
    metrics.HANDLER_SECONDS.labels("intake", "case.opened.v1").observe(0.001)
    metrics.REFERRALS_OVERDUE.labels("acceptance")
    text = SERVICE.get("/metrics").text
    return {line.split("{")[0].split(" ")[0] for line in text.splitlines() if line[:1] != "#"}


def test_dashboard_and_alerts_name_only_series_that_exist() -> None:
    exposed = _exposed_by_a_service() | RABBITMQ_SERIES | {"up"}
    assert HTTP_SERIES <= exposed
    used: set[str] = set()
    for expr in [*_dashboard_queries(), (HERE / "alerts.yml").read_text()]:
        used |= set(re.findall(r"\b((?:kooperacja|rabbitmq|http)_[a-z_]+)\b", expr))
    used -= {"kooperacja_operations"}
    assert used, "no series found in the dashboard"
    assert used <= exposed, f"not exposed by anything: {sorted(used - exposed)}"


def test_http_metrics_name_the_route_template_not_the_path() -> None:
    SERVICE.get("/cases/85010112345")
    text = SERVICE.get("/metrics").text
    assert 'handler="/cases/{case_id}"' in text
    assert "85010112345" not in text


def test_readiness_is_a_series() -> None:
    assert 'kooperacja_ready{service="intake"} 1.0' in SERVICE.get("/metrics").text
