"""When to re-match: every event that changes a profession's market marks it; a short window
lets a burst of changes (a facility posting a week of shifts) be matched once; expiries are
swept every few seconds; and every few minutes each owned profession is re-optimised in full,
which keeps the offers already sent (they are the engine's hint and stay unless they no longer
fit). A licensing change has the clinician's bookings checked, and those no longer allowed
released. Only professions this instance owns are handled (ownership.py).

Matching continues the trace of what caused it: placing a new shift is a child of the consumer
span of its ShiftPosted; a re-match is a child of the first event that marked its profession
since the last one, linked to the others (a trace then runs from the facility's post to the
offer's event)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager

from opentelemetry import trace
from vsm_platform.telemetry import context_from, current_trace_context

from matching.matcher import Matcher
from matching.ownership import PROFESSIONS

logger = logging.getLogger(__name__)
tracer = trace.get_tracer(__name__)
MAX_CAUSES = 32  # links kept per re-match


@contextmanager
def _caused_by(name: str, causes: list[dict[str, str]], **attributes: str) -> Iterator[None]:
    """A span continuing the first cause's trace, linked to the other causes."""
    links = [trace.Link(trace.get_current_span(context_from(c)).get_span_context())
             for c in causes[1:]]  # fmt: skip
    parent = context_from(causes[0]) if causes else None
    with tracer.start_as_current_span(name, context=parent, links=links, attributes=attributes):
        yield


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
        self._causes: dict[str, list[dict[str, str]]] = {}  # shift or profession → traces
        self._licences: set[str] = set()  # clinicians whose bookings need a licence check
        self._licence_wake = asyncio.Event()
        self.ready = asyncio.Event()  # set once the read model has caught up
        self.rematches = 0
        self.placed = 0

    def touched(self, professions: Iterable[str]) -> None:
        """Marks professions whose market changed; the loop re-matches those it owns."""
        marked = set(professions)
        self._dirty |= marked
        cause = current_trace_context()
        for profession in marked:
            self._remember(profession, [cause])
        if self._dirty:
            self._wake.set()

    def _remember(self, profession: str, causes: Iterable[dict[str, str]]) -> None:
        """Keeps the traces that caused a profession's coming re-match, the first MAX_CAUSES
        (the re-match takes them, owned or not, so none stays behind)."""
        kept = self._causes.setdefault(profession, [])
        kept.extend(c for c in causes if c)
        del kept[MAX_CAUSES:]

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
        self._causes[shift_id] = [current_trace_context()]
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
                causes = self._causes.pop(shift_id, [])
                if profession in self._dirty:  # the re-match below places it
                    self._remember(profession, causes)
                    continue
                if not self._owns(profession):
                    continue
                try:
                    with _caused_by("place shift", causes, **{"vsm.shift_id": shift_id}):
                        placed = await self._matcher.place(shift_id, fresh=True)
                    if placed is None:
                        self._dirty.add(profession)
                        self._remember(profession, causes)
                    self.placed += 1
                except Exception:
                    logger.exception("placing shift %s failed; re-matching %s", shift_id,
                                     profession)  # fmt: skip
                    self._dirty.add(profession)
                    self._remember(profession, causes)
            due, self._dirty = self._dirty, set()
            for profession in sorted(due):
                causes = self._causes.pop(profession, [])
                if not self._owns(profession):
                    continue
                try:
                    with _caused_by("rematch", causes, **{"vsm.profession": profession}):
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
