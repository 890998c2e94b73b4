"""The CloudEvents envelope survives the trip through Kafka headers and names what is wrong."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from vsm.scheduling.v1 import events_pb2, scheduling_service_pb2
from vsm_platform.envelope import MalformedEvent, from_record, new_envelope

WHEN = datetime(2026, 3, 8, 7, 30, tzinfo=UTC)


def _posted() -> events_pb2.ShiftPosted:
    shift = scheduling_service_pb2.Shift(shift_id="s1", profession="RN", positions=2)
    return events_pb2.ShiftPosted(shift=shift)


def test_an_envelope_round_trips_through_key_value_and_headers() -> None:
    trace = {"traceparent": "00-" + "a" * 32 + "-" + "b" * 16 + "-01"}
    sent = new_envelope(
        _posted(), source="scheduling", subject="shift:s1", key="s1", time=WHEN, trace=trace
    )
    received = from_record(sent.key.encode(), sent.data, sent.to_headers())
    assert received == sent
    assert received.type == "vsm.scheduling.v1.ShiftPosted"
    message = received.message()
    assert isinstance(message, events_pb2.ShiftPosted)
    assert message.shift.positions == 2


def test_headers_are_cloudevents_binary_mode() -> None:
    envelope = new_envelope(_posted(), source="scheduling", subject="shift:s1", key="s1", time=WHEN)
    headers = dict(envelope.to_headers())
    assert headers["ce_specversion"] == b"1.0"
    assert headers["ce_type"] == b"vsm.scheduling.v1.ShiftPosted"
    assert headers["ce_source"] == b"scheduling"
    assert headers["ce_subject"] == b"shift:s1"
    assert headers["content-type"] == b"application/protobuf"
    assert datetime.fromisoformat(headers["ce_time"].decode()) == WHEN


def test_event_time_is_kept_in_utc_whatever_offset_it_was_given_in() -> None:
    local = WHEN.astimezone(timezone(timedelta(hours=-5)))
    envelope = new_envelope(_posted(), source="s", subject="x", key="k", time=local)
    assert envelope.time.tzinfo == UTC and envelope.time == WHEN


def test_a_naive_event_time_is_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        new_envelope(_posted(), source="s", subject="x", key="k", time=datetime(2026, 1, 1))


@pytest.mark.parametrize("missing", ["ce_id", "ce_source", "ce_type", "ce_time"])
def test_a_record_without_a_required_header_is_malformed_naming_it(missing: str) -> None:
    envelope = new_envelope(_posted(), source="s", subject="x", key="k", time=WHEN)
    headers = [(name, value) for name, value in envelope.to_headers() if name != missing]
    with pytest.raises(MalformedEvent, match=missing):
        from_record(b"k", envelope.data, headers)


def test_an_unknown_type_or_undecodable_payload_is_malformed() -> None:
    envelope = new_envelope(_posted(), source="s", subject="x", key="k", time=WHEN)
    headers = [
        (n, b"vsm.nowhere.v1.Nothing" if n == "ce_type" else v) for n, v in envelope.to_headers()
    ]
    with pytest.raises(MalformedEvent, match="ce_type"):
        from_record(b"k", envelope.data, headers).message()
    with pytest.raises(MalformedEvent, match="data"):
        from_record(b"k", b"\xff\xff\xff", envelope.to_headers()).message()


def test_two_envelopes_of_the_same_source_and_id_are_one_event() -> None:
    first = new_envelope(_posted(), source="s", subject="x", key="k", time=WHEN, event_id="e1")
    again = new_envelope(_posted(), source="s", subject="x", key="k", time=WHEN, event_id="e1")
    other = new_envelope(_posted(), source="t", subject="x", key="k", time=WHEN, event_id="e1")
    assert first.dedup_key == again.dedup_key != other.dedup_key
