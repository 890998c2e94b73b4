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
from typing import TypeVar

from vsm_rules.weekly_hours import week_minutes, weekly_totals

from matching.engine.cpsat import BoolModel, Result
from matching.engine.problem import Pair, Problem

K = TypeVar("K")


@dataclass(slots=True)
class AssignmentModel:
    """A CP-SAT model with one boolean per (shift, clinician) pair (`x`: pair -> index)."""

    problem: Problem
    model: BoolModel = field(default_factory=BoolModel)
    x: dict[Pair, int] = field(default_factory=dict)

    def chosen(self, result: Result) -> list[Pair]:
        """The pairs the answer assigns."""
        return [pair for pair, var in self.x.items() if result.values[var]]

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
    listed = list(pairs)
    built.x = dict(zip(listed, built.model.new_bools(len(listed)), strict=True))
    return built


def add_positions(built: AssignmentModel) -> None:
    """Rule 8: at most `positions` clinicians on a shift."""
    for shift_id, pairs in built.by_shift().items():
        positions = built.problem.shifts[shift_id].positions
        if len(pairs) > positions:
            built.model.at_most([built.x[p] for p in pairs], [1] * len(pairs), positions)


def add_overlap_and_rest(built: AssignmentModel) -> None:
    """Rule 6: a clinician's assigned shifts never overlap and keep the minimum rest between
    them: of the intervals [start, end + rest) of one clinician, at most one may cover any
    instant. They form an interval graph whose maximal cliques sit at interval starts; one
    at-most-one per maximal clique states the rule exactly and gives the tightest relaxation."""
    shifts = built.problem.shifts
    for clinician_id, pairs in built.by_clinician().items():
        if len(pairs) < 2:
            continue
        rest = built.problem.clinicians[clinician_id].min_rest_minutes * 60
        spans = [(shifts[p[0]].start.timestamp(), shifts[p[0]].end.timestamp(), p) for p in pairs]
        for clique in busy_cliques(spans, rest):
            built.model.at_most_one(built.x[p] for p in clique)


def busy_cliques(spans: Iterable[tuple[float, float, K]], rest: float) -> list[list[K]]:
    """The maximal cliques (of two or more) among one clinician's busy intervals
    [start, end + rest), given as (start, end, key): sweeping by start, the intervals open at a
    start form a clique, and it is maximal unless the next start comes before any of them
    closes (then it only grows)."""
    ordered = sorted(spans, key=lambda span: (span[0], span[1]))
    cliques: list[list[K]] = []
    open_spans: list[tuple[float, K]] = []
    for index, (start, end, key) in enumerate(ordered):
        open_spans = [(closes, k) for closes, k in open_spans if closes > start]
        open_spans.append((end + rest, key))
        following = ordered[index + 1][0] if index + 1 < len(ordered) else float("inf")
        if len(open_spans) >= 2 and any(closes <= following for closes, _ in open_spans):
            cliques.append([k for _, k in open_spans])
    return cliques


def add_weekly_hours(built: AssignmentModel) -> None:
    """Rule 7: in each local week of the clinician, booked plus assigned minutes stay within
    the weekly cap; a shift across the week boundary counts in each week for its own part."""
    for clinician_id, pairs in built.by_clinician().items():
        clinician = built.problem.clinicians[clinician_id]
        booked = weekly_totals(clinician.zone, clinician.booked)
        terms: dict[date, list[tuple[int, int]]] = defaultdict(list)
        for pair in pairs:
            shift = built.problem.shifts[pair[0]]
            for monday, minutes in week_minutes(clinician.zone, shift.start, shift.end).items():
                terms[monday].append((round(minutes * 60), built.x[pair]))
        cap = clinician.max_minutes_per_week * 60
        for monday, week_terms in terms.items():
            room = max(cap - round(booked.get(monday, 0.0) * 60), 0)
            if sum(seconds for seconds, _ in week_terms) > room:
                built.model.at_most([v for _, v in week_terms], [s for s, _ in week_terms], room)


def add_fixed(built: AssignmentModel, fixed: Iterable[Pair]) -> None:
    """Accepted work stays: its pairs are assigned whatever else changes."""
    for pair in fixed:
        if pair in built.x:
            built.model.fix(built.x[pair], 1)


def add_hint(built: AssignmentModel, hint: Iterable[Pair]) -> None:
    """The previous answer as a starting point: hinted pairs on, every other pair off."""
    hinted = set(hint)
    for pair, var in built.x.items():
        built.model.hint(var, int(pair in hinted))


def set_objective(built: AssignmentModel, gains: Mapping[Pair, int]) -> None:
    """The format's score (x 3,600, exact integers): value of filled shifts minus cost."""
    built.model.maximize(list(built.x.values()), [gains[pair] for pair in built.x])


def full_model(
    problem: Problem,
    pairs: Iterable[Pair],
    gains: Mapping[Pair, int],
    fixed: Iterable[Pair],
    hint: Iterable[Pair],
) -> AssignmentModel:
    """The model with every rule, the fixed work, the hint and the score."""
    built = new_model(problem, pairs)
    add_positions(built)
    add_overlap_and_rest(built)
    add_weekly_hours(built)
    add_fixed(built, fixed)
    add_hint(built, hint)
    set_objective(built, gains)
    return built
