"""The licensing process: its one composition root. Settings from the environment, MongoDB, the
change log and its relay to Kafka, the compact tables seeded from the repo's data, the gRPC
server, and the daily lapse sweep. `python -m licensing.main`."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import timedelta

from vsm_platform.actor import Actor
from vsm_platform.changes import ChangeLog
from vsm_platform.clock import Clock, SystemClock
from vsm_platform.grpc_server import serve
from vsm_platform.kafka import KafkaPublisher
from vsm_platform.logs import configure_logging
from vsm_platform.mongo import connect
from vsm_platform.relay import Relay
from vsm_platform.telemetry import configure_telemetry

from licensing.config import Settings
from licensing.grpc_api import SERVICE_NAME, register
from licensing.service import Licensing
from licensing.store import CompactStore, RecordStore

logger = logging.getLogger(__name__)
SERVICE = Actor.service("licensing")


async def sweep_daily(licensing: Licensing, records: RecordStore, clock: Clock) -> None:
    """Sweeps today at start (once per day across every process: the day's row is unique),
    then each day just after midnight UTC."""
    while True:
        today = clock.now().date()
        announced = await licensing.sweep(today, await records.clinician_ids(), SERVICE)
        logger.info("lapse sweep of %s: %d announcements", today, announced)
        tomorrow = today + timedelta(days=1)
        midnight = clock.now().replace(
            year=tomorrow.year, month=tomorrow.month, day=tomorrow.day,
            hour=0, minute=5, second=0, microsecond=0,
        )  # fmt: skip
        await clock.sleep(max((midnight - clock.now()).total_seconds(), 1.0))


async def run(settings: Settings, clock: Clock | None = None) -> None:
    clock = clock or SystemClock()
    client = connect(settings.mongodb_uri)
    database = client[settings.database]
    changes = ChangeLog(database["changes"], source="licensing", clock=clock)
    publisher = KafkaPublisher(settings.kafka_bootstrap)
    await publisher.start()
    relay = Relay(changes, database["published"], publisher)
    records = RecordStore(changes)
    compacts = CompactStore(changes)
    await compacts.load(SERVICE)
    licensing = Licensing(records, compacts, clock)
    tasks = [asyncio.create_task(relay.run()), asyncio.create_task(
        sweep_daily(licensing, records, clock)
    )]  # fmt: skip
    try:
        await serve(
            settings.listen_addr,
            [register(licensing)],
            [SERVICE_NAME],
        )
    finally:
        for task in tasks:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await publisher.stop()
        await client.close()


def main() -> None:
    settings = Settings()
    configure_logging("licensing", settings.log_level)
    telemetry = configure_telemetry("licensing", settings)
    try:
        asyncio.run(run(settings))
    finally:
        telemetry.shutdown()


if __name__ == "__main__":
    main()


__all__ = ["main", "run"]
