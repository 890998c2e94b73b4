"""Producing to Kafka: acknowledged by every in-sync replica, idempotent, CloudEvents headers."""

from __future__ import annotations

from collections.abc import Awaitable, Sequence
from typing import Protocol

from aiokafka import AIOKafkaProducer

from vsm_platform.settings import MAX_GRPC_MESSAGE_BYTES

RecordHeaders = Sequence[tuple[str, bytes]]


class Publisher(Protocol):
    """Sends records to the broker."""

    async def send(
        self, topic: str, key: bytes | None, value: bytes | None, headers: RecordHeaders
    ) -> None:
        """Sends one record and returns once the broker acknowledged it."""
        ...

    async def submit(
        self, topic: str, key: bytes | None, value: bytes | None, headers: RecordHeaders
    ) -> Awaitable[object]:
        """Queues one record and returns at once with what to await for its acknowledgement;
        records submitted in turn reach a partition in that order."""
        ...


class KafkaPublisher:
    """An AIOKafkaProducer with acks=all and idempotence; start() in main, stop() after."""

    def __init__(self, bootstrap: str) -> None:
        self._producer = AIOKafkaProducer(
            bootstrap_servers=bootstrap,
            acks="all",
            enable_idempotence=True,
            max_request_size=MAX_GRPC_MESSAGE_BYTES // 4,
            request_timeout_ms=30000,
        )

    async def start(self) -> None:
        await self._producer.start()

    async def stop(self) -> None:
        await self._producer.stop()

    async def send(
        self, topic: str, key: bytes | None, value: bytes | None, headers: RecordHeaders
    ) -> None:
        await self._producer.send_and_wait(topic, value=value, key=key, headers=list(headers))

    async def submit(
        self, topic: str, key: bytes | None, value: bytes | None, headers: RecordHeaders
    ) -> Awaitable[object]:
        acknowledgement: Awaitable[object] = await self._producer.send(
            topic, value=value, key=key, headers=list(headers)
        )
        return acknowledgement
