"""Offers kept as inserts only (the MongoDB adapter of `offers.py`): an offer row, one outcome
row inserted once (whoever inserts it first settles the offer: an accept racing an expiry gets
a clear answer), and listings by shift and by clinician read by an `_id` range. An offer's id
comes from its shift, its clinician and the shift's version, so a retried or replayed batch
inserts the same id and makes no second offer."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from vsm_platform.mongo import Collection, insert_unique, prefixed

from matching.offers import Offer, Outcome


def offer_id(shift_id: str, clinician_id: str, shift_version: int) -> str:
    """The one id an offer of this shift version to this clinician can have."""
    return f"{shift_id}.{clinician_id}.{shift_version}"


def _document(offer: Offer) -> dict[str, Any]:
    return {"_id": f"offer:{offer.id}", "shift": offer.shift_id, "clinician": offer.clinician_id,
            "rate": offer.rate_cents_per_hour, "made_at": offer.made_at,
            "deliver_at": offer.deliver_at, "expires_at": offer.expires_at}  # fmt: skip


def _offer(doc: dict[str, Any]) -> Offer:
    return Offer(str(doc["_id"]).removeprefix("offer:"), doc["shift"], doc["clinician"],
                 doc["rate"], doc["made_at"], doc["deliver_at"], doc["expires_at"])  # fmt: skip


class OfferStore:
    def __init__(self, rows: Collection) -> None:
        self._rows = rows

    async def record(self, offer: Offer) -> bool:
        """Keeps a new offer (listings first, so a reader never misses a kept offer); False
        when this offer was made already (a retry or a replay)."""
        for listing in (f"shift-offer:{offer.shift_id}:{offer.id}",
                        f"clinician-offer:{offer.clinician_id}:{offer.id}"):  # fmt: skip
            await insert_unique(self._rows, {"_id": listing, "offer": offer.id})
        return await insert_unique(self._rows, _document(offer))

    async def get(self, offer_id_: str) -> tuple[Offer, Outcome | None] | None:
        doc = await self._rows.find_one({"_id": f"offer:{offer_id_}"})
        if doc is None:
            return None
        return _offer(doc), await self.outcome(offer_id_)

    async def outcome(self, offer_id_: str) -> Outcome | None:
        row = await self._rows.find_one({"_id": f"offer:{offer_id_}:outcome"})
        return None if row is None else Outcome(row["outcome"])

    async def settle(self, offer_id_: str, outcome: Outcome, at: datetime, by: str) -> bool:
        """Inserts the offer's one outcome; False when it was settled first (by anyone)."""
        row = {"_id": f"offer:{offer_id_}:outcome", "outcome": outcome.value, "at": at, "by": by}
        return await insert_unique(self._rows, row)

    async def of_shift(self, shift_id: str) -> list[tuple[Offer, Outcome | None]]:
        return await self._listed(f"shift-offer:{shift_id}:")

    async def of_clinician(self, clinician_id: str) -> list[tuple[Offer, Outcome | None]]:
        return await self._listed(f"clinician-offer:{clinician_id}:")

    async def _listed(self, prefix: str) -> list[tuple[Offer, Outcome | None]]:
        found = []
        async for row in self._rows.find(prefixed(prefix)):
            kept = await self.get(row["offer"])
            if kept is not None:  # listed, never kept: the maker died in between
                found.append(kept)
        return sorted(found, key=lambda pair: (pair[0].made_at, pair[0].id))


__all__ = ["OfferStore", "offer_id"]
