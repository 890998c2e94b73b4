"""`vsm eligibility CASES.jsonl`: decide licensing cases with the repo's compact tables.

One JSON object per input line (a licensing record plus `id`, `date` or `interval`, `profession`
and `patient_jurisdictions`), one JSON object per output line in the same order. A malformed line
is answered with `{"id": ..., "error": "..."}` naming the field; the others are still decided, and
the exit code is 1 if any line was malformed.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterable, Mapping
from typing import Any, TextIO

from vsm_rules.compacts import CompactTables
from vsm_rules.eligibility import EligibilityDecision, decide
from vsm_rules.errors import InvalidArgument
from vsm_rules.records import parse_date, parse_instant, record_from_json


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Add the `eligibility` subcommand to the `vsm` parser's subparsers."""
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "eligibility",
        help="decide licensing cases (JSON lines) with the repo's compact tables",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "cases", metavar="CASES.jsonl", help="the cases, one JSON object a line; - for stdin"
    )
    parser.add_argument(
        "--tables",
        metavar="COMPACTS.json",
        help="compact tables to use instead of the repo's (same shape as vsm_rules/data)",
    )
    parser.set_defaults(handler=run)
    return parser


def run(args: argparse.Namespace) -> int:
    """Decide every case of `args.cases`, writing one answer a line to stdout; 1 if any line was
    malformed, else 0."""
    if args.tables:
        with open(args.tables, encoding="utf-8") as f:
            tables = CompactTables.from_json(json.load(f))
    else:
        tables = CompactTables.load()
    if args.cases == "-":
        return answer_cases(sys.stdin, sys.stdout, tables)
    with open(args.cases, encoding="utf-8") as f:
        return answer_cases(f, sys.stdout, tables)


def answer_cases(lines: Iterable[str], out: TextIO, tables: CompactTables) -> int:
    """Answer each non-blank line of `lines` on `out`, in order; 1 if any line was malformed."""
    status = 0
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        answer = answer_line(line, number, tables)
        if "error" in answer:
            status = 1
        print(json.dumps(answer, ensure_ascii=False), file=out, flush=True)
    return status


def answer_line(line: str, number: int, tables: CompactTables) -> dict[str, Any]:
    """The answer to one case line: the decision, or `{"id", "error"}` when it is malformed."""
    try:
        case = json.loads(line)
    except json.JSONDecodeError as error:
        return {"id": None, "error": f"line {number}: not JSON: {error.msg}"}
    if not isinstance(case, dict):
        return {"id": None, "error": f"line {number}: a case is a JSON object"}
    case_id = case.get("id")
    try:
        decision = decide_case(case, tables)
    except InvalidArgument as error:
        return {"id": case_id, "error": error.message}
    return {"id": case_id, **decision_to_json(decision)}


def decide_case(case: Mapping[str, Any], tables: CompactTables) -> EligibilityDecision:
    """Decide one case object; `InvalidArgument` names the malformed field."""
    record = record_from_json(case)
    if "profession" not in case:
        raise InvalidArgument("profession", "missing")
    jurisdictions = case.get("patient_jurisdictions")
    if not isinstance(jurisdictions, list):
        raise InvalidArgument("patient_jurisdictions", "a list of jurisdictions is needed")
    on = None if case.get("date") is None else parse_date(case["date"], "date")
    interval = None
    if case.get("interval") is not None:
        span = case["interval"]
        if not isinstance(span, dict):
            raise InvalidArgument("interval", "an object with start and end is needed")
        interval = (
            parse_instant(span.get("start"), "interval.start"),
            parse_instant(span.get("end"), "interval.end"),
        )
    if on is None and interval is None:
        raise InvalidArgument("date", "missing (or give an interval)")
    return decide(record, case["profession"], jurisdictions, tables, on=on, interval=interval)


def decision_to_json(decision: EligibilityDecision) -> dict[str, Any]:
    """`{"allowed", "jurisdictions": {J: {"allowed", "basis"} or {"allowed", "reasons"}}}`."""
    jurisdictions: dict[str, Any] = {}
    for j, verdict in decision.verdicts.items():
        if verdict.allowed:
            jurisdictions[j] = {"allowed": True, "basis": verdict.basis}
        else:
            jurisdictions[j] = {"allowed": False, "reasons": list(verdict.reasons)}
    return {"allowed": decision.allowed, "jurisdictions": jurisdictions}
