"""Shared by every test tree: the real servers (vsm_infra.testing) and one telemetry setup for the
test process, writing spans as JSON lines to a file that trace tests read back."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
from vsm_platform.settings import PlatformSettings
from vsm_platform.telemetry import Telemetry, configure_telemetry

pytest_plugins = ["vsm_infra.testing"]

_TRACE_FILE = Path(tempfile.mkdtemp(prefix="vsm-test-traces-")) / "spans.jsonl"
_telemetry: Telemetry | None = None


def pytest_configure(config: pytest.Config) -> None:
    global _telemetry
    settings = PlatformSettings(trace_file=str(_TRACE_FILE), otel_exporter_otlp_endpoint=None)
    _telemetry = configure_telemetry("tests", settings)


def pytest_unconfigure(config: pytest.Config) -> None:
    if _telemetry is not None:
        _telemetry.shutdown()


@pytest.fixture(scope="session")
def trace_file() -> Path:
    """The JSON-lines file every span of this test process is written to."""
    return _TRACE_FILE
