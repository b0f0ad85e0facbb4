"""The AsyncAPI documents tell the truth: docs/asyncapi.json is what the code generates, each
service serves what it publishes, the content type and correlation are what goes on the wire,
the vhost is the configured one, every message says what it means, and the official
@asyncapi/parser finds no error in any of them."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from shared.asyncapi import description_of, document, publisher_of, render
from shared.envelope import CONTENT_TYPE
from shared.events import ALL_EVENTS
from shared.http import create_api
from shared.settings import DEFAULT_PORTS, Settings
from shared.topology import EVENT_LOG_STREAM

ROOT = Path(__file__).parents[2]
PUBLISHED = ROOT / "docs" / "asyncapi.json"
PARSER = ROOT / "tests" / "asyncapi"


def _defaults() -> Settings:
    """The settings of a fresh install, whatever this test run's environment says."""
    return Settings(amqp_url=Settings.model_fields["amqp_url"].default)


def test_published_document_matches_the_code() -> None:
    assert PUBLISHED.read_text().strip() == render(_defaults()).strip(), (
        "regenerate with: kooperacja asyncapi --out docs/asyncapi.json"
    )


def test_every_event_is_a_persistent_cloudevent_on_the_topic_exchange() -> None:
    doc = document(Settings())
    assert doc["defaultContentType"] == CONTENT_TYPE == "application/cloudevents+json"
    assert {c["address"] for c in doc["channels"].values()} == {
        e.routing_key for e in ALL_EVENTS
    } | {EVENT_LOG_STREAM}
    for event in ALL_EVENTS:
        operation = doc["operations"][f"send.{event.routing_key}"]
        assert operation["bindings"]["amqp"]["deliveryMode"] == 2
        exchange = doc["channels"][event.routing_key]["bindings"]["amqp"]["exchange"]
        assert (exchange["name"], exchange["type"]) == ("kooperacja.events", "topic")
        message = doc["components"]["messages"][event.__name__]
        assert message["contentType"] == CONTENT_TYPE
        assert message["summary"] == description_of(event)


def test_correlation_is_where_the_envelope_carries_it() -> None:
    doc = document(Settings())
    [correlation] = doc["components"]["correlationIds"].values()
    assert correlation["location"] == "$message.payload#/correlationid"
    envelope = doc["components"]["schemas"]["CaseOpenedMessage"]
    assert "correlationid" in envelope["required"]


def test_the_vhost_and_host_are_the_configured_ones_and_no_password_shows() -> None:
    settings = Settings(
        amqp_url="amqps://kooperacja:s3cret@broker.region06.example:5671/region%2F06"
    )
    text = render(settings)
    doc = json.loads(text)
    assert doc["servers"]["broker"] == {
        "host": "broker.region06.example:5671",
        "protocol": "amqps",
        "pathname": "/region/06",
        "description": "The region's RabbitMQ, vhost 'region/06' (KOOP_AMQP_URL).",
    }
    exchange = doc["channels"]["case.opened.v1"]["bindings"]["amqp"]["exchange"]
    assert exchange["vhost"] == "region/06"
    assert "s3cret" not in text


def test_every_event_has_a_publisher_and_a_sentence() -> None:
    for event in ALL_EVENTS:
        assert publisher_of(event)
        assert description_of(event).endswith((".", ")")), event.__name__


def test_the_event_log_stream_is_documented() -> None:
    log = document(Settings())["channels"]["event-log"]
    assert log["address"] == EVENT_LOG_STREAM
    assert log["bindings"]["amqp"]["is"] == "queue"
    assert "stream" in log["description"] and "5552" in log["description"]


@pytest.mark.parametrize("service", sorted(DEFAULT_PORTS))
def test_each_service_serves_what_it_publishes(service: str) -> None:
    served = TestClient(create_api(service, description="")).get("/api/v1/asyncapi.json")
    assert served.status_code == 200
    sent = {o["channel"]["$ref"] for o in served.json()["operations"].values()}
    expected = {e.routing_key for e in ALL_EVENTS if publisher_of(e) == service}
    assert sent == {f"#/channels/{k}" for k in expected} | {"#/channels/event-log"}


def test_the_official_parser_finds_no_error(tmp_path: Path) -> None:
    node = shutil.which("node")
    if not node or not (PARSER / "node_modules" / "@asyncapi" / "parser").exists():
        if os.environ.get("CI"):
            pytest.fail("node or @asyncapi/parser missing: deploy/local/infra.sh installs them")
        pytest.skip("run: npm ci --prefix tests/asyncapi")
    files = [str(PUBLISHED)]
    for service in sorted(DEFAULT_PORTS):
        path = tmp_path / f"{service}.json"
        path.write_text(render(Settings(), service))
        files.append(str(path))
    done = subprocess.run(
        [node, str(PARSER / "validate.mjs"), *files], capture_output=True, text=True, cwd=PARSER
    )
    assert done.returncode == 0, done.stdout + done.stderr
