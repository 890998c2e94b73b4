"""Fixtures of the licensing unit tests: the use cases over in-memory rows."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import pytest_asyncio
from licensing.service import Licensing
from licensing.store import CompactStore, RecordStore
from vsm_platform.actor import Actor
from vsm_platform.changes import ChangeLog
from vsm_platform.clock import ManualClock
from vsm_platform.testing import MemoryCollection


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(datetime(2026, 11, 23, 12, 0, tzinfo=UTC))


@pytest_asyncio.fixture
async def licensing(clock: ManualClock) -> Licensing:
    """The use cases over in-memory rows, with the repo's compact tables seeded."""
    changes = ChangeLog(MemoryCollection(), source="licensing", clock=clock)  # type: ignore[arg-type]
    compacts = CompactStore(changes)
    await compacts.load(Actor.service("licensing"))
    return Licensing(RecordStore(changes), compacts, clock)
