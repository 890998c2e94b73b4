"""An upper bound on the best score by Lagrangian relaxation, honest for any multipliers.

Positions (rule 8) and weekly hours (rule 7) are priced instead of enforced: a shift's price
`lam` per position it offers, a clinician-week's price `mu` per hour of room. What remains
falls apart by clinician into weighted interval scheduling over busy intervals
[start, end + rest) (rule 6), which dynamic programming solves exactly, for all clinicians at
once in lockstep. So for any prices `L = sum lam * positions + sum mu * room + sum over
clinicians of their best schedule at reduced gains` bounds every answer; subgradient steps
move the prices to make `L` small. Its minimum equals the LP relaxation of the full model
(interval scheduling has an integral polytope), so the bound approaches the LP bound from
above as the prices settle.
"""

from __future__ import annotations

import time
from bisect import bisect_right
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date

import numpy as np
import numpy.typing as npt
from vsm_rules.weekly_hours import week_minutes, weekly_totals

from matching.engine.bulk import micros
from matching.engine.problem import Pair, Problem

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


def _relaxation(problem: Problem, pairs: Sequence[Pair], gains: Mapping[Pair, int]) -> _Relaxation:
    by_clinician: dict[str, list[Pair]] = defaultdict(list)
    for pair in pairs:
        if gains[pair] > 0:
            by_clinician[pair[1]].append(pair)
    order = sorted(by_clinician, key=lambda c: -len(by_clinician[c]))
    shift_rows: dict[str, int] = {}
    per_shift: dict[str, int] = defaultdict(int)
    for pair in pairs:
        per_shift[pair[0]] += gains[pair] > 0
    positions: list[float] = []
    week_rows: dict[tuple[str, date], int] = {}
    room: list[float] = []
    gain: list[float] = []
    shift: list[int] = []
    pred: list[int] = []
    week: list[list[int]] = []
    hours: list[list[float]] = []
    offsets: list[int] = []
    counts: list[int] = []
    for clinician_id in order:
        clinician = problem.clinicians[clinician_id]
        rest = clinician.min_rest_minutes * 60_000_000
        chosen = sorted(
            by_clinician[clinician_id],
            key=lambda p: micros(problem.shifts[p[0]].end) + rest,
        )
        base = len(gain)
        offsets.append(base)
        counts.append(len(chosen))
        busy_ends = [micros(problem.shifts[p[0]].end) + rest for p in chosen]
        booked = weekly_totals(clinician.zone, clinician.booked)
        load: dict[date, float] = defaultdict(float)
        parts_of = []
        for pair in chosen:
            s = problem.shifts[pair[0]]
            parts = week_minutes(clinician.zone, s.start, s.end)
            parts_of.append(parts)
            for monday, minutes in parts.items():
                load[monday] += minutes
        cap = clinician.max_minutes_per_week
        for k, pair in enumerate(chosen):
            s = problem.shifts[pair[0]]
            gain.append(float(gains[pair]))
            if per_shift[pair[0]] > s.positions:
                if pair[0] not in shift_rows:
                    shift_rows[pair[0]] = len(positions)
                    positions.append(float(s.positions))
                shift.append(shift_rows[pair[0]])
            else:
                shift.append(-1)
            fits = bisect_right(busy_ends, micros(s.start))  # only earlier pairs end by then
            pred.append(base + fits - 1 if fits else -1)
            row_weeks, row_hours = [-1, -1], [0.0, 0.0]
            for n, (monday, minutes) in enumerate(sorted(parts_of[k].items())[:2]):
                left = max(cap - booked.get(monday, 0.0), 0.0)
                if load[monday] > left:  # the cap can bind in this week
                    if (clinician_id, monday) not in week_rows:
                        week_rows[(clinician_id, monday)] = len(room)
                        room.append(left / 60)
                    row_weeks[n] = week_rows[(clinician_id, monday)]
                    row_hours[n] = minutes / 60
            week.append(row_weeks)
            hours.append(row_hours)
    return _Relaxation(
        gain=np.array(gain, dtype=np.float64),
        shift=np.array(shift, dtype=np.int64),
        positions=np.array(positions, dtype=np.float64),
        week=np.array(week, dtype=np.int64).reshape(-1, 2),
        hours=np.array(hours, dtype=np.float64).reshape(-1, 2),
        room=np.array(room, dtype=np.float64),
        pred=np.array(pred, dtype=np.int64),
        offsets=np.array(offsets, dtype=np.int64),
        counts=np.array(counts, dtype=np.int64),
    )


def _schedules(r: _Relaxation, weight: Floats) -> tuple[float, Floats]:
    """Every clinician's best schedule at these weights: the total and the chosen pairs."""
    best = np.zeros(weight.size + 1)  # best[k + 1]: the best of the clinician's pairs up to k
    longest = int(r.counts[0]) if r.counts.size else 0
    active = np.searchsorted(-r.counts, -np.arange(1, longest + 1), side="right")
    for step in range(longest):
        rows = r.offsets[: active[step]] + step
        before = best[rows] if step else np.zeros(rows.size)
        take = weight[rows] + best[r.pred[rows] + 1]
        best[rows + 1] = np.maximum(before, take)
    if not r.counts.size:
        return 0.0, np.zeros(0)
    ends = r.offsets + r.counts - 1
    total = float(best[ends + 1].sum())
    chosen = np.zeros(weight.size)
    cursor = ends.copy()
    while True:
        live = cursor >= r.offsets
        if not live.any():
            break
        rows = cursor[live]
        before = np.where(rows > r.offsets[live], best[rows], 0.0)
        taken = best[rows + 1] > before
        chosen[rows[taken]] = 1.0
        cursor[live] = np.where(taken, r.pred[rows], rows - 1)
    return total, chosen


def _opening_prices(r: _Relaxation) -> Floats:
    """A shift's first price: the gain of its best candidate left out by its positions."""
    lam = np.zeros(r.positions.size)
    rows = np.flatnonzero(r.shift >= 0)
    if rows.size == 0:
        return lam
    order = rows[np.lexsort((-r.gain[rows], r.shift[rows]))]
    shifts = r.shift[order]
    starts = np.searchsorted(shifts, np.arange(r.positions.size))
    rank = np.arange(order.size) - starts[shifts]
    marginal = rank == r.positions[shifts].astype(np.int64)
    lam[shifts[marginal]] = r.gain[order[marginal]]
    return lam


@dataclass(frozen=True, slots=True)
class Bound:
    value: float  # score x 3,600, like the gains
    iterations: int
    seconds: float


def lagrangian_bound(
    problem: Problem,
    pairs: Sequence[Pair],
    gains: Mapping[Pair, int],
    known: float,
    seconds: float,
    max_iterations: int = 3000,
) -> Bound:
    """The smallest `L` found within `seconds`; `known` is the score of an answer at hand
    (it sets the step size and ends the search once `L` meets it)."""
    started = time.monotonic()
    r = _relaxation(problem, pairs, gains)
    lam = _opening_prices(r)
    mu = np.zeros(r.room.size)
    best = float("inf")
    theta = 1.0
    since_better = 0
    iterations = 0
    has_week = r.week >= 0
    while iterations < max_iterations and time.monotonic() - started < seconds:
        iterations += 1
        weight = r.gain - np.where(r.shift >= 0, lam[r.shift], 0.0)
        weight -= (np.where(has_week, mu[r.week], 0.0) * r.hours).sum(axis=1)
        total, chosen = _schedules(r, weight)
        value = float(lam @ r.positions + mu @ r.room + total)
        if value < best - 1e-9 * abs(best if best != float("inf") else 1):
            best, since_better = value, 0
        else:
            since_better += 1
            if since_better >= 20:
                theta, since_better = theta / 2, 0
        if best <= known * (1 + 1e-9) or theta < 1e-6:
            break
        used = np.bincount(r.shift[r.shift >= 0], chosen[r.shift >= 0], r.positions.size)
        loads = np.bincount(r.week[has_week], (chosen[:, None] * r.hours)[has_week], r.room.size)
        g_lam = r.positions - used
        g_mu = r.room - loads
        g_lam[(lam <= 0) & (g_lam > 0)] = 0.0  # no move out of the feasible prices
        g_mu[(mu <= 0) & (g_mu > 0)] = 0.0
        norm = float(g_lam @ g_lam + g_mu @ g_mu)
        if norm <= 0:
            break  # the relaxed schedules satisfy every priced rule: L is optimal
        step = theta * (value - known) / norm
        lam = np.maximum(lam - step * g_lam, 0.0)
        mu = np.maximum(mu - step * g_mu, 0.0)
    if best == float("inf"):
        best = float(_schedules(r, r.gain)[0])
    return Bound(best, iterations, time.monotonic() - started)


__all__ = ["Bound", "lagrangian_bound"]
