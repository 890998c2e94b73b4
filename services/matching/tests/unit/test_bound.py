"""The Lagrangian bound: its schedules are the exact best per clinician, and it never falls below
the LP relaxation (weak duality), yet comes within a few thousandths of it."""

from __future__ import annotations

import copy
import itertools
from collections import defaultdict
from datetime import timedelta
from types import ModuleType

import numpy as np
import pytest
from matching.engine.bound import Pricing, _relaxation, lagrangian_bound
from matching.engine.bulk import bulk_candidates
from matching.engine.loader import problem_from_instance
from matching.engine.problem import Pair, Problem
from vsm_infra.testing import load_yardstick


@pytest.fixture(scope="module")
def yardstick() -> ModuleType:
    return load_yardstick()


def _best_schedule(problem: Problem, pairs: list[Pair], gains: dict[Pair, int]) -> int:
    """Brute force: the most valuable set of one clinician's pairs that keep rest (rule 6)."""
    best = 0
    for size in range(1, len(pairs) + 1):
        for chosen in itertools.combinations(pairs, size):
            spans = sorted((problem.shifts[s].start, problem.shifts[s].end) for s, _ in chosen)
            rest = timedelta(minutes=problem.clinicians[chosen[0][1]].min_rest_minutes)
            if all(b[0] >= a[1] + rest for a, b in itertools.pairwise(spans)):
                best = max(best, sum(gains[p] for p in chosen))
    return best


def test_schedules_are_each_clinicians_best(yardstick: ModuleType) -> None:
    doc = yardstick.generate(5, 300, 120, "2027-03-08T00:00:00Z", 5)
    problem = problem_from_instance(doc)
    table = bulk_candidates(problem)
    gains = table.gains()
    by_clinician: dict[str, list[Pair]] = defaultdict(list)
    for pair in gains:
        by_clinician[pair[1]].append(pair)
    small = [pair for pairs in by_clinician.values() if len(pairs) <= 12 for pair in pairs]
    counts = np.bincount(table.clinician)
    pricing = Pricing(problem, table.subset(counts[table.clinician] <= 12))
    relaxation = pricing.r
    total, chosen = pricing.schedules(np.zeros_like(pricing.lam), np.zeros_like(pricing.mu))
    expected = sum(
        _best_schedule(problem, pairs, gains) for pairs in by_clinician.values() if len(pairs) <= 12
    )
    assert len(small) > 150
    assert total == pytest.approx(expected)
    assert float(chosen @ relaxation.gain) == pytest.approx(expected)


@pytest.mark.parametrize("seed", [1, 2])
def test_bound_stays_above_the_lp_and_close_to_it(yardstick: ModuleType, seed: int) -> None:
    doc = yardstick.generate(seed, 300, 120, "2027-10-25T00:00:00Z", 14)
    lp = yardstick.lp_bound(yardstick.Instance(copy.deepcopy(doc)))
    problem = problem_from_instance(doc)
    bound = lagrangian_bound(problem, bulk_candidates(problem), known=0.97 * lp * 3600, seconds=3)
    assert bound.value / 3600 >= lp * (1 - 1e-9)
    assert bound.value / 3600 <= lp * 1.02


def test_each_pair_fits_after_a_pair_of_its_own_clinician(yardstick: ModuleType) -> None:
    """With over 5,000 clinicians (their numbers times instants once overflowed): a pair's
    predecessor is an earlier pair of the same clinician that ends, with rest, by its start."""
    doc = yardstick.generate(8, 1500, 7000, "2027-03-08T00:00:00Z", 7)
    problem = problem_from_instance(doc)
    r = _relaxation(problem, bulk_candidates(problem))
    assert int(r.owner.max()) > 5000
    rows = np.arange(r.gain.size)
    has = r.pred >= 0
    assert (r.pred < rows).all()
    assert (r.owner[r.pred[has]] == r.owner[has]).all()
