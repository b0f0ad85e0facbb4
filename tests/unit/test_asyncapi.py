"""docs/asyncapi.json is the published schema: it must be what the code generates."""

import json
from pathlib import Path

from shared.asyncapi import document
from shared.events import ALL_EVENTS
from shared.settings import Settings

PUBLISHED = Path(__file__).parents[2] / "docs" / "asyncapi.json"


def test_published_document_matches_the_code() -> None:
    assert PUBLISHED.read_text().strip() == document(Settings()).strip(), (
        "regenerate with: kooperacja asyncapi --out docs/asyncapi.json"
    )


def test_every_event_is_a_persistent_message_on_the_topic_exchange() -> None:
    doc = json.loads(document(Settings()))
    assert doc["asyncapi"] == "3.0.0"
    assert set(doc["channels"]) == {e.routing_key for e in ALL_EVENTS}
    for event in ALL_EVENTS:
        binding = doc["operations"][event.routing_key]["bindings"]["amqp"]
        assert binding["deliveryMode"] == 2
        exchange = doc["channels"][event.routing_key]["bindings"]["amqp"]["exchange"]
        assert (exchange["name"], exchange["type"]) == ("kooperacja.events", "topic")
