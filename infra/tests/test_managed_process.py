"""Pid files and stopping: `make down` must stop exactly what `make up` started."""

from __future__ import annotations

import sys
from pathlib import Path

from vsm_infra.process import ManagedProcess


def _sleeper(tmp_path: Path, name: str) -> ManagedProcess:
    marker = str(tmp_path / name)
    argv = (sys.executable, "-c", "import time, sys; time.sleep(60)", marker)
    return ManagedProcess(name, tmp_path, argv, marker=marker)


def test_a_started_process_is_found_by_its_pid_file_and_stopped(tmp_path: Path) -> None:
    process = _sleeper(tmp_path, "sleeper")
    pid = process.start()
    assert process.pid() == pid
    assert process.stop(timeout=5) is True
    assert process.pid() is None
    assert not process.pid_file.exists()


def test_stopping_what_is_not_running_reports_false(tmp_path: Path) -> None:
    assert _sleeper(tmp_path, "never-started").stop() is False


def test_a_recycled_pid_of_another_program_is_not_taken_for_ours(tmp_path: Path) -> None:
    ours = _sleeper(tmp_path, "ours")
    other = _sleeper(tmp_path, "other")
    other_pid = other.start()
    try:
        ours.pid_file.write_text(f"{other_pid}\n")  # as if our pid had been reused
        assert ours.pid() is None
        assert ours.stop() is False
        assert other.pid() == other_pid
    finally:
        other.stop(timeout=5)


def test_kill_ends_the_process_at_once(tmp_path: Path) -> None:
    process = _sleeper(tmp_path, "killed")
    process.start()
    assert process.kill() is True
    assert process.pid() is None
