"""Entry point of the `vsm` command; subcommands (solve, explain, eligibility, seed) join it with
their issues."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from importlib.metadata import version


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="vsm",
        description="Command line of the virtual shift marketplace.",
    )
    parser.add_argument("--version", action="version", version=f"vsm {version('vsm-cli')}")
    parser.add_subparsers(dest="command", metavar="COMMAND")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help(sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
