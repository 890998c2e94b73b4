"""Asks the servers whether they answer, within a bounded wait."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable

from aiokafka.admin import AIOKafkaAdminClient
from pymongo import AsyncMongoClient

logger = logging.getLogger(__name__)


class NotReadyError(RuntimeError):
    """A server did not answer within the wait."""


async def kafka_answers(bootstrap: str) -> bool:
    """True when the broker answers a cluster description request."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=3000)
    try:
        await admin.start()
        cluster = await admin.describe_cluster()
        return bool(cluster.get("brokers"))
    except Exception:  # any failure to answer means "not yet"
        return False
    finally:
        await admin.close()


async def mongo_answers(uri: str) -> bool:
    """True when the server answers a ping."""
    client: AsyncMongoClient[dict[str, object]] = AsyncMongoClient(
        uri, serverSelectionTimeoutMS=1500, connectTimeoutMS=1500
    )
    try:
        reply = await client.admin.command("ping")
        return bool(reply.get("ok"))
    except Exception:  # any failure to answer means "not yet"
        return False
    finally:
        await client.close()


async def wait_until(
    name: str, check: Callable[[str], Awaitable[bool]], target: str, wait_seconds: float, hint: str
) -> None:
    """Polls `check(target)` until it answers True, or raises NotReadyError after `wait_seconds`."""
    deadline = time.monotonic() + wait_seconds
    while True:
        if await check(target):
            return
        if time.monotonic() >= deadline:
            raise NotReadyError(
                f"{name} at {target} did not answer within {wait_seconds:.0f}s; {hint}"
            )
        await asyncio.sleep(0.5)
