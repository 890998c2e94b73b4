"""The CP-SAT model, one function per rule of FORMAT.md that spans more than one pair.

Pair-alone rules (profession, skills, licensing, do-not-return, availability, rest beside
bookings) are settled before the model, by `candidates`; what remains couples pairs: positions
(rule 8), overlap and rest between assigned shifts (rule 6), weekly hours (rule 7), and the live
marketplace's fixed work and hint.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date

from ortools.sat.python import cp_model
from vsm_rules.weekly_hours import week_minutes, weekly_totals

from matching.engine.problem import Pair, Problem


@dataclass(slots=True)
class AssignmentModel:
    """A CP-SAT model with one boolean per (shift, clinician) pair."""

    problem: Problem
    model: cp_model.CpModel = field(default_factory=cp_model.CpModel)
    x: dict[Pair, cp_model.IntVar] = field(default_factory=dict)

    def by_shift(self) -> Mapping[str, list[Pair]]:
        grouped: dict[str, list[Pair]] = defaultdict(list)
        for pair in self.x:
            grouped[pair[0]].append(pair)
        return grouped

    def by_clinician(self) -> Mapping[str, list[Pair]]:
        grouped: dict[str, list[Pair]] = defaultdict(list)
        for pair in self.x:
            grouped[pair[1]].append(pair)
        return grouped


def new_model(problem: Problem, pairs: Iterable[Pair]) -> AssignmentModel:
    built = AssignmentModel(problem)
    for shift, clinician in pairs:
        built.x[(shift, clinician)] = built.model.new_bool_var(f"x[{shift},{clinician}]")
    return built


def add_positions(built: AssignmentModel) -> None:
    """Rule 8: at most `positions` clinicians on a shift."""
    for shift_id, pairs in built.by_shift().items():
        positions = built.problem.shifts[shift_id].positions
        if len(pairs) > positions:
            built.model.add(sum(built.x[p] for p in pairs) <= positions)


def add_overlap_and_rest(built: AssignmentModel) -> None:
    """Rule 6: a clinician's assigned shifts never overlap and keep the minimum rest between
    them: intervals [start, end + rest) of one clinician may not overlap."""
    origin = built.problem.horizon_start
    for clinician_id, pairs in built.by_clinician().items():
        if len(pairs) < 2:
            continue
        rest = built.problem.clinicians[clinician_id].min_rest_minutes * 60
        intervals = []
        for pair in pairs:
            shift = built.problem.shifts[pair[0]]
            start = int((shift.start - origin).total_seconds())
            size = shift.seconds + rest
            intervals.append(
                built.model.new_optional_fixed_size_interval_var(
                    start, size, built.x[pair], f"busy[{pair[0]},{clinician_id}]"
                )
            )
        built.model.add_no_overlap(intervals)


def add_weekly_hours(built: AssignmentModel) -> None:
    """Rule 7: in each local week of the clinician, booked plus assigned minutes stay within
    the weekly cap; a shift across the week boundary counts in each week for its own part."""
    for clinician_id, pairs in built.by_clinician().items():
        clinician = built.problem.clinicians[clinician_id]
        booked = weekly_totals(clinician.zone, clinician.booked)
        terms: dict[date, list[tuple[int, cp_model.IntVar]]] = defaultdict(list)
        for pair in pairs:
            shift = built.problem.shifts[pair[0]]
            for monday, minutes in week_minutes(clinician.zone, shift.start, shift.end).items():
                terms[monday].append((round(minutes * 60), built.x[pair]))
        cap = clinician.max_minutes_per_week * 60
        for monday, week_terms in terms.items():
            room = max(cap - round(booked.get(monday, 0.0) * 60), 0)
            if sum(seconds for seconds, _ in week_terms) > room:
                built.model.add(sum(seconds * var for seconds, var in week_terms) <= room)


def add_fixed(built: AssignmentModel, fixed: Iterable[Pair]) -> None:
    """Accepted work stays: its pairs are assigned whatever else changes."""
    for pair in fixed:
        if pair in built.x:
            built.model.add(built.x[pair] == 1)


def add_hint(built: AssignmentModel, hint: Iterable[Pair]) -> None:
    """The previous answer as a starting point: hinted pairs on, every other pair off."""
    hinted = set(hint)
    for pair, var in built.x.items():
        built.model.add_hint(var, pair in hinted)


def set_objective(built: AssignmentModel, gains: Mapping[Pair, int]) -> None:
    """The format's score (x 3,600, exact integers): value of filled shifts minus cost."""
    built.model.maximize(sum(gains[pair] * var for pair, var in built.x.items()))
