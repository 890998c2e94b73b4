"""`vsm explain INSTANCE.json --shift S --clinician C`: every rule's verdict for one pair of a
`vsm-match/1` instance, with its evidence, in the clinician's local time and zone."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from vsm_rules.errors import DomainError
from vsm_rules.match_instance import load_instance
from vsm_rules.pair_rules import explain_pair


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "explain", help="explain every rule's verdict for one shift and one clinician",
        description=__doc__,
    )  # fmt: skip
    parser.add_argument("instance", metavar="INSTANCE.json", help="a vsm-match/1 instance")
    parser.add_argument("--shift", required=True, help="the shift id")
    parser.add_argument("--clinician", required=True, help="the clinician id")
    parser.add_argument("--json", action="store_true", help="print the verdicts as JSON")
    parser.set_defaults(handler=run)
    return parser


def run(args: argparse.Namespace) -> int:
    """Prints one line per rule (and its evidence); 0 if every rule allows the pair, else 1;
    2 when the instance or an id is wrong."""
    try:
        with open(args.instance, encoding="utf-8") as source:
            instance = load_instance(json.load(source))
        verdicts = explain_pair(instance, args.shift, args.clinician)
    except (OSError, json.JSONDecodeError, DomainError) as error:
        print(f"vsm explain: {error}", file=sys.stderr)
        return 2
    allowed = all(v.allowed for v in verdicts)
    if args.json:
        print(json.dumps({
            "shift": args.shift, "clinician": args.clinician, "allowed": allowed,
            "rules": [
                {"rule": v.rule, "allowed": v.allowed, "basis": v.basis,
                 "reasons": list(v.reasons), "evidence": list(v.evidence)}
                for v in verdicts
            ],
        }, indent=2))  # fmt: skip
    else:
        outcome = "may take" if allowed else "may not take"
        print(f"clinician {args.clinician} {outcome} shift {args.shift}")
        for verdict in verdicts:
            print(f"  {'ok ' if verdict.allowed else 'NO '} {verdict.explain()}")
            for line in verdict.evidence:
                print(f"        {line}")
    return 0 if allowed else 1
