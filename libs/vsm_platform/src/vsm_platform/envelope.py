"""The event envelope: CloudEvents 1.0 in Kafka binary mode, with a protobuf payload.

Attributes travel as `ce_*` headers; the record value is the serialized protobuf message whose
full name (e.g. `vsm.scheduling.v1.ShiftPosted`, the version in its package) is `ce_type`;
the record key is the aggregate id or the partition key consumers need. The W3C trace context
rides along as `traceparent`/`tracestate` headers. Consumers treat the same source+id as a
duplicate.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from google.protobuf import message_factory
from google.protobuf.descriptor_pool import Default as default_pool
from google.protobuf.message import DecodeError, Message

SPEC_VERSION = "1.0"
CONTENT_TYPE = "application/protobuf"
Headers = Sequence[tuple[str, bytes]]


class MalformedEvent(ValueError):
    """A record that is not a well-formed envelope of a known event type."""


@dataclass(frozen=True, slots=True)
class Envelope:
    """One event as it travels: CloudEvents attributes, the Kafka key and the payload bytes."""

    id: str
    source: str
    type: str
    time: datetime
    subject: str
    key: str
    data: bytes
    trace: dict[str, str] = field(default_factory=dict)

    @property
    def dedup_key(self) -> str:
        """What consumers key their idempotence on: the same source+id is the same event."""
        return f"{self.source}|{self.id}"

    def to_headers(self) -> list[tuple[str, bytes]]:
        headers = [
            ("ce_specversion", SPEC_VERSION),
            ("ce_id", self.id),
            ("ce_source", self.source),
            ("ce_type", self.type),
            ("ce_time", self.time.astimezone(UTC).isoformat()),
            ("ce_subject", self.subject),
            ("content-type", CONTENT_TYPE),
            *sorted(self.trace.items()),
        ]
        return [(name, value.encode()) for name, value in headers]

    def message(self) -> Message:
        """The payload decoded as the protobuf message its type names."""
        try:
            descriptor = default_pool().FindMessageTypeByName(self.type)
        except KeyError as error:
            raise MalformedEvent(f"ce_type: unknown event type {self.type!r}") from error
        decoded = message_factory.GetMessageClass(descriptor)()
        try:
            decoded.ParseFromString(self.data)
        except DecodeError as error:
            raise MalformedEvent(f"data: not a valid {self.type}: {error}") from error
        return decoded


def new_envelope(
    message: Message,
    *,
    source: str,
    subject: str,
    key: str,
    time: datetime,
    event_id: str | None = None,
    trace: dict[str, str] | None = None,
) -> Envelope:
    """Wraps a protobuf event; its type is the message's full name."""
    if time.tzinfo is None:
        raise ValueError("event time must be timezone-aware")
    return Envelope(
        id=event_id or str(uuid.uuid4()),
        source=source,
        type=message.DESCRIPTOR.full_name,
        time=time.astimezone(UTC),
        subject=subject,
        key=key,
        data=message.SerializeToString(),
        trace=dict(trace or {}),
    )


_REQUIRED = ("ce_id", "ce_source", "ce_type", "ce_time")
_TRACE_HEADERS = ("traceparent", "tracestate")


def from_record(
    key: bytes | None, value: bytes | None, headers: Iterable[tuple[str, bytes]]
) -> Envelope:
    """Reads an envelope back from a Kafka record; MalformedEvent names what is wrong."""
    attributes: dict[str, str] = {}
    for name, raw in headers:
        try:
            attributes[name] = raw.decode()
        except UnicodeDecodeError as error:
            raise MalformedEvent(f"{name}: header is not UTF-8") from error
    missing = [name for name in _REQUIRED if not attributes.get(name)]
    if missing:
        raise MalformedEvent(f"{missing[0]}: missing CloudEvents header")
    if attributes.get("ce_specversion", SPEC_VERSION) != SPEC_VERSION:
        raise MalformedEvent(f"ce_specversion: unsupported {attributes['ce_specversion']!r}")
    try:
        time = datetime.fromisoformat(attributes["ce_time"])
    except ValueError as error:
        raise MalformedEvent("ce_time: not an ISO 8601 instant") from error
    if time.tzinfo is None:
        raise MalformedEvent("ce_time: has no offset")
    return Envelope(
        id=attributes["ce_id"],
        source=attributes["ce_source"],
        type=attributes["ce_type"],
        time=time.astimezone(UTC),
        subject=attributes.get("ce_subject", ""),
        key=(key or b"").decode(errors="replace"),
        data=value or b"",
        trace={name: attributes[name] for name in _TRACE_HEADERS if name in attributes},
    )
