"""A first answer in milliseconds: pairs by falling gain, each taken if it keeps every rule.

It is the hint CP-SAT starts from (so the model never waits for its first solution) and the
answer of last resort when the solver proves nothing in its share of time.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from datetime import date, datetime, timedelta

from vsm_rules.weekly_hours import week_minutes, weekly_totals

from matching.engine.problem import Pair, Problem


def greedy_start(
    problem: Problem, pairs: Iterable[Pair], gains: Mapping[Pair, int], fixed: Iterable[Pair] = ()
) -> list[Pair]:
    """Fixed pairs first, then the most valuable pairs that still fit, in falling gain."""
    taken: list[Pair] = []
    on_shift: dict[str, int] = defaultdict(int)
    busy: dict[str, list[tuple[datetime, datetime]]] = defaultdict(list)
    weeks: dict[str, dict[date, float]] = {}
    fixed_pairs = list(fixed)
    ordered = fixed_pairs + sorted(
        (p for p in pairs if p not in set(fixed_pairs)), key=lambda p: gains[p], reverse=True
    )
    for pair in ordered:
        shift_id, clinician_id = pair
        shift, clinician = problem.shifts[shift_id], problem.clinicians[clinician_id]
        forced = pair in fixed_pairs
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
