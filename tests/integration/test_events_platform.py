"""Change rows, the relay and the consumers against the real Kafka and MongoDB-protocol servers."""

from __future__ import annotations

import asyncio
import contextlib
import json
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Awaitable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import grpc
import pytest
import pytest_asyncio
from aiokafka import AIOKafkaConsumer
from opentelemetry import trace
from vsm.licensing.v1 import events_pb2
from vsm.licensing.v1 import licensing_service_pb2 as pb
from vsm.licensing.v1 import licensing_service_pb2_grpc as pb_grpc
from vsm_infra.topics import ensure_topics
from vsm_platform.actor import Actor
from vsm_platform.changes import ChangeLog, PendingEvent
from vsm_platform.clock import SystemClock
from vsm_platform.consumers import Projection, WorkConsumer
from vsm_platform.envelope import Envelope, from_record, new_envelope
from vsm_platform.grpc_server import channel, start_server
from vsm_platform.kafka import KafkaPublisher, RecordHeaders
from vsm_platform.mongo import connect
from vsm_platform.relay import Relay
from vsm_platform.topics import Topic
from vsm_rules.errors import Conflict

pytestmark = pytest.mark.integration
ACTOR = Actor.service("tests")


@pytest_asyncio.fixture
async def database(mongodb_uri: str) -> AsyncIterator[Any]:
    client = connect(mongodb_uri)
    try:
        yield client[f"test_{uuid.uuid4().hex[:12]}"]
    finally:
        await client.close()


@pytest_asyncio.fixture
async def topic(kafka_bootstrap: str) -> Topic:
    declared = Topic(
        name=f"test.events.{uuid.uuid4().hex[:10]}", key="aggregate", purpose="test", partitions=3
    )
    await ensure_topics(kafka_bootstrap, [declared, declared.dead_letter])
    return declared


@pytest_asyncio.fixture
async def publisher(kafka_bootstrap: str) -> AsyncIterator[KafkaPublisher]:
    producer = KafkaPublisher(kafka_bootstrap)
    await producer.start()
    try:
        yield producer
    finally:
        await producer.stop()


def _changed(clinician: str, note: str) -> events_pb2.LicensingRecordChanged:
    return events_pb2.LicensingRecordChanged(
        record=pb.LicensingRecord(clinician_id=clinician), change=note
    )


async def _read_all(bootstrap: str, topic: str, expected: int, wait: float = 20.0) -> list[Any]:
    consumer = AIOKafkaConsumer(
        topic, bootstrap_servers=bootstrap, group_id=None, auto_offset_reset="earliest"
    )
    await consumer.start()
    records: list[Any] = []
    try:
        deadline = asyncio.get_running_loop().time() + wait
        while asyncio.get_running_loop().time() < deadline:
            for batch in (await consumer.getmany(timeout_ms=300)).values():
                records.extend(batch)
            if len(records) >= expected:
                await asyncio.sleep(0.5)  # anything beyond what we expect would show now
                for batch in (await consumer.getmany(timeout_ms=300)).values():
                    records.extend(batch)
                break
    finally:
        await consumer.stop()
    return records


async def _run_until(task_factory: Any, condition: Any, wait: float = 30.0) -> None:
    task = asyncio.create_task(task_factory())
    try:
        deadline = asyncio.get_running_loop().time() + wait
        while not condition():
            if task.done():
                task.result()
            assert asyncio.get_running_loop().time() < deadline, "condition not reached in time"
            await asyncio.sleep(0.1)
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def test_two_concurrent_writers_of_one_version_one_wins_the_other_gets_a_conflict(
    database: Any,
) -> None:
    changes = ChangeLog(database["changes"], source="tests", clock=SystemClock())
    await changes.append("clinician:c1", 1, change={"op": "created"}, actor=ACTOR)

    async def write(note: str) -> str:
        try:
            await changes.append("clinician:c1", 2, change={"note": note}, actor=ACTOR)
        except Conflict as conflict:
            return f"conflict: {conflict.message}"
        return "won"

    results = await asyncio.gather(*[write(f"writer-{i}") for i in range(2)])
    assert sorted(r.split(":")[0] for r in results) == ["conflict", "won"]
    assert "read it again and retry" in next(r for r in results if r != "won")
    history = await changes.history("clinician:c1")
    assert [row.version for row in history] == [1, 2]


async def test_the_relay_publishes_rows_a_dead_relay_left_exactly_once_and_in_order(
    database: Any, topic: Topic, publisher: KafkaPublisher, kafka_bootstrap: str
) -> None:
    changes = ChangeLog(database["changes"], source="licensing", clock=SystemClock())
    # The process dies after inserting the rows and before publishing: no relay saw them.
    for version in range(1, 6):
        await changes.append(
            "clinician:c7", version, change={"v": version},
            events=[PendingEvent(topic, _changed("c7", f"v{version}"), key="c7")], actor=ACTOR,
        )  # fmt: skip
    restarted = Relay(changes, database["published"], publisher)
    await _run_until(restarted.run, lambda: restarted.ready.is_set())
    assert restarted.published_rows == 5

    records = await _read_all(kafka_bootstrap, topic.name, 5)
    notes = [from_record(r.key, r.value, r.headers).message().change for r in records]
    assert notes == ["v1", "v2", "v3", "v4", "v5"]  # one key, one partition, in version order

    again = Relay(changes, database["published"], publisher)  # another restart: nothing new
    await _run_until(again.run, lambda: again.ready.is_set())
    assert again.published_rows == 0
    assert len(await _read_all(kafka_bootstrap, topic.name, 6, wait=3)) == 5


class _CrashAfterSend:
    """A publisher whose process dies right after the broker acknowledged a record."""

    class Crash(BaseException):
        pass

    def __init__(self, inner: KafkaPublisher) -> None:
        self._inner = inner

    async def send(
        self, topic: str, key: bytes | None, value: bytes | None, headers: RecordHeaders
    ) -> None:
        await self._inner.send(topic, key, value, headers)
        raise self.Crash()

    async def submit(
        self, topic: str, key: bytes | None, value: bytes | None, headers: RecordHeaders
    ) -> Awaitable[object]:
        await self.send(topic, key, value, headers)
        raise AssertionError("unreachable")


async def test_a_relay_killed_between_publish_and_marker_causes_no_duplicate_effect(
    database: Any, topic: Topic, publisher: KafkaPublisher, kafka_bootstrap: str
) -> None:
    changes = ChangeLog(database["changes"], source="licensing", clock=SystemClock())
    dying = Relay(changes, database["published"], _CrashAfterSend(publisher))
    task = asyncio.create_task(dying.run())
    await changes.append(
        "clinician:c8", 1, change={}, events=[PendingEvent(topic, _changed("c8", "x"), key="c8")],
        actor=ACTOR,
    )  # fmt: skip
    with pytest.raises(_CrashAfterSend.Crash):
        await asyncio.wait_for(task, 20)

    restarted = Relay(changes, database["published"], publisher)
    await _run_until(restarted.run, lambda: restarted.ready.is_set())
    records = await _read_all(kafka_bootstrap, topic.name, 2)
    assert len(records) == 2  # published twice: the marker never made it
    assert len({from_record(r.key, r.value, r.headers).id for r in records}) == 1

    effects: Counter[str] = Counter()

    async def apply(envelope: Envelope) -> None:
        effects[envelope.id] += 1

    worker = WorkConsumer(
        kafka_bootstrap, [topic.name], f"g-{uuid.uuid4().hex}", apply,
        applied=database["applied"], dead_letters=publisher,
    )  # fmt: skip
    await _run_until(worker.run, lambda: worker.handled + worker.skipped == 2)
    assert list(effects.values()) == [1]  # the consumer saw no duplicate effect
    assert worker.skipped == 1


async def test_a_poison_event_goes_to_the_dead_letter_topic_and_the_partition_moves_on(
    database: Any, topic: Topic, publisher: KafkaPublisher, kafka_bootstrap: str
) -> None:
    now = datetime.now(UTC)
    poison = new_envelope(_changed("c9", "poison"), source="t", subject="c9", key="c9", time=now)
    good = new_envelope(_changed("c9", "good"), source="t", subject="c9", key="c9", time=now)
    for envelope in (poison, good):
        await publisher.send(topic.name, b"c9", envelope.data, envelope.to_headers())
    await publisher.send(topic.name, b"c9", b"not an event", [])  # no envelope at all

    handled: list[str] = []

    async def apply(envelope: Envelope) -> None:
        note = envelope.message().change  # type: ignore[attr-defined]
        if note == "poison":
            raise ValueError("cannot apply this one")
        handled.append(note)

    group = f"g-{uuid.uuid4().hex}"
    worker = WorkConsumer(
        kafka_bootstrap, [topic.name], group, apply,
        applied=database["applied"], dead_letters=publisher, attempts=3, backoff=0.05,
    )  # fmt: skip
    await _run_until(worker.run, lambda: worker.dead_lettered == 2 and handled == ["good"])

    dead = await _read_all(kafka_bootstrap, topic.dead_letter.name, 2)
    errors = [dict(record.headers)["vsm_error"].decode() for record in dead]
    assert errors[0] == "ValueError: cannot apply this one"
    assert errors[1].startswith("ce_id: missing")
    assert dict(dead[0].headers)["ce_id"].decode() == poison.id

    consumer = AIOKafkaConsumer(bootstrap_servers=kafka_bootstrap, group_id=group)
    await consumer.start()
    try:
        from aiokafka import TopicPartition

        partitions = [TopicPartition(topic.name, p) for p in range(topic.partitions)]
        committed = [await consumer.committed(tp) or 0 for tp in partitions]
        assert sum(committed) == 3  # every record, the poison ones too, is behind the group
    finally:
        await consumer.stop()


async def test_a_projection_replays_from_the_start_and_reports_ready_once_caught_up(
    topic: Topic, publisher: KafkaPublisher, kafka_bootstrap: str
) -> None:
    now = datetime.now(UTC)
    for i in range(30):
        envelope = new_envelope(
            _changed(f"c{i}", "x"), source="t", subject="s", key=f"c{i}", time=now
        )
        await publisher.send(
            topic.name, envelope.key.encode(), envelope.data, envelope.to_headers()
        )
    model: dict[str, str] = {}

    async def apply(envelope: Envelope) -> None:
        model[envelope.key] = envelope.id

    for _ in range(2):  # a second instance rebuilds the same model: no group, no commits
        model.clear()
        projection = Projection(kafka_bootstrap, [topic.name], apply)
        await _run_until(projection.run, lambda p=projection: p.ready.is_set())
        assert len(model) == 30


class _Licensing(pb_grpc.LicensingServiceServicer):  # type: ignore[misc]
    def __init__(self, changes: ChangeLog, topic: Topic) -> None:
        self._changes = changes
        self._topic = topic

    async def AddLicence(self, request: Any, context: Any) -> Any:
        record = pb.LicensingRecord(clinician_id=request.clinician_id, version=1)
        record.licences.append(request.licence)
        await self._changes.append(
            f"clinician:{request.clinician_id}", 1, change={"licence": request.licence.number},
            events=[PendingEvent(self._topic, events_pb2.LicensingRecordChanged(record=record),
                                 key=request.clinician_id)],
            actor=Actor.from_proto(request.actor),
        )  # fmt: skip
        return pb.RecordResponse(record=record)


async def test_one_trace_spans_grpc_change_row_relay_kafka_and_consumer(
    database: Any,
    topic: Topic,
    publisher: KafkaPublisher,
    kafka_bootstrap: str,
    trace_file: Path,
) -> None:
    changes = ChangeLog(database["changes"], source="licensing", clock=SystemClock())
    relay = Relay(changes, database["published"], publisher)
    relay_task = asyncio.create_task(relay.run())
    server = await start_server(
        "127.0.0.1:0",
        [lambda s: pb_grpc.add_LicensingServiceServicer_to_server(_Licensing(changes, topic), s)],
        ["vsm.licensing.v1.LicensingService"],
    )
    seen: list[str] = []

    async def apply(envelope: Envelope) -> None:
        seen.append(trace.get_current_span().get_span_context().trace_id.__format__("032x"))

    try:
        clinician = f"c-{uuid.uuid4().hex[:8]}"
        async with channel(f"127.0.0.1:{server.port}") as chan:
            await pb_grpc.LicensingServiceStub(chan).AddLicence(
                pb.AddLicenceRequest(
                    actor=Actor.service("tests").to_proto(), clinician_id=clinician,
                    licence=pb.Licence(jurisdiction="US-TX", profession="RN", number="N1"),
                )
            )  # fmt: skip
        worker = WorkConsumer(
            kafka_bootstrap,
            [topic.name],
            f"g-{uuid.uuid4().hex}",
            apply,
            applied=database["applied"],
            dead_letters=publisher,
        )
        await _run_until(worker.run, lambda: len(seen) == 1)
    finally:
        await server.stop(0)
        relay_task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await relay_task
    trace.get_tracer_provider().force_flush()  # type: ignore[attr-defined]

    text = await asyncio.to_thread(trace_file.read_text)
    spans = [json.loads(line) for line in text.splitlines()]
    mine = [span for span in spans if span["trace_id"] == seen[0]]
    by_id = {span["span_id"]: span for span in mine}
    server_span = next(
        s
        for s in mine
        if s["kind"] == "SERVER" and s["name"].endswith("LicensingService/AddLicence")
    )
    client_span = next(
        s
        for s in mine
        if s["kind"] == "CLIENT" and s["name"].endswith("LicensingService/AddLicence")
    )
    mongo_insert = next(
        s for s in mine if s["attributes"].get("db.system") == "mongodb" and "insert" in s["name"]
    )
    produce = next(s for s in mine if s["kind"] == "PRODUCER")
    consume = next(s for s in mine if s["kind"] == "CONSUMER")
    assert server_span["parent_span_id"] == client_span["span_id"]
    assert mongo_insert["parent_span_id"] == server_span["span_id"]  # the change row's insert
    assert produce["parent_span_id"] == server_span["span_id"]  # the relay continues the request
    assert consume["parent_span_id"] == produce["span_id"]
    assert produce["attributes"]["messaging.destination.name"] == topic.name
    assert set(by_id) >= {server_span["span_id"], produce["span_id"], consume["span_id"]}
    assert isinstance(grpc.StatusCode.OK, grpc.StatusCode)
