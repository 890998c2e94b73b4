"""Entry point of the `vsm` command: `eligibility`, `explain`, `solve` and `seed`."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from importlib.metadata import version

from vsm_cli import eligibility, explain, seed, solve


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="vsm",
        description="Command line of the virtual shift marketplace.",
    )
    parser.add_argument("--version", action="version", version=f"vsm {version('vsm-cli')}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    eligibility.add_parser(subparsers)
    explain.add_parser(subparsers)
    solve.add_parser(subparsers)
    seed.add_parser(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help(sys.stderr)
        return 2
    return int(args.handler(args))


if __name__ == "__main__":
    raise SystemExit(main())
