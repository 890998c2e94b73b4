"""A single-node Apache Kafka in KRaft mode (broker and controller in one JVM) on loopback."""

from __future__ import annotations

import base64
import subprocess
import uuid
from dataclasses import dataclass
from pathlib import Path

from vsm_infra.install import kafka_jars_dir
from vsm_infra.paths import INFRA_DIR
from vsm_infra.process import ManagedProcess

LOG4J_CONFIG = INFRA_DIR / "kafka" / "log4j2.properties"
HEAP = ("-Xms256m", "-Xmx512m")


@dataclass(frozen=True, slots=True)
class KafkaNode:
    """Where one Kafka node listens and keeps its data, pid file and log."""

    data_dir: Path
    run_dir: Path
    host: str = "127.0.0.1"
    port: int = 9092
    controller_port: int = 9093
    name: str = "kafka"

    @property
    def bootstrap(self) -> str:
        return f"{self.host}:{self.port}"

    @property
    def properties_file(self) -> Path:
        return self.data_dir / "server.properties"

    @property
    def process(self) -> ManagedProcess:
        java = (
            "java",
            *HEAP,
            "-XX:+UseG1GC",
            "-Djava.awt.headless=true",
            f"-Dlog4j2.configurationFile={LOG4J_CONFIG}",
            "-cp",
            f"{kafka_jars_dir()}/*",
            "kafka.Kafka",
            str(self.properties_file),
        )
        return ManagedProcess(self.name, self.run_dir, java, marker=str(self.properties_file))

    def server_properties(self) -> str:
        """The broker's configuration: one combined node, replication factors of one."""
        voters = f"1@{self.host}:{self.controller_port}"
        settings = {
            "process.roles": "broker,controller",
            "node.id": "1",
            "controller.quorum.voters": voters,
            "listeners": (
                f"PLAINTEXT://{self.host}:{self.port},CONTROLLER://{self.host}:{self.controller_port}"
            ),
            "advertised.listeners": f"PLAINTEXT://{self.host}:{self.port}",
            "controller.listener.names": "CONTROLLER",
            "listener.security.protocol.map": "CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT",
            "inter.broker.listener.name": "PLAINTEXT",
            "log.dirs": str(self.data_dir / "logs"),
            # Topics are declared by infra (vsm_platform.topics), never created by accident.
            "auto.create.topics.enable": "false",
            "num.partitions": "6",
            "default.replication.factor": "1",
            "min.insync.replicas": "1",
            "offsets.topic.replication.factor": "1",
            "offsets.topic.num.partitions": "1",
            "transaction.state.log.replication.factor": "1",
            "transaction.state.log.min.isr": "1",
            "share.coordinator.state.topic.replication.factor": "1",
            "share.coordinator.state.topic.min.isr": "1",
            "group.initial.rebalance.delay.ms": "0",
            "log.retention.hours": "-1",
        }
        return "".join(f"{key}={value}\n" for key, value in settings.items())

    def prepare(self) -> None:
        """Writes the configuration and formats the storage once (kept across restarts)."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.properties_file.write_text(self.server_properties())
        if (self.data_dir / "logs" / "meta.properties").exists():
            return
        subprocess.run(
            [
                "java",
                "-Xmx256m",
                f"-Dlog4j2.configurationFile={LOG4J_CONFIG}",
                "-cp",
                f"{kafka_jars_dir()}/*",
                "kafka.tools.StorageTool",
                "format",
                "-t",
                new_cluster_id(),
                "-c",
                str(self.properties_file),
                "--ignore-formatted",
            ],
            check=True,
            stdout=subprocess.DEVNULL,
        )

    def start(self) -> int:
        self.prepare()
        return self.process.start()


def new_cluster_id() -> str:
    """16 random bytes, base64url without padding, not starting with '-' (read as an option)."""
    while True:
        cluster_id = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
        if not cluster_id.startswith("-"):
            return cluster_id
