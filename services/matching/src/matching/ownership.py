"""Work shared by profession. Professions never share a clinician, so each profession's market is
matched by one instance at a time: the one that holds the partition of the work topic
(`vsm.matching.work.v1`, keyed by profession) that Kafka's default partitioner puts the
profession in. Every instance is a member of one consumer group on that topic, so Kafka splits the
partitions, and the professions, between the live instances and moves them when one dies. The
work topic also carries explicit requests (RematchRequested) to the owner.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterable

from aiokafka import AIOKafkaConsumer, ConsumerRebalanceListener, TopicPartition
from aiokafka.partitioner import murmur2
from vsm.matching.v1 import events_pb2
from vsm_platform.envelope import MalformedEvent, from_record
from vsm_platform.topics import MATCHING_WORK
from vsm_rules.records import Profession

logger = logging.getLogger(__name__)
PROFESSIONS = tuple(p.value for p in Profession)


def partition_of(profession: str, partitions: int = MATCHING_WORK.partitions) -> int:
    """The work topic's partition of a profession (Kafka's default partitioner on the key)."""
    return int(murmur2(profession.encode()) & 0x7FFFFFFF) % partitions


class ProfessionOwnership(ConsumerRebalanceListener):  # type: ignore[misc]
    """This instance's share of the professions, kept current as the group rebalances."""

    def __init__(
        self, bootstrap: str, group: str, on_owned: Callable[[Iterable[str]], None],
        hand_over: Callable[[Iterable[str]], Awaitable[None]],
    ) -> None:  # fmt: skip
        self._bootstrap = bootstrap
        self._group = group
        self._on_owned = on_owned  # professions to (re-)match now: newly owned, or asked for
        self._hand_over = hand_over  # professions moving: finish their work, forget their state
        self.partitions: set[int] = set()
        self.assigned = asyncio.Event()

    def owns(self, profession: str) -> bool:
        return partition_of(profession) in self.partitions

    def owned(self) -> list[str]:
        return [p for p in PROFESSIONS if self.owns(p)]

    async def on_partitions_revoked(self, revoked: set[TopicPartition]) -> None:
        """Called before the group moves work: the professions stop here (their re-matches in
        flight finish first), so that two instances never match one profession at once."""
        gone = {tp.partition for tp in revoked}
        self.partitions -= gone
        await self._hand_over([p for p in PROFESSIONS if partition_of(p) in gone])

    async def on_partitions_assigned(self, assigned: set[TopicPartition]) -> None:
        new = {tp.partition for tp in assigned} - self.partitions
        self.partitions |= new
        self.assigned.set()
        logger.info("matching the professions of work partitions %s", sorted(self.partitions))
        gained = [p for p in PROFESSIONS if partition_of(p) in new]
        await self._hand_over(gained)  # what another instance offered is read afresh
        self._on_owned(gained)

    async def run(self) -> None:
        consumer = AIOKafkaConsumer(
            bootstrap_servers=self._bootstrap, group_id=self._group,
            enable_auto_commit=True, auto_offset_reset="latest",
            session_timeout_ms=6000, heartbeat_interval_ms=1500,  # a dead member's work moves soon
        )  # fmt: skip
        consumer.subscribe([MATCHING_WORK.name], listener=self)
        await consumer.start()
        try:
            while True:
                batches = await consumer.getmany(timeout_ms=500)
                for records in batches.values():
                    asked = []
                    for record in records:
                        try:
                            envelope = from_record(record.key, record.value, record.headers)
                        except MalformedEvent as error:
                            logger.error("skipping malformed work record: %s", error)
                            continue
                        message = envelope.message()
                        if isinstance(message, events_pb2.RematchRequested):
                            asked.append(message.profession)
                    if asked:
                        self._on_owned(asked)
        finally:
            await consumer.stop()


__all__ = ["PROFESSIONS", "ProfessionOwnership", "partition_of"]
