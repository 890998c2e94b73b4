"""Consuming events: projections for read models, and work consumers with exactly-once effect.

A `Projection` has no committed group: it replays every partition from the start and reports
`ready` once it has caught up with the end offsets it saw at start. A `WorkConsumer` is a member of
a group: it skips an event it already applied (an insert of `<group>|<source>|<id>`), retries a
failing handler a few times, then sends the event to the dead-letter topic with its error and moves
on, and commits offsets only after handling. Both open a consumer span continuing the producer's
trace.

A handler that fails because something it needs is away for a while (the database, or a service
answering UNAVAILABLE while it restarts) is retried until that is back, by both: such an event is
not poison, and dead-lettering or skipping it would lose its effect.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence

import grpc
from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from opentelemetry import trace
from opentelemetry.trace import SpanKind
from pymongo.errors import ConnectionFailure

from vsm_platform.envelope import Envelope, MalformedEvent, from_record
from vsm_platform.kafka import Publisher
from vsm_platform.mongo import Collection, insert_unique
from vsm_platform.telemetry import context_from
from vsm_platform.topics import DEAD_LETTER_SUFFIX

logger = logging.getLogger(__name__)
tracer = trace.get_tracer(__name__)

Handler = Callable[[Envelope], Awaitable[None]]
_AWAY = frozenset({grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED})
TRANSIENT_BACKOFF_LIMIT = 5.0  # seconds between tries while a dependency is away


def transient(error: Exception) -> bool:
    """Whether `error` says something the handler needs is away for a while (the database, or a
    service restarting), not that the event cannot be handled."""
    if isinstance(error, ConnectionFailure):
        return True
    return isinstance(error, grpc.aio.AioRpcError) and error.code() in _AWAY


async def until_not_transient(handler: Handler, envelope: Envelope, backoff: float) -> None:
    """Runs the handler, trying again for as long as it fails transiently; other errors are
    raised."""
    waits = 0
    while True:
        try:
            await handler(envelope)
            return
        except Exception as error:
            if not transient(error):
                raise
            delay = min(TRANSIENT_BACKOFF_LIMIT, backoff * 2**waits)
            waits += 1
            logger.warning("handling %s waits %.1f s for what it needs: %s", envelope.id, delay,
                           error)  # fmt: skip
            await asyncio.sleep(delay)


def consumer_span(record: ConsumerRecord[bytes, bytes], envelope: Envelope) -> trace.Span:
    """A span for handling one record, continuing the trace of the request that made it."""
    return tracer.start_span(
        f"{record.topic} process",
        context=context_from(envelope.trace),
        kind=SpanKind.CONSUMER,
        attributes={
            "messaging.system": "kafka",
            "messaging.destination.name": record.topic,
            "messaging.kafka.destination.partition": record.partition,
            "messaging.kafka.message.offset": record.offset,
            "messaging.message.id": envelope.id,
            "cloudevents.event_type": envelope.type,
        },
    )


async def partitions_of(bootstrap: str, topics: Sequence[str]) -> list[TopicPartition]:
    """Every partition of the topics, as the broker describes them (they must exist)."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        described = await admin.describe_topics(list(topics))
    finally:
        await admin.close()
    partitions = []
    for topic in described:
        if topic["error_code"] != 0:
            raise RuntimeError(
                f"topic {topic['topic']} cannot be read (error {topic['error_code']})"
            )
        partitions += [TopicPartition(topic["topic"], p["partition"]) for p in topic["partitions"]]
    return sorted(partitions)


async def _when_readable(bootstrap: str, topics: Sequence[str]) -> list[TopicPartition]:
    """The topics' partitions once the broker can describe them all: a topic created a moment
    ago (or a broker just started) is waited for, not a reason to stop reading."""
    while True:
        try:
            return await partitions_of(bootstrap, topics)
        except RuntimeError as error:
            logger.warning("waiting for the topics to be readable: %s", error)
            await asyncio.sleep(0.5)


async def _caught_up(consumer: AIOKafkaConsumer, ends: dict[TopicPartition, int]) -> bool:
    for partition, end in ends.items():
        if await consumer.position(partition) < end:
            return False
    return True


class Projection:
    """Feeds a read model from the start of its topics; `ready` once caught up."""

    def __init__(self, bootstrap: str, topics: Sequence[str], handler: Handler) -> None:
        self._bootstrap = bootstrap
        self._topics = list(topics)
        self._handler = handler
        self.ready = asyncio.Event()
        self.applied = 0

    async def run(self) -> None:
        consumer = AIOKafkaConsumer(
            bootstrap_servers=self._bootstrap,
            group_id=None,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
        )
        await consumer.start()
        try:
            partitions = await _when_readable(self._bootstrap, self._topics)
            consumer.assign(partitions)
            await consumer.seek_to_beginning(*partitions)
            ends = await consumer.end_offsets(partitions)
            while True:
                if not self.ready.is_set() and await _caught_up(consumer, ends):
                    self.ready.set()
                batches = await consumer.getmany(timeout_ms=200)
                for records in batches.values():
                    for record in records:
                        await self._apply(record)
        finally:
            await consumer.stop()

    async def _apply(self, record: ConsumerRecord[bytes, bytes]) -> None:
        try:
            envelope = from_record(record.key, record.value, record.headers)
        except MalformedEvent as error:
            logger.error("skipping malformed record %s@%d: %s", record.topic, record.offset, error)
            return
        with trace.use_span(consumer_span(record, envelope), end_on_exit=True):
            try:
                await until_not_transient(self._handler, envelope, 0.2)
            except Exception:
                logger.exception("projection could not apply event %s", envelope.id)
                return
        self.applied += 1


class WorkConsumer:
    """A group member that applies each event once, dead-letters what keeps failing, and commits
    after handling."""

    def __init__(
        self,
        bootstrap: str,
        topics: Sequence[str],
        group: str,
        handler: Handler,
        *,
        applied: Collection,
        dead_letters: Publisher,
        attempts: int = 3,
        backoff: float = 0.2,
    ) -> None:
        self._bootstrap = bootstrap
        self._topics = list(topics)
        self._group = group
        self._handler = handler
        self._applied = applied
        self._dead_letters = dead_letters
        self._attempts = attempts
        self._backoff = backoff
        self.assigned = asyncio.Event()
        self.handled = 0
        self.skipped = 0
        self.dead_lettered = 0

    async def run(self) -> None:
        consumer = AIOKafkaConsumer(
            *self._topics,
            bootstrap_servers=self._bootstrap,
            group_id=self._group,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
        )
        await consumer.start()
        try:
            while True:
                batches = await consumer.getmany(timeout_ms=200)
                if consumer.assignment():
                    self.assigned.set()
                for tp, records in batches.items():
                    for record in records:
                        await self._handle(record)
                    await consumer.commit({tp: records[-1].offset + 1})
        finally:
            await consumer.stop()

    async def _handle(self, record: ConsumerRecord[bytes, bytes]) -> None:
        try:
            envelope = from_record(record.key, record.value, record.headers)
        except MalformedEvent as error:
            await self._dead_letter(record, str(error))
            return
        marker = f"{self._group}|{envelope.dedup_key}"
        if await self._applied.find_one({"_id": marker}, {"_id": 1}) is not None:
            self.skipped += 1
            return
        span = consumer_span(record, envelope)
        with trace.use_span(span, end_on_exit=True):
            failure = await self._attempt(envelope)
            if failure is not None:
                span.record_exception(failure)
                await self._dead_letter(record, f"{type(failure).__name__}: {failure}")
                return
        await insert_unique(self._applied, {"_id": marker, "topic": record.topic})
        self.handled += 1

    async def _attempt(self, envelope: Envelope) -> Exception | None:
        last: Exception | None = None
        for attempt in range(self._attempts):
            try:
                await until_not_transient(self._handler, envelope, self._backoff)
                return None
            except Exception as error:
                last = error
                logger.warning(
                    "handling %s failed (attempt %d of %d): %s",
                    envelope.id,
                    attempt + 1,
                    self._attempts,
                    error,
                )
                await asyncio.sleep(self._backoff * 2**attempt)
        return last

    async def _dead_letter(self, record: ConsumerRecord[bytes, bytes], error: str) -> None:
        headers = [
            *record.headers,
            ("vsm_error", error.encode()),
            ("vsm_original_topic", record.topic.encode()),
            ("vsm_original_partition", str(record.partition).encode()),
            ("vsm_original_offset", str(record.offset).encode()),
            ("vsm_consumer_group", self._group.encode()),
        ]
        await self._dead_letters.send(
            record.topic + DEAD_LETTER_SUFFIX, record.key, record.value, headers
        )
        self.dead_lettered += 1
        logger.error("sent %s@%d to the dead-letter topic: %s", record.topic, record.offset, error)
