"""gather_limited: every answer, in order, with no more than the limit in flight at once."""

from __future__ import annotations

import asyncio

from vsm_platform.concurrency import gather_limited


async def test_answers_come_in_order_with_at_most_the_limit_in_flight() -> None:
    in_flight = 0
    most = 0

    async def lookup(n: int) -> int:
        nonlocal in_flight, most
        in_flight += 1
        most = max(most, in_flight)
        await asyncio.sleep(0.001 * (10 - n % 10))  # later ones finish first
        in_flight -= 1
        return n * n

    answers = await gather_limited((lookup(n) for n in range(40)), limit=4)
    assert answers == [n * n for n in range(40)]
    assert most == 4
