"""`vsm solve INSTANCE.json [--time-limit SECONDS] [--seed N]`: the matching engine on a
`vsm-match/1` instance. The answer JSON goes to stdout, a one-line summary (score, bound, gap,
fill, seconds) to stderr. The time limit is wall time for the whole command, loading included."""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from typing import Any

START = time.monotonic()
SAFETY_SECONDS = 0.5  # writing the answer, and the interpreter's own exit
SAFETY_SHARE = 0.03  # more of a long limit: a large market takes longer to write and free


def seconds_since_process_start() -> float:
    """Wall time since this process began (interpreter start-up and imports included)."""
    try:
        with (
            open("/proc/self/stat", encoding="ascii") as stat,
            open("/proc/uptime", encoding="ascii") as uptime,
        ):
            started_ticks = int(stat.read().rsplit(")", 1)[1].split()[19])
            now = float(uptime.read().split()[0])
        return max(now - started_ticks / os.sysconf("SC_CLK_TCK"), time.monotonic() - START)
    except (OSError, ValueError, IndexError):
        return time.monotonic() - START


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "solve", help="match clinicians to shifts of a vsm-match/1 instance", description=__doc__
    )
    parser.add_argument("instance", metavar="INSTANCE.json")
    parser.add_argument("--time-limit", type=float, default=10.0, metavar="SECONDS")
    parser.add_argument("--seed", type=int, default=0)
    parser.set_defaults(handler=run)
    return parser


def run(args: argparse.Namespace) -> int:
    from matching.engine.loader import problem_from_instance  # the engine loads OR-Tools
    from matching.engine.solve import answer_document, solve
    from vsm_rules.errors import DomainError

    try:
        with open(args.instance, encoding="utf-8") as source:
            problem = problem_from_instance(json.load(source))
    except (OSError, json.JSONDecodeError, DomainError, KeyError) as error:
        print(f"vsm solve: {error}", file=sys.stderr)
        return 2
    left = args.time_limit * (1 - SAFETY_SHARE) - seconds_since_process_start() - SAFETY_SECONDS
    answer = solve(problem, time_limit=max(left, 0.1), seed=args.seed)
    json.dump(answer_document(answer), sys.stdout)
    sys.stdout.write("\n")
    print(f"{answer.summary()} total {seconds_since_process_start():.2f}s", file=sys.stderr)
    return 0
