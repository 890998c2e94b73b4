"""The partner API's TLS: with a certificate and its key configured, the gRPC server speaks
TLS only; a client trusting the certificate is served, a plaintext one is not."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import grpc
import pytest
from gateway.config import Settings
from gateway.main import tls_credentials
from grpc_health.v1 import health_pb2, health_pb2_grpc
from vsm_platform.grpc_server import start_server


def _self_signed(folder: Path) -> tuple[Path, Path]:
    if shutil.which("openssl") is None:
        pytest.fail("openssl is needed to make a test certificate")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
         "-keyout", str(key), "-out", str(cert), "-subj", "/CN=localhost",
         "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"],
        check=True, capture_output=True,
    )  # fmt: skip
    return cert, key


def test_no_certificate_means_plaintext() -> None:
    assert tls_credentials(Settings()) is None


async def test_with_a_certificate_the_partner_server_speaks_tls_only(tmp_path: Path) -> None:
    cert, key = _self_signed(tmp_path)
    settings = Settings(tls_cert_file=str(cert), tls_key_file=str(key))
    running = await start_server("127.0.0.1:0", [], [], tls_credentials(settings))
    address = f"127.0.0.1:{running.port}"
    try:
        trusted = grpc.ssl_channel_credentials(root_certificates=cert.read_bytes())
        async with grpc.aio.secure_channel(address, trusted) as secure:
            answer = await health_pb2_grpc.HealthStub(secure).Check(
                health_pb2.HealthCheckRequest(), timeout=10
            )
            assert answer.status == health_pb2.HealthCheckResponse.SERVING
        async with grpc.aio.insecure_channel(address) as plain:
            with pytest.raises(grpc.aio.AioRpcError) as refused:
                await health_pb2_grpc.HealthStub(plain).Check(
                    health_pb2.HealthCheckRequest(), timeout=5
                )
            assert refused.value.code() == grpc.StatusCode.UNAVAILABLE
    finally:
        await running.stop(0)
