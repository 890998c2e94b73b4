"""Many reads at once: a listing that looks up each of its items by `_id` waits for one round
trip per lookup unless the lookups overlap."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Iterable
from typing import TypeVar

T = TypeVar("T")
LIMIT = 16  # lookups in flight at once for one listing


async def gather_limited(steps: Iterable[Awaitable[T]], limit: int = LIMIT) -> list[T]:
    """Awaits every step, at most `limit` at a time; the answers in the steps' order."""
    gate = asyncio.Semaphore(limit)

    async def gated(step: Awaitable[T]) -> T:
        async with gate:
            return await step

    return list(await asyncio.gather(*(gated(step) for step in steps)))
