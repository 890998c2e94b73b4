"""Offers, the marketplace's promise to one clinician about one shift. Pure: values and the
policy that decides who is offered what next; the service keeps them and announces them.

- An offer carries the clinician's rate, fixed when it is made and honoured when accepted.
- Its expiry (15 minutes by default) starts when it can be delivered: not before the
  clinician's quiet hours end. An offer that could only be delivered once its shift has
  started is not made.
- At most two live offers per open position. When an offer is declined or expires, the next
  best clinician not offered yet gets one. Among near-equal candidates, the facility's
  favourites come first.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from vsm_rules.errors import InvalidArgument
from vsm_rules.quiet_hours import QuietHours

OFFER_MINUTES = 15.0
LIVE_PER_POSITION = 2
NEAR_EQUAL = 0.02  # candidates within 2 % of the best worth left are near-equal


class Outcome(StrEnum):
    """How an offer ended: inserted once, never changed."""

    ACCEPTED = "accepted"
    DECLINED = "declined"
    EXPIRED = "expired"
    WITHDRAWN = "withdrawn"  # the shift was filled, changed or cancelled first


@dataclass(frozen=True, slots=True)
class Offer:
    id: str
    shift_id: str
    clinician_id: str
    rate_cents_per_hour: int  # fixed when made, honoured when accepted
    made_at: datetime
    deliver_at: datetime  # not inside the clinician's quiet hours
    expires_at: datetime

    def live_at(self, at: datetime) -> bool:
        """Whether it can still be accepted at `at` (before an outcome says otherwise)."""
        return at < self.expires_at


def make_offer(
    offer_id: str, shift_id: str, shift_start: datetime, clinician_id: str,
    rate_cents_per_hour: int, at: datetime, zone: str, quiet: QuietHours | None,
    minutes: float = OFFER_MINUTES,
) -> Offer | None:  # fmt: skip
    """The offer made at `at`, delivered once the clinician's quiet hours are over and expiring
    `minutes` later; None when it could only be delivered after the shift has started."""
    if rate_cents_per_hour <= 0:
        raise InvalidArgument("rate_cents_per_hour", "must be more than 0")
    if minutes <= 0:
        raise InvalidArgument("offer_minutes", "must be more than 0")
    deliver_at = quiet.delivery(at, zone) if quiet is not None else at
    if deliver_at >= shift_start:
        return None
    expires_at = min(deliver_at + timedelta(minutes=minutes), shift_start)
    return Offer(offer_id, shift_id, clinician_id, rate_cents_per_hour, at, deliver_at, expires_at)


@dataclass(frozen=True, slots=True)
class Candidate:
    """A clinician the engine found fit for a shift, and what filling it with them is worth."""

    clinician_id: str
    worth: float
    favourite: bool = False


def offer_order(candidates: Iterable[Candidate], near_equal: float = NEAR_EQUAL) -> list[str]:
    """Candidates best first: by worth, except that among those within `near_equal` of the best
    worth left, favourites come first (each band keeps worth order inside)."""
    left = sorted(candidates, key=lambda c: (-c.worth, c.clinician_id))
    ordered: list[str] = []
    while left:
        floor = left[0].worth - near_equal * abs(left[0].worth)
        band = [c for c in left if c.worth >= floor]
        band.sort(key=lambda c: (not c.favourite, -c.worth, c.clinician_id))
        ordered.extend(c.clinician_id for c in band)
        taken = {c.clinician_id for c in band}
        left = [c for c in left if c.clinician_id not in taken]
    return ordered


def next_offers(
    open_positions: int, live: int, offered_before: Iterable[str],
    candidates: Sequence[Candidate], near_equal: float = NEAR_EQUAL,
) -> list[str]:  # fmt: skip
    """Whom to offer the shift now: the best candidates not offered before, as many as keep the
    live offers at two per open position."""
    room = max(0, LIVE_PER_POSITION * max(0, open_positions) - live)
    if room == 0:
        return []
    seen = set(offered_before)
    fresh = [c for c in candidates if c.clinician_id not in seen]
    return offer_order(fresh, near_equal)[:room]


__all__ = [
    "LIVE_PER_POSITION",
    "OFFER_MINUTES",
    "Candidate",
    "Offer",
    "Outcome",
    "make_offer",
    "next_offers",
    "offer_order",
]
