"""Re-matching after one change: a new shift, a cancelled booking. Answers stay valid, accepted
work stays, and the change's own pairs are used."""

from __future__ import annotations

import copy
from dataclasses import replace
from types import ModuleType
from typing import Any

import pytest
from matching.engine.loader import problem_from_instance
from matching.engine.market import Market
from matching.engine.solve import solve
from vsm_infra.testing import load_yardstick
from vsm_rules.match_instance import parse_instant


@pytest.fixture(scope="module")
def yardstick() -> ModuleType:
    return load_yardstick()


def _valid(yardstick: ModuleType, doc: dict[str, Any], pairs: frozenset[tuple[str, str]]) -> float:
    answer = {"assignments": [{"shift": s, "clinician": c} for s, c in sorted(pairs)]}
    errors, score, _ = yardstick.validate(yardstick.Instance(copy.deepcopy(doc)), answer)
    assert errors == []
    return float(score)


def test_a_new_shift_is_filled_without_moving_accepted_work(yardstick: ModuleType) -> None:
    doc = yardstick.generate(4, 300, 120, "2027-03-08T00:00:00Z", 14)
    problem = problem_from_instance(copy.deepcopy(doc))
    answer = solve(problem, time_limit=3)
    accepted = answer.assignments[::2]
    market = Market(replace(problem, fixed=accepted), answer.assignments)
    busy = {c for _, c in answer.assignments}
    candidates = yardstick.Instance(copy.deepcopy(doc)).candidates()
    model = next(s for s in doc["shifts"] if set(candidates[s["id"]]) - busy)  # someone is free
    newcomer = dict(model, id="posted-now", value_cents=model["value_cents"] * 4)
    grown = copy.deepcopy(doc)
    grown["shifts"].append(newcomer)
    new_shift = problem_from_instance(copy.deepcopy(grown)).shifts["posted-now"]
    result = market.add_shift(new_shift, seconds=0.5)
    assert any(s == "posted-now" for s, _ in result.assignments)
    assert set(accepted) <= result.assignments
    assert _valid(yardstick, grown, result.assignments) == pytest.approx(result.score)
    assert result.score > answer.score


def test_a_cancelled_booking_frees_time_for_open_shifts(yardstick: ModuleType) -> None:
    doc = yardstick.generate(5, 300, 120, "2027-03-08T00:00:00Z", 14)
    problem = problem_from_instance(copy.deepcopy(doc))
    answer = solve(problem, time_limit=3)
    market = Market(problem, answer.assignments)
    checked = 0
    for raw in doc["clinicians"]:
        for booking in list(raw["booked"]):
            interval = (
                parse_instant(booking["start"], "start"),
                parse_instant(booking["end"], "end"),
            )
            result = market.cancel_booking(raw["id"], interval, seconds=0.3)
            raw["booked"].remove(booking)
            assert _valid(yardstick, doc, result.assignments) == pytest.approx(result.score)
            assert result.score >= answer.score - 1e-6
            checked += 1
    assert checked > 10
