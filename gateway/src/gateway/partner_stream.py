"""A partner's event stream: offers, fills, cancellations and licence alerts of its
organisation, read straight from the topics' logs. The cursor is the position reached in every
partition (topic, partition, next offset), so a stream resumed from the cursor of the last
event received continues exactly after it: no gap, since the log keeps everything in order, and
no repeat. The relay may publish an event twice (at least once, same id, same partition); only
its first copy in the log is sent, decided by rows `seen:<event id>:<where>` any stream writes."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import AsyncIterator
from typing import Any

from aiokafka import AIOKafkaConsumer
from vsm.licensing.v1 import events_pb2 as licensing_events
from vsm.matching.v1 import events_pb2 as matching_events
from vsm.partner.v1 import events_pb2 as epb
from vsm.scheduling.v1 import events_pb2 as scheduling_events
from vsm_platform.consumers import partitions_of
from vsm_platform.envelope import Envelope, from_record
from vsm_platform.mongo import Collection, insert_unique, prefixed
from vsm_rules.errors import InvalidArgument

from gateway.api_keys import PartnerKey
from gateway.owners import Owners

OFFER_EVENTS = (matching_events.OfferMade, matching_events.OfferAccepted,
                matching_events.OfferDeclined, matching_events.OfferExpired,
                matching_events.OfferWithdrawn)  # fmt: skip


MAX_OFFSET = 2**63 - 1  # a Kafka offset is 64 bits: a larger one failed inside the consumer


def encode_cursor(positions: dict[str, int]) -> str:
    text = json.dumps(positions, sort_keys=True, separators=(",", ":"))
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def decode_cursor(position: str) -> dict[str, int]:
    """The positions in a cursor this API gave; InvalidArgument for anything else."""
    if not position:
        return {}
    try:
        padded = position + "=" * (-len(position) % 4)
        positions = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise InvalidArgument("cursor.position", "not a cursor this API gave") from None
    if not isinstance(positions, dict) or not all(
        isinstance(k, str) and isinstance(v, int) and 0 <= v <= MAX_OFFSET
        for k, v in positions.items()
    ):
        raise InvalidArgument("cursor.position", "not a cursor this API gave")
    return positions


class PartnerFeed:
    def __init__(self, bootstrap: str, topics: list[str], owners: Owners, seen: Collection) -> None:
        self._bootstrap = bootstrap
        self._topics = topics
        self._owners = owners
        self._seen = seen

    async def events(
        self, key: PartnerKey, cursor: epb.StreamCursor, kinds: set[int]
    ) -> AsyncIterator[epb.PartnerEvent]:
        positions = decode_cursor(cursor.position)
        partitions = await partitions_of(self._bootstrap, self._topics)
        consumer = AIOKafkaConsumer(bootstrap_servers=self._bootstrap, group_id=None,
                                    enable_auto_commit=False)  # fmt: skip
        await consumer.start()
        try:
            consumer.assign(partitions)
            if not positions:  # from now on
                ends = await consumer.end_offsets(partitions)
                positions = {f"{tp.topic}:{tp.partition}": ends[tp] for tp in partitions}
            for tp in partitions:
                consumer.seek(tp, positions.get(f"{tp.topic}:{tp.partition}", 0))
            while True:
                batches = await consumer.getmany(timeout_ms=300)
                for tp in sorted(batches, key=lambda t: (t.topic, t.partition)):
                    for record in batches[tp]:
                        where = f"{tp.topic}:{tp.partition}"
                        positions[where] = record.offset + 1
                        event = await self._event(key, record, where, kinds)
                        if event is not None:
                            event.cursor.position = encode_cursor(positions)
                            yield event
        finally:
            await consumer.stop()

    async def _event(
        self, key: PartnerKey, record: Any, where: str, kinds: set[int]
    ) -> epb.PartnerEvent | None:
        try:
            envelope = from_record(record.key, record.value, record.headers)
            message = envelope.message()
        except Exception:
            return None  # not one of ours (a dead letter, say): nothing a partner is told
        made = await self._shape(message)
        if made is None:
            return None
        event, organization = made
        if organization != key.organization_id or (kinds and event.kind not in kinds):
            return None
        if not await self._first_copy(envelope, where, record.offset):
            return None
        event.event_id, event.type = envelope.id, type(message).__name__
        event.time = envelope.time.isoformat()
        return event

    async def _shape(self, message: Any) -> tuple[epb.PartnerEvent, str] | None:
        """The partner's view of an event and the organisation it concerns."""
        if isinstance(message, OFFER_EVENTS):
            return (epb.PartnerEvent(kind=epb.EVENT_KIND_OFFER, offer=message.offer),
                    await self._owners.of_shift(message.offer.shift_id))  # fmt: skip
        if isinstance(message, scheduling_events.BookingConfirmed):
            return (epb.PartnerEvent(kind=epb.EVENT_KIND_FILL, booking=message.booking),
                    await self._owners.of_shift(message.booking.shift_id))  # fmt: skip
        if isinstance(message, scheduling_events.BookingReleased):
            event = epb.PartnerEvent(kind=epb.EVENT_KIND_CANCELLATION, booking=message.booking,
                                     reason=message.reason,
                                     compensation_cents=message.compensation_cents)  # fmt: skip
            return event, await self._owners.of_shift(message.booking.shift_id)
        if isinstance(message, scheduling_events.ShiftCancelled):
            event = epb.PartnerEvent(kind=epb.EVENT_KIND_CANCELLATION, shift=message.shift,
                                     reason=message.reason)  # fmt: skip
            return event, await self._owners.of_facility(message.shift.facility_id)
        if isinstance(message, licensing_events.EntryLapse):
            alert = epb.LicenceAlert(
                clinician_id=message.clinician_id, entry_id=message.entry_id,
                description=message.description, expires=message.expires,
                lapsed=message.stage == licensing_events.LAPSE_STAGE_LAPSED,
            )  # fmt: skip
            return (epb.PartnerEvent(kind=epb.EVENT_KIND_LICENCE_ALERT, licence_alert=alert),
                    await self._owners.clinician_owner(message.clinician_id))  # fmt: skip
        return None

    async def _first_copy(self, envelope: Envelope, where: str, offset: int) -> bool:
        """Whether this is the first copy of the event in the log (copies share a partition)."""
        mine = f"seen:{envelope.id}:{where}:{offset:020d}"
        await insert_unique(self._seen, {"_id": mine})
        first = None
        async for row in self._seen.find(prefixed(f"seen:{envelope.id}:"), {"_id": 1}):
            first = row["_id"] if first is None else min(first, row["_id"])
        return first == mine
