"""A background job that fails is started again after a pause; one that ends well, or is
cancelled with its process, is not."""

from __future__ import annotations

import asyncio

import pytest
from pymongo.errors import AutoReconnect
from vsm_platform.retry import keep_running
from vsm_platform.runtime import background


async def test_a_failing_job_is_started_again_until_it_ends_well() -> None:
    runs = 0

    async def sweeper() -> None:
        nonlocal runs
        runs += 1
        if runs < 3:
            raise AutoReconnect("the database went away")

    await asyncio.wait_for(keep_running("sweeper", sweeper, pause=0.01), 5)
    assert runs == 3


async def test_a_job_is_cancelled_with_its_process() -> None:
    started = asyncio.Event()

    async def forever() -> None:
        started.set()
        await asyncio.Event().wait()

    (task,) = background({"forever": forever})
    await asyncio.wait_for(started.wait(), 5)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert task.get_name() == "forever"
