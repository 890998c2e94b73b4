"""The relay's batches, over in-memory rows and a scripted broker: pipelined submissions, markers
only after acknowledgement, a failure sending that row and every later one again in order, and
a database away for a while (the relay waits for it, it does not end)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Mapping
from typing import Any

from pymongo.errors import AutoReconnect
from vsm.licensing.v1 import events_pb2
from vsm.licensing.v1 import licensing_service_pb2 as pb
from vsm_platform.actor import Actor
from vsm_platform.changes import ChangeLog, PendingEvent, row_id
from vsm_platform.clock import SystemClock
from vsm_platform.envelope import from_record
from vsm_platform.kafka import RecordHeaders
from vsm_platform.relay import Relay
from vsm_platform.testing import MemoryCollection
from vsm_platform.topics import Topic

TOPIC = Topic(name="test.events", key="aggregate", purpose="test", partitions=1)
ACTOR = Actor.service("tests")


class ScriptedBroker:
    """Acknowledges each record when told; refuses the records listed in `refuse` once."""

    def __init__(self, refuse: set[str] | None = None) -> None:
        self.refuse = set(refuse or ())
        self.delivered: list[str] = []
        self.submitted = 0
        self.waiting: list[asyncio.Future[object]] = []

    async def send(
        self, topic: str, key: bytes | None, value: bytes | None, headers: RecordHeaders
    ) -> None:
        await await_it(await self.submit(topic, key, value, headers))

    async def submit(
        self, topic: str, key: bytes | None, value: bytes | None, headers: RecordHeaders
    ) -> Awaitable[object]:
        del topic
        self.submitted += 1
        note = from_record(key, value, headers).message().change
        acknowledgement: asyncio.Future[object] = asyncio.get_running_loop().create_future()
        if note in self.refuse:
            self.refuse.discard(note)
            acknowledgement.set_exception(ConnectionError("broker went away"))
        else:
            self.delivered.append(note)
            self.waiting.append(acknowledgement)
        return acknowledgement

    def acknowledge_all(self) -> None:
        for acknowledgement in self.waiting:
            if not acknowledgement.done():
                acknowledgement.set_result(None)
        self.waiting.clear()


async def await_it(awaitable: Awaitable[object]) -> object:
    return await awaitable


async def _append(changes: ChangeLog, aggregate: str, version: int, note: str) -> None:
    event = events_pb2.LicensingRecordChanged(
        record=pb.LicensingRecord(clinician_id=aggregate), change=note
    )
    await changes.append(
        aggregate, version, change={}, events=[PendingEvent(TOPIC, event, key=aggregate)],
        actor=ACTOR,
    )  # fmt: skip


async def _until(condition: object, broker: ScriptedBroker, wait: float = 5.0) -> None:
    deadline = asyncio.get_running_loop().time() + wait
    while not condition():  # type: ignore[operator]
        broker.acknowledge_all()
        assert asyncio.get_running_loop().time() < deadline, "not reached in time"
        await asyncio.sleep(0.01)


async def test_rows_waiting_together_are_all_submitted_before_any_acknowledgement() -> None:
    changes = ChangeLog(MemoryCollection(), source="tests", clock=SystemClock())  # type: ignore[arg-type]
    markers = MemoryCollection()
    broker = ScriptedBroker()
    relay = Relay(changes, markers, broker)  # type: ignore[arg-type]
    task = asyncio.create_task(relay.run())
    try:
        await asyncio.wait_for(relay.ready.wait(), 5)
        for version in range(1, 6):
            await _append(changes, "clinician:a", version, f"a{version}")
            await _append(changes, "clinician:b", version, f"b{version}")
        await asyncio.sleep(0.05)
        assert broker.submitted == 10  # all handed over while none was acknowledged
        assert markers.documents == {}  # and nothing marked before its acknowledgement
        await _until(lambda: relay.published_rows == 10, broker)
        assert [n for n in broker.delivered if n.startswith("a")] == [f"a{v}" for v in range(1, 6)]
        assert len(markers.documents) == 10
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def test_a_refused_row_goes_again_with_every_row_after_it_in_order() -> None:
    changes = ChangeLog(MemoryCollection(), source="tests", clock=SystemClock())  # type: ignore[arg-type]
    markers = MemoryCollection()
    broker = ScriptedBroker(refuse={"v3"})
    relay = Relay(changes, markers, broker, retry_delay=0.01)  # type: ignore[arg-type]
    for version in range(1, 6):  # written while no relay ran: recovered as one batch
        await _append(changes, "clinician:c", version, f"v{version}")
    task = asyncio.create_task(relay.run())
    try:
        await _until(lambda: relay.published_rows == 5, broker)
        # v1 and v2 once; v3 refused; v4 and v5 went out, but go again after v3
        assert broker.delivered == ["v1", "v2", "v4", "v5", "v3", "v4", "v5"]
        assert sorted(markers.documents) == [row_id("clinician:c", v) for v in range(1, 6)]
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


class AwayAtFirst(MemoryCollection):
    """Markers whose database refuses the first few writes and reads, as while it restarts."""

    def __init__(self, failures: int) -> None:
        super().__init__()
        self.failures = failures

    def _away(self) -> None:
        if self.failures > 0:
            self.failures -= 1
            raise AutoReconnect("connection refused")

    async def insert_one(self, document: Mapping[str, Any]) -> None:
        self._away()
        await super().insert_one(document)

    async def find_one(self, query: Mapping[str, Any]) -> dict[str, Any] | None:
        self._away()
        return await super().find_one(query)


async def test_the_relay_waits_for_an_absent_database_and_publishes_everything() -> None:
    changes = ChangeLog(MemoryCollection(), source="tests", clock=SystemClock())  # type: ignore[arg-type]
    markers = AwayAtFirst(failures=3)
    broker = ScriptedBroker()
    relay = Relay(changes, markers, broker, retry_delay=0.01)  # type: ignore[arg-type]
    task = asyncio.create_task(relay.run())
    try:
        await asyncio.wait_for(relay.ready.wait(), 5)
        for version in range(1, 4):
            await _append(changes, "clinician:d", version, f"d{version}")
        await _until(lambda: relay.published_rows == 3, broker)
        assert not task.done()  # the relay lives on
        assert sorted(markers.documents) == [row_id("clinician:d", v) for v in range(1, 4)]
        assert broker.delivered[-3:] == ["d1", "d2", "d3"]
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
