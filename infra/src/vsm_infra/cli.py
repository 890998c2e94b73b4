"""`python -m vsm_infra`: install, up, down, status, topics, services-up, services-down and
with-servers, for make and tests.

This is the composition root of the infra process: the only place that reads the environment.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from vsm_infra.install import install_all
from vsm_infra.readiness import NotReadyError
from vsm_infra.services import services_down, services_up, web_address
from vsm_infra.stack import KAFKA, MONGODB, StackConfig, down, status, up
from vsm_infra.topics import ensure_topics

logger = logging.getLogger("vsm_infra")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m vsm_infra", description=__doc__)
    parser.add_argument("--run-dir", type=Path, help="pid files and logs (default .run/)")
    parser.add_argument("--data-dir", type=Path, help="server data (default .data/)")
    parser.add_argument("--kafka-port", type=int, default=9092)
    parser.add_argument("--kafka-controller-port", type=int, default=9093)
    parser.add_argument("--mongo-port", type=int, default=27017)
    parser.add_argument("--timeout", type=float, default=90.0, help="seconds to wait for answers")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("install", help="fetch the server jars and build the launcher")
    commands.add_parser("up", help="start what is not running and wait until both answer")
    down_cmd = commands.add_parser("down", help="stop the servers that make started")
    down_cmd.add_argument("--only", nargs="*", choices=[KAFKA, MONGODB], help="stop only these")
    commands.add_parser("status", help="where each server is and whether it answers")
    commands.add_parser("topics", help="create the declared topics on the broker in use")
    commands.add_parser("services-up", help="start our service processes and wait for them")
    commands.add_parser("services-down", help="stop the service processes that make started")
    with_servers = commands.add_parser(
        "with-servers", help="run a command with the servers up; stop afterwards what was started"
    )
    with_servers.add_argument("argv", nargs=argparse.REMAINDER)
    return parser


def _config(args: argparse.Namespace, environ: dict[str, str]) -> StackConfig:
    config = StackConfig(
        kafka_port=args.kafka_port,
        kafka_controller_port=args.kafka_controller_port,
        mongo_port=args.mongo_port,
        kafka_bootstrap=environ.get("KAFKA_BOOTSTRAP") or None,
        mongodb_uri=environ.get("MONGODB_URI") or None,
        timeout=args.timeout,
    )
    if args.run_dir:
        config = replace(config, run_dir=args.run_dir.resolve())
    if args.data_dir:
        config = replace(config, data_dir=args.data_dir.resolve())
    return config


async def _up(config: StackConfig) -> list[str]:
    report = await up(config)
    for line in report.lines:
        print(line)
    if report.topics_created:
        print(f"topics created: {len(report.topics_created)}")
    return report.started


def main(argv: Sequence[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    # While we wait for a broker to come up, every refused connection is expected, not news.
    logging.getLogger("aiokafka").setLevel(logging.CRITICAL)
    args = _parser().parse_args(argv)
    config = _config(args, dict(os.environ))
    try:
        if args.command == "install":
            install_all()
        elif args.command == "up":
            asyncio.run(_up(config))
        elif args.command == "down":
            names = tuple(args.only) if args.only else (KAFKA, MONGODB)
            stopped = down(config, names)
            print(f"stopped: {', '.join(stopped) if stopped else 'nothing was running'}")
        elif args.command == "status":
            for line in asyncio.run(status(config)):
                print(line)
        elif args.command == "topics":
            created = asyncio.run(ensure_topics(config.bootstrap))
            print(f"topics created: {len(created)} on {config.bootstrap}")
        elif args.command == "services-up":
            environ = {**os.environ, "KAFKA_BOOTSTRAP": config.bootstrap, "MONGODB_URI": config.uri}
            lines = asyncio.run(services_up(config.run_dir, environ, config.timeout))
            print(f"web: {web_address(environ)}")
            for line in lines:
                print(line)
        elif args.command == "services-down":
            stopped = services_down(config.run_dir, dict(os.environ))
            print(f"services stopped: {', '.join(stopped) if stopped else 'none was running'}")
        elif args.command == "with-servers":
            return _with_servers(config, args.argv)
    except NotReadyError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    except subprocess.CalledProcessError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    return 0


def _with_servers(config: StackConfig, argv: list[str]) -> int:
    command = argv[1:] if argv[:1] == ["--"] else argv
    if not command:
        print("error: with-servers needs a command after --", file=sys.stderr)
        return 2
    started = asyncio.run(_up(config))
    try:
        return subprocess.call(command)
    finally:
        if started:
            stopped = down(config, tuple(started))
            print(f"stopped what was started: {', '.join(stopped)}")
