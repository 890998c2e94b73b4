"""`python -m vsm_infra` as make runs it: up is idempotent, down stops what up started, outside
servers are only waited for."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from vsm_infra.testing import free_port

pytestmark = pytest.mark.integration


@dataclass(frozen=True)
class Infra:
    """`python -m vsm_infra` with a private run folder, data folder and free ports."""

    root: Path
    kafka_port: int = field(default_factory=free_port)
    controller_port: int = field(default_factory=free_port)
    mongo_port: int = field(default_factory=free_port)

    def __call__(self, *args: str, env: dict[str, str] | None = None) -> str:
        command = [
            sys.executable, "-m", "vsm_infra",
            "--run-dir", str(self.root / "run"), "--data-dir", str(self.root / "data"),
            "--kafka-port", str(self.kafka_port),
            "--kafka-controller-port", str(self.controller_port),
            "--mongo-port", str(self.mongo_port),
            *args,
        ]  # fmt: skip
        environment = {
            name: value
            for name, value in os.environ.items()
            if name not in ("KAFKA_BOOTSTRAP", "MONGODB_URI")
        }
        environment.update(env or {})
        done = subprocess.run(
            command, capture_output=True, text=True, env=environment, timeout=180, check=False
        )
        assert done.returncode == 0, done.stdout + done.stderr
        return done.stdout

    def quietly(self, command: str, env: dict[str, str]) -> None:
        """Runs a clean-up command, whatever it says."""
        with contextlib.suppress(AssertionError, subprocess.TimeoutExpired):
            self(command, env=env)


@pytest.mark.restarts
def test_up_twice_then_down_stops_exactly_what_up_started(tmp_path: Path) -> None:
    if os.environ.get("KAFKA_BOOTSTRAP") or os.environ.get("MONGODB_URI"):
        pytest.skip("outside servers are configured; this test starts its own")
    infra = Infra(tmp_path)
    ports: dict[str, str] = {}
    try:
        first = infra("up")
        assert "kafka: 127.0.0.1:" in first and "(started, pid" in first
        assert "topics created: 8" in first
        assert (tmp_path / "run" / "kafka.pid").exists()
        assert (tmp_path / "run" / "mongodb.pid").exists()

        second = infra("up")
        assert second.count("already running") == 2
        assert "topics created" not in second

        status = infra("status")
        assert status.count("answers") == 2 and "does not answer" not in status

        for variable in ("LICENSING_ADDR", "SCHEDULING_ADDR", "MATCHING_ADDR", "GATEWAY_ADDR"):
            ports[variable] = f"127.0.0.1:{free_port()}"  # our services, on these servers
        services = infra("services-up", env=ports)
        assert f"licensing: {ports['LICENSING_ADDR']} (started, pid" in services
        assert f"scheduling: {ports['SCHEDULING_ADDR']} (started, pid" in services
        assert f"matching: {ports['MATCHING_ADDR']} (started, pid" in services
        assert f"gateway: {ports['GATEWAY_ADDR']} (started, pid" in services
        assert services.startswith(f"web: http://{ports['GATEWAY_ADDR']}\n")
        assert infra("services-up", env=ports).count("already running") == 4
        stopped = infra("services-down", env=ports)
        assert "services stopped: licensing, scheduling, matching, gateway" in stopped
        assert not (tmp_path / "run" / "licensing.pid").exists()

        assert "stopped: kafka, mongodb" in infra("down")
        assert not (tmp_path / "run" / "kafka.pid").exists()
        after = infra("status")
        assert after.count("does not answer") == 2
        assert "stopped: nothing was running" in infra("down")
    finally:  # a failed step leaves nothing running behind it
        if ports:
            infra.quietly("services-down", ports)
        infra.quietly("down", {})


def test_outside_servers_are_waited_for_and_never_started(
    tmp_path: Path, kafka_bootstrap: str, mongodb_uri: str
) -> None:
    infra = Infra(tmp_path)
    outside = {"KAFKA_BOOTSTRAP": kafka_bootstrap, "MONGODB_URI": mongodb_uri}
    output = infra("up", env=outside)
    assert f"kafka: {kafka_bootstrap} (outside server" in output
    assert f"mongodb: {mongodb_uri} (outside server" in output
    assert not (tmp_path / "run" / "kafka.pid").exists()
    assert not (tmp_path / "run" / "mongodb.pid").exists()
    assert "nothing was running" in infra("down", env=outside)
