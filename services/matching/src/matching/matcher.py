"""The live market: on every change to a profession's market the engine re-matches it (what is
booked stays booked, live offers are the hint), and offers follow the engine's answer: the
clinicians it picked first, then the next best, at most two live offers per open position.
Accepting re-checks everything by booking through the scheduling ledger at the offer's rate;
a decline or an expiry makes room for the next offer.

The engine runs in a worker thread, so answering clinicians never waits for a solve.
"""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime
from typing import Protocol

from vsm_platform.actor import Actor
from vsm_platform.clock import Clock
from vsm_rules.errors import FailedPrecondition, NotFound, PermissionDenied
from vsm_rules.match_instance import MatchShift
from vsm_rules.rest import clashes

from matching.engine.market import Market
from matching.engine.problem import Pair, Problem
from matching.engine.solve import solve
from matching.offer_store import Kept, OfferStore, offer_id
from matching.offers import OFFER_MINUTES, Candidate, Outcome, make_offer, next_offers
from matching.read_model import MarketView, ShiftView

logger = logging.getLogger(__name__)
MATCHER = Actor.service("matching")
CHOSEN = 1e15  # added to the worth of the pairs the engine's answer holds: they go first
ANSWERED = (Outcome.DECLINED, Outcome.EXPIRED)  # the clinician's answer: not asked again


class Booker(Protocol):
    async def book(self, actor: Actor, shift_id: str, clinician_id: str, rate: int) -> None:
        """Books at the offer's rate; FailedPrecondition with the reasons when refused."""

    async def release(self, actor: Actor, shift_id: str, clinician_id: str, reason: str) -> bool:
        """Takes the clinician off the shift; False when not booked on it (any more)."""


class Matcher:
    def __init__(
        self, view: MarketView, store: OfferStore, booker: Booker, clock: Clock,
        time_limit: float = 0.5, offer_minutes: float = OFFER_MINUTES,
    ) -> None:  # fmt: skip
        self.view = view
        self._store = store
        self._booker = booker
        self._clock = clock
        self._time_limit = time_limit
        self._offer_minutes = offer_minutes
        self._offers: dict[str, dict[str, Kept]] = {}  # by shift, then offer id
        self._standing: dict[str, dict[str, Kept]] = defaultdict(dict)  # open, by clinician
        self._locks: dict[str, asyncio.Lock] = {}
        self._accepting: set[str] = set()  # offers being accepted by this process now
        self._markets: dict[str, Market] = {}  # by profession: the last answer, for new shifts

    @property
    def store(self) -> OfferStore:
        return self._store

    # ------------------------------------------------------------ offers known

    async def offers_of(self, shift_id: str) -> dict[str, Kept]:
        """The shift's offers, read once from the store, then kept current in memory."""
        if shift_id not in self._offers:
            self._offers[shift_id] = {}
            for kept in await self._store.of_shift(shift_id):
                self._keep(kept)
        return self._offers[shift_id]

    def _keep(self, kept: Kept) -> None:
        """Remembers an offer of a shift whose offers are known, and whether it stands."""
        known = self._offers.get(kept.offer.shift_id)
        if known is None:
            return
        known[kept.offer.id] = kept
        mine = self._standing[kept.offer.clinician_id]
        if kept.outcome is None:
            mine[kept.offer.id] = kept
        else:
            mine.pop(kept.offer.id, None)

    def note(self, kept: Kept) -> None:
        """An offer made or settled (here, or by another instance: from the events)."""
        known = self._offers.get(kept.offer.shift_id)
        if known is not None:
            before = known.get(kept.offer.id)
            if before is None or before.outcome is None:
                self._keep(kept)

    def _lock(self, profession: str) -> asyncio.Lock:
        """The lock that keeps one profession's re-matches and placements one at a time."""
        return self._locks.setdefault(profession, asyncio.Lock())

    async def hand_over(self, professions: Iterable[str]) -> None:
        """Ownership of these professions moves: wait for any re-match of theirs in flight, and
        forget their offers, so that whoever matches them next reads them afresh."""
        for profession in professions:
            async with self._lock(profession):
                for shift_id in [s for s in self._offers
                                 if (v := self.view.shifts.get(s)) is None
                                 or v.profession == profession]:  # fmt: skip
                    for kept in self._offers.pop(shift_id).values():
                        self._standing[kept.offer.clinician_id].pop(kept.offer.id, None)
                self._markets.pop(profession, None)

    # ------------------------------------------------------------ re-matching

    async def rematch(self, profession: str) -> list[Kept]:
        """Re-matches one profession's market and makes the offers its answer calls for;
        returns the offers made. One re-match per profession at a time."""
        async with self._lock(profession):
            return await self._rematch(profession)

    async def _rematch(self, profession: str) -> list[Kept]:
        now = self._clock.now()
        shifts = [s for s in self.view.shifts.values() if s.profession == profession]
        live: dict[str, list[Kept]] = {}
        excluded: list[Pair] = []
        hint: list[Pair] = []
        for shift in shifts:
            offers = (await self.offers_of(shift.id)).values()
            live[shift.id] = await self._still_live(shift, offers, now)
            excluded += [(shift.id, k.offer.clinician_id) for k in offers
                         if _version(k) == shift.version and k.outcome in ANSWERED]  # fmt: skip
            hint += [(shift.id, k.offer.clinician_id) for k in live[shift.id]]
        problem = self.view.problem(profession, now, excluded, hint)
        if not problem.shifts:
            self._markets.pop(profession, None)
            return []
        answer, market = await asyncio.to_thread(self._solve, problem)
        self._markets[profession] = market
        fits: dict[str, dict[str, int]] = defaultdict(dict)
        for (shift_id, clinician_id), gain in market.candidate_gains().items():
            fits[shift_id][clinician_id] = gain
        chosen = set(answer)
        made: list[Kept] = []
        for shift_id, open_shift in problem.shifts.items():
            if shift_id not in live:  # posted while this re-match was reading offers
                offers = (await self.offers_of(shift_id)).values()
                live[shift_id] = await self._still_live(self.view.shifts[shift_id], offers, now)
            made += await self._offers_for(shift_id, open_shift.positions, fits[shift_id],
                                           chosen, live[shift_id], now)  # fmt: skip
        return made

    def has_market(self, profession: str) -> bool:
        return profession in self._markets

    async def place(self, shift_id: str, fresh: bool = False) -> list[Kept] | None:
        """Offers a newly posted shift in milliseconds: its candidates are read off the
        profession's last solved market (every rule, no search), best gain first; the next full
        re-optimisation weighs it against the rest. None when the profession has no solved
        market yet (a full re-match is due). `fresh`: the shift was posted while this instance
        owned its profession, so it has no offers but those made here (none are read back)."""
        shift = self.view.shifts.get(shift_id)
        if shift is None:
            return []
        async with self._lock(shift.profession):
            market = self._markets.get(shift.profession)
            if market is None:
                return None
            now = self._clock.now()
            positions = self.view.open_positions(shift_id)
            if (
                positions == 0
                or shift.start <= now
                or shift.facility_id not in self.view.facilities
            ):
                return []
            engine_shift = MatchShift(
                id=shift.id, facility=shift.facility_id, profession=shift.profession,
                skills=shift.skills, patient_jurisdictions=shift.patient_jurisdictions,
                start=shift.start, end=shift.end, positions=positions,
                value_cents=shift.value_cents,
            )  # fmt: skip
            if fresh:
                self._offers.setdefault(shift_id, {})
            fits = market.candidates(engine_shift)  # milliseconds: no search
            live = await self._still_live(shift, (await self.offers_of(shift_id)).values(), now)
            return await self._offers_for(shift_id, positions, fits, set(), live, now)

    def _free_for(self, clinician_id: str, shift: ShiftView, now: datetime) -> bool:
        """Whether no standing offer to the clinician is for work this shift overlaps (or
        leaves too little rest beside): they could not take both, so they are not asked both."""
        standing = self._standing.get(clinician_id)
        if not standing:
            return True
        profile = self.view.profiles.get(clinician_id)
        rest = profile.min_rest_minutes if profile else 0
        times = []
        for kept in standing.values():
            other = self.view.shifts.get(kept.offer.shift_id)
            if other is not None and now < kept.offer.expires_at:
                times.append((other.start, other.end))
        return not clashes(times, shift.start, shift.end, rest)

    async def _offers_for(
        self, shift_id: str, positions: int, fits: dict[str, int], chosen: set[Pair],
        live: list[Kept], now: datetime,
    ) -> list[Kept]:  # fmt: skip
        """The offers one open shift needs now: live ones to clinicians who no longer fit are
        withdrawn; then the best candidates not asked yet and not holding an offer for clashing
        work (the engine's picks first, the facility's favourites first among near-equals), two
        live per open position."""
        view = self.view.shifts[shift_id]
        facility = self.view.facilities[view.facility_id]
        fits = {c: g for c, g in fits.items() if self.view.licensed_here(c, view)}
        for kept in live:
            if kept.offer.clinician_id not in fits:
                await self._settle(kept, Outcome.WITHDRAWN, "the clinician no longer fits")
        still = [k for k in live if k.offer.clinician_id in fits]
        mine = {k.offer.clinician_id for k in still}
        candidates = [
            Candidate(c, g + (CHOSEN if (shift_id, c) in chosen else 0),
                      favourite=c in facility.favourites)
            for c, g in fits.items() if c in mine or self._free_for(c, view, now)
        ]  # fmt: skip
        this_version = [k for k in (await self.offers_of(shift_id)).values()
                        if _version(k) == view.version]  # fmt: skip
        asked = {k.offer.clinician_id for k in this_version if k.outcome != Outcome.WITHDRAWN}
        wanted = next_offers(positions, len(still), asked, candidates)
        attempts = [sum(1 for k in this_version if k.offer.clinician_id == c) for c in wanted]
        made = await asyncio.gather(*(self._offer(view, c, now, n)
                                      for c, n in zip(wanted, attempts, strict=True)))  # fmt: skip
        return [k for k in made if k is not None]

    def _solve(self, problem: Problem) -> tuple[tuple[Pair, ...], Market]:
        answer = solve(problem, time_limit=self._time_limit, workers=2)
        return answer.assignments, Market(problem, answer.assignments)

    async def _still_live(self, shift: ShiftView, offers: Iterable[Kept], now: datetime
                          ) -> list[Kept]:  # fmt: skip
        """The shift's open offers that still stand; the others are settled now: expired when
        unanswered in time, withdrawn when the shift changed, filled, started or was
        cancelled."""
        open_positions = self.view.open_positions(shift.id)
        standing = []
        for kept in offers:
            if kept.outcome is not None:
                continue
            if now >= kept.offer.expires_at:
                await self._settle(kept, Outcome.EXPIRED, "not answered in time")
            elif shift.cancelled or _version(kept) != shift.version or shift.start <= now:
                await self._settle(kept, Outcome.WITHDRAWN, "the shift changed or was cancelled")
            elif kept.offer.clinician_id in self.view.by_shift.get(shift.id, {}):
                # booked: this offer's accept, whose taker has not recorded it yet (or died
                # between booking and recording it); the booking is what counts
                await self._settle(kept, Outcome.ACCEPTED, "booked on the shift")
            elif open_positions == 0:
                await self._settle(kept, Outcome.WITHDRAWN, "the shift was filled")
            else:
                standing.append(kept)
        return standing

    async def _offer(
        self, shift: ShiftView, clinician_id: str, now: datetime, attempt: int
    ) -> Kept | None:
        profile = self.view.profiles[clinician_id]
        offer = make_offer(
            offer_id(shift.id, shift.version, clinician_id, attempt), shift.id, shift.start,
            clinician_id,
            profile.rate_cents_per_hour, now, profile.zone, profile.quiet_hours,
            self._offer_minutes,
        )  # fmt: skip
        if offer is None:
            return None  # it could only arrive once the shift has started
        if not await self._store.record(offer, shift.start, MATCHER):
            return None  # made already (a replay, a retry)
        kept = Kept(offer, None, shift.start)
        await self.offers_of(shift.id)
        self._keep(kept)
        return kept

    async def _settle(self, kept: Kept, outcome: Outcome, reason: str,
                      actor: Actor = MATCHER) -> Kept | None:  # fmt: skip
        settled = await self._store.settle(kept, outcome, actor, reason)
        if settled is None:  # settled elsewhere first: read what stands
            settled = await self._store.get(kept.offer.id)
        if settled is not None:
            await self.offers_of(kept.offer.shift_id)
            self._keep(settled)
        return settled

    # ------------------------------------------------------------ clinicians' answers

    async def _answerable(self, actor: Actor, offer_id_: str) -> Kept:
        """The offer, if `actor` may answer it (its clinician, or a partner acting for them)."""
        kept = await self._store.get(offer_id_)
        if kept is None:
            raise NotFound(f"no offer {offer_id_!r}")
        if not actor.speaks_for(kept.offer.clinician_id):
            raise PermissionDenied(
                "only the clinician it was made to (or a partner acting for them) answers an offer"
            )
        return kept

    async def _check_open(self, kept: Kept) -> None:
        """Refuses an answer to an offer already settled or past its expiry (settled now)."""
        if kept.outcome is not None:
            raise FailedPrecondition(f"offer {kept.offer.id} was {kept.outcome.value} already")
        if self._clock.now() >= kept.offer.expires_at:
            await self._settle(kept, Outcome.EXPIRED, "not answered in time")
            raise FailedPrecondition(f"offer {kept.offer.id} expired at {kept.offer.expires_at}")

    async def accept(self, actor: Actor, offer_id_: str) -> Kept:
        """Books the clinician at the offer's rate (every rule re-checked by the ledger); the
        loser of a race for the last position is told why, and the offer withdrawn. Accepting
        again what was accepted answers the same (a client retrying after a lost answer)."""
        if offer_id_ in self._accepting:
            raise FailedPrecondition(f"offer {offer_id_} is being accepted already")
        self._accepting.add(offer_id_)
        try:
            return await self._accept(actor, offer_id_)
        finally:
            self._accepting.discard(offer_id_)

    async def _accept(self, actor: Actor, offer_id_: str) -> Kept:
        kept = await self._answerable(actor, offer_id_)
        if kept.outcome == Outcome.ACCEPTED:
            return kept
        await self._check_open(kept)
        offer = kept.offer
        try:
            await self._booker.book(actor, offer.shift_id, offer.clinician_id,
                                    offer.rate_cents_per_hour)  # fmt: skip
        except FailedPrecondition as refused:
            if "already booked" not in str(refused):
                await self._settle(kept, Outcome.WITHDRAWN, str(refused))
                raise
            # booked by an earlier try of this accept (its answer lost, or its taker died
            # before recording it), or by the same accept at the same moment: accepted
        settled = await self._settle(kept, Outcome.ACCEPTED, "", actor)
        return settled or kept

    async def decline(self, actor: Actor, offer_id_: str, reason: str) -> Kept:
        kept = await self._answerable(actor, offer_id_)
        await self._check_open(kept)
        settled = await self._settle(kept, Outcome.DECLINED, reason.strip(), actor)
        if settled is None or settled.outcome != Outcome.DECLINED:
            state = settled.outcome.value if settled and settled.outcome else "settled"
            raise FailedPrecondition(f"offer {offer_id_} was {state} already")
        return settled

    async def release_unlicensed(self, clinician_id: str) -> list[str]:
        """Releases, through the ledger, the clinician's bookings that their licences no longer
        allow (the release tells both sides why; the shift is then offered again). Returns the
        shifts released."""
        released = []
        for booking, why in self.view.unlicensed_bookings(clinician_id, self._clock.now()):
            reason = f"the licence this booking rested on no longer allows it: {why}"
            if await self._booker.release(MATCHER, booking.shift_id, clinician_id, reason):
                released.append(booking.shift_id)
                logger.info("released %s from %s: %s", clinician_id, booking.shift_id, why)
        return released

    async def due_expiries(self) -> set[str]:
        """Settles every known open offer past its expiry; the professions to re-match."""
        now = self._clock.now()
        touched = set()
        for shift_id, offers in list(self._offers.items()):
            for kept in list(offers.values()):
                if kept.outcome is None and now >= kept.offer.expires_at:
                    await self._settle(kept, Outcome.EXPIRED, "not answered in time")
                    shift = self.view.shifts.get(shift_id)
                    if shift is not None:
                        touched.add(shift.profession)
        return touched


def _version(kept: Kept) -> int:
    """The shift version an offer was made for (its id, `<shift>.<version>.<clinician>.<n>`,
    says it)."""
    rest = kept.offer.id[len(kept.offer.shift_id) + 1 :]
    return int(rest.split(".", 1)[0])


__all__ = ["Booker", "Matcher"]
