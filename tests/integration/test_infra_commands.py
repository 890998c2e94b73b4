"""`python -m vsm_infra` as make runs it: up is idempotent, down stops what up started, outside
servers are only waited for; with OTEL_EXPORTER_OTLP_ENDPOINT set, the services `make up`
starts send their spans there (OTLP over HTTP)."""

from __future__ import annotations

import contextlib
import gzip
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar

import httpx
import pytest
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2
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


class OtlpReceiver(BaseHTTPRequestHandler):
    """A collector's OTLP/HTTP traces endpoint: keeps each exported span's service and name."""

    received: ClassVar[list[tuple[str, str]]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        if self.headers.get("Content-Encoding") == "gzip":
            body = gzip.decompress(body)
        export = trace_service_pb2.ExportTraceServiceRequest.FromString(body)
        for spans in export.resource_spans:
            service = next((a.value.string_value for a in spans.resource.attributes
                            if a.key == "service.name"), "")  # fmt: skip
            for scope in spans.scope_spans:
                self.received.extend((service, span.name) for span in scope.spans)
        answer = trace_service_pb2.ExportTraceServiceResponse().SerializeToString()
        self.send_response(200 if self.path == "/v1/traces" else 404)
        self.send_header("Content-Type", "application/x-protobuf")
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    def log_message(self, format: str, *args: object) -> None:
        return None


@contextlib.contextmanager
def otlp_collector() -> Iterator[tuple[str, list[tuple[str, str]]]]:
    """An OTLP/HTTP endpoint on loopback and the (service, span name) pairs it receives."""
    received: ClassVar[list[tuple[str, str]]] = []
    handler = type("Receiver", (OtlpReceiver,), {"received": received})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", received
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.restarts
def test_up_twice_then_down_stops_exactly_what_up_started(tmp_path: Path) -> None:
    if os.environ.get("KAFKA_BOOTSTRAP") or os.environ.get("MONGODB_URI"):
        pytest.skip("outside servers are configured; this test starts its own")
    infra = Infra(tmp_path)
    ports: dict[str, str] = {}
    collector = otlp_collector()
    endpoint, spans = collector.__enter__()
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
        traced = {**ports, "OTEL_EXPORTER_OTLP_ENDPOINT": endpoint}
        services = infra("services-up", env=traced)
        assert httpx.get(f"http://{ports['GATEWAY_ADDR']}/healthz", timeout=10).status_code == 200
        assert f"licensing: {ports['LICENSING_ADDR']} (started, pid" in services
        assert f"scheduling: {ports['SCHEDULING_ADDR']} (started, pid" in services
        assert f"matching: {ports['MATCHING_ADDR']} (started, pid" in services
        assert f"gateway: {ports['GATEWAY_ADDR']} (started, pid" in services
        assert services.startswith(f"web: http://{ports['GATEWAY_ADDR']}\n")
        assert infra("services-up", env=ports).count("already running") == 4
        stopped = infra("services-down", env=ports)
        assert "services stopped: licensing, scheduling, matching, gateway" in stopped
        assert not (tmp_path / "run" / "licensing.pid").exists()
        # each stopped process flushed its spans to the collector (MongoDB calls at start, the
        # page's request to the gateway)
        assert {service for service, _ in spans} == {"licensing", "scheduling", "matching",
                                                     "gateway"}, spans  # fmt: skip
        assert ("gateway", "GET /healthz") in spans, spans

        assert "stopped: kafka, mongodb" in infra("down")
        assert not (tmp_path / "run" / "kafka.pid").exists()
        after = infra("status")
        assert after.count("does not answer") == 2
        assert "stopped: nothing was running" in infra("down")
    finally:  # a failed step leaves nothing running behind it
        if ports:
            infra.quietly("services-down", ports)
        infra.quietly("down", {})
        collector.__exit__(None, None, None)


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
