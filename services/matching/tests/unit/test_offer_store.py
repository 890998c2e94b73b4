"""The offer store over in-memory rows: one offer per id, one outcome per offer (the first
insert wins), listings by shift and clinician that skip an offer never kept."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from matching.offer_store import OfferStore, offer_id
from matching.offers import Offer, Outcome
from vsm_platform.testing import MemoryCollection

AT = datetime(2027, 3, 9, 17, 0, tzinfo=UTC)


def _offer(shift: str, clinician: str, version: int = 1) -> Offer:
    return Offer(offer_id(shift, clinician, version), shift, clinician, 8000, AT, AT,
                 AT + timedelta(minutes=15))  # fmt: skip


async def test_an_offer_is_kept_once_and_settled_once() -> None:
    rows = MemoryCollection()
    store = OfferStore(rows)  # type: ignore[arg-type]
    first = _offer("s1", "c1")
    assert await store.record(first) and not await store.record(first)  # a replay adds nothing
    assert await store.settle(first.id, Outcome.ACCEPTED, AT, "c1")
    assert not await store.settle(first.id, Outcome.EXPIRED, AT, "sweeper")  # too late
    assert await store.get(first.id) == (first, Outcome.ACCEPTED)
    await store.record(_offer("s1", "c2"))
    await store.record(_offer("s2", "c1"))
    assert [o.clinician_id for o, _ in await store.of_shift("s1")] == ["c1", "c2"]
    assert [(o.shift_id, out) for o, out in await store.of_clinician("c1")] == [
        ("s1", Outcome.ACCEPTED), ("s2", None)
    ]  # fmt: skip
    await rows.insert_one({"_id": "shift-offer:s1:ghost", "offer": "ghost"})  # maker died
    assert len(await store.of_shift("s1")) == 2
    assert await store.get("nope") is None
