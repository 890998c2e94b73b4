"""The one-page bench report: headline figures first, plots embedded, a missing benchmark named
as not run, and every plot well-formed SVG. Small JSON written to a temporary folder, no servers."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest

from bench import report, svg

REFERENCE = "seed={seed} shifts={shifts} clinicians={clinicians} start=2027-03-08T00:00:00Z days=14"
STAMP = "2026-11-20T10:15:00+00:00"


def _run(shifts: int, clinicians: int, seed: int, solver: str, score: float) -> dict[str, Any]:
    return {
        "instance": f"s{shifts}-c{clinicians}-d14-seed{seed}", "solver": solver, "valid": True,
        "score": score, "fill": 0.5 if score else 0.0, "seconds": 9.5, "peak_mb": 300.0,
        "bound": None, "measured": STAMP,
        "reference": REFERENCE.format(seed=seed, shifts=shifts, clinicians=clinicians),
    }  # fmt: skip


def _write(folder: Path, name: str, doc: dict[str, Any]) -> None:
    (folder / name).write_text(json.dumps(doc), encoding="utf-8")


def _marketplace(results: Path, references: Path) -> None:
    runs = [_run(500, 200, 1, "engine", 990.0), _run(500, 200, 1, "plain", 980.0),
            _run(20000, 8000, 1, "engine", 978.0), _run(20000, 8000, 1, "plain", 0.0)]  # fmt: skip
    rematch = {"instance": "s20000-c8000-d14-seed1", "change": "one new shift",
               "milliseconds": 82.6, "score": 99.0, "full_score": 100.0, "ratio": 0.99,
               "measured": STAMP}  # fmt: skip
    _write(results, "runs.json", {
        "runs": {f"{r['instance']}/{r['solver']}": r for r in runs},
        "rematches": {"s20000-c8000-d14-seed1/one new shift": rematch},
    })  # fmt: skip
    _write(references, "references.json", {
        r["reference"]: {"lp_bound": 1000.0, "greedy_score": 880.0} for r in runs
    })  # fmt: skip


def _live(results: Path) -> None:
    _write(results, "offers.json", {
        "clinicians": 2000, "shifts": 1000, "seeded_shifts": 947, "seed_seconds": 116.4,
        "settle_seconds": 27.1, "initial_offers": 1971, "rate": 20.0, "seconds": 60.0,
        "posted": 1200, "offered": 790, "never_offered": 410, "latencies_ms": [30.0, 40.0],
        "p50": 38.2, "p90": 66.0, "p99": 135.4, "max": 189.0, "mean": 45.0, "measured": STAMP,
    })  # fmt: skip
    (results / "offers.svg").write_text(svg.histogram("offers", [30.0, 40.0], 25.0, 41, (0,), ""))
    policies = [("live", 720.0), ("batch", 960.0), ("greedy", 890.0), ("broadcast", 660.0)]
    _write(results, "simulation.json", {
        "measured": STAMP, "instance": "s400-c200-d14-seed23", "shifts": 370, "positions": 558,
        "clinicians": 200, "accept": 0.7, "live_seconds": 40.0, "live_valid": True,
        "answers": {"accepted": 156, "declined": 95, "too late": 103}, "lp_bound": 1000.0,
        "policies": [{"policy": k, "name": f"the {k} policy", "score": v,
                      "of_lp_bound": v / 1000.0, "filled": 150} for k, v in policies],
    })  # fmt: skip
    _write(results, "gateway.json", {
        "measured": STAMP, "clients": 200, "seconds": 64.0, "requests": 8679, "rate": 135.6,
        "failures": 0, "failure_kinds": {},
        "all": {"count": 8679, "p50": 893.0, "p99": 10733.0, "mean": 1348.0},
        "kinds": {"offers": {"count": 2713, "p50": 663.0, "p99": 3933.0},
                  "roster": {"count": 248, "p50": 9010.0, "p99": 13034.0}},
    })  # fmt: skip


@pytest.fixture
def results(tmp_path: Path) -> Path:
    folder = tmp_path / "results"
    folder.mkdir()
    return folder


def _headline(text: str) -> str:
    return text.split("## Headline", 1)[1].split("\n## ", 1)[0]


def test_the_headline_gives_every_benchmarks_first_figures(results: Path, tmp_path: Path) -> None:
    _marketplace(results, tmp_path)
    _live(results)
    headline = _headline(report.build(results, tmp_path / "references.json"))
    assert "| 500 | 200 | 1 | 0.9900 | 0.9800 | 0.8800 | 0.500 | 9.5 |" in headline
    assert "| 20,000 | 8,000 | 1 | 0.9780 | no answer | 0.8800 |" in headline
    assert "one new shift: 83 ms at 20,000 shifts" in headline
    assert "p50 38 ms, p99 135 ms" in headline
    assert "the live market scores 0.750 of the engine's batch answer" in headline
    assert "136 requests a second, 0 failed; p50 893 ms, p99 10,733 ms" in headline


def test_each_section_says_when_it_was_measured(results: Path, tmp_path: Path) -> None:
    _marketplace(results, tmp_path)
    _live(results)
    text = report.build(results, tmp_path / "references.json")
    assert text.count("Measured 2026-11-20 10:15 UTC.") == 5  # four benchmarks and re-matching


def test_existing_plots_are_embedded_and_every_embedded_plot_exists(
    results: Path, tmp_path: Path
) -> None:
    _marketplace(results, tmp_path)
    _live(results)
    (results / "marketplace.svg").write_text(svg.histogram("every instance", [], 1.0, 2, (), ""))
    text = report.build(results, tmp_path / "references.json")
    embedded = re.findall(r"!\[[^\]]*\]\(([^)]+)\)", text)
    assert {"offers.svg", "marketplace.svg"} <= set(embedded)
    assert {"report-engine-quality.svg", "report-engine-seconds.svg", "report-rematch.svg",
            "report-simulation.svg", "report-gateway.svg"} <= set(embedded)  # fmt: skip
    assert all((results / name).exists() for name in embedded)


def test_a_missing_benchmark_is_reported_as_not_run_with_its_command(
    results: Path, tmp_path: Path
) -> None:
    _marketplace(results, tmp_path)
    (results / "gateway.md").write_text("# an earlier run\n")
    text = report.build(results, tmp_path / "references.json")
    for name in ("offers", "simulation", "gateway"):
        assert f"**: not run (`make infra-up && python -m bench.{name}`)" in _headline(text)
    assert "Not run: there is no `offers.json` here." in text
    assert "[gateway.md](gateway.md)" in text
    assert "![" not in text.split("## Shift posted to first offer", 1)[1]


def test_an_empty_folder_gives_a_report_of_benchmarks_not_run(results: Path) -> None:
    text = report.build(results, results / "references.json")
    assert text.count("not run (`") == 4
    assert "`python -m bench.marketplace`" in text


def test_every_plot_the_report_draws_is_well_formed_svg(results: Path, tmp_path: Path) -> None:
    _marketplace(results, tmp_path)
    _live(results)
    report.build(results, tmp_path / "references.json")
    plots = sorted(results.glob("report-*.svg"))
    assert len(plots) == 5
    for plot in plots:
        root = ET.parse(plot).getroot()
        assert root.tag == "{http://www.w3.org/2000/svg}svg"
        assert root.findall("{http://www.w3.org/2000/svg}rect")


def test_main_writes_report_md_into_the_results_folder(results: Path, tmp_path: Path) -> None:
    _marketplace(results, tmp_path)
    argv = ["--results", str(results), "--references", str(tmp_path / "references.json")]
    assert report.main(argv) == 0
    assert (results / "REPORT.md").read_text(encoding="utf-8").startswith("# Benchmarks")


def test_svg_labels_are_escaped_and_values_beyond_the_axis_clipped() -> None:
    drawing = svg.bars("a < b & c", ["x<y"], ["s&t"], {("x<y", "s&t"): 5.0},
                       svg.Axis(0.0, 1.0, (0.0, 1.0)), "{:.1f}")  # fmt: skip
    root = ET.fromstring(drawing)
    texts = [t.text for t in root.iter("{http://www.w3.org/2000/svg}text")]
    assert {"a < b & c", "x<y", "s&t", "5.0"} <= set(texts)
    bar = root.findall("{http://www.w3.org/2000/svg}rect")[-1]
    assert float(bar.get("height", "0")) <= 320


def test_an_axis_from_zero_ends_on_a_round_number_above_the_largest_value() -> None:
    assert svg.axis_from_zero(80.8).ticks == (0.0, 20.0, 40.0, 60.0, 80.0, 100.0)
    assert svg.axis_from_zero(13034.0).high == 15000.0
    assert svg.axis_from_zero(0.0).high == 1.0
