"""The `vsm` command exists and answers; its subcommands join with their issues."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from vsm_cli.main import main


def test_version_is_printed(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["--version"])
    assert exit_info.value.code == 0
    assert capsys.readouterr().out.startswith("vsm ")


def test_no_subcommand_prints_help_and_fails() -> None:
    assert main([]) == 2


def test_installed_in_the_virtualenv() -> None:
    vsm = Path(sys.executable).parent / "vsm"
    done = subprocess.run([str(vsm), "--help"], capture_output=True, text=True, check=False)
    assert done.returncode == 0
    assert "usage: vsm" in done.stdout
