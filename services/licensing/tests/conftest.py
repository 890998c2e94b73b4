"""A stand-in for one MongoDB collection, for unit tests only: inserts with unique `_id`,
`_id` reads and a full scan, the calls the change log makes."""

from __future__ import annotations

import copy
from collections.abc import AsyncIterator, Mapping
from datetime import UTC, datetime
from typing import Any

import pytest
import pytest_asyncio
from licensing.service import Licensing
from licensing.store import CompactStore, RecordStore
from pymongo.errors import DuplicateKeyError
from vsm_platform.actor import Actor
from vsm_platform.changes import ChangeLog
from vsm_platform.clock import ManualClock


class MemoryCollection:
    def __init__(self) -> None:
        self.documents: dict[Any, dict[str, Any]] = {}

    async def insert_one(self, document: Mapping[str, Any]) -> None:
        if document["_id"] in self.documents:
            raise DuplicateKeyError(f"duplicate _id {document['_id']!r}")
        self.documents[document["_id"]] = copy.deepcopy(dict(document))

    async def find_one(self, query: Mapping[str, Any]) -> dict[str, Any] | None:
        found = self.documents.get(query["_id"])
        return copy.deepcopy(found) if found is not None else None

    def find(self, query: Mapping[str, Any]) -> AsyncIterator[dict[str, Any]]:
        assert not query, "the fake scans only"

        async def scan() -> AsyncIterator[dict[str, Any]]:
            for document in list(self.documents.values()):
                yield copy.deepcopy(document)

        return scan()


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
