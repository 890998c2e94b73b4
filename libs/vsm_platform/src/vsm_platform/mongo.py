"""MongoDB access through PyMongo's async API, in the shape the embedded server handles well:
hot reads by `_id`, changes and claims as inserts of unique keys."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from pymongo import AsyncMongoClient
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import DuplicateKeyError

Document = dict[str, Any]
Collection = AsyncCollection[Document]


def connect(uri: str) -> AsyncMongoClient[Document]:
    """A client that returns timezone-aware UTC datetimes; build it in main(), close it after."""
    return AsyncMongoClient(uri, tz_aware=True, serverSelectionTimeoutMS=10000)


async def insert_unique(collection: Collection, document: Document) -> bool:
    """Inserts `document`; False when its unique key is already taken (someone was first)."""
    try:
        await collection.insert_one(document)
    except DuplicateKeyError:
        return False
    return True


def sortable(at: datetime) -> str:
    """An instant as text that sorts as time does, for `_id`s read by time range (rows
    inserted with a time in their key: sign-in attempts, the audit trail, reminders)."""
    return at.astimezone(UTC).strftime("%Y%m%dT%H%M%S.%f")


def prefixed(prefix: str) -> Document:
    """A query for the `_id`s that start with `prefix` (a range on the primary key, served by
    its index), for the few listings our stores keep as keyed rows."""
    return {"_id": {"$gte": prefix, "$lt": prefix + "\uffff"}}
