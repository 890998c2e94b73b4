"""The compiled greedy over a whole table takes exactly the pairs of the plain greedy, with
accepted work (eligible or not) and a previous answer, and its answers keep every rule."""

from __future__ import annotations

import copy
import random
from dataclasses import replace
from types import ModuleType

import numpy as np
import pytest
from matching.engine.bulk import bulk_candidates
from matching.engine.greedy import greedy_start, greedy_table
from matching.engine.loader import problem_from_instance
from vsm_infra.testing import load_yardstick


@pytest.fixture(scope="module")
def yardstick() -> ModuleType:
    return load_yardstick()


@pytest.mark.parametrize("seed", [3, 4])
def test_compiled_greedy_takes_the_plain_greedys_pairs(yardstick: ModuleType, seed: int) -> None:
    doc = yardstick.generate(seed, 400, 150, "2027-10-25T00:00:00Z", 14)
    problem = problem_from_instance(doc)
    table = bulk_candidates(problem)
    gains = table.gains()
    rng = random.Random(seed)
    worth = np.array([g * rng.uniform(0.5, 1.5) for g in table.gain.tolist()])
    priority = dict(zip(table.pairs(), worth.tolist(), strict=True))
    plain = greedy_start(problem, priority, priority)
    assert sorted(greedy_table(problem, table, worth)) == sorted(plain)
    assert len(plain) > 100

    # accepted work: some eligible pairs, and one no longer eligible (a shift of another
    # profession), which still takes the clinician's time and the shift's position
    eligible = rng.sample(sorted(gains), 5)
    clinician = problem.clinicians[eligible[0][1]]
    foreign = next(
        s.id for s in problem.shifts.values()
        if s.profession != clinician.profession and (s.id, clinician.id) not in gains
    )  # fmt: skip
    fixed = (*eligible, (foreign, clinician.id))
    hint = tuple(rng.sample(plain, 40))
    bound = replace(problem, fixed=fixed, hint=hint)
    kept = greedy_start(bound, [p for p in hint if p in priority], priority, fixed)
    expected = greedy_start(bound, priority, priority, kept)
    assert sorted(greedy_table(bound, table, worth, hint)) == sorted(expected)

    answer = {"assignments": [{"shift": s, "clinician": c} for s, c in plain]}
    errors, _, _ = yardstick.validate(yardstick.Instance(copy.deepcopy(doc)), answer)
    assert errors == []
