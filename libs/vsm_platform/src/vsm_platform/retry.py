"""Work that must outlive its errors: run again after a pause until it succeeds."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

logger = logging.getLogger(__name__)


async def keep_running(name: str, job: Callable[[], Awaitable[object]], pause: float = 1.0) -> None:
    """Runs `job` until it ends without an error: each error (the database or the broker away
    longer than it waits, a bug) is logged and the job started again after a pause. A sweeper,
    consumer or relay that ended would leave the process serving requests while doing none of
    its background work."""
    while True:
        try:
            await job()
            return
        except Exception:
            logger.exception("%s stopped with an error; starting it again in %.1f s", name, pause)
            await asyncio.sleep(pause)
