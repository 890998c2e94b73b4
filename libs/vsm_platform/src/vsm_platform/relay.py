"""The relay: publishes change rows' events to Kafka in order, exactly what was recorded.

It is handed each new row in-process the moment it is inserted, and scans once at start for rows
not yet published (the embedded server scans on any filter but an exact `_id` anyway). Rows of one
aggregate go out in version order: a row whose predecessor is not yet out waits for it, fetched by
`_id`; when that predecessor was inserted by another process, its relay publishes it, and this
one waits a moment for its marker before publishing it itself. After a row's events are
acknowledged by the broker the relay inserts a marker `{_id: <row id>}`; a crash between publish
and marker (or a slow relay elsewhere) republishes the same event ids, which consumers drop as
duplicates. A publish that fails is retried until it succeeds, in order.

Rows waiting together are published as one batch: every event is handed to the producer without
waiting for the one before (the producer keeps a partition's records in the order handed), then
the acknowledgements are awaited and the markers inserted together. A row is marked only when it
and every row before it in the batch were acknowledged.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Awaitable
from dataclasses import replace

from opentelemetry import trace
from opentelemetry.trace import SpanKind

from vsm_platform.changes import ChangeLog, ChangeRow, row_id, split_row_id
from vsm_platform.kafka import Publisher
from vsm_platform.mongo import Collection, insert_unique
from vsm_platform.retry import keep_running
from vsm_platform.telemetry import context_from, current_trace_context

logger = logging.getLogger(__name__)
tracer = trace.get_tracer(__name__)


class Relay:
    """Publishes the events of one service's change rows; run `run()` as a task."""

    def __init__(
        self,
        changes: ChangeLog,
        markers: Collection,
        publisher: Publisher,
        *,
        retry_delay: float = 0.5,
        handover_wait: float = 2.0,
        batch_rows: int = 500,
    ) -> None:
        self._changes = changes
        self._markers = markers
        self._publisher = publisher
        self._retry_delay = retry_delay
        self._handover_wait = handover_wait
        self._batch_rows = batch_rows
        self._queue: asyncio.Queue[ChangeRow] = asyncio.Queue()
        self._published_upto: dict[str, int] = {}
        self._idle = asyncio.Event()
        self.ready = asyncio.Event()
        self.published_rows = 0
        changes.subscribe(self.hand)

    def hand(self, row: ChangeRow) -> None:
        """Takes a row just inserted; it will be published soon, in order."""
        self._idle.clear()
        self._queue.put_nowait(row)

    async def run(self) -> None:
        """Recovers what a previous run left unpublished, then publishes rows as they come,
        everything waiting at once in one pipelined batch."""
        # the relay outlives a database or broker that is away (had it ended, the service would
        # serve on and publish nothing more); a batch tried again may send some events twice,
        # with their ids, but no row already marked
        await keep_running("the relay's recovery", self.recover, self._retry_delay)
        self.ready.set()
        while True:
            if self._queue.empty():
                self._idle.set()
            batch = [await self._queue.get()]
            while not self._queue.empty() and len(batch) < self._batch_rows:
                batch.append(self._queue.get_nowait())
            publish = functools.partial(self._publish_in_order, batch)
            await keep_running("the relay", publish, self._retry_delay)

    async def recover(self) -> int:
        """Publishes every row that has no marker yet; returns how many it published."""
        async for marker in self._markers.find({}, {"_id": 1}):
            aggregate, version = split_row_id(marker["_id"])
            if version > self._published_upto.get(aggregate, 0):
                self._published_upto[aggregate] = version
        pending = [
            row
            async for row in self._changes.scan()
            if row.version > self._published_upto.get(row.aggregate, 0)
        ]
        pending.sort(key=lambda row: (row.at, row.aggregate, row.version))
        before = self.published_rows
        for start in range(0, len(pending), self._batch_rows):
            await self._publish_in_order(pending[start : start + self._batch_rows])
        if pending:
            logger.info("relay recovered %d unpublished change rows", len(pending))
        return self.published_rows - before

    async def wait_idle(self, timeout: float = 30.0) -> None:  # noqa: ASYNC109 (test helper)
        """Returns once every row handed so far is published."""
        await asyncio.wait_for(self._idle.wait(), timeout)

    async def _publish_in_order(self, rows: list[ChangeRow]) -> None:
        """Publishes `rows` and any earlier rows of their aggregates still unpublished, each
        aggregate in version order."""
        upto = dict(self._published_upto)  # what will be out once this batch is
        due: list[ChangeRow] = []
        for row in rows:
            chain = [row]
            while chain[-1].version - 1 > upto.get(row.aggregate, 0):
                earlier = await self._changes.get(row.aggregate, chain[-1].version - 1)
                if earlier is None:  # a gap cannot happen with inserts of version+1; never skip
                    raise RuntimeError(
                        f"change row {row_id(row.aggregate, chain[-1].version - 1)} missing"
                    )
                chain.append(earlier)
            for pending in reversed(chain):
                if pending.version <= upto.get(pending.aggregate, 0):
                    continue
                upto[pending.aggregate] = pending.version
                if pending is not row and await self._published_elsewhere(pending):
                    self._published_upto[pending.aggregate] = pending.version
                    continue
                due.append(pending)
        await self._publish(due)

    async def _published_elsewhere(self, row: ChangeRow) -> bool:
        """Whether another process's relay published this earlier row (its marker is there),
        waiting a moment for it: a row inserted by another process is that relay's to publish,
        and publishing it here too would only send its events twice."""
        deadline = asyncio.get_running_loop().time() + self._handover_wait
        while True:
            if await self._markers.find_one({"_id": row.id}) is not None:
                return True
            if asyncio.get_running_loop().time() >= deadline:
                return False
            await asyncio.sleep(0.05)

    async def _publish(self, rows: list[ChangeRow]) -> None:
        """Submits every event of `rows` in order without waiting in between, then marks the
        rows whose events were all acknowledged; from the first row that failed on, the rest
        is submitted again after a pause (an event may then go out twice, with its one id)."""
        while rows:
            acknowledgements = [await self._submit(row) for row in rows]
            published: list[ChangeRow] = []
            failed = False
            for row, acknowledged in zip(rows, acknowledgements, strict=True):
                outcomes = await asyncio.gather(*acknowledged, return_exceptions=True)
                errors = [o for o in outcomes if isinstance(o, BaseException)]
                if errors and not failed:
                    logger.warning("publishing %s failed; retrying", row.id, exc_info=errors[0])
                failed = failed or bool(errors)
                if not failed:  # a row after a failed one goes again with it
                    published.append(row)
            await asyncio.gather(
                *(insert_unique(self._markers, {"_id": row.id, "at": row.at}) for row in published)
            )
            for row in published:
                self._published_upto[row.aggregate] = max(
                    row.version, self._published_upto.get(row.aggregate, 0)
                )
            self.published_rows += len(published)
            rows = rows[len(published) :]
            if rows:
                await asyncio.sleep(self._retry_delay)

    async def _submit(self, row: ChangeRow) -> list[Awaitable[object]]:
        """Hands the broker client every event of `row`; returns their acknowledgements."""
        acknowledgements: list[Awaitable[object]] = []
        for event in row.events:
            with tracer.start_as_current_span(
                f"{event.topic} publish",
                context=context_from(dict(row.trace)),
                kind=SpanKind.PRODUCER,
                attributes={
                    "messaging.system": "kafka",
                    "messaging.destination.name": event.topic,
                    "messaging.message.id": event.envelope.id,
                    "cloudevents.event_type": event.envelope.type,
                },
            ):
                envelope = replace(event.envelope, trace=current_trace_context())
                try:
                    acknowledgement = await self._publisher.submit(
                        event.topic, envelope.key.encode(), envelope.data, envelope.to_headers()
                    )
                    acknowledgements.append(acknowledgement)
                except Exception as error:  # refused before it was queued: fails like a nack
                    failed: asyncio.Future[object] = asyncio.get_running_loop().create_future()
                    failed.set_exception(error)
                    acknowledgements.append(failed)
        return acknowledgements
