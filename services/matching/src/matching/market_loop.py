"""When to re-match: every event that changes a profession's market marks it; a short window
lets a burst of changes (a facility posting a week of shifts) be matched once; expiries are
swept every few seconds; and every few minutes each owned profession is re-optimised in full,
which keeps the offers already sent (they are the engine's hint and stay unless they no longer
fit). A licensing change has the clinician's bookings checked, and those no longer allowed
released. Only professions this instance owns are handled (ownership.py)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable

from matching.matcher import Matcher
from matching.ownership import PROFESSIONS

logger = logging.getLogger(__name__)


class MarketLoop:
    def __init__(
        self, matcher: Matcher, owns: Callable[[str], bool], window: float = 0.05,
        expiry_every: float = 2.0, full_every: float = 300.0,
    ) -> None:  # fmt: skip
        self._matcher = matcher
        self._owns = owns
        self._window = window
        self._expiry_every = expiry_every
        self._full_every = full_every
        self._dirty: set[str] = set()
        self._wake = asyncio.Event()
        self._posted: dict[str, str] = {}  # shift → profession: new shifts, placed fast
        self._licences: set[str] = set()  # clinicians whose bookings need a licence check
        self._licence_wake = asyncio.Event()
        self.ready = asyncio.Event()  # set once the read model has caught up
        self.rematches = 0
        self.placed = 0

    def touched(self, professions: Iterable[str]) -> None:
        """Marks professions whose market changed; the loop re-matches those it owns."""
        self._dirty |= set(professions)
        if self._dirty:
            self._wake.set()

    def taken_over(self, professions: Iterable[str]) -> None:
        """Professions this instance now owns (or is asked to re-match): re-matched, and the
        bookings of their clinicians checked against their licences (a check skipped while
        another instance owned them, or none did, is not lost)."""
        owned = set(professions)
        self.touched(owned)
        view = self._matcher.view
        booked = {c for _, c in view.bookings}
        self.licences_changed(
            {c for c in booked if (p := view.profiles.get(c)) and p.profession in owned}
        )

    def posted(self, shift_id: str, profession: str) -> None:
        """A new shift: fitted into its profession's last answer in milliseconds, when there is
        one and nothing else in that market changed since (else the full re-match places it). A
        shift read while the read model catches up (a replay) always takes the full re-match,
        which reads the offers already made."""
        if not self.ready.is_set():
            self.touched([profession])
            return
        self._posted[shift_id] = profession
        self._wake.set()

    def licences_changed(self, clinician_ids: Iterable[str]) -> None:
        """Marks clinicians whose licensing (or a compact table) changed: their bookings are
        checked once the read model is current, and released where no longer allowed."""
        self._licences |= set(clinician_ids)
        if self._licences:
            self._licence_wake.set()

    async def check_licences(self) -> None:
        await self.ready.wait()
        self.licences_changed({c for _, c in self._matcher.view.bookings})  # missed while down
        while True:
            await self._licence_wake.wait()
            self._licence_wake.clear()
            due, self._licences = self._licences, set()
            for clinician_id in sorted(due):
                profile = self._matcher.view.profiles.get(clinician_id)
                if profile is None or not self._owns(profile.profession):
                    continue
                try:
                    if await self._matcher.release_unlicensed(clinician_id):
                        self.touched([profile.profession])
                except Exception:
                    logger.exception("checking %s's bookings against licences failed", clinician_id)
                    self.licences_changed([clinician_id])
                    await asyncio.sleep(1.0)

    async def run(self) -> None:
        await self.ready.wait()
        while True:
            await self._wake.wait()
            if self._dirty:  # a market changed: let the rest of a burst arrive, match once
                await asyncio.sleep(self._window)
            self._wake.clear()
            posted, self._posted = self._posted, {}
            for shift_id, profession in posted.items():
                if profession in self._dirty or not self._owns(profession):
                    continue
                try:
                    if await self._matcher.place(shift_id, fresh=True) is None:
                        self._dirty.add(profession)
                    self.placed += 1
                except Exception:
                    logger.exception("placing shift %s failed; re-matching %s", shift_id,
                                     profession)  # fmt: skip
                    self._dirty.add(profession)
            due, self._dirty = self._dirty, set()
            for profession in sorted(due):
                if not self._owns(profession):
                    continue
                try:
                    await self._matcher.rematch(profession)
                    self.rematches += 1
                except Exception:
                    logger.exception("re-matching %s failed; it will be tried again", profession)
                    self.touched([profession])

    async def sweep_expiries(self) -> None:
        await self.ready.wait()
        while True:
            await asyncio.sleep(self._expiry_every)
            try:
                self.touched(await self._matcher.due_expiries())
            except Exception:
                logger.exception("sweeping expired offers failed")

    async def reoptimise(self) -> None:
        await self.ready.wait()
        while True:
            await asyncio.sleep(self._full_every)
            self.touched(PROFESSIONS)


__all__ = ["MarketLoop"]
