"""The AsyncAPI 3 documents of Kooperacja's events, built from the event models.

One document per publishing service (what it sends, served at its `/api/v1/asyncapi.json`) and one
of the whole stream (`docs/asyncapi.json`, `kooperacja asyncapi`). Each message is the CloudEvents
envelope in structured mode (`application/cloudevents+json`) with `data` typed as that event, so a
subscriber sees exactly what arrives on the wire; the correlation is the envelope's
`correlationid`, where it is really carried. The broker's vhost comes from the settings, and the
event-log stream, a subscriber's way to read history, is a channel of its own.
"""

from __future__ import annotations

import json
from typing import Any, Literal
from urllib.parse import unquote, urlsplit

from pydantic import create_model

from shared.envelope import CONTENT_TYPE, TYPE_PREFIX, Envelope
from shared.events import ALL_EVENTS, Event
from shared.settings import Settings
from shared.topology import EVENT_LOG_STREAM

# Which service publishes each event, by the longest matching prefix of its routing key.
PUBLISHERS = {
    "case.": "intake",
    "activity.participation_changed.": "intake",
    "diagnosis.": "diagnosis",
    "plan.": "diagnosis",
    "support.": "referrals",
    "referral.": "referrals",
    "institution.": "referrals",
    "partnership.": "partnership",
    "meeting.": "partnership",
    "activity.": "partnership",
    "survey.": "partnership",
}


def publisher_of(event_cls: type[Event]) -> str:
    matches = [p for p in PUBLISHERS if event_cls.routing_key.startswith(p)]
    if not matches:
        raise LookupError(f"{event_cls.routing_key}: no publisher in shared/asyncapi.py")
    return PUBLISHERS[max(matches, key=len)]


def description_of(event_cls: type[Event]) -> str:
    """The event's own docstring, first paragraph: what happened, for a subscriber."""
    doc = event_cls.__doc__ if event_cls.__doc__ != Event.__doc__ else None
    if not doc:
        raise LookupError(f"{event_cls.__name__} has no docstring saying what it means")
    return " ".join(doc.strip().split("\n\n")[0].split())


def envelope_of(event_cls: type[Event]) -> type[Envelope]:
    full_type = TYPE_PREFIX + event_cls.routing_key
    return create_model(  # type: ignore[call-overload, no-any-return]
        event_cls.__name__ + "Message",
        __base__=Envelope,
        __doc__=f"CloudEvents envelope of {full_type}.",
        type=(Literal[full_type], full_type),  # type: ignore[valid-type]
        data=(event_cls, ...),
    )


def _vhost(amqp_url: str) -> str:
    path = urlsplit(amqp_url).path
    return unquote(path[1:]) if len(path) > 1 else "/"


def _message(event_cls: type[Event], schemas: dict[str, Any]) -> dict[str, Any]:
    schema = envelope_of(event_cls).model_json_schema(ref_template="#/components/schemas/{model}")
    schemas.update(schema.pop("$defs", {}))
    name = event_cls.__name__
    schemas[name + "Message"] = schema
    return {
        "name": name,
        "title": event_cls.routing_key,
        "summary": description_of(event_cls),
        "contentType": CONTENT_TYPE,
        "correlationId": {"$ref": "#/components/correlationIds/correlationid"},
        "payload": {"$ref": f"#/components/schemas/{name}Message"},
        "bindings": {"amqp": {"messageType": TYPE_PREFIX + event_cls.routing_key}},
    }


def document(settings: Settings, service: str | None = None) -> dict[str, Any]:
    """The events `service` publishes (all of them when None), as an AsyncAPI 3.1 document."""
    events = [e for e in ALL_EVENTS if service is None or publisher_of(e) == service]
    vhost = _vhost(settings.amqp_url)
    exchange = {
        "name": settings.exchange,
        "type": "topic",
        "durable": True,
        "autoDelete": False,
        "vhost": vhost,
    }
    schemas: dict[str, Any] = {}
    messages = {e.__name__: _message(e, schemas) for e in events}
    channels: dict[str, Any] = {}
    operations: dict[str, Any] = {}
    for event_cls in events:
        key, name = event_cls.routing_key, event_cls.__name__
        channels[key] = {
            "address": key,
            "title": key,
            "description": f"Routing key {key} on the topic exchange {settings.exchange}; "
            f"published by {publisher_of(event_cls)}. Bind a queue with this key (or a "
            "pattern) to receive it.",
            "messages": {name: {"$ref": f"#/components/messages/{name}"}},
            "bindings": {"amqp": {"is": "routingKey", "exchange": exchange}},
        }
        operations[f"send.{key}"] = {
            "action": "send",
            "channel": {"$ref": f"#/channels/{_pointer(key)}"},
            "summary": f"{publisher_of(event_cls)} publishes {key}, persistent, at least once; "
            "the envelope's id is the deduplication key.",
            "messages": [{"$ref": f"#/channels/{_pointer(key)}/messages/{name}"}],
            "bindings": {"amqp": {"deliveryMode": 2, "mandatory": False}},
        }
    channels["event-log"] = {
        "address": EVENT_LOG_STREAM,
        "title": "The event log",
        "description": f"A RabbitMQ stream ({EVENT_LOG_STREAM}, x-queue-type stream) bound to "
        f"{settings.exchange} with '#': every event ever published, in publishing order, kept "
        "by the broker's retention. Read it with the stream protocol (port 5552, plugin "
        "rabbitmq_stream) or AMQP with x-stream-offset (first, an offset or a timestamp) to "
        "build a projection or catch up a new consumer; deduplicate by the envelope's id.",
        "messages": {n: {"$ref": f"#/components/messages/{n}"} for n in messages},
        "bindings": {
            "amqp": {
                "is": "queue",
                "queue": {
                    "name": EVENT_LOG_STREAM,
                    "durable": True,
                    "exclusive": False,
                    "autoDelete": False,
                    "vhost": vhost,
                },
            }
        },
    }
    operations["read.event-log"] = {
        "action": "receive",
        "channel": {"$ref": "#/channels/event-log"},
        "summary": "Read the event log from an offset (history and catch-up).",
        "messages": [{"$ref": f"#/channels/event-log/messages/{n}"} for n in messages],
    }
    url = urlsplit(settings.amqp_url)
    who = f" — {service}" if service else ""
    return {
        "asyncapi": "3.1.0",
        "info": {
            "title": f"Kooperacja events{who}",
            "version": "1.0.0",
            "description": "Kooperacja's public events: CloudEvents 1.0 in structured mode, "
            f"content type {CONTENT_TYPE}, one event per message. Events carry codes, ids, "
            "dates and counts, never personal data of the people helped. A new version of an "
            "event is published beside the old one as .v2.",
            "license": {"name": "EUPL-1.2", "url": "https://eupl.eu/1.2/en/"},
        },
        "defaultContentType": CONTENT_TYPE,
        "servers": {
            "broker": {
                "host": f"{url.hostname or 'localhost'}:{url.port or 5672}",
                "protocol": "amqps" if url.scheme == "amqps" else "amqp",
                "pathname": f"/{vhost}",
                "description": f"The region's RabbitMQ, vhost {vhost!r} (KOOP_AMQP_URL).",
            }
        },
        "channels": channels,
        "operations": operations,
        "components": {
            "messages": messages,
            "schemas": schemas,
            "correlationIds": {
                "correlationid": {
                    "description": "The envelope's correlationid extension: the id of the event "
                    "that started the chain (a case's opening, say); every event caused by it "
                    "carries the same value, and its causationid names the direct cause.",
                    "location": "$message.payload#/correlationid",
                }
            },
        },
    }


def _pointer(key: str) -> str:
    return key.replace("~", "~0").replace("/", "~1")


def render(settings: Settings, service: str | None = None) -> str:
    # Sorted and indented so that the committed copy diffs cleanly.
    return json.dumps(document(settings, service), indent=2, sort_keys=True, ensure_ascii=False)
