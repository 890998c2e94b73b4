"""Groups too large for one CP-SAT model: a greedy answer improved window by window.

A window is a run of the group's shifts in start order, small enough for CP-SAT to solve in a
second or two. Everything assigned outside the window stays put and becomes, for the window's
model, part of each clinician's bookings: pairs that would clash with it are left out (rule 6)
and its minutes count in the weekly caps (rule 7). The window's current assignments are the
hint, so the model's answer is never worse; it replaces them when it is better. Windows overlap
by half and passes repeat while time remains.

Only each shift's best candidates (by gain) enter the windows: the few a position could use.
"""

from __future__ import annotations

import itertools
import logging
import time
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import replace

from vsm_rules.rest import clashes

from matching.engine.greedy import greedy_start
from matching.engine.problem import Interval, Pair, Problem
from matching.engine.rules import full_model

logger = logging.getLogger(__name__)
WINDOW_PAIRS = 6000
SPARE_CANDIDATES = 3  # per shift, beyond three per position


def best_candidates(
    problem: Problem,
    group: Iterable[Pair],
    worth: Mapping[Pair, float],
    keep: Iterable[Pair],
    per_position: int = 3,
    per_clinician: int = 0,
) -> list[Pair]:
    """Each shift's candidates worth most (`per_position` per position and a few more), each
    clinician's `per_clinician` shifts worth most, and `keep`."""
    by_shift: dict[str, list[Pair]] = defaultdict(list)
    by_clinician: dict[str, list[Pair]] = defaultdict(list)
    for pair in group:
        by_shift[pair[0]].append(pair)
        by_clinician[pair[1]].append(pair)
    chosen = set(keep)
    for shift_id, pairs in by_shift.items():
        limit = per_position * problem.shifts[shift_id].positions + SPARE_CANDIDATES
        chosen.update(sorted(pairs, key=lambda p: -worth[p])[:limit])
    if per_clinician:
        for pairs in by_clinician.values():
            chosen.update(sorted(pairs, key=lambda p: -worth[p])[:per_clinician])
    return sorted(chosen)


def solve_in_windows(
    problem: Problem,
    group: list[Pair],
    gains: Mapping[Pair, int],
    fixed: list[Pair],
    hint: list[Pair],
    seconds: float,
    seed: int,
    workers: int,
) -> list[Pair]:
    """The group's assignments: the hint's pairs that still fit, then greedy, then improved
    window by window."""
    ends = time.monotonic() + seconds
    kept = greedy_start(problem, hint, gains, fixed) if hint else fixed  # what still fits
    current = set(greedy_start(problem, group, gains, kept))
    pool = best_candidates(problem, group, gains, [*current, *fixed])
    windows = _windows(problem, pool)
    if not windows:
        return sorted(current)
    fixed_set = set(fixed)
    passes = 0
    opening = _score(current, gains)
    while time.monotonic() < ends - 0.2:
        for shifts in windows:
            left = ends - time.monotonic()
            if left < 0.2:
                break
            slice_seconds = min(max(left / max(len(windows), 1), 0.5), left - 0.1)
            current = improve(problem, pool, gains, shifts, current, fixed_set, slice_seconds,
                               seed + passes, workers)  # fmt: skip
        passes += 1
    logger.info(
        "%d pairs (%d kept), %d windows, %d passes: %d -> %d",
        len(group), len(pool), len(windows), passes, opening, _score(current, gains),
    )  # fmt: skip
    return sorted(current)


def _score(pairs: Iterable[Pair], gains: Mapping[Pair, int]) -> int:
    return sum(gains[p] for p in pairs)


def _windows(problem: Problem, pool: list[Pair]) -> list[frozenset[str]]:
    """Runs of shifts in start order holding about WINDOW_PAIRS pairs, overlapping by half."""
    per_shift: dict[str, int] = defaultdict(int)
    for shift_id, _ in pool:
        per_shift[shift_id] += 1
    ordered = sorted(per_shift, key=lambda s: (problem.shifts[s].start, s))
    runs: list[list[str]] = [[]]
    size = 0
    for shift_id in ordered:
        if size >= WINDOW_PAIRS // 2:
            runs.append([])
            size = 0
        runs[-1].append(shift_id)
        size += per_shift[shift_id]
    if len(runs) == 1:
        return [frozenset(runs[0])]
    return [frozenset(a + b) for a, b in itertools.pairwise(runs)]


def improve(
    problem: Problem,
    pool: list[Pair],
    gains: Mapping[Pair, int],
    shifts: frozenset[str],
    current: set[Pair],
    fixed: set[Pair],
    seconds: float,
    seed: int,
    workers: int,
) -> set[Pair]:
    """The window re-solved with everything outside it held: the better of old and new."""
    involved = {c for _, c in pool}
    outside: dict[str, list[Interval]] = defaultdict(list)
    for shift_id, clinician_id in current:
        if shift_id not in shifts and clinician_id in involved:
            shift = problem.shifts[shift_id]
            outside[clinician_id].append((shift.start, shift.end))
    clinicians = dict(problem.clinicians)
    pairs = []
    for pair in pool:
        if pair[0] not in shifts:
            continue
        clinician = problem.clinicians[pair[1]]
        held = outside.get(pair[1], [])
        shift = problem.shifts[pair[0]]
        if pair in fixed or not clashes(held, shift.start, shift.end, clinician.min_rest_minutes):
            pairs.append(pair)
            if held and clinicians[pair[1]] is clinician:
                clinicians[pair[1]] = replace(clinician, booked=(*clinician.booked, *held))
    inside = [p for p in current if p[0] in shifts]
    window = replace(problem, clinicians=clinicians)
    built = full_model(window, pairs, gains, [p for p in fixed if p[0] in shifts], inside)
    result = built.model.solve(seconds, workers, seed)
    if not result.has_answer:
        return current
    chosen = built.chosen(result)
    if _score(chosen, gains) <= _score(inside, gains):
        return current
    return {p for p in current if p[0] not in shifts} | set(chosen)


__all__ = ["best_candidates", "improve", "solve_in_windows"]
