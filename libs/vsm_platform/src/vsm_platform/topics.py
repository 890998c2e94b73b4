"""Every Kafka topic of the marketplace, its key and its dead-letter topic, declared once.

`infra` creates these on the local broker and on an outside cluster alike; services name topics
only through this table. `VSM_TOPIC_PREFIX` (read once, when a process starts) puts every name
under a prefix, so several deployments (or test runs) can share one cluster without reading
each other's events.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace

PREFIX_VARIABLE = "VSM_TOPIC_PREFIX"
PREFIX = os.environ.get(PREFIX_VARIABLE, "")

DEFAULT_PARTITIONS = 6
DEAD_LETTER_SUFFIX = ".dlq"


@dataclass(frozen=True, slots=True)
class Topic:
    """A topic, what its records are keyed by, and how it keeps its history."""

    name: str
    key: str
    purpose: str
    partitions: int = DEFAULT_PARTITIONS
    # retention.ms=-1 keeps every record, so read models can be rebuilt by replaying from the start.
    config: dict[str, str] = field(default_factory=lambda: {"retention.ms": "-1"})

    @property
    def dead_letter(self) -> Topic:
        """The topic that takes records whose handling kept failing, with the error."""
        return Topic(
            name=self.name + DEAD_LETTER_SUFFIX,
            key=self.key,
            purpose=f"records of {self.name} whose handling kept failing",
            partitions=self.partitions,
            config=dict(self.config),
        )


LICENSING_EVENTS = Topic(
    name=f"{PREFIX}vsm.licensing.events.v1",
    key="clinician id (or compact id for compact table changes)",
    purpose="licences, authorities, verifications and compact table changes",
)
SCHEDULING_EVENTS = Topic(
    name=f"{PREFIX}vsm.scheduling.events.v1",
    key="aggregate id (facility, shift, clinician profile or booking)",
    purpose="facilities, shifts, clinician work profiles, availability, time off, bookings",
)
MATCHING_EVENTS = Topic(
    name=f"{PREFIX}vsm.matching.events.v1",
    key="shift id",
    purpose="offers made, accepted, declined, expired and withdrawn",
)
MATCHING_WORK = Topic(
    name=f"{PREFIX}vsm.matching.work.v1",
    key="profession",
    purpose="re-matching work keyed by profession, shared by the matching instances of one group",
)

EVENT_TOPICS: tuple[Topic, ...] = (
    LICENSING_EVENTS,
    SCHEDULING_EVENTS,
    MATCHING_EVENTS,
    MATCHING_WORK,
)


def all_topics(prefix: str | None = None) -> tuple[Topic, ...]:
    """The event topics followed by their dead-letter topics; under another prefix than this
    process's when one is given (a test creating the topics of the processes it starts)."""
    topics = EVENT_TOPICS + tuple(topic.dead_letter for topic in EVENT_TOPICS)
    if prefix is None:
        return topics
    return tuple(replace(t, name=prefix + t.name.removeprefix(PREFIX)) for t in topics)
