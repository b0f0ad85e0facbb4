"""CloudEvents 1.0 envelope, structured mode of the RabbitMQ protocol binding.

The body is the whole envelope as JSON with content type `application/cloudevents+json`;
`id` is the dedupe key. Extensions: region, correlationid, causationid, sequence.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Literal
from uuid import UUID, uuid4

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from shared.events import EVENTS_BY_KEY, Event

CONTENT_TYPE = "application/cloudevents+json"
TYPE_PREFIX = "pl.kooperacja."


class MalformedEvent(ValueError):
    """A message that can never be handled: not JSON, not an envelope, or data off schema."""


class UnknownEventType(MalformedEvent):
    """A well-formed envelope of a type (or version) this code does not know."""


class Envelope(BaseModel):
    model_config = ConfigDict(extra="allow", frozen=True)

    specversion: Literal["1.0"] = "1.0"
    id: UUID
    source: str = Field(pattern=r"^/kooperacja/\d{2}/[a-z]+$")
    type: str = Field(pattern=r"^pl\.kooperacja\.[a-z_]+\.[a-z_]+\.v\d+$")
    time: datetime
    subject: str | None = None
    datacontenttype: Literal["application/json"] = "application/json"
    data: dict[str, Any]
    region: str = Field(pattern=r"^\d{2}$")
    correlationid: str
    causationid: str | None = None
    sequence: int | None = Field(default=None, ge=1)

    @property
    def routing_key(self) -> str:
        return self.type.removeprefix(TYPE_PREFIX)

    def to_bytes(self) -> bytes:
        return self.model_dump_json(exclude_none=True).encode()


def wrap(
    event: Event,
    *,
    region: str,
    service: str,
    correlation_id: str | None = None,
    causation_id: str | None = None,
    sequence: int | None = None,
    event_id: UUID | None = None,
    time: datetime | None = None,
) -> Envelope:
    """Put an event in its envelope. A new event starts a correlation unless it continues one."""
    new_id = event_id or uuid4()
    return Envelope(
        id=new_id,
        source=f"/kooperacja/{region}/{service}",
        type=TYPE_PREFIX + event.routing_key,
        time=time or datetime.now(UTC),
        subject=event.subject,
        data=event.model_dump(mode="json"),
        region=region,
        correlationid=correlation_id or str(new_id),
        causationid=causation_id,
        sequence=sequence,
    )


def parse_envelope(body: bytes) -> Envelope:
    try:
        return Envelope.model_validate_json(body)
    except ValidationError as exc:
        raise MalformedEvent(f"not a CloudEvents envelope: {_first_errors(exc)}") from exc


def open_envelope(envelope: Envelope) -> Event:
    """The typed event inside an envelope."""
    event_cls = EVENTS_BY_KEY.get(envelope.routing_key)
    if event_cls is None:
        raise UnknownEventType(f"unknown event type {envelope.type!r}")
    try:
        return event_cls.model_validate(event_cls.from_wire(envelope.data))
    except ValidationError as exc:
        raise MalformedEvent(f"{envelope.type} data off schema: {_first_errors(exc)}") from exc


def _first_errors(exc: ValidationError, limit: int = 3) -> str:
    parts = []
    for err in exc.errors()[:limit]:
        where = ".".join(str(p) for p in err["loc"]) or "(root)"
        parts.append(f"{where}: {err['msg']}")
    return "; ".join(parts)
