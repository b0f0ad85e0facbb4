"""The rebuild's fast path reads what the live path reads: one pydantic pass gives the same
envelope and event as parse_envelope + open_envelope, skips what live would not count, and the
bodies come out of the stream's AMQP 1.0 messages intact."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from uuid import uuid4

import pytest

from services.reporting import store
from services.reporting.domain import facts_of
from services.reporting.event_log import MARKER_PREFIX, StreamAddress, _body_of, stream_url_of
from services.reporting.rebuild import parse, prepare
from shared.envelope import open_envelope, parse_envelope, wrap
from shared.events import (
    CaseClosed,
    CaseOpened,
    DiagnosisCompleted,
    Event,
    InstitutionUpdated,
    Need,
    PartnershipChanged,
    Place,
    Recommendation,
    ReferralDeclined,
)
from shared.settings import get_settings

PLACE = Place(gmina="0601042", powiat="0601", region="06", variant="rural")
AT = datetime(2025, 3, 4, 23, 30, tzinfo=UTC)  # already the 5th in Warsaw


def _events() -> list[Event]:
    case_id = uuid4()
    return [
        CaseOpened(case_id=case_id, place=PLACE, opened_on=date(2025, 3, 1), household_size=4,
                   age_bands={"6-17": 2, "30-44": 2}, reasons=["9", "1"], notified_by="school",
                   consent_to_share=True),
        DiagnosisCompleted(diagnosis_id=uuid4(), case_id=case_id, place=PLACE,
                           completed_on=date(2025, 3, 20), needs=[Need(area="parenting",
                           severity=2)], recommendations=[Recommendation(
                               recommendation_id=uuid4(), support_type="family_assistant",
                               need_area="parenting", priority=1)], institutions=[uuid4()]),
        ReferralDeclined(referral_id=uuid4(), case_id=case_id, place=PLACE,
                         support_type="family_assistant", institution_id=uuid4(),
                         sector="social_assistance", reason="no_capacity", attempt=1),
        InstitutionUpdated(institution_id=uuid4(), name="GOPS", sector="social_assistance",
                           support_types=["family_assistant"], gminas=["0601042"]),
        CaseClosed(case_id=case_id, place=PLACE, closed_on=date(2025, 9, 1),
                   outcome="completed_successfully"),
    ]  # fmt: skip


def test_one_pass_gives_the_envelope_and_event_of_the_live_path() -> None:
    for event in _events():
        body = wrap(event, region="06", service="test", time=AT, sequence=3).to_bytes()
        live = parse_envelope(body)
        fast = parse(body)
        assert fast is not None, event
        assert fast.data == open_envelope(live)
        assert (fast.id, fast.routing_key, fast.time, fast.source, fast.sequence) == (
            live.id, live.routing_key, live.time, live.source, live.sequence,
        )  # fmt: skip
        assert facts_of(fast.data, fast) == facts_of(open_envelope(live), live)


def test_what_live_would_not_count_is_skipped() -> None:
    good = wrap(_events()[0], region="06", service="test", time=AT)
    off_schema = json.loads(good.to_bytes())
    off_schema["data"]["opened_on"] = "yesterday"
    unknown = json.loads(good.to_bytes())
    unknown["type"] = "pl.kooperacja.case.opened.v9"
    bad_source = json.loads(good.to_bytes())
    bad_source["source"] = "somewhere"
    partnership = PartnershipChanged(gmina="0601042", institutions=[uuid4()])
    for body in (
        json.dumps(off_schema).encode(),
        json.dumps(unknown).encode(),
        json.dumps(bad_source).encode(),
        wrap(partnership, region="06", service="test").to_bytes(),  # no figure of reporting
        b"kooperacja-rebuild-marker:" + str(uuid4()).encode(),
        b"",
        b"{not json",
    ):
        assert parse(body) is None, body


def test_a_batch_becomes_folded_rows_and_inbox_entries() -> None:
    envelopes = [wrap(e, region="06", service="test", time=AT) for e in _events()]
    bodies = [e.to_bytes() for e in envelopes]
    partnership = PartnershipChanged(gmina="0601042", institutions=[uuid4()])
    others = [b"not an event", wrap(partnership, region="06", service="test").to_bytes()] * 2
    # a duplicate, as the log may hold
    batch = prepare([*bodies, *others, MARKER_PREFIX + b"x", bodies[0]])
    assert batch.skipped == {
        "malformed messages: not a CloudEvents envelope": 2,
        "partnership.changed.v1 events: not reported (who sits on a PZK is no figure of the "
        "reports)": 2,
        "rebuild markers: the end of an earlier rebuild's replay, not events": 1,
    }
    assert batch.handled == [(e.id, e.routing_key) for e in [*envelopes, envelopes[0]]]
    facts = [f for e in envelopes for f in facts_of(open_envelope(e), e)]
    assert batch.rows == store.as_records(facts)


def test_a_rebuild_skips_an_event_larger_than_a_consumer_takes() -> None:
    # Live, such an event is dead-lettered unread; rebuilt, it counts no more than live.
    envelope = wrap(_events()[0], region="06", service="test", time=AT)
    data = json.loads(envelope.to_bytes())
    data["data"]["padding"] = "x" * get_settings().max_event_bytes
    oversized = json.dumps(data).encode()
    assert parse(oversized) is not None  # a valid event, but too large
    [(why, count)] = prepare([oversized]).skipped.items()
    assert count == 1 and why.startswith("oversized messages")


# A message as RabbitMQ 3.10 stores one published over AMQP 0.9.1 (message annotations,
# properties, application properties, then the data section).
STORED = (
    b"\x00Sr\xc1M\x06\xa3\rx-routing-key\xa1\x14kooperacja.event-log\xa3\nx-exchange\xa1\x00"
    b"\xa3\x15x-basic-delivery-modeP\x02\x00Ss\xc0\x12\r\xa1\x03abc@@@@@@@@@@@@\x00St\xc1#"
    b"\x02\xa1\x1bx-kooperacja-rebuild-marker\xa1\x03abc\x00Su\xa0\x06MARKER"
)


def test_the_body_is_found_past_the_other_sections() -> None:
    assert _body_of(memoryview(STORED)) == b"MARKER"
    big = b"x" * 300  # over 255 bytes: a vbin32
    header = b"\x00Sp\x45"  # an empty header list
    assert _body_of(memoryview(header + b"\x00Su\xb0" + len(big).to_bytes(4, "big") + big)) == big
    with pytest.raises(ValueError):
        _body_of(memoryview(b"\x00Sw\xa1\x03abc"))  # amqp-value, never published here


def test_the_stream_url_follows_the_amqp_url() -> None:
    url = stream_url_of("amqp://u%40x:p%2Fw@broker:5673/koop%2Fa")
    assert url == "rabbitmq-stream://u%40x:p%2Fw@broker:5552/koop%2Fa"
    address = StreamAddress.parse(url)
    assert (address.host, address.port, address.vhost) == ("broker", 5552, "koop/a")
    assert (address.username, address.password) == ("u@x", "p/w")
    assert StreamAddress.parse(stream_url_of("amqp://guest:guest@127.0.0.1:5672/")).vhost == "/"
