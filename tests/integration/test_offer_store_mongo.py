"""The offer store on the real MongoDB-protocol server: twenty concurrent settles of one offer
leave exactly one outcome, and listings read by `_id` range find every kept offer."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from matching.offer_store import OfferStore, offer_id
from matching.offers import Offer, Outcome
from pymongo import AsyncMongoClient
from vsm_platform.actor import Actor
from vsm_platform.changes import ChangeLog
from vsm_platform.clock import SystemClock

pytestmark = pytest.mark.integration
AT = datetime(2027, 3, 9, 17, 0, tzinfo=UTC)
MATCHER = Actor.service("matching")


async def test_twenty_settles_of_one_offer_leave_one_outcome(mongodb_uri: str) -> None:
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(mongodb_uri, tz_aware=True)
    try:
        database = client[f"test_offers_{uuid.uuid4().hex[:8]}"]
        changes = ChangeLog(database["changes"], source="matching", clock=SystemClock())
        store = OfferStore(changes, database["offers"])
        offers = [Offer(offer_id("s1", 1, f"c{i}"), "s1", f"c{i}", 8000,
                        AT + timedelta(seconds=i), AT, AT + timedelta(minutes=15))
                  for i in range(5)]  # fmt: skip
        start = AT + timedelta(days=1)
        assert all(await asyncio.gather(*(store.record(o, start, MATCHER) for o in offers)))
        kept = await store.get(offers[0].id)
        assert kept is not None
        outcomes = [Outcome.ACCEPTED, Outcome.EXPIRED] * 10
        won = await asyncio.gather(*(store.settle(kept, outcome, MATCHER)
                                     for outcome in outcomes))  # fmt: skip
        winners = [w for w in won if w is not None]
        assert len(winners) == 1
        listed = await store.of_shift("s1")
        assert [k.offer for k in listed] == offers
        assert listed[0].outcome == winners[0].outcome
        assert [k.offer.id for k in await store.of_clinician("c3")] == [offers[3].id]
    finally:
        await client.close()
