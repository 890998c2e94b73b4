"""The offer store on the real MongoDB-protocol server: concurrent settles of one offer leave
exactly one outcome, and listings read by `_id` range find every kept offer."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from matching.offer_store import OfferStore, offer_id
from matching.offers import Offer, Outcome
from pymongo import AsyncMongoClient

pytestmark = pytest.mark.integration
AT = datetime(2027, 3, 9, 17, 0, tzinfo=UTC)


async def test_twenty_settles_of_one_offer_leave_one_outcome(mongodb_uri: str) -> None:
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(mongodb_uri, tz_aware=True)
    try:
        store = OfferStore(client[f"test_offers_{uuid.uuid4().hex[:8]}"]["offers"])
        offers = [Offer(offer_id("s1", f"c{i}", 1), "s1", f"c{i}", 8000, AT + timedelta(seconds=i),
                        AT, AT + timedelta(minutes=15)) for i in range(5)]  # fmt: skip
        assert all(await asyncio.gather(*(store.record(o) for o in offers)))
        outcomes = [Outcome.ACCEPTED, Outcome.EXPIRED] * 10
        won = await asyncio.gather(*(store.settle(offers[0].id, outcome, AT, f"caller{i}")
                                     for i, outcome in enumerate(outcomes)))  # fmt: skip
        assert sum(won) == 1
        listed = await store.of_shift("s1")
        assert [o for o, _ in listed] == offers
        assert listed[0][1] == outcomes[won.index(True)]
        assert [o.id for o, _ in await store.of_clinician("c3")] == [offers[3].id]
    finally:
        await client.close()
