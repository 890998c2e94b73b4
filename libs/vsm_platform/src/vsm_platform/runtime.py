"""What every service process sets up the same way, in one place: logging and telemetry around
`asyncio.run`, the storage runtime (MongoDB, the change log, the relay publishing its rows to
Kafka) for the lifetime of the process, and background jobs that outlive their errors. Each
service's `main.py` composes its own parts on top."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from dataclasses import dataclass
from typing import Any

from vsm_platform.changes import ChangeLog
from vsm_platform.clock import Clock
from vsm_platform.kafka import KafkaPublisher
from vsm_platform.logs import configure_logging
from vsm_platform.mongo import connect
from vsm_platform.relay import Relay
from vsm_platform.retry import keep_running
from vsm_platform.settings import PlatformSettings
from vsm_platform.telemetry import configure_telemetry


def run_service(
    name: str, settings: PlatformSettings, run: Callable[[], Coroutine[Any, Any, None]]
) -> None:
    """Runs a service's main coroutine with logging and telemetry configured for `name`."""
    configure_logging(name, settings.log_level)
    telemetry = configure_telemetry(name, settings)
    try:
        asyncio.run(run())
    finally:
        telemetry.shutdown()


@dataclass(frozen=True, slots=True)
class Storage:
    """A service's database and its change log (whose rows the relay publishes)."""

    database: Any
    changes: ChangeLog


@contextlib.asynccontextmanager
async def storage(
    name: str, settings: PlatformSettings, database: str, clock: Clock
) -> AsyncIterator[Storage]:
    """MongoDB, the change log of service `name` and its relay to Kafka, running until the
    block ends; then the relay stops and the connections close."""
    client = connect(settings.mongodb_uri)
    db = client[database]
    changes = ChangeLog(db["changes"], source=name, clock=clock)
    publisher = KafkaPublisher(settings.kafka_bootstrap)
    await publisher.start()
    relay = Relay(changes, db["published"], publisher)
    relay_task = asyncio.create_task(relay.run())
    try:
        yield Storage(db, changes)
    finally:
        relay_task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await relay_task
        await publisher.stop()
        await client.close()


def background(jobs: dict[str, Callable[[], Awaitable[object]]]) -> list[asyncio.Task[None]]:
    """Starts each job, by name, kept running (`keep_running`)."""
    return [asyncio.create_task(keep_running(name, job), name=name) for name, job in jobs.items()]
