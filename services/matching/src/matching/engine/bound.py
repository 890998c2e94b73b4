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
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from vsm_rules.weekly_hours import weekly_totals

from matching.engine.bulk import CandidateTable, micros
from matching.engine.problem import Clinician, Problem
from matching.engine.weeks import WeekGrid

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


def _relaxation(problem: Problem, table: CandidateTable) -> _Relaxation:
    """The arrays the prices act on, for every profitable pair of the table."""
    keep = table.gain > 0
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
    starts, ends, busy_ends = starts[order], ends[order], busy_ends[order]
    counts = counts_all[by_count]
    counts = counts[counts > 0]
    offsets = np.concatenate(([0], np.cumsum(counts)[:-1])).astype(np.int64)

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
    week = np.zeros((gain.size, 2), dtype=np.int64)
    minutes = np.zeros((gain.size, 2), dtype=np.float64)
    zones = sorted({c.zone for c in clinicians})
    zone_of = np.array([zones.index(c.zone) for c in clinicians], dtype=np.int64)
    first = min([problem.horizon_start, *(s.start for s in shifts)])
    last = max([problem.horizon_end, *(s.end for s in shifts)])
    grids = [WeekGrid(zone, first, last) for zone in zones]
    for z, grid in enumerate(grids):
        rows = np.flatnonzero(zone_of[clinician_of] == z)
        if rows.size:
            index, one, two = grid.parts(starts[rows], ends[rows])
            week[rows, 0], week[rows, 1] = index, index + 1
            minutes[rows, 0], minutes[rows, 1] = one, two
    weeks_per_zone = max(len(g.mondays) for g in grids) if grids else 1
    cell = clinician_of[:, None] * weeks_per_zone + week  # (clinician, week) as one number
    used = minutes > 0
    cells, inverse = np.unique(cell[used], return_inverse=True)
    load = np.bincount(inverse, minutes[used], cells.size)
    room_all = np.empty(cells.size)
    cap = np.array([c.max_minutes_per_week for c in clinicians], dtype=np.float64)
    booked = _booked_minutes(clinicians, grids, zone_of, weeks_per_zone)
    for n, value in enumerate(cells.tolist()):
        c = value // weeks_per_zone
        room_all[n] = max(cap[c] - booked.get(value, 0.0), 0.0)
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
    )


def _booked_minutes(
    clinicians: list[Clinician], grids: list[WeekGrid], zone_of: Ints, weeks_per_zone: int
) -> dict[int, float]:
    """Booked minutes per (clinician, week) cell, by the rules' own weekly totals."""
    booked: dict[int, float] = {}
    for c, clinician in enumerate(clinicians):
        if not clinician.booked:
            continue
        mondays = {m: i for i, m in enumerate(grids[int(zone_of[c])].mondays)}
        for monday, minutes in weekly_totals(clinician.zone, clinician.booked).items():
            if monday in mondays:
                booked[c * weeks_per_zone + mondays[monday]] = minutes
    return booked


def _schedules(r: _Relaxation, weight: Floats) -> tuple[float, Floats]:
    """Every clinician's best schedule at these weights: the total and the chosen pairs.

    A pair of weight zero or less never improves a schedule, so only the others enter the
    dynamic programme (usually a small part, once shifts have prices)."""
    keep = weight > 0
    rows = np.flatnonzero(keep)
    chosen = np.zeros(weight.size)
    if rows.size == 0:
        return 0.0, chosen
    owner = r.owner[rows]
    counts_all = np.bincount(owner)
    order = np.lexsort((rows, -counts_all[owner]))  # by falling count, then as before
    rows, owner = rows[order], owner[order]
    place = np.empty(rows.size, dtype=np.int64)
    place[order] = np.arange(rows.size)  # compressed index (old order) -> new index
    kept_before = np.cumsum(keep)  # kept pairs up to each original index
    counts = counts_all[owner[np.r_[0, np.flatnonzero(np.diff(owner)) + 1]]]
    offsets = np.r_[0, np.cumsum(counts)[:-1]].astype(np.int64)
    old_pred = r.pred[rows]
    compressed = np.where(old_pred >= 0, kept_before[np.maximum(old_pred, 0)] - 1, -1)
    pred = np.where(compressed >= 0, place[np.maximum(compressed, 0)], -1)
    same = owner[np.maximum(pred, 0)] == owner  # the last kept pair may be another's
    pred = np.where((pred >= 0) & same, pred, -1)
    total, taken = _dynamic_programme(weight[rows], pred, offsets, counts)
    chosen[rows] = taken
    return total, chosen


def _dynamic_programme(
    weight: Floats, pred: Ints, offsets: Ints, counts: Ints
) -> tuple[float, Floats]:
    """Weighted interval scheduling for all clinicians in lockstep (clinicians by falling pair
    count, each one's pairs by busy end; `pred` the last pair a pair fits after, or -1)."""
    best = np.zeros(weight.size + 1)  # best[k + 1]: the best of the clinician's pairs up to k
    longest = int(counts[0])
    active = np.searchsorted(-counts, -np.arange(1, longest + 1), side="right")
    for step in range(longest):
        rows = offsets[: active[step]] + step
        before = best[rows] if step else np.zeros(rows.size)
        take = weight[rows] + best[pred[rows] + 1]
        best[rows + 1] = np.maximum(before, take)
    ends = offsets + counts - 1
    total = float(best[ends + 1].sum())
    chosen = np.zeros(weight.size)
    cursor = ends.copy()
    while True:
        live = cursor >= offsets
        if not live.any():
            break
        rows = cursor[live]
        before = np.where(rows > offsets[live], best[rows], 0.0)
        taken = best[rows + 1] > before
        chosen[rows[taken]] = 1.0
        cursor[live] = np.where(taken, pred[rows], rows - 1)
    return total, chosen


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


def lagrangian_bound(
    problem: Problem,
    table: CandidateTable,
    known: float,
    seconds: float,
    max_iterations: int = 3000,
) -> Bound:
    """The smallest `L` found within `seconds`; `known` is the score of an answer at hand
    (it sets the step size and ends the search once `L` meets it)."""
    started = time.monotonic()
    r = _relaxation(problem, table)
    has_week = r.week >= 0
    mu = np.zeros(r.room.size)
    lam = _opening_prices(r, r.gain)
    best = float("inf")
    theta = 2.0
    since_better = 0
    iterations = 0
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
            if since_better >= 30:
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
