"""The rules, fed with an instance's own compacts, give the benchmark validator's verdict for every
(clinician, shift) pair of generated instances; and `vsm explain` says so in words."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from vsm_infra.testing import load_yardstick
from vsm_rules.compacts import CompactTables
from vsm_rules.match_instance import load_instance
from vsm_rules.pair_rules import PAIR_RULES, explain_pair


def _generate(yardstick: ModuleType, seed: int, shifts: int, clinicians: int) -> dict[str, Any]:
    doc: dict[str, Any] = yardstick.generate(seed, shifts, clinicians, "2027-03-08T00:00:00Z", 14)
    copy: dict[str, Any] = json.loads(json.dumps(doc))  # the validator annotates its own copy
    return copy


@pytest.mark.parametrize("seed", range(8))
def test_every_pair_gets_the_validators_verdict(seed: int) -> None:
    yardstick = load_yardstick()
    doc = _generate(yardstick, seed, 40, 30)
    reference = yardstick.Instance(json.loads(json.dumps(doc)))
    instance = load_instance(doc)
    tables = CompactTables.from_instance(doc.get("compacts", []), doc.get("professions"))
    checked = allowed = 0
    for shift_id, ref_shift in reference.shifts.items():
        for clinician_id, ref_clinician in reference.clinicians.items():
            if ref_clinician["profession"] != ref_shift["profession"]:
                continue
            verdicts = {v.rule: v for v in explain_pair(instance, shift_id, clinician_id, tables)}
            ours = all(verdicts[rule].allowed for rule in PAIR_RULES)
            theirs = reference.eligible(ref_clinician, ref_shift) is None
            assert ours == theirs, (
                shift_id,
                clinician_id,
                reference.eligible(ref_clinician, ref_shift),
            )
            clash = reference.clashes(ref_clinician, ref_shift, ref_clinician["_booked"])
            assert verdicts["rest"].allowed == (not clash), (shift_id, clinician_id)
            checked += 1
            allowed += ours
    assert checked > 50 and 0 < allowed < checked  # both outcomes are exercised


def test_vsm_explain_prints_every_rule_and_exits_by_the_verdict(tmp_path: Path) -> None:
    yardstick = load_yardstick()
    doc = _generate(yardstick, 5, 30, 20)
    path = tmp_path / "instance.json"
    path.write_text(json.dumps(doc))
    reference = yardstick.Instance(json.loads(json.dumps(doc)))
    pairs = [(s, c) for s in reference.shifts.values() for c in reference.clinicians.values()
             if c["profession"] == s["profession"]]  # fmt: skip
    eligible = next(p for p in pairs if reference.eligible(p[1], p[0]) is None)
    refused = next(p for p in pairs if reference.eligible(p[1], p[0]) is not None)
    vsm = Path(sys.executable).parent / "vsm"
    for (shift, clinician), expected in ((eligible, 0), (refused, 1)):
        done = subprocess.run(
            [str(vsm), "explain", str(path),
             "--shift", shift["id"], "--clinician", clinician["id"]],
            capture_output=True, text=True, check=False,
        )  # fmt: skip
        licensing_or_rest_ok = "NO  rest" not in done.stdout and "NO  weekly" not in done.stdout
        if expected == 0 and not licensing_or_rest_ok:
            continue  # eligible by rules 1-5 but clashing with a booking: exit 1 is right
        assert done.returncode == expected, done.stdout
        for rule in (*PAIR_RULES, "rest", "weekly_hours"):
            assert f"{rule}: " in done.stdout
    shift, clinician = eligible
    missing = subprocess.run(
        [str(vsm), "explain", str(path), "--shift", "nope", "--clinician", clinician["id"]],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert missing.returncode == 2 and "shift 'nope' is not in the instance" in missing.stderr
