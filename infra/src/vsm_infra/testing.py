"""Pytest fixtures for tests against the real servers (registered by the root conftest.py).

`kafka_bootstrap` and `mongodb_uri` are the shared servers (make infra-up, or outside ones named
by KAFKA_BOOTSTRAP / MONGODB_URI); a test fails, never passes, when they do not answer.
`own_kafka` and `own_mongo` start a private instance on free ports with its own data folder, for
tests that stop or kill a server; they are skipped when outside servers are configured.
`services` starts service processes (`python -m licensing.main`, ...) on those servers, sharing
one set of fresh databases and topics of their own (`VSM_TOPIC_PREFIX`), and stops them after
the test.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib.util
import os
import socket
import subprocess
import sys
import threading
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType

import pytest
import pytest_asyncio
from vsm_platform.grpc_server import wait_serving
from vsm_platform.topics import PREFIX_VARIABLE

from vsm_infra.kafka_node import KafkaNode
from vsm_infra.mongo_node import MongoNode
from vsm_infra.paths import REPO_ROOT
from vsm_infra.readiness import kafka_answers, mongo_answers, wait_until
from vsm_infra.stack import StackConfig
from vsm_infra.topics import delete_topics_under, ensure_topics

DEFAULTS = StackConfig()
# The benchmark's yardstick (validator, LP bound, generator), in shared/ beside the repository.
YARDSTICK = REPO_ROOT.parent / "shared" / "benchmarks" / "marketplace" / "yardstick.py"


def load_yardstick() -> ModuleType:
    """The `vsm-match/1` yardstick module, loaded once; skips the test when it is absent."""
    if not YARDSTICK.is_file():
        pytest.skip(f"the benchmark yardstick is not at {YARDSTICK}")
    loaded = sys.modules.get("vsm_match_yardstick")
    if loaded is not None:
        return loaded
    spec = importlib.util.spec_from_file_location("vsm_match_yardstick", YARDSTICK)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def free_port() -> int:
    """A TCP port on loopback that nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@pytest_asyncio.fixture(scope="session")
async def kafka_bootstrap() -> str:
    bootstrap = os.environ.get("KAFKA_BOOTSTRAP") or DEFAULTS.bootstrap
    if not await kafka_answers(bootstrap):
        pytest.fail(f"Kafka does not answer at {bootstrap}: run `make infra-up`")
    return bootstrap


@pytest_asyncio.fixture(scope="session")
async def mongodb_uri() -> str:
    uri = os.environ.get("MONGODB_URI") or DEFAULTS.uri
    if not await mongo_answers(uri):
        pytest.fail(f"the MongoDB-protocol server does not answer at {uri}: run `make infra-up`")
    return uri


class OwnServer:
    """A private server instance a test may stop, kill and start again."""

    def __init__(self, node: KafkaNode | MongoNode) -> None:
        self.node = node

    @property
    def address(self) -> str:
        return self.node.bootstrap if isinstance(self.node, KafkaNode) else self.node.uri

    async def start(self) -> None:
        self.node.start()
        await self.wait_ready()

    async def wait_ready(self, wait_seconds: float = 90.0) -> None:
        check = kafka_answers if isinstance(self.node, KafkaNode) else mongo_answers
        await wait_until(
            self.node.name, check, self.address, wait_seconds, f"see {self.node.process.log_file}"
        )

    def stop(self) -> None:
        self.node.process.stop()

    def kill(self) -> None:
        self.node.process.kill()


def _skip_if_outside(variable: str) -> None:
    if os.environ.get(variable):
        pytest.skip(f"{variable} points at an outside server; this test restarts its own")


@pytest_asyncio.fixture
async def own_kafka(tmp_path: Path) -> AsyncIterator[OwnServer]:
    _skip_if_outside("KAFKA_BOOTSTRAP")
    node = KafkaNode(
        data_dir=tmp_path / "kafka",
        run_dir=tmp_path / "run",
        port=free_port(),
        controller_port=free_port(),
        name="own-kafka",
    )
    server = OwnServer(node)
    await server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest_asyncio.fixture
async def own_mongo(tmp_path: Path) -> AsyncIterator[OwnServer]:
    _skip_if_outside("MONGODB_URI")
    node = MongoNode(
        data_dir=tmp_path / "mongodb",
        run_dir=tmp_path / "run",
        port=free_port(),
        name="own-mongodb",
    )
    server = OwnServer(node)
    await server.start()
    try:
        yield server
    finally:
        server.stop()


# ---------------------------------------------------------------- service processes


@dataclass
class ServiceProcesses:
    """Starts `python -m <module>` processes sharing one set of databases; `address[name]` is
    where the process called `name` serves. Start a service before those that call it: the
    first process of each module is the one later processes are told to call."""

    env: dict[str, str]
    logs: Path
    bootstrap: str = ""
    address: dict[str, str] = field(default_factory=dict)
    running: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)

    def start(self, name: str, module: str, **env: str) -> str:
        """Starts the process `name` (e.g. "scheduling-2") of `module`; returns its address."""
        address = self.address.get(name) or f"127.0.0.1:{free_port()}"
        self.address[name] = address
        variable = module.split(".")[0].upper() + "_ADDR"  # licensing.main → LICENSING_ADDR
        self.env.setdefault(variable, address)  # the first of a module is the one others call
        log = (self.logs / f"{name}.log").open("ab")
        self.running[name] = subprocess.Popen(
            [sys.executable, "-m", module], env={**self.env, variable: address, **env},
            stdout=log, stderr=log,
        )  # fmt: skip
        return address

    async def serving(self, *names: str) -> None:
        served = await asyncio.gather(*(wait_serving(self.address[n]) for n in names))
        for name, up in zip(names, served, strict=True):
            if not up:
                pytest.fail(f"{name} does not serve at {self.address[name]}; see {self.logs}")

    @property
    def topic_prefix(self) -> str:
        """The prefix of this run's topics: its processes read and write no one else's."""
        return self.env[PREFIX_VARIABLE]

    async def ensure_topics(self) -> None:
        """Creates this run's topics (call before starting the processes)."""
        await ensure_topics(self.bootstrap, prefix=self.topic_prefix)

    def kill(self, name: str) -> None:
        """Kills the process at once (SIGKILL): whatever it was doing stops mid-way."""
        process = self.running.pop(name)
        process.kill()
        process.wait(timeout=10)

    def stop(self, name: str) -> None:
        """Stops the process as an operator would (SIGTERM), waiting for it to finish."""
        process = self.running.pop(name)
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()

    def forget_topics(self) -> None:
        """Deletes this run's topics, so a developer's broker does not keep every test's."""
        if PREFIX_VARIABLE not in self.env or not self.bootstrap:
            return

        def delete() -> None:  # on a thread of its own: the tests' event loop stays untouched
            with contextlib.suppress(Exception):
                asyncio.run(delete_topics_under(self.bootstrap, self.topic_prefix))

        worker = threading.Thread(target=delete)
        worker.start()
        worker.join(timeout=30)

    def stop_all(self) -> None:
        for process in self.running.values():
            process.terminate()
        for process in self.running.values():
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
        self.running.clear()


def service_env(mongodb_uri: str, kafka_bootstrap: str) -> dict[str, str]:
    """The environment of one run's processes: the real servers, databases and topics of
    the run's own."""
    run = uuid.uuid4().hex[:8]
    return {
        **os.environ,
        "MONGODB_URI": mongodb_uri,
        "KAFKA_BOOTSTRAP": kafka_bootstrap,
        "LICENSING_DATABASE": f"test_lic_{run}",
        "SCHEDULING_DATABASE": f"test_sch_{run}",
        "MATCHING_DATABASE": f"test_mat_{run}",
        "GATEWAY_DATABASE": f"test_gw_{run}",
        PREFIX_VARIABLE: f"test-{run}.",
    }


@pytest.fixture
def services(mongodb_uri: str, kafka_bootstrap: str, tmp_path: Path) -> Iterator[ServiceProcesses]:
    env = service_env(mongodb_uri, kafka_bootstrap)
    processes = ServiceProcesses(env, tmp_path, kafka_bootstrap)
    try:
        yield processes
    finally:
        processes.stop_all()
        processes.forget_topics()
