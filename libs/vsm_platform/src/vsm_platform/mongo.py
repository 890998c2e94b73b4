"""MongoDB access through PyMongo's async API, in the shape the embedded server handles well:
hot reads by `_id`, changes and claims as inserts of unique keys."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from pymongo import AsyncMongoClient
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import DuplicateKeyError
from vsm_rules.errors import InvalidArgument

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


def check_storable(value: Any, field: str) -> None:
    """Refuses, naming the place, a JSON value no document can hold (a whole number beyond
    64 bits, a key with a NUL), before a store fails on it."""
    if isinstance(value, int) and not isinstance(value, bool):
        if not -(2**63) <= value < 2**63:
            raise InvalidArgument(field, "a whole number beyond 64 bits")
    elif isinstance(value, dict):
        for key, item in value.items():
            if "\x00" in key:
                raise InvalidArgument(f"{field}.{key!r}", "a key with a NUL character")
            check_storable(item, f"{field}.{key}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            check_storable(item, f"{field}[{index}]")


def sortable(at: datetime) -> str:
    """An instant as text that sorts as time does, for `_id`s read by time range (rows
    inserted with a time in their key: sign-in attempts, the audit trail, reminders)."""
    return at.astimezone(UTC).strftime("%Y%m%dT%H%M%S.%f")


def prefixed(prefix: str) -> Document:
    """A query for the `_id`s that start with `prefix` (a range on the primary key, served by
    its index), for the few listings our stores keep as keyed rows."""
    return {"_id": {"$gte": prefix, "$lt": prefix + "\uffff"}}
