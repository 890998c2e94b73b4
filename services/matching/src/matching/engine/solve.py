"""From a Problem to an answer with its own upper bound.

Prices first (bound.py): what each pair is worth once its shift and weeks are paid for, and a
greedy answer by that worth. The eligible pairs fall apart into groups that share no shift and
no clinician; each group is an independent CP-SAT model (built by rules.py) started from that
answer, solved within its share of the time. The answer's bound: each group's proof where CP-SAT
proved it, the prices elsewhere; the gap is bound minus score over bound.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field, replace

import numpy as np
import numpy.typing as npt

from matching.engine.bound import Pricing
from matching.engine.bulk import CandidateTable, Floats, bulk_candidates
from matching.engine.candidates import components
from matching.engine.greedy import greedy_start, greedy_table
from matching.engine.problem import Pair, Problem
from matching.engine.rules import full_model
from matching.engine.windows import SPARE_CANDIDATES, best_candidates, solve_in_windows

logger = logging.getLogger(__name__)
SCALE = 3600  # gains are score x 3,600
PRICE_SHARE = 0.12  # of the time limit, for pricing before the search (bound.py)
BOUND_SHARE = 0.06  # of the time limit, for tightening the prices after the search
LARGE_GROUP = 60_000  # pairs: larger groups are solved window by window (windows.py)
FOCUS = ((1, 10), (2, 16), (4, 30))  # a focused search keeps per position (and a few more)
# and per clinician the pairs worth most; it widens when the narrower one is proven optimal
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
    """Best assignments found within `time_limit` seconds (wall time, generation included).

    A greedy answer by gain sets the target for pricing (bound.py); the prices say what each
    pair is worth once its shift and weeks are paid for, and a greedy answer by that worth
    (usually much the better of the two) leads CP-SAT, which searches among the pairs worth
    most. What time is left after the search tightens the prices: the bound."""
    started = time.monotonic()
    found = bulk_candidates(problem)
    pruned = len(found) > PRUNE_ABOVE
    opening = greedy_table(problem, found, found.gain.astype(np.float64), problem.hint)
    pricing = Pricing(problem, found)
    pricing.improve(known=_score(opening, found), seconds=PRICE_SHARE * time_limit)
    worth = pricing.reduced_gains()
    start = greedy_table(problem, found, worth, problem.hint)
    if _score(start, found) < _score(opening, found):
        start = opening
    problem = replace(problem, hint=tuple(start))
    mask = _promising(problem, found, worth) if pruned else np.ones(len(found), dtype=np.bool_)
    searched = found.subset(mask)
    gains: dict[Pair, int] = searched.gains()
    worth_of = dict(zip(searched.pairs(), worth[mask].tolist(), strict=True))
    for shift_id, clinician_id in problem.fixed:  # accepted work counts even if now ineligible
        shift, clinician = problem.shifts[shift_id], problem.clinicians[clinician_id]
        gains.setdefault((shift_id, clinician_id), problem.gain_scaled(shift, clinician))
        worth_of.setdefault((shift_id, clinician_id), float(gains[shift_id, clinician_id]))
    groups = components(gains)
    total_pairs = sum(len(g) for g in groups) or 1
    results: list[_GroupResult] = []
    remaining_pairs = total_pairs
    search_ends = started + time_limit * (1 - BOUND_SHARE)
    for group in groups:
        left = search_ends - time.monotonic()
        share = max(left * len(group) / remaining_pairs, 0.05)
        remaining_pairs -= len(group)
        results.append(_solve_group(problem, group, gains, worth_of, share, seed, workers))
    score = sum(r.score for r in results)
    ends = started + time_limit
    if pruned:  # groups of the pool bound nothing: price every pair
        forced = _forced(problem, found, gains, None)
        pricing.improve(known=score - forced, seconds=max(ends - time.monotonic(), 0.05))
        bound = min(_positions_bound(problem, found), pricing.value + forced)
    else:  # groups not proven optimal are priced together; the others keep their proof
        open_groups = [i for i, r in enumerate(results) if r.bound > r.score]
        bound = sum(r.bound for r in results)
        if open_groups:
            pairs = [p for i in open_groups for p in groups[i]]
            ceiling = sum(results[i].bound for i in open_groups)
            known = sum(results[i].score for i in open_groups)
            forced = _forced(problem, found, gains, pairs)
            priced = Pricing(problem, found.subset(found.holds(pairs)))
            priced.improve(known - forced, seconds=max(ends - time.monotonic(), 0.05))
            bound += min(ceiling, priced.value + forced) - ceiling
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


def _score(pairs: list[Pair], found: CandidateTable) -> float:
    held = found.holds(pairs)
    return float(found.gain[held].sum())


def _solve_group(
    problem: Problem,
    group: list[Pair],
    gains: dict[Pair, int],
    worth: dict[Pair, float],
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
    best = max([start, previous], key=lambda pairs: _total(pairs, gains))  # solve()'s answer, valid
    opening = _total(best, gains)
    ends = time.monotonic() + seconds
    improved = False
    for per_position, per_clinician in FOCUS:  # wider while the narrower search is proven
        searched = group
        if len(group) > FOCUS_ABOVE:  # a large group is searched among its most promising pairs
            searched = best_candidates(
                problem, group, worth, [*best, *fixed], per_position, per_clinician
            )
        chosen, status, proven = _cp_answer(
            problem, searched, gains, fixed, best, ends - time.monotonic(), seed, workers
        )
        if chosen is not None and _total(chosen, gains) >= _total(best, gains):
            best, improved = chosen, True
        if status != "OPTIMAL" or len(searched) == len(group) or time.monotonic() > ends - 0.05:
            break
    whole = len(searched) == len(group)
    if not whole:
        proven = float("inf")  # a bound over some pairs only bounds nothing; the caller prices
    score = _total(best, gains)
    ceiling = max(min(positions_bound(problem, group, gains), proven), float(score))
    logger.info(
        "group of %d pairs: %s in %.2fs, greedy %d, found %d",
        len(group), status, seconds, opening, score,
    )  # fmt: skip
    if not improved:
        logger.warning("a group of %d pairs kept its start after %.2fs", len(group), seconds)
    return _GroupResult(best, score, ceiling, improved and status == "OPTIMAL" and whole)


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


def _total(pairs: list[Pair], gains: dict[Pair, int]) -> int:
    return sum(gains[p] for p in pairs)


def _forced(
    problem: Problem, found: CandidateTable, gains: dict[Pair, int], pairs: list[Pair] | None
) -> int:
    """The gains of accepted work among `pairs` (None: all) that is no longer eligible: it is in
    every answer, outside the candidates, so no pricing of the candidates counts it."""
    eligible = set(found.subset(found.holds(problem.fixed)).pairs())
    chosen = set(pairs) if pairs is not None else None
    return sum(
        gains[p] for p in problem.fixed
        if (chosen is None or p in chosen) and p not in eligible
    )  # fmt: skip


def _promising(problem: Problem, found: CandidateTable, worth: Floats) -> npt.NDArray[np.bool_]:
    """Each shift's candidates worth most (a few per position and a few more), each
    clinician's shifts worth most, and the previous answer's pairs: the pool a large market is
    searched in."""
    positions = np.array([problem.shifts[s].positions for s in found.shift_ids], dtype=np.int64)
    rank = found.ranks(worth=worth)
    best = rank < POOL_SHIFT_KEEPS * positions[found.shift] + SPARE_CANDIDATES
    best |= found.ranks(by_clinician=True, worth=worth) < POOL_CLINICIAN_KEEPS
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
