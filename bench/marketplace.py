"""`make bench`: the matching engine against the yardstick of ../shared/benchmarks/marketplace.

For each generated instance (sizes and seeds below) it runs `vsm solve` and the plain CP-SAT
model of `bench.plain_model` as separate processes with the same time limit, validates both
answers with the yardstick, and reports score / LP bound, score / greedy, the engine's bound /
LP bound, fill, wall time and peak memory, as a markdown table and an SVG plot in
`bench/results/`. It also times re-matching after one new shift and one cancelled booking.

The yardstick's LP bound and greedy score are references, not results of ours: they are
computed once per generator arguments and kept in `bench/references.json` (at 20,000 shifts the
LP takes GLOP hours on this machine). A missing reference is computed unless --no-new-references
is given, in which case that instance is skipped.

    python -m bench.marketplace [--only 500,2000] [--seeds 1,2,3] [--no-new-references]
"""

from __future__ import annotations

import argparse
import copy
import hashlib
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType
from typing import Any

from vsm_infra.testing import YARDSTICK, load_yardstick

from bench import rematch, svg

ROOT = Path(__file__).resolve().parent.parent
CACHE = ROOT / ".cache" / "bench"
RESULTS = ROOT / "bench" / "results"
REFERENCES = ROOT / "bench" / "references.json"
RUNS = RESULTS / "runs.json"  # every run's figures, merged across bench invocations
START = "2027-03-08T00:00:00Z"  # the horizon crosses the US change to summer time on 03-14
DAYS = 14
LP_NOW_UP_TO = 3000  # shifts: a missing LP bound of a larger instance waits for --large-lp
GRACE_SECONDS = 120.0  # past the time limit, a run is stopped and counted as no answer
SAVED_BESIDE = ("reference", "measured")  # kept with a run's figures, not fields of Run


@dataclass(frozen=True)
class Size:
    shifts: int
    clinicians: int
    seeds: tuple[int, ...]
    time_limit: float


SIZES = (
    Size(500, 200, (1, 2, 3), 10.0),
    Size(2000, 800, (1, 2, 3), 10.0),
    Size(20000, 8000, (1,), 60.0),
)


@dataclass
class Run:
    instance: str
    solver: str
    valid: bool
    score: float
    fill: float
    seconds: float
    peak_mb: float
    bound: float | None = None


def _key(size: Size, seed: int) -> str:
    shape = f"shifts={size.shifts} clinicians={size.clinicians} start={START} days={DAYS}"
    return f"seed={seed} {shape}"


def _instance(yardstick: ModuleType, size: Size, seed: int) -> Path:
    path = CACHE / f"s{size.shifts}-c{size.clinicians}-d{DAYS}-seed{seed}.json"
    if not path.exists():
        CACHE.mkdir(parents=True, exist_ok=True)
        doc = yardstick.generate(seed, size.shifts, size.clinicians, START, DAYS)
        path.write_text(json.dumps(doc), encoding="utf-8")
    return path


def _reference(
    yardstick: ModuleType, references: dict[str, Any], key: str, path: Path, lp_later: bool
) -> dict[str, Any]:
    digest = hashlib.sha256(YARDSTICK.read_bytes()).hexdigest()
    known = references.get(key)
    current = known is not None and known.get("yardstick_sha256") == digest
    if known is not None and current and (known.get("lp_bound") is not None or lp_later):
        return dict(known)
    print(f"computing the yardstick's reference figures for {key} (once)", file=sys.stderr)
    lp_bound, lp_seconds = None, None
    if not lp_later:
        started = time.monotonic()
        out = subprocess.run(
            [sys.executable, str(YARDSTICK), "bound", str(path)],
            check=True, capture_output=True, text=True,
        )  # fmt: skip
        lp_seconds = round(time.monotonic() - started, 1)
        lp_bound = json.loads(out.stdout)["bound"]
    doc = json.loads(path.read_text(encoding="utf-8"))
    answer = yardstick.greedy(yardstick.Instance(copy.deepcopy(doc)))
    errors, greedy_score, _ = yardstick.validate(yardstick.Instance(doc), answer)
    if errors:
        raise RuntimeError(f"the yardstick's greedy answer breaks rules on {key}")
    found = {
        "lp_bound": lp_bound,
        "lp_seconds": lp_seconds,
        "greedy_score": greedy_score,
        "yardstick_sha256": digest,
    }
    references[key] = found
    REFERENCES.write_text(json.dumps(references, indent=2, sort_keys=True) + "\n")
    return found


def _peak_kib(path: Path) -> float:
    try:
        return float(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return 0.0  # the run was killed before it could report


def _run(
    yardstick: ModuleType, command: list[str], path: Path, solver: str, name: str, limit: float
) -> tuple[Run, str]:
    """One solver process: wall time, peak memory (its max resident set), validated answer."""
    answer_path = CACHE / f"{name}.{solver}.answer.json"
    peak_path = CACHE / f"{name}.{solver}.peak"
    started = time.monotonic()
    with answer_path.open("w", encoding="utf-8") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "bench.peak", str(peak_path), *command],
            stdout=out, stderr=subprocess.PIPE, text=True, start_new_session=True,
        )  # fmt: skip
        overdue = threading.Timer(  # a run that never ends: the solver and its wrapper
            limit + GRACE_SECONDS, os.killpg, (process.pid, signal.SIGKILL)
        )
        overdue.start()
        assert process.stderr is not None
        summary = process.stderr.read()
        _, status, _ = os.wait4(process.pid, 0)
        overdue.cancel()
    seconds = time.monotonic() - started
    process.returncode = os.waitstatus_to_exitcode(status)
    doc = json.loads(path.read_text(encoding="utf-8"))
    try:
        answer = json.loads(answer_path.read_text(encoding="utf-8"))
        errors, score, filled = yardstick.validate(yardstick.Instance(doc), answer)
    except json.JSONDecodeError:
        errors, score, filled = ["no answer"], 0.0, 0
    positions = sum(s["positions"] for s in doc["shifts"]) or 1
    bound = re.search(r"\bbound (\d+(?:\.\d+)?)", summary)
    run = Run(
        instance=name,
        solver=solver,
        valid=process.returncode == 0 and not errors,
        score=score,
        fill=filled / positions,
        seconds=seconds,
        peak_mb=_peak_kib(peak_path) / 1024,
        bound=float(bound.group(1)) if bound and solver == "engine" else None,
    )
    return run, summary.strip().splitlines()[-1] if summary.strip() else ""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--only", default="", help="sizes by shift count, e.g. 500,2000")
    parser.add_argument("--seeds", default="", help="override the seeds, e.g. 1")
    parser.add_argument("--no-new-references", action="store_true")
    parser.add_argument("--no-rematch", action="store_true", help="skip the re-matching runs")
    parser.add_argument(
        "--lp-later", action="store_true",
        help="do not compute a missing LP bound now (its ratios show as pending)",
    )  # fmt: skip
    parser.add_argument(
        "--report-only", action="store_true", help="rewrite the report from the saved runs"
    )
    parser.add_argument(
        "--large-lp", action="store_true",
        help=f"compute a missing LP bound above {LP_NOW_UP_TO} shifts too (hours)",
    )  # fmt: skip
    args = parser.parse_args(argv)
    yardstick = load_yardstick()
    references: dict[str, Any] = json.loads(REFERENCES.read_text()) if REFERENCES.exists() else {}
    only = {int(x) for x in args.only.split(",") if x}
    vsm = str(Path(sys.executable).parent / "vsm")
    saved: dict[str, Any] = (
        json.loads(RUNS.read_text()) if RUNS.exists() else {"runs": {}, "rematches": {}}
    )
    for size in SIZES if not args.report_only else ():
        if only and size.shifts not in only:
            continue
        seeds = tuple(int(s) for s in args.seeds.split(",") if s) or size.seeds
        for seed in seeds:
            path = _instance(yardstick, size, seed)
            key = _key(size, seed)
            if args.no_new_references and key not in references:
                print(f"skipping {key}: no reference figures yet", file=sys.stderr)
                continue
            later = args.lp_later or (size.shifts > LP_NOW_UP_TO and not args.large_lp)
            _reference(yardstick, references, key, path, later)
            name = path.stem
            limit = str(size.time_limit)
            for solver, command in (
                ("engine", [vsm, "solve", str(path), "--time-limit", limit, "--seed", "0"]),
                ("plain", [sys.executable, "-m", "bench.plain_model", str(path),
                           "--time-limit", limit]),
            ):  # fmt: skip
                run, summary = _run(yardstick, command, path, solver, name, size.time_limit)
                saved["runs"][f"{name}/{solver}"] = {**asdict(run), "reference": key,
                                                     "measured": _now()}  # fmt: skip
                print(f"{name} {solver}: {summary}", file=sys.stderr)
                _save(saved)
            if size.shifts >= 2000 and seed == seeds[0] and not args.no_rematch:
                for row in rematch.measure(yardstick, path):
                    saved["rematches"][f"{name}/{row['change']}"] = {**row, "measured": _now()}
                    print(f"{name} re-matching: {row}", file=sys.stderr)
                _save(saved)
    rows = [
        (Run(**{k: v for k, v in r.items() if k not in SAVED_BESIDE}), references[r["reference"]])
        for r in sorted(saved["runs"].values(), key=_order)
    ]
    report = _table(rows)
    if saved["rematches"]:
        report += "\nRe-matching in the solved market:\n\n" + rematch.table(
            list(saved["rematches"].values())
        )
    (RESULTS / "marketplace.md").write_text(report, encoding="utf-8")
    (RESULTS / "marketplace.svg").write_text(_plot(rows), encoding="utf-8")
    print(report)
    return 0


def _order(run: dict[str, Any]) -> tuple[int, ...]:
    """Smallest instances first, then by seed, the engine before the plain model."""
    numbers = [int(n) for n in re.findall(r"\d+", run["instance"])]
    return (*numbers, run["solver"] != "engine")


def _now() -> str:
    """When a figure was measured, for the report: UTC to the second."""
    return datetime.now(UTC).isoformat(timespec="seconds")


def _save(saved: dict[str, Any]) -> None:
    RESULTS.mkdir(parents=True, exist_ok=True)
    RUNS.write_text(json.dumps(saved, indent=1, sort_keys=True) + "\n", encoding="utf-8")


def _table(rows: list[tuple[Run, dict[str, Any]]]) -> str:
    lines = [
        "| instance | solver | valid | score / LP bound | score / greedy | bound / LP bound "
        "| fill | wall s | peak MB |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for run, ref in rows:
        lp = ref.get("lp_bound")
        of_lp = f"{run.score / lp:.4f}" if lp else "LP pending"
        bound = f"{run.bound / lp:.4f}" if run.bound is not None and lp else "-"
        lines.append(
            f"| {run.instance} | {run.solver} | {'yes' if run.valid else 'NO'} "
            f"| {of_lp} | {run.score / ref['greedy_score']:.4f} "
            f"| {bound} | {run.fill:.4f} | {run.seconds:.1f} | {run.peak_mb:.0f} |"
        )
    return "\n".join(lines) + "\n"


def _plot(rows: list[tuple[Run, dict[str, Any]]]) -> str:
    """Score / LP bound per instance, engine beside plain, as a bar chart in plain SVG."""
    names = {"engine": "engine", "plain": "plain CP-SAT"}
    values = {
        (run.instance.replace("-d14", ""), names.get(run.solver, run.solver)): run.score / lp
        for run, ref in rows
        if (lp := ref.get("lp_bound"))
    }
    groups = list(dict.fromkeys(run.instance.replace("-d14", "") for run, _ in rows))
    axis = svg.Axis(0.80, 1.0, (0.8, 0.85, 0.9, 0.95, 0.99, 1.0), "{:.2f}")
    title = f"score / LP bound (axis from {axis.low})"
    return svg.bars(title, groups, list(names.values()), values, axis, slant=True)


if __name__ == "__main__":
    raise SystemExit(main())
