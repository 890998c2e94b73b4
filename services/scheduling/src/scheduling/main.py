"""The scheduling process: its one composition root. Settings from the environment, MongoDB, the
change log and its relay to Kafka, the booking ledger and its sweeper, a channel to the
licensing service, and the gRPC server. `python -m scheduling.main`."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os

from vsm_platform.clock import Clock, SystemClock
from vsm_platform.grpc_server import channel, serve
from vsm_platform.runtime import background, run_service, storage

from scheduling.bookings import Bookings, LicensingOverGrpc
from scheduling.catalogue import Catalogue
from scheduling.config import Settings
from scheduling.grpc_api import SERVICE_NAME, register
from scheduling.ledger import Ledger
from scheduling.profiles import Profiles

logger = logging.getLogger(__name__)


async def sweep_pending(ledger: Ledger, clock: Clock, every_seconds: float) -> None:
    """Frees, every so often, positions held by bookings whose process died mid-booking."""
    while True:
        freed = await ledger.sweep_all()
        if freed:
            logger.info("ledger sweeper freed %d positions of bookings that never completed", freed)
        await clock.sleep(every_seconds)


async def run(settings: Settings, clock: Clock | None = None) -> None:
    clock = clock or SystemClock()
    async with storage("scheduling", settings, settings.database, clock) as stored:
        ledger = Ledger(
            stored.database["ledger"], clock, f"scheduling-{os.getpid()}",
            settings.lock_seconds, settings.pending_seconds,
        )  # fmt: skip
        catalogue = Catalogue(stored.changes, stored.database["catalogue"], clock)
        profiles = Profiles(stored.changes, ledger)
        licensing_channel = channel(settings.licensing_addr)
        licensing = LicensingOverGrpc(licensing_channel)
        bookings = Bookings(catalogue, profiles, ledger, licensing, stored.changes)
        (sweeper,) = background(
            {"ledger sweep": lambda: sweep_pending(ledger, clock, settings.sweep_seconds)}
        )
        try:
            await serve(settings.listen_addr, [register(catalogue, profiles, bookings)],
                        [SERVICE_NAME])  # fmt: skip
        finally:
            sweeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await sweeper
            await licensing_channel.close()


def main() -> None:
    settings = Settings()
    run_service("scheduling", settings, lambda: run(settings))


if __name__ == "__main__":
    main()
