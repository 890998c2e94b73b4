"""Live updates for the pages: the services' events, as they happen, pushed to the people they
concern over server-sent events. A page is told only *that* something changed (the kind of
event and the ids it already knows) and reads what it shows through the REST API, where access
is checked; a clinician hears of their own offers and bookings, facility staff of their
organisation's shifts.

The hub follows the matching and scheduling topics from their ends (no consumer group, nothing
committed: a page that was away reads the current state when it comes back)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections import defaultdict
from collections.abc import AsyncIterator, Iterable
from typing import Any

from aiokafka import AIOKafkaConsumer
from opentelemetry import trace
from vsm.matching.v1 import events_pb2 as matching_events
from vsm.scheduling.v1 import events_pb2 as scheduling_events
from vsm_platform.consumers import consumer_span
from vsm_platform.envelope import Envelope, from_record

from gateway.owners import Owners

logger = logging.getLogger(__name__)
tracer = trace.get_tracer(__name__)
OFFER_EVENTS = (matching_events.OfferMade, matching_events.OfferAccepted,
                matching_events.OfferDeclined, matching_events.OfferExpired,
                matching_events.OfferWithdrawn)  # fmt: skip
SHIFT_EVENTS = (scheduling_events.ShiftPosted, scheduling_events.ShiftUpdated,
                scheduling_events.ShiftCancelled)  # fmt: skip
BOOKING_EVENTS = (scheduling_events.BookingConfirmed, scheduling_events.BookingReleased)
QUEUE_LIMIT = 100


class LiveHub:
    def __init__(self, owners: Owners) -> None:
        self._owners = owners
        self._listeners: dict[str, set[asyncio.Queue[str]]] = defaultdict(set)
        self.ready = asyncio.Event()

    @contextlib.contextmanager
    def listen(self, audiences: Iterable[str]) -> Any:
        """A queue of the changes for these audiences (`clinician:<id>`, `org:<id>`)."""
        queue: asyncio.Queue[str] = asyncio.Queue(QUEUE_LIMIT)
        names = list(audiences)
        for name in names:
            self._listeners[name].add(queue)
        try:
            yield queue
        finally:
            for name in names:
                self._listeners[name].discard(queue)
                if not self._listeners[name]:
                    del self._listeners[name]

    async def follow(self, bootstrap: str, topics: list[str]) -> None:
        """Reads the topics from their ends and tells every listener concerned."""
        consumer = AIOKafkaConsumer(
            *topics, bootstrap_servers=bootstrap, group_id=None, auto_offset_reset="latest",
            enable_auto_commit=False,
        )  # fmt: skip
        await consumer.start()
        try:
            await consumer.seek_to_end()
            self.ready.set()
            async for record in consumer:
                try:
                    envelope = from_record(record.key, record.value, record.headers)
                    with trace.use_span(consumer_span(record, envelope), end_on_exit=True):
                        await self.tell(envelope)
                except Exception:
                    logger.warning("a live update could not be told", exc_info=True)
        finally:
            await consumer.stop()

    async def tell(self, envelope: Envelope) -> None:
        message = envelope.message()
        change: dict[str, Any] = {"type": type(message).__name__}
        audiences: list[str] = []
        if isinstance(message, OFFER_EVENTS):
            offer = message.offer
            change.update(offer_id=offer.offer_id, shift_id=offer.shift_id)
            audiences = [f"clinician:{offer.clinician_id}", await self._org(offer.shift_id)]
        elif isinstance(message, SHIFT_EVENTS):
            change.update(shift_id=message.shift.shift_id)
            audiences = [await self._org(message.shift.shift_id, message.shift.facility_id)]
        elif isinstance(message, BOOKING_EVENTS):
            booking = message.booking
            change.update(shift_id=booking.shift_id)
            audiences = [f"clinician:{booking.clinician_id}", await self._org(booking.shift_id)]
        text = json.dumps(change)
        with tracer.start_as_current_span("live push") as span:
            pages = 0
            for audience in audiences:
                for queue in list(self._listeners.get(audience, ())):
                    if queue.full():  # a page that stopped reading misses nothing it can reload
                        continue
                    queue.put_nowait(text)
                    pages += 1
            span.set_attributes({"vsm.change": text, "vsm.pages": pages})

    async def _org(self, shift_id: str, facility_id: str = "") -> str:
        """`org:<organisation>` of the shift."""
        organization = await (
            self._owners.of_facility(facility_id)
            if facility_id
            else self._owners.of_shift(shift_id)
        )
        return f"org:{organization}"


async def stream(queue: asyncio.Queue[str], keepalive: float = 15.0) -> AsyncIterator[str]:
    """Server-sent events from a listener's queue, with a comment now and then so proxies and
    browsers keep the connection."""
    yield "retry: 2000\n\n"
    while True:
        try:
            text = await asyncio.wait_for(queue.get(), keepalive)
        except TimeoutError:
            yield ": still here\n\n"
            continue
        yield f"event: change\ndata: {text}\n\n"
