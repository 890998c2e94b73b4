"""The injectable clock: every rule and sweep asks it for the time instead of the system.

`SystemClock` is the real one. `ManualClock` is moved by hand, so tests and simulations run a
fortnight of sweeps in seconds: `await clock.sleep(3600)` returns as soon as someone advances it.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    """Tells the time (timezone-aware UTC) and waits."""

    def now(self) -> datetime: ...

    async def sleep(self, seconds: float) -> None: ...


class SystemClock:
    """The machine's clock."""

    def now(self) -> datetime:
        return datetime.now(UTC)

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)


class ManualClock:
    """A clock that moves only when told to; sleepers wake when it passes their time."""

    def __init__(self, start: datetime) -> None:
        if start.tzinfo is None:
            raise ValueError("ManualClock needs a timezone-aware start")
        self._now = start.astimezone(UTC)
        self._sleepers: list[tuple[datetime, int, asyncio.Future[None]]] = []
        self._order = itertools.count()

    def now(self) -> datetime:
        return self._now

    async def sleep(self, seconds: float) -> None:
        if seconds <= 0:
            await asyncio.sleep(0)
            return
        wake = asyncio.get_running_loop().create_future()
        heapq.heappush(
            self._sleepers, (self._now + timedelta(seconds=seconds), next(self._order), wake)
        )
        await wake

    async def advance(self, delta: timedelta) -> None:
        """Moves the clock forward, waking every sleeper whose time came, in time order."""
        target = self._now + delta
        while self._sleepers and self._sleepers[0][0] <= target:
            when, _, wake = heapq.heappop(self._sleepers)
            self._now = max(self._now, when)
            if not wake.done():
                wake.set_result(None)
            await asyncio.sleep(0)  # let the woken task run at its own time
        self._now = target
