"""The real Kafka broker through aiokafka: durable, idempotent produce; commits after handling."""

from __future__ import annotations

import asyncio
import uuid

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

pytestmark = pytest.mark.integration


async def _new_topic(bootstrap: str, partitions: int = 3) -> str:
    name = f"test.{uuid.uuid4().hex}"
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(name, partitions, 1)])
    finally:
        await admin.close()
    return name


def _producer(bootstrap: str) -> AIOKafkaProducer:
    return AIOKafkaProducer(
        bootstrap_servers=bootstrap, acks="all", enable_idempotence=True, request_timeout_ms=60000
    )


def _consumer(bootstrap: str, topic: str, group: str) -> AIOKafkaConsumer:
    return AIOKafkaConsumer(
        topic,
        bootstrap_servers=bootstrap,
        group_id=group,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
    )


async def _drain(consumer: AIOKafkaConsumer, expected: int, wait: float = 30.0) -> list[bytes]:
    """Reads until `expected` records arrived (or the bounded wait ends)."""
    received: list[bytes] = []
    loop = asyncio.get_running_loop()
    deadline = loop.time() + wait
    while len(received) < expected and loop.time() < deadline:
        batches = await consumer.getmany(timeout_ms=500)
        for records in batches.values():
            received.extend(record.value for record in records if record.value is not None)
    return received


async def test_acknowledged_records_are_consumed_once_and_commits_follow_handling(
    kafka_bootstrap: str,
) -> None:
    topic = await _new_topic(kafka_bootstrap)
    group = f"group-{uuid.uuid4().hex}"
    producer = _producer(kafka_bootstrap)
    await producer.start()
    try:
        sent = [f"record-{i}".encode() for i in range(60)]
        for value in sent:
            await producer.send_and_wait(topic, value, key=value[-1:])
    finally:
        await producer.stop()

    # A consumer that handles records but dies before committing: they come back.
    crashed = _consumer(kafka_bootstrap, topic, group)
    await crashed.start()
    try:
        assert sorted(await _drain(crashed, len(sent))) == sorted(sent)
    finally:
        await crashed.stop()

    # One that commits after handling: the next member of the group gets nothing again.
    handled: list[bytes] = []
    consumer = _consumer(kafka_bootstrap, topic, group)
    await consumer.start()
    try:
        handled.extend(await _drain(consumer, len(sent)))
        await consumer.commit()
    finally:
        await consumer.stop()
    assert sorted(handled) == sorted(sent)

    after = _consumer(kafka_bootstrap, topic, group)
    await after.start()
    try:
        assert await _drain(after, 1, wait=3.0) == []
    finally:
        await after.stop()


@pytest.mark.restarts
async def test_a_broker_restart_loses_nothing_that_was_acknowledged(own_kafka) -> None:
    bootstrap = own_kafka.address
    topic = await _new_topic(bootstrap)
    producer = _producer(bootstrap)
    await producer.start()
    try:
        before = [f"before-{i}".encode() for i in range(200)]
        await asyncio.gather(*[producer.send_and_wait(topic, v, key=v[-2:]) for v in before])

        own_kafka.kill()  # a crash, not a clean stop
        during = [f"during-{i}".encode() for i in range(50)]
        pending = [
            asyncio.ensure_future(producer.send_and_wait(topic, v, key=v[-2:])) for v in during
        ]
        await asyncio.sleep(1.0)
        assert not any(future.done() and not future.exception() for future in pending)
        await own_kafka.start()
        await asyncio.wait_for(asyncio.gather(*pending), timeout=90)
    finally:
        await producer.stop()

    consumer = _consumer(bootstrap, topic, f"group-{uuid.uuid4().hex}")
    await consumer.start()
    try:
        received = await _drain(consumer, len(before) + len(during), wait=60)
    finally:
        await consumer.stop()
    assert sorted(received) == sorted(before + during)  # every one, none twice


async def test_end_offsets_match_what_the_group_committed(kafka_bootstrap: str) -> None:
    topic = await _new_topic(kafka_bootstrap, partitions=1)
    producer = _producer(kafka_bootstrap)
    await producer.start()
    try:
        for i in range(5):
            await producer.send_and_wait(topic, f"{i}".encode())
    finally:
        await producer.stop()
    group = f"group-{uuid.uuid4().hex}"
    consumer = _consumer(kafka_bootstrap, topic, group)
    await consumer.start()
    try:
        await _drain(consumer, 5)
        await consumer.commit()
        partition = TopicPartition(topic, 0)
        assert await consumer.committed(partition) == 5
        assert (await consumer.end_offsets([partition]))[partition] == 5
    finally:
        await consumer.stop()
