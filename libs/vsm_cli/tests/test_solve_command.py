"""`vsm solve`: the answer JSON on stdout (valid under the validator), a summary on stderr."""

from __future__ import annotations

import copy
import json
import subprocess
import sys
from pathlib import Path

from vsm_infra.testing import load_yardstick


def test_solve_prints_a_valid_answer_and_a_one_line_summary(tmp_path: Path) -> None:
    yardstick = load_yardstick()
    doc = yardstick.generate(4, 80, 40, "2027-03-08T00:00:00Z", 7)
    path = tmp_path / "instance.json"
    path.write_text(json.dumps(doc))
    vsm = Path(sys.executable).parent / "vsm"
    done = subprocess.run(
        [str(vsm), "solve", str(path), "--time-limit", "4", "--seed", "3"],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    answer = json.loads(done.stdout)
    errors, score, _ = yardstick.validate(yardstick.Instance(copy.deepcopy(doc)), answer)
    assert errors == []
    summary = done.stderr.strip().splitlines()[-1]
    for word in ("score", "bound", "gap", "fill", "seconds"):
        assert word in summary
    assert f"score {score:.0f}" in summary


def test_solve_refuses_a_file_that_is_not_an_instance(tmp_path: Path) -> None:
    path = tmp_path / "bad.json"
    path.write_text(json.dumps({"format": "something-else"}))
    vsm = Path(sys.executable).parent / "vsm"
    done = subprocess.run([str(vsm), "solve", str(path)], capture_output=True, text=True,
                          check=False)  # fmt: skip
    assert done.returncode == 2
    assert "format" in done.stderr
