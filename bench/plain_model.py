"""The comparison for the bench: a plain CP-SAT model of a `vsm-match/1` instance, nothing clever.

One boolean per eligible pair (eligibility from the same rules as the engine), at most
`positions` per shift, one optional interval [start, end + rest) per pair with no overlap per
clinician, a linear weekly cap per clinician-week, the format's score as the objective; default
CP-SAT search. Run like `vsm solve`: the time limit is wall time from process start, and the
answer JSON goes to stdout, the summary to stderr.

    python -m bench.plain_model INSTANCE.json [--time-limit SECONDS] [--seed N]
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import defaultdict
from datetime import date

from matching.engine.bulk import bulk_candidates
from matching.engine.loader import problem_from_instance
from ortools.sat.python import cp_model
from vsm_cli.solve import SAFETY_SECONDS, seconds_since_process_start
from vsm_rules.weekly_hours import week_minutes, weekly_totals


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("instance")
    parser.add_argument("--time-limit", type=float, default=10.0)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--workers", type=int, default=0, help="0: CP-SAT's default")
    args = parser.parse_args(argv)
    with open(args.instance, encoding="utf-8") as source:
        problem = problem_from_instance(json.load(source))
    found = bulk_candidates(problem)
    model = cp_model.CpModel()
    x = {pair: model.new_bool_var("") for pair in found.pairs()}
    by_shift: dict[str, list[cp_model.IntVar]] = defaultdict(list)
    by_clinician: dict[str, list[tuple[str, cp_model.IntVar]]] = defaultdict(list)
    for (shift_id, clinician_id), var in x.items():
        by_shift[shift_id].append(var)
        by_clinician[clinician_id].append((shift_id, var))
    for shift_id, variables in by_shift.items():
        model.add(sum(variables) <= problem.shifts[shift_id].positions)
    origin = problem.horizon_start
    for clinician_id, chosen in by_clinician.items():
        clinician = problem.clinicians[clinician_id]
        rest = clinician.min_rest_minutes * 60
        intervals = []
        weeks: dict[date, list[tuple[int, cp_model.IntVar]]] = defaultdict(list)
        for shift_id, var in chosen:
            shift = problem.shifts[shift_id]
            begin = int((shift.start - origin).total_seconds())
            intervals.append(
                model.new_optional_fixed_size_interval_var(begin, shift.seconds + rest, var, "")
            )
            for monday, minutes in week_minutes(clinician.zone, shift.start, shift.end).items():
                weeks[monday].append((round(minutes * 60), var))
        model.add_no_overlap(intervals)
        booked = weekly_totals(clinician.zone, clinician.booked)
        for monday, terms in weeks.items():
            room = max(clinician.max_minutes_per_week * 60 - round(booked.get(monday, 0) * 60), 0)
            model.add(sum(seconds * var for seconds, var in terms) <= room)
    gains = found.gains()
    model.maximize(sum(gains[pair] * var for pair, var in x.items()))
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = max(
        args.time_limit - seconds_since_process_start() - SAFETY_SECONDS, 0.1
    )
    solver.parameters.random_seed = args.seed
    solver.parameters.num_workers = args.workers
    status = solver.solve(model)
    chosen_pairs = (
        [pair for pair, var in x.items() if solver.boolean_value(var)]
        if status in (cp_model.OPTIMAL, cp_model.FEASIBLE)
        else []
    )
    json.dump({"assignments": [{"shift": s, "clinician": c} for s, c in chosen_pairs]}, sys.stdout)
    sys.stdout.write("\n")
    print(
        f"plain {solver.status_name(status)} score {sum(gains[p] for p in chosen_pairs) / 3600:.0f}"
        f" bound {solver.best_objective_bound / 3600:.0f} pairs {len(x)}"
        f" total {seconds_since_process_start():.2f}s",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
