"""An upper bound on the best score by Lagrangian relaxation, honest for any multipliers.

Positions (rule 8) and weekly hours (rule 7) are priced instead of enforced: a shift's price
`lam` per position it offers, a clinician-week's price `mu` per hour of room. What remains
falls apart by clinician into weighted interval scheduling over busy intervals
[start, end + rest) (rule 6), which dynamic programming solves exactly (schedules.py, compiled:
milliseconds over a million pairs, so hundreds of steps fit in seconds). So for any prices
`L = sum lam * positions + sum mu * room + sum over clinicians of their best schedule at reduced
gains` bounds every answer; subgradient steps move the prices to make `L` small. Its minimum
equals the LP relaxation of the full model (interval scheduling has an integral polytope), so
the bound approaches the LP bound from above as the prices settle.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from matching.engine.bulk import CandidateTable, micros
from matching.engine.problem import Problem
from matching.engine.schedules import best_schedules
from matching.engine.weeks import WeekCells

Floats = npt.NDArray[np.float64]
Ints = npt.NDArray[np.int64]


@dataclass(slots=True)
class _Relaxation:
    """The pairs in clinician order (then by busy end), with what the prices act on."""

    gain: Floats
    shift: Ints  # index into positions, -1 when the shift's positions never bind
    positions: Floats
    week: Ints  # two week parts per pair: (P, 2) indices into room, -1 for none
    hours: Floats  # (P, 2) hours of the pair in each part
    room: Floats
    pred: Ints  # the last earlier pair of the clinician it fits after, -1 for none
    offsets: Ints  # clinicians by falling pair count: first pair of each
    counts: Ints
    owner: Ints  # each pair's clinician, by place in that order
    row: Ints  # each pair's row in the candidate table


def _relaxation(problem: Problem, table: CandidateTable) -> _Relaxation:
    """The arrays the prices act on, for every profitable pair of the table."""
    keep = table.gain > 0
    row = np.flatnonzero(keep)
    shift_of, clinician_of, gain = table.shift[keep], table.clinician[keep], table.gain[keep]
    shifts = [problem.shifts[i] for i in table.shift_ids]
    clinicians = [problem.clinicians[i] for i in table.clinician_ids]
    starts = np.array([micros(s.start) for s in shifts], dtype=np.int64)[shift_of]
    ends = np.array([micros(s.end) for s in shifts], dtype=np.int64)[shift_of]
    rest = np.array([c.min_rest_minutes * 60_000_000 for c in clinicians], dtype=np.int64)
    busy_ends = ends + rest[clinician_of]

    # clinicians by falling pair count, each one's pairs by busy end
    counts_all = np.bincount(clinician_of, minlength=len(clinicians))
    rank = np.empty(len(clinicians), dtype=np.int64)
    by_count = np.argsort(-counts_all, kind="stable")
    rank[by_count] = np.arange(len(clinicians))
    order = np.lexsort((busy_ends, rank[clinician_of]))
    shift_of, clinician_of, gain = shift_of[order], clinician_of[order], gain[order]
    row = row[order]
    starts, ends, busy_ends = starts[order], ends[order], busy_ends[order]
    counts = counts_all[by_count]
    counts = counts[counts > 0]
    offsets = (np.cumsum(counts) - counts).astype(np.int64)

    # the last earlier pair of the same clinician that ends (with rest) by this one's start
    origin = int(starts.min()) if starts.size else 0  # starts come before busy ends
    span = (int(busy_ends.max()) - origin + 1) if starts.size else 1
    owner = rank[clinician_of]
    keys = owner * span + (busy_ends - origin)
    fits = np.searchsorted(keys, owner * span + (starts - origin), side="right") - 1
    pred = np.where(fits >= offsets[owner], fits, -1).astype(np.int64)

    # positions that can bind
    per_shift = np.bincount(shift_of, minlength=len(shifts))
    wanted = np.array([s.positions for s in shifts], dtype=np.int64)
    binding = per_shift > wanted
    shift_row = np.full(len(shifts), -1, dtype=np.int64)
    shift_row[binding] = np.arange(int(binding.sum()))
    positions = wanted[binding].astype(np.float64)

    # weekly hours that can bind: each pair's minutes in the local week it starts in and the next
    first = min([problem.horizon_start, *(s.start for s in shifts)])
    last = max([problem.horizon_end, *(s.end for s in shifts)])
    weeks = WeekCells.build(clinicians, first, last)
    cell, minutes = weeks.parts(clinician_of, starts, ends)
    used = cell >= 0
    cells, inverse = np.unique(cell[used], return_inverse=True)
    load = np.bincount(inverse, minutes[used], cells.size)
    room_all = weeks.room[cells]
    binds = load > room_all + 1e-9
    cell_row = np.where(binds, np.cumsum(binds) - 1, -1)
    week_rows = np.full(cell.shape, -1, dtype=np.int64)
    week_rows[used] = cell_row[inverse]
    hours = np.where(week_rows >= 0, minutes / 60, 0.0)
    return _Relaxation(
        gain=gain.astype(np.float64),
        shift=shift_row[shift_of],
        positions=positions,
        week=week_rows,
        hours=hours,
        room=room_all[binds] / 60,
        pred=pred,
        offsets=offsets,
        counts=counts.astype(np.int64),
        owner=owner,
        row=row,
    )


def _opening_prices(r: _Relaxation, gain: Floats) -> Floats:
    """A shift's first price: the gain of its best candidate left out by its positions."""
    lam = np.zeros(r.positions.size)
    rows = np.flatnonzero(r.shift >= 0)
    if rows.size == 0:
        return lam
    order = rows[np.lexsort((-gain[rows], r.shift[rows]))]
    shifts = r.shift[order]
    starts = np.searchsorted(shifts, np.arange(r.positions.size))
    rank = np.arange(order.size) - starts[shifts]
    marginal = rank == r.positions[shifts].astype(np.int64)
    lam[shifts[marginal]] = np.maximum(gain[order[marginal]], 0.0)
    return lam


@dataclass(frozen=True, slots=True)
class Bound:
    value: float  # score x 3,600, like the gains
    iterations: int
    seconds: float


class Pricing:
    """The relaxation of a table of pairs with the best prices found so far.

    `improve` moves the prices by subgradient steps (Polyak's size, towards `known`, the score
    of an answer at hand or an estimate of it), keeping the smallest `L`; `reduced_gains` says
    what each pair is worth once its shift and weeks are paid for: the pairs worth most are the
    ones an optimal answer is made of.
    """

    STEP = 0.5  # Polyak's factor at the start, halved after PATIENCE steps without progress
    PATIENCE = 20
    WEEK_SCALE = 0.3  # weekly prices move slower than shift prices: their rows are hours

    def __init__(self, problem: Problem, table: CandidateTable) -> None:
        self.table = table
        self.r = _relaxation(problem, table)
        self.lam = _opening_prices(self.r, self.r.gain)
        self.mu = np.zeros(self.r.room.size)
        self.best_lam, self.best_mu = self.lam, self.mu
        self.value = float("inf")
        self.iterations = 0
        self.seconds = 0.0
        self._theta = self.STEP
        self._since_better = 0
        size = self.r.gain.size
        self._best = np.zeros(size + 1)
        self._chosen = np.zeros(size)
        self._used = np.zeros(self.r.positions.size)
        self._loads = np.zeros(self.r.room.size)

    def schedules(self, lam: Floats, mu: Floats) -> tuple[float, Floats]:
        """`L` at these prices and the pairs of the clinicians' best schedules (1 or 0)."""
        return self.evaluate(lam, mu), self._chosen.copy()

    def evaluate(self, lam: Floats, mu: Floats) -> float:
        """`L` at these prices (an upper bound on every answer, whatever the prices)."""
        r = self.r
        total = best_schedules(
            r.gain, r.shift, lam, r.week, r.hours, mu, r.pred, r.offsets, r.counts,
            self._best, self._chosen, self._used, self._loads,
        )  # fmt: skip
        return float(lam @ r.positions + mu @ r.room + total)

    def improve(self, known: float, seconds: float, max_iterations: int = 5000) -> None:
        started = time.monotonic()
        r = self.r
        done = 0
        while done < max_iterations and time.monotonic() - started < seconds:
            done += 1
            value = self.evaluate(self.lam, self.mu)
            if value < self.value - 1e-12 * abs(value) or self.value == float("inf"):
                self.value, self._since_better = value, 0
                self.best_lam, self.best_mu = self.lam, self.mu
            else:
                self._since_better += 1
                if self._since_better >= self.PATIENCE:
                    self._theta, self._since_better = self._theta / 2, 0
            if self.value <= known * (1 + 1e-9) or self._theta < 1e-4:
                break
            g_lam = r.positions - self._used
            g_mu = (r.room - self._loads) * self.WEEK_SCALE
            g_lam[(self.lam <= 0) & (g_lam > 0)] = 0.0  # no move out of the feasible prices
            g_mu[(self.mu <= 0) & (g_mu > 0)] = 0.0
            norm = float(g_lam @ g_lam + g_mu @ g_mu)
            if norm <= 0:
                break  # the relaxed schedules satisfy every priced rule: L is optimal
            step = self._theta * max(value - known, 0.0) / norm
            self.lam = np.maximum(self.lam - step * g_lam, 0.0)
            self.mu = np.maximum(self.mu - step * g_mu * self.WEEK_SCALE, 0.0)
        if self.value == float("inf"):
            self.value = self.evaluate(self.lam, self.mu)
        self.iterations += done
        self.seconds += time.monotonic() - started

    def reduced_gains(self) -> Floats:
        """Each pair's gain less its shift's price and its weeks' prices for its hours, at the
        best prices, in table order (pairs that never gain keep their gain)."""
        r = self.r
        lam, mu = np.append(self.best_lam, 0.0), np.append(self.best_mu, 0.0)  # [-1]: no price
        weight = r.gain - lam[r.shift] - (mu[r.week] * r.hours).sum(axis=1)
        reduced = self.table.gain.astype(np.float64)
        reduced[r.row] = weight
        return reduced


def lagrangian_bound(
    problem: Problem,
    table: CandidateTable,
    known: float,
    seconds: float,
    max_iterations: int = 5000,
) -> Bound:
    """The smallest `L` found within `seconds`; `known` is the score of an answer at hand
    (it sets the step size and ends the search once `L` meets it)."""
    pricing = Pricing(problem, table)
    pricing.improve(known, seconds, max_iterations)
    return Bound(pricing.value, pricing.iterations, pricing.seconds)


__all__ = ["Bound", "Pricing", "lagrangian_bound"]
