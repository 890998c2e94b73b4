"""`make bench` on one page: every benchmark's figures, the headline first, with plots.

    python -m bench.report [--results bench/results] [--references bench/references.json]

Reads the JSON the benchmarks leave in the results folder: runs.json of bench.marketplace (its
ratios need the yardstick's LP bounds and greedy scores from bench/references.json),
offers.json, simulation.json and gateway.json. Draws the plots as SVG files beside them
(report-*.svg) and writes REPORT.md there: a headline of the figures a reader wants first, then
one section per benchmark with its table and plots. A benchmark without its JSON is reported as
not run, with the command that runs it.
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench import svg

BENCH = Path(__file__).resolve().parent
SIZE = re.compile(r"s(\d+)-c(\d+)-")  # an instance's name: s2000-c800-d14-seed1
SOLVERS = {"engine": "engine", "plain": "plain CP-SAT"}
GREEDY = "yardstick greedy"
LIVE = "make infra-up &&"  # the live benchmarks need the real servers
Doc = dict[str, Any]
Runs = dict[str, list[Doc]]  # one instance size's runs by solver


@dataclass(frozen=True)
class Section:
    """One benchmark's part of the page: its lines in the headline and its own section."""

    headline: list[str]
    body: list[str]


def _load(path: Path) -> Doc | None:
    if not path.exists():
        return None
    doc: Doc = json.loads(path.read_text(encoding="utf-8"))
    return doc


def _when(stamps: Iterable[str]) -> str:
    """When the figures were measured, from their ISO timestamps, or that it is not known."""
    instants = sorted(datetime.fromisoformat(s).astimezone(UTC) for s in stamps)
    if not instants:
        return "When these figures were measured is not recorded."
    first, last = instants[0], instants[-1]
    if first.date() != last.date():
        return f"Measured between {first:%Y-%m-%d} and {last:%Y-%m-%d} (UTC)."
    if first == last:
        return f"Measured {first:%Y-%m-%d %H:%M} UTC."
    return f"Measured {first:%Y-%m-%d} between {first:%H:%M} and {last:%H:%M} UTC."


def _measured(doc: Doc) -> str:
    return _when([doc["measured"]] if "measured" in doc else [])


def _table(header: list[str], rows: Iterable[Iterable[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    return [*lines, *("| " + " | ".join(row) + " |" for row in rows), ""]


def _f(value: float | None, spec: str) -> str:
    return "-" if value is None else format(value, spec)


def _mean(values: list[float]) -> float | None:
    return statistics.fmean(values) if values else None


def _not_run(results: Path, title: str, name: str, command: str, earlier: str = "") -> Section:
    """A benchmark without its `name`.json; an earlier run's markdown, if any, is linked."""
    text = (
        f"Not run: there is no `{name}.json` here. `make bench` runs every benchmark; "
        f"this one alone: `{command}`."
    )
    earlier = earlier or f"{name}.md"
    if (results / earlier).exists():
        text += f" An earlier run, before the JSON was kept, left [{earlier}]({earlier})."
    return Section([f"- **{title}**: not run (`{command}`)."], [f"## {title}", "", text, ""])


def _plot(results: Path, name: str, drawing: str) -> str:
    """Writes a plot beside the report; the markdown that embeds it, its title as the text."""
    (results / name).write_text(drawing, encoding="utf-8")
    title = re.search(r"<text [^>]*>([^<]*)</text>", drawing)
    return f"![{title[1] if title else name}]({name})"


# The engine: quality and scale, and re-matching (runs.json of bench.marketplace)


def _of_lp(runs: list[Doc], key: str = "score") -> list[float]:
    return [r[key] / r["lp_bound"] for r in runs if r.get("lp_bound") and r.get(key) is not None]


def _sizes(saved: Doc, references: Doc) -> dict[tuple[int, int], Runs]:
    """Runs by (shifts, clinicians), then by solver, each with its instance's references."""
    sizes: dict[tuple[int, int], Runs] = defaultdict(lambda: defaultdict(list))
    for run in saved["runs"].values():
        if found := SIZE.match(run["instance"]):
            ref = references.get(run.get("reference", ""), {})
            sizes[int(found[1]), int(found[2])][run["solver"]].append(
                {**run, "lp_bound": ref.get("lp_bound"), "greedy_score": ref.get("greedy_score")}
            )
    return dict(sorted(sizes.items()))


def _greedy(runs: Runs) -> list[float]:
    """The yardstick greedy's score / LP bound, once per instance."""
    instances = {r["instance"]: r for solver in runs.values() for r in solver}
    return _of_lp(list(instances.values()), "greedy_score")


def _ratio(runs: list[Doc]) -> str:
    """Mean score / LP bound over the instances, naming the runs that gave no answer."""
    if not runs:
        return "-"
    missing = sum(1 for r in runs if not r["score"])
    if missing == len(runs):
        return "no answer"
    mean = _mean(_of_lp(runs))
    cell = "LP pending" if mean is None else f"{mean:.4f}"
    return cell + (f" ({missing} of {len(runs)} no answer)" if missing else "")


def _solver_row(shifts: str, name: str, runs: list[Doc]) -> list[str]:
    walls, ratios = [r["seconds"] for r in runs], _of_lp(runs)
    lowest = f" ({min(ratios):.4f})" if any(ratios) else ""
    return [
        shifts, name, str(len(runs)), f"{sum(r['valid'] for r in runs)} of {len(runs)}",
        _ratio(runs) + lowest,
        f"{statistics.fmean(r['fill'] for r in runs):.3f}",
        f"{statistics.fmean(walls):.1f} ({max(walls):.1f})",
        f"{max(r['peak_mb'] for r in runs):.0f}",
    ]  # fmt: skip


def _engine_plots(results: Path, sizes: dict[tuple[int, int], Runs]) -> list[str]:
    quality: dict[tuple[str, str], float] = {}
    seconds: dict[tuple[str, str], float] = {}
    for (shifts, _), runs in sizes.items():
        group = f"{shifts:,} shifts"
        for solver, name in SOLVERS.items():
            if ratios := _of_lp(runs.get(solver, [])):
                quality[group, name] = statistics.fmean(ratios)
            if runs.get(solver):
                seconds[group, name] = statistics.fmean(r["seconds"] for r in runs[solver])
        if greedy := _greedy(runs):
            quality[group, GREEDY] = statistics.fmean(greedy)
    groups = [f"{shifts:,} shifts" for shifts, _ in sizes]
    low = round(min([0.8, *(v // 0.05 * 0.05 for v in quality.values() if v > 0)]), 2)
    ticks = tuple(round(low + 0.05 * i, 2) for i in range(round((1 - low) / 0.05) + 1))
    title = f"score / LP bound by instance size, mean over instances (axis from {low:.2f})"
    solvers = [*SOLVERS.values(), GREEDY]
    axis = svg.Axis(low, 1.0, ticks, "{:.2f}")
    longest = svg.axis_from_zero(max(seconds.values(), default=0.0))
    return [
        _plot(results, "report-engine-quality.svg",
               svg.bars(title, groups, solvers, quality, axis, "{:.3f}")), "",
        _plot(results, "report-engine-seconds.svg",
               svg.bars("wall seconds by instance size, mean over instances", groups,
                        list(SOLVERS.values()), seconds, longest, "{:.1f}")), "",
    ]  # fmt: skip


def marketplace(results: Path, references: Path) -> Section:
    title = "Engine quality and scale"
    saved = _load(results / "runs.json")
    if not saved or not saved.get("runs"):
        return _not_run(results, title, "runs", "python -m bench.marketplace", "marketplace.md")
    sizes = _sizes(saved, _load(references) or {})
    headline = _table(
        ["shifts", "clinicians", "instances", "engine score / LP bound", "plain CP-SAT", GREEDY,
         "engine fill", "engine wall s"],
        ([f"{shifts:,}", f"{clinicians:,}", str(len({r["instance"] for s in runs.values()
                                                    for r in s})),
          _ratio(runs.get("engine", [])), _ratio(runs.get("plain", [])),
          _f(_mean(_greedy(runs)), ".4f"),
          _f(_mean([r["fill"] for r in runs.get("engine", [])]), ".3f"),
          _f(_mean([r["seconds"] for r in runs.get("engine", [])]), ".1f")]
         for (shifts, clinicians), runs in sizes.items()),
    )  # fmt: skip
    rows = []
    for (shifts, _), runs in sizes.items():
        rows += [_solver_row(f"{shifts:,}", n, runs[s]) for s, n in SOLVERS.items() if s in runs]
        if greedy := _greedy(runs):
            mean, low = statistics.fmean(greedy), min(greedy)
            rows.append([f"{shifts:,}", GREEDY, str(len(greedy)), "-",
                         f"{mean:.4f} ({low:.4f})", "-", "-", "-"])  # fmt: skip
    body = [
        f"## {title}", "", _when(r["measured"] for r in saved["runs"].values() if "measured" in r),
        "", "`python -m bench.marketplace`: `vsm solve` and the plain CP-SAT model of "
        "bench/plain_model.py on the yardstick's instances with the same time limit, every answer "
        "validated by the yardstick; the LP bound and the greedy score are the yardstick's "
        "(bench/references.json). Means over the instances of a size, the lowest or longest in "
        "brackets.", "",
        *_table(["shifts", "solver", "instances", "valid", "score / LP bound (lowest)", "fill",
                 "wall s (longest)", "peak MB"], rows),
        *_engine_plots(results, sizes),
    ]  # fmt: skip
    if (results / "marketplace.svg").exists():
        body += ["Every instance (its table in [marketplace.md](marketplace.md)):", "",
                 "![score / LP bound per instance](marketplace.svg)", ""]  # fmt: skip
    rematch = _rematch(results, list(saved.get("rematches", {}).values()))
    return Section(
        ["Engine score / LP bound, mean over the instances of each size:", "", *headline,
         *rematch.headline],
        body + rematch.body,
    )  # fmt: skip


def _shifts(instance: str) -> str:
    found = SIZE.match(instance)
    return f"{int(found[1]):,} shifts" if found else instance


def _rematch(results: Path, rows: list[Doc]) -> Section:
    title = "Re-matching a solved market"
    if not rows:
        command = "python -m bench.marketplace --only 2000"
        return Section([f"- **{title}**: not measured (`{command}`)."],
                       [f"### {title}", "", f"Not measured: `{command}`.", ""])  # fmt: skip
    rows = sorted(rows, key=lambda r: (len(r["instance"]), r["instance"], r["change"]))
    changes = sorted({r["change"] for r in rows}, reverse=True)  # the new shift first
    times = {(r["instance"].replace("-d14", ""), r["change"]): r["milliseconds"] for r in rows}
    groups = list(dict.fromkeys(group for group, _ in times))
    said = "; ".join(
        f"{change}: "
        + ", ".join(f"{r['milliseconds']:.0f} ms at {_shifts(r['instance'])}" for r in rows
                    if r["change"] == change)
        for change in changes
    )  # fmt: skip
    worst = min(r["ratio"] for r in rows)
    plot = svg.bars("re-matching milliseconds after one change", groups, changes, times,
                    svg.axis_from_zero(max(times.values())), "{:.0f}", slant=True)  # fmt: skip
    body = [
        f"### {title}", "", _when(r["measured"] for r in rows if "measured" in r), "",
        "One new shift and one cancelled booking in a market solved for 60 s, re-matched by the "
        "engine's `Market`; the answer's score against a full re-solve of the changed market "
        "(60 s).", "",
        *_table(["instance", "change", "re-match ms", "score / full re-solve (60 s)"],
                ([r["instance"], r["change"], f"{r['milliseconds']:.0f}", f"{r['ratio']:.4f}"]
                 for r in rows)),
        _plot(results, "report-rematch.svg", plot), "",
    ]  # fmt: skip
    return Section([f"- **{title}**: {said} (at least {worst:.4f} of a full re-solve)."], body)


# The live benchmarks over the real servers (offers.json, simulation.json, gateway.json)


def offers(results: Path) -> Section:
    title = "Shift posted to first offer"
    doc = _load(results / "offers.json")
    if doc is None:
        return _not_run(results, title, "offers", f"{LIVE} python -m bench.offers")
    said = (
        f"{doc['posted']:,} shifts posted at {doc['rate']:g} a second for {doc['seconds']:g} s, "
        f"{doc['clinicians']:,} clinicians"
    )
    headline = (
        f"- **{title}** ({said}): p50 {_f(doc['p50'], '.0f')} ms, p99 {_f(doc['p99'], '.0f')} ms; "
        f"{doc['offered']:,} offered, {doc['never_offered']:,} that no clinician can take."
    )
    body = [
        f"## {title}", "", _measured(doc), "",
        f"`python -m bench.offers` through the real broker and database: {said} "
        f"({doc['seeded_shifts']:,} shifts seeded first, {doc['initial_offers']:,} offers made "
        f"for them). {doc['offered']:,} got an offer; {doc['never_offered']:,} have no clinician "
        "who can take them.", "",
        *_table([f"{k} ms" for k in ("p50", "p90", "p99", "max", "mean")],
                [[_f(doc[k], ".0f") for k in ("p50", "p90", "p99", "max", "mean")]]),
    ]  # fmt: skip
    if (results / "offers.svg").exists():
        body += ["![shift posted to first offer, histogram](offers.svg)", ""]
    return Section([headline], body)


def simulation(results: Path) -> Section:
    title = "A fortnight's market, live"
    doc = _load(results / "simulation.json")
    if doc is None:
        return _not_run(results, title, "simulation", f"{LIVE} python -m bench.simulation")
    policies = {p["policy"]: p for p in doc["policies"]}
    live, batch = policies["live"], policies["batch"]
    said = (
        f"{doc['shifts']:,} shifts, {doc['positions']:,} positions, {doc['clinicians']:,} "
        f"clinicians who accept an offer with probability {doc['accept']:g}"
    )
    others = "".join(
        f"; {k} {p['of_lp_bound']:.3f}" for k, p in policies.items() if k not in ("live", "batch")
    )
    headline = (
        f"- **{title}** ({said}): the live market scores "
        f"{_f(live['score'] / batch['score'] if batch['score'] else None, '.3f')} of the "
        f"engine's batch answer (score / LP bound: live {live['of_lp_bound']:.3f}, batch "
        f"{batch['of_lp_bound']:.3f}{others})."
    )
    ratios = {(k, "score / LP bound"): p["of_lp_bound"] for k, p in policies.items()}
    axis = svg.Axis(0.0, 1.0, (0.0, 0.2, 0.4, 0.6, 0.8, 1.0))
    plot = svg.bars("score / LP bound by policy", list(policies), ["score / LP bound"], ratios,
                    axis, "{:.3f}", slant=True)  # fmt: skip
    valid = "valid" if doc["live_valid"] else "INVALID"
    answers = ", ".join(f"{n:,} {answer}" for answer, n in doc["answers"].items())
    body = [
        f"## {title}", "", _measured(doc), "",
        f"`python -m bench.simulation` on {doc['instance']}: {said}, after 0.1-1.5 s. The live "
        f"run took {doc['live_seconds']:.0f} s; answers: {answers}; the live answer is "
        f"{valid} under the yardstick.", "",
        *_table(["policy", "score", "score / LP bound", "filled positions"],
                [*([f"{p['name']} ({k})", f"{p['score']:.0f}", f"{p['of_lp_bound']:.4f}",
                    _f(p["filled"], "d")] for k, p in policies.items()),
                 ["LP bound", f"{doc['lp_bound']:.0f}", "1", "-"]]),
        _plot(results, "report-simulation.svg", plot), "",
    ]  # fmt: skip
    return Section([headline], body)


def gateway(results: Path) -> Section:
    title = "The gateway under concurrent clients"
    doc = _load(results / "gateway.json")
    if doc is None:
        return _not_run(results, title, "gateway", f"{LIVE} python -m bench.gateway")
    kinds = {"all": doc["all"], **doc["kinds"]}
    said = f"{doc['clients']} clients on loopback for {doc['seconds']:.0f} s"
    headline = (
        f"- **{title}** ({said}): {doc['rate']:.0f} requests a second, {doc['failures']} failed; "
        f"p50 {doc['all']['p50']:,.0f} ms, p99 {doc['all']['p99']:,.0f} ms."
    )
    times = {(k, q): v[q] for k, v in kinds.items() for q in ("p50", "p99")}
    plot = svg.bars("latency by request, ms", list(kinds), ["p50", "p99"], times,
                    svg.axis_from_zero(max(times.values())), "{:.0f}", slant=True)  # fmt: skip
    failed = ", ".join(f"{k}: {n}" for k, n in sorted(doc.get("failure_kinds", {}).items()))
    body = [
        f"## {title}", "", _measured(doc), "",
        f"`python -m bench.gateway` through the whole stack: {said}, {doc['requests']:,} "
        f"requests, {doc['rate']:.0f} a second; {doc['failures']} failed (5xx or transport)"
        f"{': ' + failed if failed else ''}. Mean {doc['all']['mean']:,.0f} ms.", "",
        *_table(["request", "count", "p50 ms", "p99 ms"],
                ([k, f"{v['count']:,}", f"{v['p50']:,.0f}", f"{v['p99']:,.0f}"]
                 for k, v in kinds.items())),
        _plot(results, "report-gateway.svg", plot), "",
    ]  # fmt: skip
    return Section([headline], body)


def build(results: Path, references: Path, written: datetime | None = None) -> str:
    """Draws the plots into `results` and returns the text of REPORT.md."""
    sections = [
        marketplace(results, references),
        offers(results),
        simulation(results),
        gateway(results),
    ]
    written = written or datetime.now(UTC)
    lines = [
        "# Benchmarks",
        "",
        f"Written by `python -m bench.report` at {written:%Y-%m-%d %H:%M} UTC from the JSON "
        "results in this folder; `make bench` measures them all again. Each section says when "
        "its figures were measured.",
        "",
        "## Headline",
        "",
        *(line for section in sections for line in section.headline),
        "",
        *(line for section in sections for line in section.body),
    ]
    return "\n".join(lines).rstrip() + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--results", type=Path, default=BENCH / "results")
    parser.add_argument("--references", type=Path, default=BENCH / "references.json")
    args = parser.parse_args(argv)
    report = args.results / "REPORT.md"
    report.write_text(build(args.results, args.references), encoding="utf-8")
    print(f"wrote {report}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
