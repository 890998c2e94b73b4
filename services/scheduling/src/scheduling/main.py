"""The scheduling process: its one composition root. Settings from the environment, MongoDB, the
change log and its relay to Kafka, the booking ledger and its sweeper, a channel to the
licensing service, and the gRPC server. `python -m scheduling.main`."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os

from vsm_platform.changes import ChangeLog
from vsm_platform.clock import Clock, SystemClock
from vsm_platform.grpc_server import channel, serve
from vsm_platform.kafka import KafkaPublisher
from vsm_platform.logs import configure_logging
from vsm_platform.mongo import connect
from vsm_platform.relay import Relay
from vsm_platform.telemetry import configure_telemetry

from scheduling.bookings import Bookings, LicensingOverGrpc
from scheduling.catalogue import Catalogue
from scheduling.config import Settings
from scheduling.grpc_api import SERVICE_NAME, register
from scheduling.ledger import Ledger
from scheduling.profiles import Profiles

logger = logging.getLogger(__name__)


async def run(settings: Settings, clock: Clock | None = None) -> None:
    clock = clock or SystemClock()
    client = connect(settings.mongodb_uri)
    database = client[settings.database]
    changes = ChangeLog(database["changes"], source="scheduling", clock=clock)
    publisher = KafkaPublisher(settings.kafka_bootstrap)
    await publisher.start()
    relay = Relay(changes, database["published"], publisher)
    ledger = Ledger(database["ledger"], clock, f"scheduling-{os.getpid()}")
    catalogue = Catalogue(changes, database["posts"], clock)
    profiles = Profiles(changes, ledger)
    licensing_channel = channel(settings.licensing_addr)
    bookings = Bookings(catalogue, profiles, ledger, LicensingOverGrpc(licensing_channel), changes)
    relay_task = asyncio.create_task(relay.run())
    try:
        await serve(settings.listen_addr, [register(catalogue, profiles, bookings)],
                    [SERVICE_NAME])  # fmt: skip
    finally:
        relay_task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await relay_task
        await licensing_channel.close()
        await publisher.stop()
        await client.close()


def main() -> None:
    settings = Settings()
    configure_logging("scheduling", settings.log_level)
    telemetry = configure_telemetry("scheduling", settings)
    try:
        asyncio.run(run(settings))
    finally:
        telemetry.shutdown()


if __name__ == "__main__":
    main()
