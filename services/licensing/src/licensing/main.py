"""The licensing process: its one composition root. Settings from the environment, MongoDB, the
change log and its relay to Kafka, the compact tables seeded from the repo's data, the gRPC
server, and the daily lapse sweep. `python -m licensing.main`."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import timedelta

from vsm_platform.actor import Actor
from vsm_platform.clock import Clock, SystemClock
from vsm_platform.grpc_server import serve
from vsm_platform.runtime import background, run_service, storage

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
    async with storage("licensing", settings, settings.database, clock) as stored:
        records = RecordStore(stored.changes)
        compacts = CompactStore(stored.changes)
        await compacts.load(SERVICE)
        licensing = Licensing(records, compacts, clock)
        (sweeper,) = background({"lapse sweep": lambda: sweep_daily(licensing, records, clock)})
        try:
            await serve(settings.listen_addr, [register(licensing)], [SERVICE_NAME])
        finally:
            sweeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await sweeper


def main() -> None:
    settings = Settings()
    run_service("licensing", settings, lambda: run(settings))


if __name__ == "__main__":
    main()


__all__ = ["main", "run"]
