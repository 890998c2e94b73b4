"""The engine on tiny instances where each rule binds, on a brute-forced optimum, under
re-matching with fixed work, and on generated instances; every answer goes through the
benchmark's validator."""

from __future__ import annotations

import copy
import itertools
import json
import logging
from dataclasses import replace
from datetime import date
from types import ModuleType
from typing import Any

import pytest
from matching.engine.bulk import bulk_candidates
from matching.engine.candidates import candidates
from matching.engine.loader import problem_from_instance
from matching.engine.solve import Answer, answer_document, solve
from vsm_infra.testing import load_yardstick


@pytest.fixture(scope="module")
def yardstick() -> ModuleType:
    return load_yardstick()


def _clinician(cid: str, **overrides: Any) -> dict[str, Any]:
    clinician = {
        "id": cid, "profession": "RN", "tz": "America/New_York", "home": "US-TX",
        "skills": ["triage"], "rate_cents_per_hour": 6000,
        "licences": [{"jurisdiction": "US-TX", "status": "active",
                      "expires": "2028-01-01T00:00:00Z", "compacts": ["NLC"]}],
        "availability": [{"day": d, "start": "00:00", "end": "00:00"}
                         for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")],
        "max_minutes_per_week": 3000, "min_rest_minutes": 0, "booked": [],
    }  # fmt: skip
    clinician.update(overrides)
    return clinician


def _shift(sid: str, start: str, end: str, **overrides: Any) -> dict[str, Any]:
    shift = {
        "id": sid, "facility": "f1", "profession": "RN", "skills": ["triage"],
        "patient_jurisdictions": ["US-FL"], "start": start, "end": end,
        "positions": 1, "value_cents": 100000,
    }  # fmt: skip
    shift.update(overrides)
    return shift


def _instance(clinicians: list[dict[str, Any]], shifts: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "format": "vsm-match/1", "name": "tiny",
        "horizon": {"start": "2027-03-08T00:00:00Z", "end": "2027-03-22T00:00:00Z"},
        "compacts": [{"id": "NLC", "professions": ["RN", "LPN"],
                      "members": {"US-TX": "2000-01-01", "US-FL": "2018-01-19"}}],
        "professions": {"RN": {"licensed": True}, "SCRIBE": {"licensed": False}},
        "facilities": [{"id": "f1", "tz": "America/New_York", "do_not_return": []}],
        "clinicians": clinicians, "shifts": shifts,
    }  # fmt: skip


def _solve_valid(yardstick: ModuleType, doc: dict[str, Any], **kwargs: Any) -> Answer:
    answer = solve(problem_from_instance(copy.deepcopy(doc)), time_limit=5, **kwargs)
    errors, score, _ = yardstick.validate(
        yardstick.Instance(copy.deepcopy(doc)), answer_document(answer)
    )
    assert errors == []
    assert score == pytest.approx(answer.score)
    assert answer.bound >= answer.score - 1e-6
    return answer


def test_positions_bind_two_clinicians_one_position(yardstick: ModuleType) -> None:
    doc = _instance(
        [_clinician("c1"), _clinician("c2", rate_cents_per_hour=5000)],
        [_shift("s1", "2027-03-09T13:00:00Z", "2027-03-09T21:00:00Z")],
    )
    answer = _solve_valid(yardstick, doc)
    assert answer.assignments == (("s1", "c2"),)  # the cheaper one


def test_overlap_and_rest_bind_one_clinician_two_close_shifts(yardstick: ModuleType) -> None:
    shifts = [
        _shift("s1", "2027-03-09T13:00:00Z", "2027-03-09T17:00:00Z"),
        _shift("s2", "2027-03-09T19:00:00Z", "2027-03-09T23:00:00Z", value_cents=150000),
    ]
    rested = _solve_valid(yardstick, _instance([_clinician("c1", min_rest_minutes=180)], shifts))
    assert rested.assignments == (("s2", "c1"),)
    short_rest = _solve_valid(yardstick, _instance([_clinician("c1", min_rest_minutes=60)], shifts))
    assert len(short_rest.assignments) == 2


def test_weekly_hours_bind_in_the_clinicians_local_week(yardstick: ModuleType) -> None:
    shifts = [_shift(f"s{i}", f"2027-03-{9 + i:02d}T13:00:00Z", f"2027-03-{9 + i:02d}T21:00:00Z")
              for i in range(3)]  # fmt: skip
    answer = _solve_valid(
        yardstick, _instance([_clinician("c1", max_minutes_per_week=960)], shifts)
    )
    assert len(answer.assignments) == 2


def test_pair_rules_leave_out_the_unlicensed_the_unavailable_and_the_barred(
    yardstick: ModuleType,
) -> None:
    no_licence = _clinician("c1", licences=[])
    asleep = _clinician("c2", availability=[{"day": "tue", "start": "00:00", "end": "06:00"}])
    barred = _clinician("c3")
    unskilled = _clinician("c4", skills=[])
    doc = _instance(
        [no_licence, asleep, barred, unskilled],
        [_shift("s1", "2027-03-09T13:00:00Z", "2027-03-09T21:00:00Z", positions=4)],
    )
    doc["facilities"][0]["do_not_return"] = ["c3"]
    assert _solve_valid(yardstick, doc).assignments == ()


def test_small_instances_reach_the_brute_forced_optimum(yardstick: ModuleType) -> None:
    checked = 0
    for seed in range(12):
        doc = yardstick.generate(seed, 40, 15, "2027-03-08T00:00:00Z", 7)
        reference = yardstick.Instance(copy.deepcopy(doc))
        pairs = [(s, c) for s, cs in reference.candidates().items() for c in cs]
        if len(pairs) > 10:
            continue
        best = 0.0
        for size in range(len(pairs) + 1):
            for chosen in itertools.combinations(pairs, size):
                answer = {"assignments": [{"shift": s, "clinician": c} for s, c in chosen]}
                errors, score, _ = yardstick.validate(
                    yardstick.Instance(copy.deepcopy(doc)), answer
                )
                if not errors:
                    best = max(best, score)
        assert _solve_valid(yardstick, doc).score == pytest.approx(best)
        checked += best > 0
    assert checked >= 5


def test_rematching_a_new_shift_keeps_accepted_work(yardstick: ModuleType) -> None:
    doc = yardstick.generate(3, 120, 60, "2027-03-08T00:00:00Z", 7)
    first = _solve_valid(yardstick, doc)
    grown = copy.deepcopy(doc)
    newcomer = copy.deepcopy(grown["shifts"][0])
    newcomer.update(id="new-shift", value_cents=newcomer["value_cents"] * 3)
    grown["shifts"].append(newcomer)
    problem = problem_from_instance(copy.deepcopy(grown))
    problem = replace(problem, fixed=first.assignments, hint=first.assignments)
    again = solve(problem, time_limit=5)
    assert set(first.assignments) <= set(again.assignments)
    errors, _, _ = yardstick.validate(yardstick.Instance(copy.deepcopy(grown)),
                                      answer_document(again))  # fmt: skip
    assert errors == []


@pytest.mark.parametrize("seed", [1, 2])
def test_generated_instances_get_valid_answers_near_the_lp_bound(
    yardstick: ModuleType, seed: int
) -> None:
    doc = yardstick.generate(seed, 150, 60, "2027-03-08T00:00:00Z", 14)
    answer = _solve_valid(yardstick, doc)
    lp = yardstick.lp_bound(yardstick.Instance(copy.deepcopy(doc)))
    assert answer.score >= 0.97 * lp
    assert answer.bound <= 1.02 * lp + 1e-6
    json.dumps(answer_document(answer))


@pytest.mark.parametrize("seed", [3, 4])
def test_bulk_candidates_agree_with_the_per_pair_rules(yardstick: ModuleType, seed: int) -> None:
    doc = yardstick.generate(seed, 300, 120, "2027-10-25T00:00:00Z", 14)  # across a DST change
    doc["clinicians"][0]["availability"] = [{"day": "sun", "start": "00:00", "end": "00:00"}]
    problem = problem_from_instance(doc)
    first, second = list(problem.clinicians)[:2]
    clinicians = dict(problem.clinicians)
    clinicians[first] = replace(clinicians[first], time_off=frozenset({date(2027, 10, 31)}))
    some = [c.shift for c in candidates(problem)][:5]
    problem = replace(
        problem,
        clinicians=clinicians,
        excluded=frozenset((shift, second) for shift in some),
        do_not_return={**problem.do_not_return, "f0": frozenset({first, second})},
    )
    per_pair = [(c.shift, c.clinician, c.gain) for c in candidates(problem)]
    found = bulk_candidates(problem)
    assert per_pair
    assert sorted((s, c, g) for (s, c), g in found.gains().items()) == per_pair


def test_large_market_paths_give_valid_answers_and_honest_bounds(
    yardstick: ModuleType, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """The paths for markets too large for one model (searching the best pairs only, solving
    window by window), forced here on a small market: valid answers, a bound no lower than
    the LP relaxation's, and accepted work kept."""
    import matching.engine.solve as engine
    import matching.engine.windows as windows

    monkeypatch.setattr(engine, "PRUNE_ABOVE", 100)
    monkeypatch.setattr(engine, "LARGE_GROUP", 40)
    monkeypatch.setattr(windows, "WINDOW_PAIRS", 30)
    doc = yardstick.generate(6, 400, 150, "2027-10-25T00:00:00Z", 14)
    lp = yardstick.lp_bound(yardstick.Instance(copy.deepcopy(doc)))
    with caplog.at_level(logging.INFO, logger="matching.engine.windows"):
        answer = _solve_valid(yardstick, doc)
    assert "windows" in caplog.text
    assert answer.bound >= lp * (1 - 1e-9)
    assert answer.score >= 0.9 * lp
    fixed = answer.assignments[::3]
    problem = replace(problem_from_instance(copy.deepcopy(doc)), fixed=fixed, hint=fixed)
    again = solve(problem, time_limit=3)
    assert set(fixed) <= set(again.assignments)
    errors, _, _ = yardstick.validate(yardstick.Instance(copy.deepcopy(doc)),
                                      answer_document(again))  # fmt: skip
    assert errors == []
