"""The local servers together: start what is not running, wait until they answer, stop them.

A server given by an outside address (KAFKA_BOOTSTRAP, MONGODB_URI) is never started or stopped
here, only waited for; topics are created on whichever broker is in use.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from vsm_infra.kafka_node import KafkaNode
from vsm_infra.mongo_node import MongoNode
from vsm_infra.paths import DATA_DIR, RUN_DIR
from vsm_infra.readiness import kafka_answers, mongo_answers, wait_until
from vsm_infra.topics import ensure_topics

KAFKA = "kafka"
MONGODB = "mongodb"


@dataclass(frozen=True, slots=True)
class StackConfig:
    """Ports, folders and outside addresses of one stack (the shared one, or a test's own)."""

    run_dir: Path = RUN_DIR
    data_dir: Path = DATA_DIR
    kafka_port: int = 9092
    kafka_controller_port: int = 9093
    mongo_port: int = 27017
    kafka_bootstrap: str | None = None
    mongodb_uri: str | None = None
    timeout: float = 90.0

    @property
    def kafka(self) -> KafkaNode:
        return KafkaNode(
            data_dir=self.data_dir / "kafka",
            run_dir=self.run_dir,
            port=self.kafka_port,
            controller_port=self.kafka_controller_port,
        )

    @property
    def mongo(self) -> MongoNode:
        return MongoNode(
            data_dir=self.data_dir / "mongodb", run_dir=self.run_dir, port=self.mongo_port
        )

    @property
    def bootstrap(self) -> str:
        return self.kafka_bootstrap or self.kafka.bootstrap

    @property
    def uri(self) -> str:
        return self.mongodb_uri or self.mongo.uri


@dataclass(slots=True)
class UpReport:
    """What `up` did with each server."""

    started: list[str] = field(default_factory=list)
    lines: list[str] = field(default_factory=list)
    topics_created: list[str] = field(default_factory=list)


def _port_open(host: str, port: int) -> bool:
    with socket.socket() as probe:
        probe.settimeout(0.5)
        return probe.connect_ex((host, port)) == 0


async def up(config: StackConfig) -> UpReport:
    """Starts each local server that is not running, then waits until both answer."""
    report = UpReport()
    kafka, mongo = config.kafka, config.mongo
    kafka_state = _start_unless_running(
        KAFKA,
        config.kafka_bootstrap,
        kafka.process.pid(),
        kafka.host,
        kafka.port,
        kafka.start,
        report,
    )
    mongo_state = _start_unless_running(
        MONGODB,
        config.mongodb_uri,
        mongo.process.pid(),
        mongo.host,
        mongo.port,
        mongo.start,
        report,
    )
    await asyncio.gather(
        wait_until(
            KAFKA, kafka_answers, config.bootstrap, config.timeout, f"see {kafka.process.log_file}"
        ),
        wait_until(
            MONGODB, mongo_answers, config.uri, config.timeout, f"see {mongo.process.log_file}"
        ),
    )
    report.topics_created = await ensure_topics(config.bootstrap)
    report.lines = [
        f"kafka: {config.bootstrap} ({kafka_state})",
        f"mongodb: {config.uri} ({mongo_state})",
    ]
    return report


def _start_unless_running(
    name: str,
    outside: str | None,
    pid: int | None,
    host: str,
    port: int,
    start: Callable[[], int],
    report: UpReport,
) -> str:
    if outside:
        return "outside server, not started by make"
    if pid is not None:
        return f"already running, pid {pid}"
    if _port_open(host, port):
        return "answering on its port, not started by make"
    new_pid = start()
    report.started.append(name)
    return f"started, pid {new_pid}"


def down(config: StackConfig, names: tuple[str, ...] = (KAFKA, MONGODB)) -> list[str]:
    """Stops the named local servers that we started; returns those that were running."""
    stopped = []
    if KAFKA in names and not config.kafka_bootstrap and config.kafka.process.stop():
        stopped.append(KAFKA)
    if MONGODB in names and not config.mongodb_uri and config.mongo.process.stop():
        stopped.append(MONGODB)
    return stopped


async def status(config: StackConfig) -> list[str]:
    """One line per server: where it is, whether we run it, whether it answers."""
    kafka_answer, mongo_answer = await asyncio.gather(
        kafka_answers(config.bootstrap), mongo_answers(config.uri)
    )
    return [
        _status_line(
            KAFKA,
            config.bootstrap,
            config.kafka_bootstrap,
            config.kafka.process.pid(),
            kafka_answer,
        ),
        _status_line(
            MONGODB, config.uri, config.mongodb_uri, config.mongo.process.pid(), mongo_answer
        ),
    ]


def _status_line(name: str, where: str, outside: str | None, pid: int | None, answers: bool) -> str:
    owner = "outside server" if outside else (f"pid {pid}" if pid else "not running")
    return f"{name}: {where} ({owner}; {'answers' if answers else 'does not answer'})"
