"""What infra writes and declares, checked without starting anything."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml
from vsm_infra.kafka_node import KafkaNode, new_cluster_id
from vsm_infra.paths import INFRA_DIR
from vsm_infra.stack import StackConfig
from vsm_platform.topics import DEAD_LETTER_SUFFIX, EVENT_TOPICS, all_topics

COMPOSE = INFRA_DIR / "docker-compose.yml"


def _properties(node: KafkaNode) -> dict[str, str]:
    lines = node.server_properties().splitlines()
    return dict(line.split("=", 1) for line in lines)


def test_kafka_node_is_one_kraft_node_on_loopback_with_its_own_ports(tmp_path: Path) -> None:
    node = KafkaNode(data_dir=tmp_path, run_dir=tmp_path, port=19092, controller_port=19093)
    props = _properties(node)
    assert props["process.roles"] == "broker,controller"
    assert props["controller.quorum.voters"] == "1@127.0.0.1:19093"
    assert props["listeners"] == "PLAINTEXT://127.0.0.1:19092,CONTROLLER://127.0.0.1:19093"
    assert props["advertised.listeners"] == "PLAINTEXT://127.0.0.1:19092"
    assert props["log.dirs"] == str(tmp_path / "logs")
    assert props["auto.create.topics.enable"] == "false"
    assert props["offsets.topic.replication.factor"] == "1"


def test_cluster_ids_are_16_bytes_of_base64url_never_starting_with_a_dash() -> None:
    for _ in range(200):
        cluster_id = new_cluster_id()
        assert re.fullmatch(r"[A-Za-z0-9_-]{22}", cluster_id)
        assert not cluster_id.startswith("-")


def test_every_event_topic_has_partitions_to_share_history_kept_and_a_dead_letter_topic() -> None:
    names = {topic.name for topic in all_topics()}
    for topic in EVENT_TOPICS:
        assert topic.partitions >= 6
        assert topic.config["retention.ms"] == "-1"
        assert topic.name + DEAD_LETTER_SUFFIX in names
        assert topic.key
    assert len(names) == 2 * len(EVENT_TOPICS)


def test_compose_file_uses_the_same_ports_and_variables_as_make() -> None:
    compose = yaml.safe_load(COMPOSE.read_text())
    defaults = StackConfig()
    kafka, mongodb = compose["services"]["kafka"], compose["services"]["mongodb"]
    assert kafka["image"] == "apache/kafka:4.1.1"
    assert mongodb["image"].startswith("mongo:8")
    assert f"127.0.0.1:{defaults.kafka_port}:9092" in kafka["ports"]
    assert f"127.0.0.1:{defaults.mongo_port}:27017" in mongodb["ports"]
    assert kafka["environment"]["KAFKA_PROCESS_ROLES"] == "broker,controller"
    assert f"127.0.0.1:{defaults.kafka_port}" in kafka["environment"]["KAFKA_ADVERTISED_LISTENERS"]
    client = compose["x-client-environment"]
    assert client["KAFKA_BOOTSTRAP"] == defaults.bootstrap
    assert client["MONGODB_URI"] == defaults.uri


def _compose_plugin() -> bool:
    if shutil.which("docker") is None:
        return False
    probe = subprocess.run(["docker", "compose", "version"], capture_output=True, check=False)
    return probe.returncode == 0


@pytest.mark.skipif(not _compose_plugin(), reason="the docker compose plugin is not installed")
def test_compose_file_is_valid_for_docker_compose() -> None:
    subprocess.run(["docker", "compose", "-f", str(COMPOSE), "config", "-q"], check=True)
