"""Our own service processes for `make up`: each runs in the background from this Python
(`python -m <service>.main`), tracked by a pid file like the servers, and is waited for until its
port answers. The servers' addresses reach them through the environment."""

from __future__ import annotations

import asyncio
import socket
import sys
from dataclasses import dataclass
from pathlib import Path

from vsm_infra.process import ManagedProcess
from vsm_infra.readiness import NotReadyError


@dataclass(frozen=True, slots=True)
class Service:
    """One of our processes: its name, module and listen address (host:port)."""

    name: str
    module: str
    address: str

    def process(self, run_dir: Path) -> ManagedProcess:
        return ManagedProcess(self.name, run_dir, (sys.executable, "-m", self.module), self.module)


def services(environ: dict[str, str]) -> tuple[Service, ...]:
    """The services `make up` runs, at the addresses the environment gives (or the defaults)."""
    return (
        Service("licensing", "licensing.main", environ.get("LICENSING_ADDR", "127.0.0.1:50051")),
        Service("scheduling", "scheduling.main", environ.get("SCHEDULING_ADDR", "127.0.0.1:50052")),
        Service("matching", "matching.main", environ.get("MATCHING_ADDR", "127.0.0.1:50053")),
        Service("gateway", "gateway.main", environ.get("GATEWAY_ADDR", "127.0.0.1:8000")),
    )


def web_address(environ: dict[str, str]) -> str:
    """Where people open the pages: the gateway's public address."""
    return (
        environ.get("GATEWAY_PUBLIC_URL")
        or f"http://{environ.get('GATEWAY_ADDR', '127.0.0.1:8000')}"
    )


def _answers(address: str) -> bool:
    host, _, port = address.rpartition(":")
    with socket.socket() as probe:
        probe.settimeout(0.5)
        return probe.connect_ex((host, int(port))) == 0


async def services_up(run_dir: Path, environ: dict[str, str], wait: float = 60.0) -> list[str]:
    """Starts each service that is not running and waits until its port answers."""
    lines = []
    for service in services(environ):
        process = service.process(run_dir)
        pid = process.pid()
        if pid:
            state = f"already running, pid {pid}"
        else:
            addresses = {f"{s.name.upper()}_ADDR": s.address for s in services(environ)}
            state = f"started, pid {process.start({**environ, **addresses})}"
        deadline = asyncio.get_running_loop().time() + wait
        while not _answers(service.address):
            if process.pid() is None or asyncio.get_running_loop().time() > deadline:
                raise NotReadyError(
                    f"{service.name} does not answer at {service.address}: see {process.log_file}"
                )
            await asyncio.sleep(0.2)
        lines.append(f"{service.name}: {service.address} ({state})")
    return lines


def services_down(run_dir: Path, environ: dict[str, str]) -> list[str]:
    """Stops the services `make up` started; returns those that were running."""
    return [s.name for s in services(environ) if s.process(run_dir).stop()]
