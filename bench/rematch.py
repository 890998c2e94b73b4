"""Re-matching speed for the bench: in a market solved with 60 s, one new shift and one cancelled
booking, each re-matched by `Market` (engine time from the change to the new answer), against a
full re-solve of the changed market given 60 s. Every answer is checked by the yardstick."""

from __future__ import annotations

import copy
import json
import random
from pathlib import Path
from types import ModuleType
from typing import Any

from matching.engine.loader import problem_from_instance
from matching.engine.market import Market
from matching.engine.solve import solve
from vsm_rules.match_instance import parse_instant

FULL_SECONDS = 60.0


def _check(yardstick: ModuleType, doc: dict[str, Any], pairs: frozenset[tuple[str, str]]) -> float:
    answer = {"assignments": [{"shift": s, "clinician": c} for s, c in sorted(pairs)]}
    errors, score, _ = yardstick.validate(yardstick.Instance(copy.deepcopy(doc)), answer)
    if errors:
        raise RuntimeError(f"re-matched answer breaks rules: {errors[:3]}")
    return float(score)


def measure(yardstick: ModuleType, path: Path) -> list[dict[str, Any]]:
    """The market is first solved with the same 60 s as the full re-solves it is compared to."""
    doc = json.loads(path.read_text(encoding="utf-8"))
    pairs = solve(problem_from_instance(copy.deepcopy(doc)), time_limit=FULL_SECONDS).assignments
    rng = random.Random(7)
    rows = []

    grown = copy.deepcopy(doc)
    model = rng.choice(grown["shifts"])
    grown["shifts"].append(dict(model, id="bench-new-shift", value_cents=model["value_cents"] * 2))
    problem = problem_from_instance(copy.deepcopy(grown))
    market = Market(problem_from_instance(copy.deepcopy(doc)), pairs)
    result = market.add_shift(problem.shifts["bench-new-shift"])
    rows.append(_row(yardstick, "one new shift", grown, result, problem))

    freed = copy.deepcopy(doc)
    booked = [c for c in freed["clinicians"] if c["booked"]]
    clinician = rng.choice(booked)
    booking = clinician["booked"].pop(0)
    interval = (parse_instant(booking["start"], "start"), parse_instant(booking["end"], "end"))
    market = Market(problem_from_instance(copy.deepcopy(doc)), pairs)
    result = market.cancel_booking(clinician["id"], interval)
    rows.append(_row(yardstick, "one cancelled booking", freed, result,
                     problem_from_instance(copy.deepcopy(freed))))  # fmt: skip
    return rows


def _row(
    yardstick: ModuleType, change: str, doc: dict[str, Any], result: Any, problem: Any
) -> dict[str, Any]:
    score = _check(yardstick, doc, result.assignments)
    full = solve(problem, time_limit=FULL_SECONDS)
    full_score = _check(yardstick, doc, frozenset(full.assignments))
    return {
        "instance": doc["name"],
        "change": change,
        "milliseconds": result.seconds * 1000,
        "score": score,
        "full_score": full_score,
        "ratio": score / full_score if full_score else 1.0,
    }


def table(rows: list[dict[str, Any]]) -> str:
    lines = [
        "| instance | change | re-match ms | score / full re-solve (60 s) |",
        "|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['instance']} | {r['change']} | {r['milliseconds']:.0f} | {r['ratio']:.4f} |"
        )
    return "\n".join(lines) + "\n"
