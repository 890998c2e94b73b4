"""From a Problem to an answer with its own upper bound.

The eligible pairs fall apart into groups that share no shift and no clinician; each group is an
independent CP-SAT model (built by rules.py), solved within its share of the time. The answer's
bound is the smaller of two honest bounds: the sum of the groups' proven bounds, and the
Lagrangian bound of bound.py (which approaches the LP relaxation); the gap is bound minus score
over bound.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field, replace

import numpy as np
import numpy.typing as npt

from matching.engine.bound import lagrangian_bound
from matching.engine.bulk import CandidateTable, bulk_candidates
from matching.engine.candidates import components
from matching.engine.greedy import greedy_start
from matching.engine.problem import Pair, Problem
from matching.engine.rules import full_model
from matching.engine.windows import SPARE_CANDIDATES, best_candidates, solve_in_windows

logger = logging.getLogger(__name__)
SCALE = 3600  # gains are score x 3,600
BOUND_SHARE = 0.10  # of the time limit, for the Lagrangian bound after the search
LARGE_GROUP = 60_000  # pairs: larger groups are solved window by window (windows.py)
SHIFT_KEEPS = 4  # candidates per position, in a focused search
CLINICIAN_KEEPS = 15  # each clinician's most valuable shifts, in a focused search
FOCUS_ABOVE = 1500  # pairs: a larger group is searched among its most promising pairs
PRUNE_ABOVE = 100_000  # eligible pairs: a larger market is searched among its best pairs only
POOL_SHIFT_KEEPS = 2  # candidates per position, and
POOL_CLINICIAN_KEEPS = 8  # each clinician's most valuable shifts, in a pruned market


@dataclass(frozen=True, slots=True)
class Answer:
    """Assignments, their score, the proven upper bound, and how the solve went."""

    assignments: tuple[Pair, ...]
    score: float
    bound: float
    positions: int
    seconds: float
    groups: int
    optimal_groups: int
    candidates: int

    @property
    def gap(self) -> float:
        return 0.0 if self.bound <= 0 else max(0.0, (self.bound - self.score) / self.bound)

    @property
    def fill(self) -> float:
        return len(self.assignments) / self.positions if self.positions else 1.0

    def summary(self) -> str:
        return (
            f"score {self.score:.0f} bound {self.bound:.0f} gap {self.gap:.4%} "
            f"fill {self.fill:.4f} ({len(self.assignments)}/{self.positions}) "
            f"seconds {self.seconds:.2f} groups {self.groups} optimal {self.optimal_groups} "
            f"pairs {self.candidates}"
        )


@dataclass(slots=True)
class _GroupResult:
    chosen: list[Pair] = field(default_factory=list)
    score: int = 0
    bound: float = 0.0
    optimal: bool = False


def solve(problem: Problem, time_limit: float = 10.0, seed: int = 0, workers: int = 8) -> Answer:
    """Best assignments found within `time_limit` seconds (wall time, generation included)."""
    started = time.monotonic()
    found = bulk_candidates(problem)
    pruned = len(found) > PRUNE_ABOVE
    if pruned:  # search among the greedy answer over every pair and the most promising pairs
        every = found.gains()
        kept = greedy_start(problem, problem.hint, every, problem.fixed) if problem.hint else []
        start = greedy_start(problem, every, every, kept or problem.fixed)
        del every
        problem = replace(problem, hint=tuple(start))
        found_pool = found.subset(_promising(problem, found))
    gains: dict[Pair, int] = (found_pool if pruned else found).gains()
    for shift_id, clinician_id in problem.fixed:  # accepted work counts even if now ineligible
        shift, clinician = problem.shifts[shift_id], problem.clinicians[clinician_id]
        gains.setdefault((shift_id, clinician_id), problem.gain_scaled(shift, clinician))
    groups = components(gains)
    total_pairs = sum(len(g) for g in groups) or 1
    results: list[_GroupResult] = []
    remaining_pairs = total_pairs
    search_ends = started + time_limit * (1 - BOUND_SHARE)
    for group in groups:
        left = search_ends - time.monotonic()
        share = max(left * len(group) / remaining_pairs, 0.05)
        remaining_pairs -= len(group)
        results.append(_solve_group(problem, group, gains, share, seed, workers))
    score = sum(r.score for r in results)
    seconds_left = max(time_limit - (time.monotonic() - started), 0.05)
    if pruned:  # groups of the pool bound nothing: price every pair
        bound = min(
            _positions_bound(problem, found),
            _priced(problem, found, None, gains, score, seconds_left),
        )
    else:  # groups not proven optimal are priced together; the others keep their proof
        open_groups = [i for i, r in enumerate(results) if r.bound > r.score]
        bound = sum(r.bound for r in results)
        if open_groups:
            pairs = [p for i in open_groups for p in groups[i]]
            ceiling = sum(results[i].bound for i in open_groups)
            known = sum(results[i].score for i in open_groups)
            priced = _priced(problem, found, pairs, gains, known, seconds_left)
            bound += min(ceiling, priced) - ceiling
    return Answer(
        assignments=tuple(sorted(p for r in results for p in r.chosen)),
        score=score / SCALE,
        bound=bound / SCALE,
        positions=sum(s.positions for s in problem.shifts.values()),
        seconds=time.monotonic() - started,
        groups=len(groups),
        optimal_groups=sum(r.optimal for r in results),
        candidates=len(found),
    )


def _solve_group(
    problem: Problem,
    group: list[Pair],
    gains: dict[Pair, int],
    seconds: float,
    seed: int,
    workers: int,
) -> _GroupResult:
    members = set(group)
    fixed = [p for p in problem.fixed if p in members]
    if len(group) == 1 and not fixed:  # one pair alone: take it (its gain is positive)
        pair = group[0]
        return _GroupResult([pair], gains[pair], float(gains[pair]), True)
    previous = [p for p in problem.hint if p in members]
    if len(group) > LARGE_GROUP:
        windowed = solve_in_windows(problem, group, gains, fixed, previous, seconds, seed, workers)
        score = sum(gains[p] for p in windowed)
        return _GroupResult(windowed, score, positions_bound(problem, group, gains), False)
    start = greedy_start(problem, group, gains, fixed)
    fallback_score = sum(gains[p] for p in start)
    hint = previous or start
    searched = group
    if len(group) > FOCUS_ABOVE:  # a large group is searched among its most promising pairs
        searched = best_candidates(
            problem, group, gains, [*hint, *fixed], SHIFT_KEEPS, CLINICIAN_KEEPS
        )
    chosen, status, proven = _cp_answer(
        problem, searched, gains, fixed, hint, seconds, seed, workers
    )
    if searched is not group:
        proven = float("inf")  # a bound over some pairs only bounds nothing; the caller prices
    ceiling = min(positions_bound(problem, group, gains), proven)
    found = sum(gains[p] for p in chosen) if chosen is not None else 0
    logger.info(
        "group of %d pairs: %s in %.2fs, greedy %d, found %d",
        len(group), status, seconds, fallback_score, found,
    )  # fmt: skip
    hinted = sum(gains[p] for p in hint)
    if chosen is None or found < max(hinted, fallback_score):
        logger.warning("a group of %d pairs kept its start after %.2fs", len(group), seconds)
        kept = hint if hinted >= fallback_score and hint is not previous else start
        kept_score = sum(gains[p] for p in kept)
        return _GroupResult(list(kept), kept_score, max(ceiling, float(kept_score)), False)
    return _GroupResult(chosen, found, ceiling, status == "OPTIMAL" and searched is group)


def _cp_answer(
    problem: Problem,
    pairs: list[Pair],
    gains: dict[Pair, int],
    fixed: list[Pair],
    hint: list[Pair],
    seconds: float,
    seed: int,
    workers: int,
) -> tuple[list[Pair] | None, str, float]:
    """CP-SAT on these pairs: the answer (None without one), the status, the proven bound."""
    built = full_model(problem, pairs, gains, fixed, hint)
    result = built.model.solve(seconds, workers, seed)
    if result.status == "INFEASIBLE":
        return None, result.status, 0.0
    if not result.has_answer:
        return None, result.status, float(result.bound)
    return built.chosen(result), result.status, float(result.bound)


def _priced(
    problem: Problem,
    found: CandidateTable,
    pairs: list[Pair] | None,
    gains: dict[Pair, int],
    known: int,
    seconds: float,
) -> float:
    """The Lagrangian bound over these pairs (None: every eligible pair), plus accepted work
    that is no longer eligible (it is forced into every answer, outside the candidates)."""
    held = found.holds(pairs) if pairs is not None else np.ones(len(found), dtype=np.bool_)
    priced = lagrangian_bound(problem, found.subset(held), known=known, seconds=seconds)
    eligible = set(found.subset(held & found.holds(problem.fixed)).pairs())
    chosen = set(pairs) if pairs is not None else None
    forced = sum(
        gains[p] for p in problem.fixed
        if (chosen is None or p in chosen) and p not in eligible
    )  # fmt: skip
    return priced.value + forced


def _promising(problem: Problem, found: CandidateTable) -> npt.NDArray[np.bool_]:
    """Each shift's best candidates by gain (three per position and a few more), and the
    previous answer's pairs: the pool a large market is searched in."""
    positions = np.array([problem.shifts[s].positions for s in found.shift_ids], dtype=np.int64)
    best = found.ranks() < POOL_SHIFT_KEEPS * positions[found.shift] + SPARE_CANDIDATES
    best |= found.ranks(by_clinician=True) < POOL_CLINICIAN_KEEPS
    return best | found.holds(problem.hint) | found.holds(problem.fixed)


def _positions_bound(problem: Problem, found: CandidateTable) -> float:
    """`positions_bound` over every eligible pair, and the fixed pairs forced beyond them."""
    positions = np.array([problem.shifts[s].positions for s in found.shift_ids], dtype=np.int64)
    best = (found.ranks() < positions[found.shift]) & (found.gain > 0)
    forced = set(problem.fixed) - set(found.subset(found.holds(problem.fixed)).pairs())
    extra = sum(problem.gain_scaled(problem.shifts[s], problem.clinicians[c]) for s, c in forced)
    return float(found.gain[best].sum()) + max(extra, 0)


def positions_bound(problem: Problem, group: list[Pair], gains: dict[Pair, int]) -> float:
    """An upper bound needing no solver: each shift filled by its best-paying candidates."""
    by_shift: dict[str, list[int]] = {}
    for pair in group:
        by_shift.setdefault(pair[0], []).append(gains[pair])
    total = 0
    for shift_id, shift_gains in by_shift.items():
        best = sorted(shift_gains, reverse=True)[: problem.shifts[shift_id].positions]
        total += sum(g for g in best if g > 0)
    return float(total)


def answer_document(answer: Answer) -> dict[str, list[dict[str, str]]]:
    """The answer JSON of FORMAT.md."""
    return {"assignments": [{"shift": s, "clinician": c} for s, c in answer.assignments]}


__all__ = ["Answer", "answer_document", "solve"]
