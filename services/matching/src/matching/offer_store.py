"""Offers kept as change rows (vsm_platform.changes), inserts only: version 1 of `offer:<id>` is
the offer as made, with its OfferMade event; version 2 is its one outcome (accepted, declined,
expired or withdrawn) with its event. Whoever inserts version 2 first settles the offer, so an
accept racing an expiry gets a clear answer. Listings by shift and by clinician are keyed rows
read by an `_id` range, written before the offer.

An offer's id comes from its shift, the shift's version, its clinician and how many offers of
that version the clinician had before, so a retried or replayed batch inserts the same id and
makes no second offer."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

from google.protobuf.message import Message
from vsm.matching.v1 import events_pb2
from vsm.matching.v1 import matching_service_pb2 as pb
from vsm_platform.actor import Actor
from vsm_platform.changes import ChangeLog, PendingEvent
from vsm_platform.mongo import Collection, insert_unique, prefixed
from vsm_platform.topics import MATCHING_EVENTS
from vsm_rules.errors import Conflict

from matching.offers import Offer, Outcome

STATE = {None: pb.OFFER_STATE_OPEN, Outcome.ACCEPTED: pb.OFFER_STATE_ACCEPTED,
         Outcome.DECLINED: pb.OFFER_STATE_DECLINED, Outcome.EXPIRED: pb.OFFER_STATE_EXPIRED,
         Outcome.WITHDRAWN: pb.OFFER_STATE_WITHDRAWN}  # fmt: skip


def offer_id(shift_id: str, shift_version: int, clinician_id: str, attempt: int = 0) -> str:
    """The one id the `attempt`-th offer of this shift version to this clinician can have (a
    clinician whose offer was withdrawn, when the shift filled, may be offered it again)."""
    return f"{shift_id}.{shift_version}.{clinician_id}.{attempt}"


def _iso(t: datetime) -> str:
    return t.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def offer_to_proto(offer: Offer, outcome: Outcome | None, shift_start: datetime) -> pb.Offer:
    return pb.Offer(
        offer_id=offer.id, shift_id=offer.shift_id, clinician_id=offer.clinician_id,
        rate_cents_per_hour=offer.rate_cents_per_hour, state=STATE[outcome],
        made_at=_iso(offer.made_at), expires_at=_iso(offer.expires_at),
        deliver_at=_iso(offer.deliver_at), shift_start=_iso(shift_start),
    )  # fmt: skip


def _document(offer: Offer, shift_start: datetime) -> dict[str, Any]:
    return {"shift": offer.shift_id, "clinician": offer.clinician_id,
            "rate": offer.rate_cents_per_hour, "made_at": offer.made_at,
            "deliver_at": offer.deliver_at, "expires_at": offer.expires_at,
            "shift_start": shift_start}  # fmt: skip


def _offer(offer_id_: str, doc: dict[str, Any]) -> Offer:
    return Offer(offer_id_, doc["shift"], doc["clinician"], doc["rate"], doc["made_at"],
                 doc["deliver_at"], doc["expires_at"])  # fmt: skip


class Kept:
    """An offer as kept: the offer, its outcome (None while open) and its shift's start."""

    __slots__ = ("offer", "outcome", "shift_start")

    def __init__(self, offer: Offer, outcome: Outcome | None, shift_start: datetime) -> None:
        self.offer = offer
        self.outcome = outcome
        self.shift_start = shift_start

    def to_proto(self) -> pb.Offer:
        return offer_to_proto(self.offer, self.outcome, self.shift_start)


_OUTCOME = {number: outcome for outcome, number in STATE.items()}


def _instant(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def kept_from_proto(message: pb.Offer) -> Kept:
    """An offer as an event told it (another instance made or settled it)."""
    offer = Offer(message.offer_id, message.shift_id, message.clinician_id,
                  message.rate_cents_per_hour, _instant(message.made_at),
                  _instant(message.deliver_at), _instant(message.expires_at))  # fmt: skip
    return Kept(offer, _OUTCOME.get(message.state), _instant(message.shift_start))


class OfferStore:
    def __init__(self, changes: ChangeLog, rows: Collection) -> None:
        self._changes = changes
        self._rows = rows  # listings

    async def record(self, offer: Offer, shift_start: datetime, actor: Actor) -> bool:
        """Keeps and announces a new offer (listings first, so a reader never misses a kept
        offer); False when this offer was made already (a retry, a replay, another instance)."""
        await asyncio.gather(*(
            insert_unique(self._rows, {"_id": listing, "offer": offer.id})
            for listing in (f"shift-offer:{offer.shift_id}:{offer.id}",
                            f"clinician-offer:{offer.clinician_id}:{offer.id}")
        ))  # fmt: skip
        event = events_pb2.OfferMade(offer=offer_to_proto(offer, None, shift_start))
        try:
            await self._changes.append(
                f"offer:{offer.id}", 1, change=_document(offer, shift_start),
                events=[PendingEvent(MATCHING_EVENTS, event, key=offer.shift_id)], actor=actor,
            )  # fmt: skip
        except Conflict:
            return False
        return True

    async def get(self, offer_id_: str) -> Kept | None:
        made = await self._changes.get(f"offer:{offer_id_}", 1)
        if made is None:
            return None
        settled = await self._changes.get(f"offer:{offer_id_}", 2)
        outcome = None if settled is None else Outcome(settled.change["outcome"])
        return Kept(_offer(offer_id_, dict(made.change)), outcome, made.change["shift_start"])

    async def settle(
        self, kept: Kept, outcome: Outcome, actor: Actor, reason: str = ""
    ) -> Kept | None:
        """Inserts the offer's one outcome with its event; None when it was settled first (by
        anyone), else the offer as settled."""
        settled = Kept(kept.offer, outcome, kept.shift_start)
        message = settled.to_proto()
        event: Message
        if outcome == Outcome.ACCEPTED:
            event = events_pb2.OfferAccepted(offer=message, actor=actor.to_proto())
        elif outcome == Outcome.DECLINED:
            event = events_pb2.OfferDeclined(offer=message, actor=actor.to_proto(), reason=reason)
        elif outcome == Outcome.EXPIRED:
            event = events_pb2.OfferExpired(offer=message)
        else:
            event = events_pb2.OfferWithdrawn(offer=message, reason=reason)
        try:
            await self._changes.append(
                f"offer:{kept.offer.id}", 2, change={"outcome": outcome.value, "reason": reason},
                events=[PendingEvent(MATCHING_EVENTS, event, key=kept.offer.shift_id)],
                actor=actor,
            )  # fmt: skip
        except Conflict:
            return None
        return settled

    async def of_shift(self, shift_id: str) -> list[Kept]:
        return await self._listed(f"shift-offer:{shift_id}:")

    async def of_clinician(self, clinician_id: str) -> list[Kept]:
        return await self._listed(f"clinician-offer:{clinician_id}:")

    async def _listed(self, prefix: str) -> list[Kept]:
        found = []
        async for row in self._rows.find(prefixed(prefix)):
            kept = await self.get(row["offer"])
            if kept is not None:  # listed, never kept: the maker died in between
                found.append(kept)
        return sorted(found, key=lambda k: (k.offer.made_at, k.offer.id))


__all__ = ["Kept", "OfferStore", "kept_from_proto", "offer_id", "offer_to_proto"]
