"""A stand-in for one MongoDB collection, for unit tests only: inserts with a unique `_id`, `_id`
reads and a full scan: the calls our stores make. Integration tests use the real server."""

from __future__ import annotations

import copy
from collections.abc import AsyncIterator, Mapping
from typing import Any

from pymongo.errors import DuplicateKeyError


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

    def find(
        self, query: Mapping[str, Any], projection: Mapping[str, Any] | None = None
    ) -> AsyncIterator[dict[str, Any]]:
        assert not query, "the fake scans only"
        del projection  # whole documents: enough for the fields asked

        async def scan() -> AsyncIterator[dict[str, Any]]:
            for document in list(self.documents.values()):
                yield copy.deepcopy(document)

        return scan()
