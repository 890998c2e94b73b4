"""A stand-in for one MongoDB collection, for unit tests only: inserts with a unique `_id`, `_id`
reads, a full scan and a scan of an `_id` range: the calls our stores make. Integration tests use
the real server."""

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

    async def replace_one(
        self, query: Mapping[str, Any], document: Mapping[str, Any], upsert: bool = False
    ) -> None:
        if query["_id"] in self.documents or upsert:
            self.documents[query["_id"]] = copy.deepcopy(dict(document))

    async def delete_one(self, query: Mapping[str, Any]) -> None:
        found = self.documents.get(query["_id"])
        if found is not None and all(found.get(k) == v for k, v in query.items()):
            del self.documents[query["_id"]]

    async def find_one(self, query: Mapping[str, Any]) -> dict[str, Any] | None:
        found = self.documents.get(query["_id"])
        return copy.deepcopy(found) if found is not None else None

    def find(
        self, query: Mapping[str, Any], projection: Mapping[str, Any] | None = None
    ) -> AsyncIterator[dict[str, Any]]:
        assert set(query) <= {"_id"}, "the fake scans whole or by an _id range only"
        del projection  # whole documents: enough for the fields asked
        bounds = query.get("_id", {})
        assert set(bounds) <= {"$gte", "$lt"}, "an _id range is $gte and $lt"

        def inside(key: Any) -> bool:
            return ("$gte" not in bounds or key >= bounds["$gte"]) and (
                "$lt" not in bounds or key < bounds["$lt"]
            )

        async def scan() -> AsyncIterator[dict[str, Any]]:
            for key in sorted(k for k in self.documents if inside(k)):
                yield copy.deepcopy(self.documents[key])

        return scan()
