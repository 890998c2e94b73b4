"""The real MongoDB-protocol server through PyMongo's async API: claims by unique inserts."""

from __future__ import annotations

import asyncio
import multiprocessing
import uuid
from typing import Any

import pytest
from pymongo import AsyncMongoClient
from pymongo.errors import DuplicateKeyError

pytestmark = pytest.mark.integration

Document = dict[str, Any]


def _client(uri: str) -> AsyncMongoClient[Document]:
    return AsyncMongoClient(uri, serverSelectionTimeoutMS=5000)


def _database_name() -> str:
    return f"test_{uuid.uuid4().hex[:12]}"


async def test_insert_then_find_by_id_and_by_field(mongodb_uri: str) -> None:
    client = _client(mongodb_uri)
    try:
        shifts = client[_database_name()]["shifts"]
        await shifts.insert_many(
            [{"_id": f"shift:{i}", "profession": "RN" if i % 2 else "MD"} for i in range(10)]
        )
        found = await shifts.find_one({"_id": "shift:3"})
        assert found == {"_id": "shift:3", "profession": "RN"}
        nurses = [doc["_id"] async for doc in shifts.find({"profession": "RN"}).sort("_id")]
        assert nurses == ["shift:1", "shift:3", "shift:5", "shift:7", "shift:9"]
    finally:
        await client.close()


async def test_a_unique_index_rejects_a_duplicate(mongodb_uri: str) -> None:
    client = _client(mongodb_uri)
    try:
        slots = client[_database_name()]["slots"]
        await slots.create_index("slot", unique=True)
        await slots.insert_one({"slot": "shift-7:1", "clinician": "c1"})
        with pytest.raises(DuplicateKeyError):
            await slots.insert_one({"slot": "shift-7:1", "clinician": "c2"})
        assert await slots.count_documents({}) == 1
    finally:
        await client.close()


def _claim_many(uri: str, database: str, key: str, attempts: int, go: Any, out: Any) -> None:
    """In a child process: `attempts` concurrent inserts of one key; puts how many won."""

    async def run() -> int:
        client = _client(uri)
        try:
            slots = client[database]["slots"]
            await slots.find_one({})  # connect before the start signal

            async def claim(n: int) -> bool:
                try:
                    await slots.insert_one(
                        {"slot": key, "by": f"{multiprocessing.current_process().name}-{n}"}
                    )
                except DuplicateKeyError:
                    return False
                return True

            go.wait(30)
            results = await asyncio.gather(*[claim(n) for n in range(attempts)])
            return sum(results)
        finally:
            await client.close()

    out.put(asyncio.run(run()))


async def test_fifty_concurrent_inserts_of_one_key_from_two_processes_let_exactly_one_win(
    mongodb_uri: str,
) -> None:
    database = _database_name()
    client = _client(mongodb_uri)
    try:
        slots = client[database]["slots"]
        await slots.create_index("slot", unique=True)
        context = multiprocessing.get_context("spawn")
        go, out = context.Event(), context.Queue()
        workers = [
            context.Process(
                target=_claim_many, args=(mongodb_uri, database, "shift-9:1", 25, go, out)
            )
            for _ in range(2)
        ]
        for worker in workers:
            worker.start()
        await asyncio.sleep(1.5)  # both connected and waiting
        go.set()
        wins = [await asyncio.to_thread(out.get, True, 60) for _ in workers]
        for worker in workers:
            await asyncio.to_thread(worker.join, 30)
        assert sum(wins) == 1
        assert await slots.count_documents({"slot": "shift-9:1"}) == 1
    finally:
        await client.close()


@pytest.mark.restarts
@pytest.mark.parametrize("how", ["stop", "kill"])
async def test_acknowledged_writes_survive_a_server_restart(own_mongo, how: str) -> None:
    database = _database_name()
    client = _client(own_mongo.address)
    try:
        bookings = client[database]["bookings"]
        await bookings.create_index("slot", unique=True)
        await bookings.insert_many([{"_id": f"b{i}", "slot": f"s{i}"} for i in range(100)])
        await bookings.insert_one({"_id": "last", "slot": "s-last"})
    finally:
        await client.close()

    if how == "kill":
        own_mongo.kill()
    else:
        own_mongo.stop()
    await own_mongo.start()

    client = _client(own_mongo.address)
    try:
        bookings = client[database]["bookings"]
        assert await bookings.count_documents({}) == 101
        assert await bookings.find_one({"_id": "last"}) == {"_id": "last", "slot": "s-last"}
        with pytest.raises(DuplicateKeyError):  # the unique index survived too
            await bookings.insert_one({"_id": "again", "slot": "s5"})
    finally:
        await client.close()


@pytest.mark.restarts
@pytest.mark.parametrize("how", ["stop", "kill"])
async def test_writes_acknowledged_while_the_server_goes_down_survive_it(
    own_mongo, how: str
) -> None:
    """Writers insert without pause while the server is stopped (or killed) under them: every
    insert it acknowledged is there once it is back."""
    database = _database_name()
    acknowledged: list[str] = []
    stop = asyncio.Event()

    async def writer(name: str) -> None:
        client = _client(own_mongo.address)
        try:
            rows = client[database]["rows"]
            n = 0
            while not stop.is_set():
                key = f"{name}-{n}"
                n += 1
                try:
                    await rows.insert_one({"_id": key})
                except Exception:  # the server is going or gone: not acknowledged
                    await asyncio.sleep(0.05)
                    continue
                acknowledged.append(key)
        finally:
            await client.close()

    writers = [asyncio.create_task(writer(f"w{i}")) for i in range(4)]
    await asyncio.sleep(1.0)
    if how == "kill":
        own_mongo.kill()
    else:
        await asyncio.to_thread(own_mongo.stop)
    await asyncio.sleep(0.5)
    stop.set()
    await asyncio.gather(*writers)
    await own_mongo.start()
    client = _client(own_mongo.address)
    try:
        stored = {row["_id"] async for row in client[database]["rows"].find({})}
    finally:
        await client.close()
    assert len(acknowledged) > 50
    assert set(acknowledged) - stored == set()
