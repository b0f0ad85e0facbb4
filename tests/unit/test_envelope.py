from datetime import date
from uuid import uuid4

import pytest
from cloudevents.core.bindings import rabbitmq as ce_rabbitmq
from cloudevents.core.formats.json import JSONFormat

from shared.envelope import (
    CONTENT_TYPE,
    MalformedEvent,
    UnknownEventType,
    open_envelope,
    parse_envelope,
    wrap,
)
from shared.events import CaseClosed, CaseOpened, Place

PLACE = Place(gmina="0601032", powiat="0601", region="06", variant="rural")


def case_opened() -> CaseOpened:
    return CaseOpened(
        case_id=uuid4(),
        place=PLACE,
        opened_on=date(2026, 1, 5),
        household_size=3,
        age_bands={"30-44": 2, "6-17": 1},
        reasons=["1", "7a"],
        notified_by="school",
        consent_to_share=True,
    )


def test_envelope_round_trips_the_event() -> None:
    event = case_opened()
    envelope = wrap(event, region="06", service="intake", sequence=1)
    again = parse_envelope(envelope.to_bytes())
    assert open_envelope(again) == event
    assert again.type == "pl.kooperacja.case.opened.v1"
    assert again.routing_key == "case.opened.v1"
    assert again.subject == str(event.case_id)
    assert again.source == "/kooperacja/06/intake"
    assert again.correlationid == str(again.id)


def test_cloudevents_sdk_reads_our_structured_message() -> None:
    envelope = wrap(case_opened(), region="06", service="intake", sequence=4)
    message = ce_rabbitmq.RabbitMQMessage(
        headers={}, content_type=CONTENT_TYPE, body=envelope.to_bytes()
    )
    event = ce_rabbitmq.from_structured(message, JSONFormat())
    assert event.get_id() == str(envelope.id)
    assert event.get_type() == "pl.kooperacja.case.opened.v1"
    assert event.get_extension("sequence") == 4
    assert event.get_extension("region") == "06"


def test_caused_event_continues_the_correlation() -> None:
    first = wrap(case_opened(), region="06", service="intake")
    closed = CaseClosed(
        case_id=uuid4(), place=PLACE, closed_on=date(2026, 9, 1), outcome="completed_successfully"
    )
    second = wrap(
        closed,
        region="06",
        service="intake",
        correlation_id=first.correlationid,
        causation_id=str(first.id),
    )
    assert second.correlationid == first.correlationid
    assert second.causationid == str(first.id)


@pytest.mark.parametrize("body", [b"not json", b"{}", b'{"specversion": "1.0", "id": "x"}'])
def test_malformed_message_is_refused(body: bytes) -> None:
    with pytest.raises(MalformedEvent):
        parse_envelope(body)


def test_unknown_version_is_refused_by_type() -> None:
    envelope = wrap(case_opened(), region="06", service="intake")
    v9 = envelope.model_copy(update={"type": "pl.kooperacja.case.opened.v9"})
    with pytest.raises(UnknownEventType):
        open_envelope(parse_envelope(v9.to_bytes()))


def test_data_off_schema_is_refused() -> None:
    envelope = wrap(case_opened(), region="06", service="intake")
    bad = envelope.model_copy(update={"data": {**envelope.data, "reasons": ["99"]}})
    with pytest.raises(MalformedEvent, match="reasons"):
        open_envelope(parse_envelope(bad.to_bytes()))


def test_consumers_ignore_unknown_fields() -> None:
    envelope = wrap(case_opened(), region="06", service="intake")
    newer = envelope.model_copy(update={"data": {**envelope.data, "new_optional_field": 1}})
    assert isinstance(open_envelope(parse_envelope(newer.to_bytes())), CaseOpened)
