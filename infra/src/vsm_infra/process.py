"""A server process started in the background, tracked by a pid file and logging to a file.

The pid file lets `make down` stop exactly what `make up` started, from another process; the
marker (a path unique to the instance) guards against a recycled pid being taken for ours.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True, slots=True)
class ManagedProcess:
    """One background server: its command line, pid file and log file."""

    name: str
    run_dir: Path
    argv: tuple[str, ...]
    marker: str

    @property
    def pid_file(self) -> Path:
        return self.run_dir / f"{self.name}.pid"

    @property
    def log_file(self) -> Path:
        return self.run_dir / f"{self.name}.log"

    def pid(self) -> int | None:
        """The pid of our running process, or None when it is not running."""
        try:
            pid = int(self.pid_file.read_text().strip())
        except (FileNotFoundError, ValueError):
            return None
        return pid if _is_alive(pid, self.marker) else None

    def start(self, env: dict[str, str] | None = None) -> int:
        """Starts the process detached from our session and records its pid."""
        self.run_dir.mkdir(parents=True, exist_ok=True)
        with self.log_file.open("ab") as log:
            child = subprocess.Popen(
                self.argv,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                env=env,
            )
        self.pid_file.write_text(f"{child.pid}\n")
        # until the child has exec'd, its command line is still ours and the marker not in it
        deadline = time.monotonic() + 5.0
        while not _is_alive(child.pid, self.marker) and child.poll() is None:
            if time.monotonic() > deadline:
                break
            time.sleep(0.01)
        return child.pid

    def stop(self, timeout: float = 30.0) -> bool:
        """Stops the process with SIGTERM (SIGKILL after `timeout`); True if one was running."""
        pid = self.pid()
        if pid is None:
            self.pid_file.unlink(missing_ok=True)
            return False
        _signal(pid, signal.SIGTERM)
        if not _wait_gone(pid, self.marker, timeout):
            _signal(pid, signal.SIGKILL)
            _wait_gone(pid, self.marker, 10.0)
        self.pid_file.unlink(missing_ok=True)
        return True

    def kill(self) -> bool:
        """Kills the process at once with SIGKILL, as a crash would; True if one was running."""
        pid = self.pid()
        if pid is None:
            return False
        _signal(pid, signal.SIGKILL)
        _wait_gone(pid, self.marker, 10.0)
        self.pid_file.unlink(missing_ok=True)
        return True

    def log_tail(self, lines: int = 20) -> str:
        try:
            return "\n".join(self.log_file.read_text(errors="replace").splitlines()[-lines:])
        except FileNotFoundError:
            return ""


def _signal(pid: int, signum: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signum)


def _reap(pid: int) -> None:
    """Collects the exit status if the process is our own child, so it does not linger."""
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)


def _is_alive(pid: int, marker: str) -> bool:
    _reap(pid)
    proc = Path("/proc") / str(pid)
    try:
        cmdline = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        state = (proc / "stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError, IndexError):
        return False
    return state not in ("Z", "X") and marker in cmdline


def _wait_gone(pid: int, marker: str, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not _is_alive(pid, marker):
            return True
        time.sleep(0.1)
    return not _is_alive(pid, marker)
