"""Re-matching a solved market after one change, in milliseconds.

A `Market` keeps what a solve produced (the eligible pairs and the answer) and answers one change
at a time without a new solve: a new shift, or a clinician freed by a cancelled booking. Only
the pairs the change touches can move: the new shift's candidates with the shifts they already
work (so one may swap), or the freed clinician's open shifts and current work. That handful is
re-solved by CP-SAT with everything else held as bookings (windows.improve); accepted work
(`problem.fixed`) never moves.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace

import numpy as np
from vsm_rules.availability import FreeSpans

from matching.engine.bulk import CandidateIndex, bulk_candidates
from matching.engine.candidates import pair_allowed
from matching.engine.problem import Interval, Pair, Problem, Shift
from matching.engine.windows import improve

NEIGHBOURS = 12  # of a new shift's candidates, the most valuable, may swap work for it


@dataclass
class Rematch:
    """One change's outcome: the new answer and the engine time it took."""

    assignments: frozenset[Pair]
    score: float
    seconds: float


class Market:
    """A solved market: its problem, every eligible pair, and the current answer."""

    def __init__(self, problem: Problem, answer: tuple[Pair, ...]) -> None:
        self.problem = problem
        self.index = CandidateIndex(problem)
        self.table = bulk_candidates(problem)
        first, last = self.index.first, self.index.last
        self.free = {
            c.id: FreeSpans(c.availability, c.zone, first, last)
            for c in problem.clinicians.values()
        }
        self.gains: dict[Pair, int] = {}
        self.assignments = set(answer)
        for pair in answer:
            self.gains[pair] = self._gain(pair)
        self._score = sum(self.gains[p] for p in self.assignments)
        self._shift_number = {s: i for i, s in enumerate(self.table.shift_ids)}
        self._by_shift = np.argsort(self.table.shift, kind="stable")
        self._sorted_shifts = self.table.shift[self._by_shift]

    def candidate_gains(self) -> dict[Pair, int]:
        """Every eligible, profitable pair of the market as solved, with its gain."""
        return self.table.gains()

    def score(self) -> float:
        return self._score / 3600

    def _gain(self, pair: Pair) -> int:
        return self.problem.gain_scaled(self.problem.shifts[pair[0]],
                                        self.problem.clinicians[pair[1]])  # fmt: skip

    def candidates(self, shift: Shift) -> dict[str, int]:
        """Post one shift into the market without moving anything: its eligible, profitable
        clinicians and their gains (the fast first step of `add_shift`)."""
        self.problem = replace(self.problem, shifts={**self.problem.shifts, shift.id: shift})
        memo: dict[tuple[object, ...], bool] = {}
        found = {}
        for clinician in self.problem.clinicians.values():
            if clinician.profession != shift.profession:
                continue
            free = self.free.get(clinician.id)
            if free is None or not free.covers(shift.start, shift.end):
                continue
            gain = self.problem.gain_scaled(shift, clinician)
            if (
                gain > 0
                and (shift.id, clinician.id) not in self.problem.excluded
                and (pair_allowed(self.problem, clinician, shift, memo))
            ):
                found[clinician.id] = gain
                self.gains[(shift.id, clinician.id)] = gain
        return found

    def add_shift(self, shift: Shift, seconds: float = 0.1) -> Rematch:
        """Post one shift and fill it, moving only the work of its best candidates."""
        started = time.monotonic()
        new_pairs = [(shift.id, c) for c in self.candidates(shift)]
        best = sorted(new_pairs, key=lambda p: -self.gains[p])[:NEIGHBOURS]
        neighbours = {c for _, c in best}
        window = {shift.id} | {s for s, c in self.assignments if c in neighbours}
        pool = set(new_pairs) | {p for p in self.assignments if p[0] in window}
        pool |= {p for p in self._table_pairs(window) if p[1] in neighbours}
        return self._resolve(window, pool, seconds, started)

    def cancel_booking(self, clinician_id: str, booking: Interval, seconds: float = 0.1) -> Rematch:
        """A clinician's booking is cancelled: offer the freed time to open shifts (of those the
        market was solved with)."""
        started = time.monotonic()
        clinician = self.problem.clinicians[clinician_id]
        left = tuple(b for b in clinician.booked if b != booking)
        freed = replace(clinician, booked=left)
        self.problem = replace(
            self.problem, clinicians={**self.problem.clinicians, clinician_id: freed}
        )
        rows, gains = self.index.pairs_of(freed)
        own = [(self.index.shift_ids[r], clinician_id) for r in rows.tolist()]
        for pair, gain in zip(own, gains.tolist(), strict=True):
            self.gains[pair] = gain
        filled: dict[str, int] = {}
        for shift_id, _ in self.assignments:
            filled[shift_id] = filled.get(shift_id, 0) + 1
        open_shifts = {s for s, _ in own if filled.get(s, 0) < self.problem.shifts[s].positions}
        window = open_shifts | {s for s, c in self.assignments if c == clinician_id}
        pool = {p for p in own if p[0] in window} | {p for p in self.assignments if p[0] in window}
        return self._resolve(window, pool, seconds, started)

    def _table_pairs(self, shift_ids: set[str]) -> list[Pair]:
        """The eligible pairs of these shifts (of those the market was solved with)."""
        pairs = []
        for shift_id in shift_ids:
            number = self._shift_number.get(shift_id)
            if number is None:
                continue
            lo, hi = np.searchsorted(self._sorted_shifts, [number, number + 1])
            for row in self._by_shift[lo:hi].tolist():
                pair = (shift_id, self.table.clinician_ids[int(self.table.clinician[row])])
                self.gains.setdefault(pair, int(self.table.gain[row]))
                pairs.append(pair)
        return pairs

    def _resolve(
        self, window: set[str], pool: set[Pair], seconds: float, started: float
    ) -> Rematch:
        fixed = {p for p in self.problem.fixed if p[0] in window}
        before = self.assignments
        self.assignments = improve(
            self.problem, sorted(pool | fixed), self.gains, frozenset(window),
            before, fixed, seconds, seed=0, workers=1,
        )  # fmt: skip
        self._score += sum(self.gains[p] for p in self.assignments - before)
        self._score -= sum(self.gains[p] for p in before - self.assignments)
        return Rematch(frozenset(self.assignments), self.score(), time.monotonic() - started)


__all__ = ["Market", "Rematch"]
