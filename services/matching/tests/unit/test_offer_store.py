"""The offer store over in-memory rows: one offer per id, one outcome per offer (the first
insert wins) and each announced, listings by shift and clinician that skip an offer never
kept."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from matching.offer_store import OfferStore, offer_id
from matching.offers import Offer, Outcome
from vsm.matching.v1 import events_pb2
from vsm.matching.v1 import matching_service_pb2 as pb
from vsm_platform.actor import Actor
from vsm_platform.changes import ChangeLog
from vsm_platform.clock import ManualClock
from vsm_platform.testing import MemoryCollection

AT = datetime(2027, 3, 9, 17, 0, tzinfo=UTC)
START = AT + timedelta(days=1)
MATCHER = Actor.service("matching")


def _offer(shift: str, clinician: str, version: int = 1) -> Offer:
    return Offer(offer_id(shift, version, clinician), shift, clinician, 8000, AT, AT,
                 AT + timedelta(minutes=15))  # fmt: skip


async def test_an_offer_is_kept_once_and_settled_once() -> None:
    changes = ChangeLog(MemoryCollection(), source="matching", clock=ManualClock(AT))  # type: ignore[arg-type]
    listings = MemoryCollection()
    store = OfferStore(changes, listings)  # type: ignore[arg-type]
    first = _offer("s1", "c1")
    assert await store.record(first, START, MATCHER)
    assert not await store.record(first, START, MATCHER)  # a replay adds nothing
    kept = await store.get(first.id)
    assert kept is not None and kept.outcome is None and kept.shift_start == START
    accepted = await store.settle(kept, Outcome.ACCEPTED, Actor.service("c1"))
    assert accepted is not None and accepted.to_proto().state == pb.OFFER_STATE_ACCEPTED
    assert await store.settle(kept, Outcome.EXPIRED, MATCHER) is None  # too late
    made, settled = await changes.history(f"offer:{first.id}")
    assert isinstance(made.events[0].envelope.message(), events_pb2.OfferMade)
    assert isinstance(settled.events[0].envelope.message(), events_pb2.OfferAccepted)

    await store.record(_offer("s1", "c2"), START, MATCHER)
    await store.record(_offer("s2", "c1"), START, MATCHER)
    assert [k.offer.clinician_id for k in await store.of_shift("s1")] == ["c1", "c2"]
    assert [(k.offer.shift_id, k.outcome) for k in await store.of_clinician("c1")] == [
        ("s1", Outcome.ACCEPTED), ("s2", None)
    ]  # fmt: skip
    await listings.insert_one({"_id": "shift-offer:s1:ghost", "offer": "ghost"})  # maker died
    assert len(await store.of_shift("s1")) == 2
    assert await store.get("nope") is None
