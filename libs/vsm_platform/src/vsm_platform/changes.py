"""Change rows: every change to an aggregate is an inserted document, never an update.

A row's `_id` is `<aggregate>:<version>` (version zero-padded so ids sort in order). Two writers
of the same version race on that unique `_id`: one insert wins, the other gets `Conflict` and
must re-read. The row holds the change, the events to announce (already enveloped, ids fixed),
the actor and the W3C trace context of the request, so the relay can publish exactly what
happened, in order, continuing the request's trace.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from bson import Binary
from google.protobuf.message import Message
from pymongo.errors import DuplicateKeyError
from vsm_rules.errors import Conflict

from vsm_platform.actor import Actor
from vsm_platform.clock import Clock
from vsm_platform.envelope import Envelope, new_envelope
from vsm_platform.mongo import Collection, Document
from vsm_platform.telemetry import current_trace_context
from vsm_platform.topics import Topic

VERSION_DIGITS = 10


def row_id(aggregate: str, version: int) -> str:
    return f"{aggregate}:{version:0{VERSION_DIGITS}d}"


def split_row_id(identifier: str) -> tuple[str, int]:
    aggregate, _, version = identifier.rpartition(":")
    return aggregate, int(version)


@dataclass(frozen=True, slots=True)
class PendingEvent:
    """An event to announce with a change: its topic, payload, key and subject."""

    topic: Topic
    message: Message
    key: str
    subject: str = ""


@dataclass(frozen=True, slots=True)
class RowEvent:
    """An event as stored in a change row: where it goes and the envelope to send."""

    topic: str
    envelope: Envelope


@dataclass(frozen=True, slots=True)
class ChangeRow:
    """One change to one aggregate, with the events it announces."""

    aggregate: str
    version: int
    at: datetime
    actor: Actor
    change: Mapping[str, Any]
    events: tuple[RowEvent, ...] = ()
    trace: Mapping[str, str] = field(default_factory=dict)

    @property
    def id(self) -> str:
        return row_id(self.aggregate, self.version)

    def to_document(self) -> Document:
        return {
            "_id": self.id,
            "aggregate": self.aggregate,
            "version": self.version,
            "at": self.at,
            "actor": self.actor.to_document(),
            "change": dict(self.change),
            "trace": dict(self.trace),
            "events": [
                {
                    "topic": event.topic,
                    "id": event.envelope.id,
                    "source": event.envelope.source,
                    "type": event.envelope.type,
                    "time": event.envelope.time,
                    "subject": event.envelope.subject,
                    "key": event.envelope.key,
                    "data": Binary(event.envelope.data),
                }
                for event in self.events
            ],
        }

    @classmethod
    def from_document(cls, document: Document) -> ChangeRow:
        trace = dict(document.get("trace") or {})
        return cls(
            aggregate=document["aggregate"],
            version=document["version"],
            at=document["at"],
            actor=Actor.from_document(document["actor"]),
            change=document.get("change") or {},
            trace=trace,
            events=tuple(
                RowEvent(
                    topic=event["topic"],
                    envelope=Envelope(
                        id=event["id"],
                        source=event["source"],
                        type=event["type"],
                        time=event["time"],
                        subject=event["subject"],
                        key=event["key"],
                        data=bytes(event["data"]),
                        trace=trace,
                    ),
                )
                for event in document.get("events") or ()
            ),
        )


class ChangeLog:
    """Appends change rows for one service and reads them back by `_id`."""

    def __init__(
        self,
        rows: Collection,
        *,
        source: str,
        clock: Clock,
        on_append: Callable[[ChangeRow], None] | None = None,
    ) -> None:
        self.rows = rows
        self._source = source
        self._clock = clock
        self._on_append = on_append

    def subscribe(self, on_append: Callable[[ChangeRow], None]) -> None:
        """Hands every newly appended row to `on_append` (the relay) at once."""
        self._on_append = on_append

    async def append(
        self,
        aggregate: str,
        version: int,
        *,
        change: Mapping[str, Any],
        events: Sequence[PendingEvent] = (),
        actor: Actor,
    ) -> ChangeRow:
        """Records version `version` of `aggregate`; Conflict if someone recorded it first."""
        if version < 1:
            raise ValueError("versions start at 1")
        now = self._clock.now()
        trace = current_trace_context()
        row = ChangeRow(
            aggregate=aggregate,
            version=version,
            at=now,
            actor=actor,
            change=change,
            trace=trace,
            events=tuple(
                RowEvent(
                    topic=pending.topic.name,
                    envelope=new_envelope(
                        pending.message,
                        source=self._source,
                        subject=pending.subject or aggregate,
                        key=pending.key,
                        time=now,
                        trace=trace,
                    ),
                )
                for pending in events
            ),
        )
        try:
            await self.rows.insert_one(row.to_document())
        except DuplicateKeyError as error:
            raise Conflict(
                f"{aggregate} was changed by someone else (version {version} exists); "
                "read it again and retry"
            ) from error
        if self._on_append is not None:
            self._on_append(row)
        return row

    async def get(self, aggregate: str, version: int) -> ChangeRow | None:
        document = await self.rows.find_one({"_id": row_id(aggregate, version)})
        return ChangeRow.from_document(document) if document else None

    async def history(self, aggregate: str, after: int = 0) -> list[ChangeRow]:
        """Every row of `aggregate` after version `after`, by `_id` lookups only."""
        rows: list[ChangeRow] = []
        version = after + 1
        while (row := await self.get(aggregate, version)) is not None:
            rows.append(row)
            version += 1
        return rows

    async def scan(self) -> AsyncIterator[ChangeRow]:
        """Every row, for recovery at start (a full scan on the embedded server)."""
        async for document in self.rows.find({}):
            yield ChangeRow.from_document(document)
