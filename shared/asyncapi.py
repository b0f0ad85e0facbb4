"""The AsyncAPI 3 document of the public event stream, generated from the event models.

Each message's payload is the CloudEvents envelope with `data` typed as that event, so a
subscriber sees exactly what arrives on the wire.
"""

from __future__ import annotations

import json
from typing import Literal

from faststream.rabbit import ExchangeType, RabbitBroker, RabbitExchange
from faststream.specification import AsyncAPI
from pydantic import create_model

from shared.envelope import CONTENT_TYPE, TYPE_PREFIX, Envelope
from shared.events import ALL_EVENTS, Event
from shared.settings import Settings


def envelope_of(event_cls: type[Event]) -> type[Envelope]:
    name = event_cls.__name__ + "Message"
    full_type = TYPE_PREFIX + event_cls.routing_key
    return create_model(  # type: ignore[call-overload, no-any-return]
        name,
        __base__=Envelope,
        __doc__=f"CloudEvents envelope of {full_type}.",
        type=(Literal[full_type], full_type),  # type: ignore[valid-type]
        data=(event_cls, ...),
    )


def document(settings: Settings) -> str:
    broker = RabbitBroker(
        "amqp://rabbitmq:5672/",
        description="Kooperacja's public events: CloudEvents 1.0, structured mode, "
        f"content type {CONTENT_TYPE}. No personal data in any event.",
    )
    exchange = RabbitExchange(settings.exchange, type=ExchangeType.TOPIC, durable=True)
    for event_cls in ALL_EVENTS:
        broker.publisher(
            routing_key=event_cls.routing_key,
            exchange=exchange,
            persist=True,
            schema=envelope_of(event_cls),
            title=event_cls.routing_key,
            description=(event_cls.__doc__ or "").strip().splitlines()[0]
            if event_cls.__doc__ and event_cls.__doc__ != Event.__doc__
            else f"{event_cls.__name__} ({event_cls.routing_key})",
        )
    spec = AsyncAPI(broker, title="Kooperacja events", version="1.0.0", schema_version="3.0.0")
    # Sorted and indented so that the committed copy diffs cleanly.
    return json.dumps(json.loads(spec.to_specification().to_json()), indent=2, sort_keys=True)
