"""For tests only (registered by gateway/tests/integration/conftest.py). One stack for the
gateway's integration tests: the licensing, scheduling and matching
services and the gateway itself, each its own process on the real servers with databases and
topics of this module's own; an HTTP client for the gateway and helpers to sign people up.
A test module that sets `TRACED = True` has every process write its spans as JSON lines to
`<name>.jsonl` in `stack.traces` (read back with `stack.spans()`)."""

from __future__ import annotations

import asyncio
import json
import sys
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio
from vsm_infra.testing import ServiceProcesses, free_port, service_env

PASSWORD = "correct horse battery staple"


@dataclass
class Stack:
    processes: ServiceProcesses
    base_url: str
    operator_email: str
    partner_addr: str = ""
    traces: Path | None = None

    def spans(self) -> list[dict[str, Any]]:
        """Every span the processes wrote so far (a module with TRACED = True)."""
        assert self.traces is not None, "set TRACED = True in the test module"
        return [json.loads(line) for file in sorted(self.traces.glob("*.jsonl"))
                for line in file.read_text(encoding="utf-8").splitlines() if line]  # fmt: skip

    def client(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(base_url=self.base_url, timeout=30)

    async def token(self, email: str, password: str = PASSWORD) -> str:
        async with self.client() as http:
            answer = await http.post("/v1/tokens", json={"email": email, "password": password})
        assert answer.status_code == 201, answer.text
        token: str = answer.json()["token"]
        return token

    async def as_user(self, email: str) -> httpx.AsyncClient:
        token = await self.token(email)
        return httpx.AsyncClient(
            base_url=self.base_url, timeout=30, headers={"Authorization": f"Bearer {token}"}
        )

    async def sign_up_organization(self, name: str) -> dict[str, Any]:
        email = f"admin-{uuid.uuid4().hex[:8]}@{name}.example"
        async with self.client() as http:
            answer = await http.post("/v1/signup/organizations", json={
                "organization_name": f"{name} Health", "name": f"{name} Admin",
                "email": email, "password": PASSWORD})  # fmt: skip
        assert answer.status_code == 201, answer.text
        return {**answer.json(), "email": email}

    async def sign_up_clinician(self, name: str) -> dict[str, Any]:
        email = f"{name.split()[0].lower()}-{uuid.uuid4().hex[:8]}@clinicians.example"
        async with self.client() as http:
            answer = await http.post("/v1/signup/clinicians", json={
                "name": name, "email": email, "password": PASSWORD})  # fmt: skip
        assert answer.status_code == 201, answer.text
        return {**answer.json(), "email": email}


async def wait_for_gateway(
    base_url: str, seconds: float = 60, ended: Callable[[], bool] = lambda: False
) -> None:
    """Returns once the gateway answers GET /healthz; RuntimeError after `seconds`, or as soon
    as `ended()` says its process is gone."""
    deadline = asyncio.get_running_loop().time() + seconds
    async with httpx.AsyncClient(base_url=base_url, timeout=2) as http:
        while asyncio.get_running_loop().time() < deadline:
            if ended():
                raise RuntimeError(f"the gateway process at {base_url} ended")
            try:
                if (await http.get("/healthz")).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.2)
    raise RuntimeError(f"the gateway does not answer at {base_url}")


@pytest_asyncio.fixture(scope="module")
async def stack(
    mongodb_uri: str, kafka_bootstrap: str, tmp_path_factory: pytest.TempPathFactory,
    request: pytest.FixtureRequest,
) -> AsyncIterator[Stack]:  # fmt: skip
    env = service_env(mongodb_uri, kafka_bootstrap)
    env.update(GATEWAY_DEV_OUTBOX="true", GATEWAY_COOKIE_SECURE="false")
    processes = ServiceProcesses(env, tmp_path_factory.mktemp("gateway"), kafka_bootstrap)
    traces = tmp_path_factory.mktemp("traces") if getattr(request.module, "TRACED", False) else None

    def traced(name: str) -> dict[str, str]:
        return {"VSM_TRACE_FILE": str(traces / f"{name}.jsonl")} if traces else {}

    try:
        await processes.ensure_topics()
        for name in ("licensing", "scheduling", "matching"):
            processes.start(name, f"{name}.main", **traced(name))
        address = processes.address["gateway"] = f"127.0.0.1:{free_port()}"
        env["GATEWAY_PUBLIC_URL"] = f"http://{address}"
        env["PARTNER_ADDR"] = partner_addr = f"127.0.0.1:{free_port()}"
        processes.start("gateway", "gateway.main", **traced("gateway"))
        operator_email = f"operator-{uuid.uuid4().hex[:6]}@marketplace.example"
        command = ["-m", "gateway.admin", "add-operator", operator_email, "Olive Operator"]
        made = await asyncio.create_subprocess_exec(
            sys.executable, *command, env={**env, "VSM_OPERATOR_PASSWORD": PASSWORD},
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        )  # fmt: skip
        _, errors = await made.communicate()
        assert made.returncode == 0, errors.decode()
        await processes.serving("licensing", "scheduling", "matching")
        try:
            await wait_for_gateway(
                f"http://{address}", ended=lambda: processes.running["gateway"].poll() is not None
            )
        except RuntimeError as error:
            pytest.fail(f"{error}; see {processes.logs}/gateway.log")
        yield Stack(processes, f"http://{address}", operator_email, partner_addr, traces)
    finally:
        processes.stop_all()
        processes.forget_topics()
