"""A first answer in milliseconds: pairs by falling gain, each taken if it keeps every rule.

It is the hint CP-SAT starts from (so the model never waits for its first solution) and the
answer of last resort when the solver proves nothing in its share of time. `greedy_table` is the
same rule over a whole table of pairs, compiled (numba): a million pairs in a fraction of a
second, by any order of worth.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from datetime import date, datetime, timedelta

import numpy as np
import numpy.typing as npt
from numba import njit
from vsm_rules.weekly_hours import week_minutes, weekly_totals

from matching.engine.bulk import CandidateTable, micros
from matching.engine.problem import Pair, Problem
from matching.engine.weeks import WeekCells

Ints = npt.NDArray[np.int64]
Floats = npt.NDArray[np.float64]
Bools = npt.NDArray[np.bool_]


def greedy_start(
    problem: Problem, pairs: Iterable[Pair], gains: Mapping[Pair, int], fixed: Iterable[Pair] = ()
) -> list[Pair]:
    """Fixed pairs first, then the most valuable pairs that still fit, in falling gain."""
    taken: list[Pair] = []
    on_shift: dict[str, int] = defaultdict(int)
    busy: dict[str, list[tuple[datetime, datetime]]] = defaultdict(list)
    weeks: dict[str, dict[date, float]] = {}
    fixed_pairs = list(dict.fromkeys(fixed))
    forced_pairs = set(fixed_pairs)
    ordered = fixed_pairs + sorted(
        (p for p in pairs if p not in forced_pairs), key=lambda p: gains[p], reverse=True
    )
    for pair in ordered:
        shift_id, clinician_id = pair
        shift, clinician = problem.shifts[shift_id], problem.clinicians[clinician_id]
        forced = pair in forced_pairs
        if not forced and on_shift[shift_id] >= shift.positions:
            continue
        rest = timedelta(minutes=clinician.min_rest_minutes)
        if not forced and any(
            b0 < shift.end + rest and shift.start < b1 + rest for b0, b1 in busy[clinician_id]
        ):
            continue
        if clinician_id not in weeks:
            weeks[clinician_id] = dict(weekly_totals(clinician.zone, clinician.booked))
        totals = weeks[clinician_id]
        adding = week_minutes(clinician.zone, shift.start, shift.end)
        cap = clinician.max_minutes_per_week + 1e-6
        if not forced and any(totals.get(w, 0.0) + m > cap for w, m in adding.items()):
            continue
        for week, minutes in adding.items():
            totals[week] = totals.get(week, 0.0) + minutes
        busy[clinician_id].append((shift.start, shift.end))
        on_shift[shift_id] += 1
        taken.append(pair)
    return taken


@njit(cache=True, nogil=True)
def _fill(
    order: Ints,
    forced: int,
    clinician: Ints,
    start: Ints,
    end: Ints,
    rest: Ints,
    open_positions: Ints,
    shift: Ints,
    cell: Ints,
    minutes: Floats,
    room: Floats,
    held_clinician: Ints,
    held_start: Ints,
    held_end: Ints,
) -> Bools:
    """Rows taken, in `order`, when they keep rules 6-8 (the first `forced` ones always):
    `room` and `open_positions` are used up as rows are taken; held intervals block time."""
    size = held_clinician.size + order.size
    head = np.full(rest.size, -1, dtype=np.int64)  # each clinician's busy intervals, linked
    after = np.empty(size, dtype=np.int64)
    busy_start = np.empty(size, dtype=np.int64)
    busy_end = np.empty(size, dtype=np.int64)
    used = 0
    for k in range(held_clinician.size):
        c = held_clinician[k]
        busy_start[used], busy_end[used], after[used] = held_start[k], held_end[k], head[c]
        head[c] = used
        used += 1
    taken = np.zeros(shift.size, dtype=np.bool_)
    for n in range(order.size):
        row = order[n]
        c = clinician[row]
        if n >= forced:
            if open_positions[shift[row]] <= 0:
                continue
            gap = rest[c]
            fits = True
            k = head[c]
            while k >= 0:
                if busy_start[k] < end[row] + gap and start[row] < busy_end[k] + gap:
                    fits = False
                    break
                k = after[k]
            if not fits:
                continue
            for part in range(2):
                if cell[row, part] >= 0 and minutes[row, part] > room[cell[row, part]] + 1e-6:
                    fits = False
            if not fits:
                continue
        taken[row] = True
        open_positions[shift[row]] -= 1
        for part in range(2):
            if cell[row, part] >= 0:
                room[cell[row, part]] -= minutes[row, part]
        busy_start[used], busy_end[used], after[used] = start[row], end[row], head[c]
        head[c] = used
        used += 1
    return taken


def greedy_table(
    problem: Problem, table: CandidateTable, worth: Floats, hint: Iterable[Pair] = ()
) -> list[Pair]:
    """`greedy_start` over a whole table of pairs by falling `worth`, compiled: accepted work
    first (even where no longer eligible), then the hint's pairs that still fit, then the rest."""
    shifts = [problem.shifts[s] for s in table.shift_ids]
    clinicians = [problem.clinicians[c] for c in table.clinician_ids]
    shift_index = {s: i for i, s in enumerate(table.shift_ids)}
    clinician_index = {c: i for i, c in enumerate(table.clinician_ids)}
    starts = np.array([micros(s.start) for s in shifts], dtype=np.int64)
    ends = np.array([micros(s.end) for s in shifts], dtype=np.int64)
    first = min([problem.horizon_start, *(s.start for s in problem.shifts.values())])
    last = max([problem.horizon_end, *(s.end for s in problem.shifts.values())])
    weeks = WeekCells.build(clinicians, first, last)
    cell, minutes = weeks.parts(table.clinician, starts[table.shift], ends[table.shift])
    room = weeks.room.copy()
    open_positions = np.array([s.positions for s in shifts], dtype=np.int64)

    fixed = table.holds(problem.fixed)
    eligible = set(table.subset(fixed).pairs())
    extra = [p for p in dict.fromkeys(problem.fixed) if p not in eligible]  # no longer eligible
    held = [p for p in extra if p[1] in clinician_index]
    held_clinician = np.array([clinician_index[c] for _, c in held], dtype=np.int64)
    held_start = np.array([micros(problem.shifts[s].start) for s, _ in held], dtype=np.int64)
    held_end = np.array([micros(problem.shifts[s].end) for s, _ in held], dtype=np.int64)
    if held:  # accepted work outside the table still takes the clinician's time and room
        held_cell, held_minutes = weeks.parts(held_clinician, held_start, held_end)
        np.subtract.at(room, held_cell[held_cell >= 0], held_minutes[held_cell >= 0])
    for shift_id, _ in extra:  # and a position
        if shift_id in shift_index:
            open_positions[shift_index[shift_id]] -= 1
    hinted = table.holds(hint) & ~fixed
    rest_of = ~fixed & ~hinted
    by_worth = np.argsort(-worth, kind="stable")
    order = np.concatenate(
        (np.flatnonzero(fixed), by_worth[hinted[by_worth]], by_worth[rest_of[by_worth]])
    ).astype(np.int64)
    rest = np.array([c.min_rest_minutes * 60_000_000 for c in clinicians], dtype=np.int64)
    taken = _fill(
        order, int(fixed.sum()), table.clinician, starts[table.shift], ends[table.shift], rest,
        open_positions, table.shift, cell, minutes, room, held_clinician, held_start, held_end,
    )  # fmt: skip
    return [*table.subset(taken).pairs(), *extra]
