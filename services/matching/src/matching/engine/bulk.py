"""Candidate generation in bulk: the same pair-alone rules as `candidates.pair_allowed`, with
the per-pair work done on arrays, one clinician at a time.

For each clinician only the shifts of their profession that start inside one of their free
spans are looked at (two binary searches per span); skills, do-not-return, profit, rest beside
bookings and licensing are then masks over those shifts. Licensing uses `vsm_rules.grants` (the
decision in bulk form, held to `decide` by property tests): a shift is allowed when, for every
patient jurisdiction, a grant of the clinician covers it. Time off, rare, goes through the
per-pair rule. A test holds the result to `candidates.candidates` on generated instances.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import numpy as np
import numpy.typing as npt
from vsm_rules.availability import FreeSpans
from vsm_rules.grants import Grant, grants_by_jurisdiction
from vsm_rules.time_off import local_days

from matching.engine.problem import Clinician, Problem, Shift

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
NEVER = np.iinfo(np.int64).max
Floats = npt.NDArray[np.float64]
Ints = npt.NDArray[np.int64]
Bools = npt.NDArray[np.bool_]


def micros(instant: datetime) -> int:
    """An instant as whole microseconds since the epoch (exact, unlike a float timestamp)."""
    return (instant - EPOCH) // timedelta(microseconds=1)


@dataclass(frozen=True, slots=True)
class CandidateTable:
    """Eligible, profitable pairs as parallel arrays (clinician by clinician): indices into
    `shift_ids` and `clinician_ids`, and gains (score x 3,600)."""

    shift_ids: list[str]
    clinician_ids: list[str]
    shift: Ints
    clinician: Ints
    gain: Ints

    def __len__(self) -> int:
        return int(self.gain.size)

    def pairs(self) -> list[tuple[str, str]]:
        shifts, clinicians = self.shift_ids, self.clinician_ids
        return [
            (shifts[s], clinicians[c])
            for s, c in zip(self.shift.tolist(), self.clinician.tolist(), strict=True)
        ]

    def subset(self, mask: Bools) -> CandidateTable:
        """The pairs where `mask` holds."""
        return CandidateTable(
            self.shift_ids, self.clinician_ids,
            self.shift[mask], self.clinician[mask], self.gain[mask],
        )  # fmt: skip

    def ranks(self, by_clinician: bool = False, worth: Floats | None = None) -> Ints:
        """Each pair's place among its shift's (or clinician's) pairs by falling gain, or by
        falling `worth` when given (0 for the best)."""
        owner = self.clinician if by_clinician else self.shift
        order = np.lexsort((-(self.gain if worth is None else worth), owner))
        shifts = owner[order]
        first = np.searchsorted(shifts, shifts, side="left")
        rank = np.empty(self.gain.size, dtype=np.int64)
        rank[order] = np.arange(self.gain.size) - first
        return rank

    def holds(self, pairs: Iterable[tuple[str, str]]) -> Bools:
        """Where the table holds one of `pairs`."""
        shifts = {s: i for i, s in enumerate(self.shift_ids)}
        clinicians = {c: i for i, c in enumerate(self.clinician_ids)}
        width = len(clinicians) + 1
        wanted = [shifts[s] * width + clinicians[c] for s, c in pairs
                  if s in shifts and c in clinicians]  # fmt: skip
        return np.isin(self.shift * width + self.clinician, np.array(wanted, dtype=np.int64))

    def gains(self) -> dict[tuple[str, str], int]:
        return dict(zip(self.pairs(), self.gain.tolist(), strict=True))


class _ProfessionShifts:
    """One profession's shifts sorted by start, as arrays."""

    def __init__(self, shifts: list[Shift]) -> None:
        shifts.sort(key=lambda s: (s.start, s.id))
        self.shifts = shifts
        self.ids = [s.id for s in shifts]
        self.start = np.array([micros(s.start) for s in shifts], dtype=np.int64)
        self.end = np.array([micros(s.end) for s in shifts], dtype=np.int64)
        self.day = np.array([s.start.astimezone(UTC).toordinal() for s in shifts], dtype=np.int64)
        self.last_day = np.array(
            [
                max(s.start.astimezone(UTC).toordinal(), (s.end - timedelta(microseconds=1))
                    .astimezone(UTC).toordinal()) if s.end > s.start
                else s.start.astimezone(UTC).toordinal()
                for s in shifts
            ],
            dtype=np.int64,
        )  # fmt: skip
        self.value = np.array([s.value_cents * 3600 for s in shifts], dtype=np.int64)
        self.seconds = np.array([s.seconds for s in shifts], dtype=np.int64)
        skill_sets = sorted({s.skills for s in shifts}, key=sorted)
        self.skill_sets = skill_sets
        index = {k: i for i, k in enumerate(skill_sets)}
        self.skill_set = np.array([index[s.skills] for s in shifts], dtype=np.int64)
        facilities = sorted({s.facility for s in shifts})
        self.facility_index = {f: i for i, f in enumerate(facilities)}
        self.facility = np.array([self.facility_index[s.facility] for s in shifts], dtype=np.int64)
        self.jurisdictions = sorted({j for s in shifts for j in s.patient_jurisdictions})
        numbered = {j: i for i, j in enumerate(self.jurisdictions)}
        widest = max((len(set(s.patient_jurisdictions)) for s in shifts), default=0)
        self.needs = np.full((len(shifts), widest), -1, dtype=np.int64)  # jurisdiction indices
        for i, s in enumerate(shifts):
            for k, j in enumerate(sorted(set(s.patient_jurisdictions))):
                self.needs[i, k] = numbered[j]


class CandidateIndex:
    """A market's shifts as arrays by profession, ready to find any clinician's pairs."""

    def __init__(self, problem: Problem) -> None:
        self.problem = problem
        by_profession: dict[str, list[Shift]] = defaultdict(list)
        for shift in problem.shifts.values():
            by_profession[shift.profession].append(shift)
        self.arrays = {p: _ProfessionShifts(s) for p, s in by_profession.items()}
        self.first = min([problem.horizon_start, *(s.start for s in problem.shifts.values())])
        self.last = max([problem.horizon_end, *(s.end for s in problem.shifts.values())])
        self.barred: dict[str, set[str]] = defaultdict(set)
        for facility, unwelcome in problem.do_not_return.items():
            for clinician_id in unwelcome:
                self.barred[clinician_id].add(facility)
        self.excluded: dict[str, set[str]] = defaultdict(set)
        for shift_id, clinician_id in problem.excluded:
            self.excluded[clinician_id].add(shift_id)
        self.shift_ids = list(problem.shifts)
        shift_index = {shift_id: i for i, shift_id in enumerate(self.shift_ids)}
        self.global_rows = {p: np.array([shift_index[i] for i in t.ids], dtype=np.int64)
                            for p, t in self.arrays.items()}  # fmt: skip

    def pairs_of(self, clinician: Clinician) -> tuple[Ints, Ints]:
        """The clinician's eligible, profitable shifts (indices into `shift_ids`) and gains."""
        table = self.arrays.get(clinician.profession)
        if table is None:
            return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int64)
        rows = _available_rows(table, clinician, self.first, self.last)
        if rows.size:
            allowed = _allowed(self.problem, table, clinician, rows, self.barred, self.excluded)
            rows = rows[allowed]
        gains = table.value[rows] - clinician.rate_cents_per_hour * table.seconds[rows]
        return self.global_rows[clinician.profession][rows], gains


def bulk_candidates(problem: Problem) -> CandidateTable:
    """Every eligible, profitable pair (the pairs of `candidates.candidates`), by clinician."""
    index = CandidateIndex(problem)
    out_shifts: list[Ints] = []
    out_clinicians: list[Ints] = []
    out_gains: list[Ints] = []
    for number, clinician in enumerate(problem.clinicians.values()):
        rows, gains = index.pairs_of(clinician)
        if rows.size:
            out_shifts.append(rows)
            out_clinicians.append(np.full(rows.size, number, dtype=np.int64))
            out_gains.append(gains)
    empty = np.empty(0, dtype=np.int64)
    return CandidateTable(
        index.shift_ids,
        list(problem.clinicians),
        np.concatenate(out_shifts) if out_shifts else empty,
        np.concatenate(out_clinicians) if out_clinicians else empty,
        np.concatenate(out_gains) if out_gains else empty,
    )


def _available_rows(
    table: _ProfessionShifts, clinician: Clinician, first: datetime, last: datetime
) -> Ints:
    """Shifts that start and end inside one free span of the clinician."""
    spans = FreeSpans(clinician.availability, clinician.zone, first, last).spans
    if not spans:
        return np.empty(0, dtype=np.int64)
    opens = np.array([micros(s.start) for s in spans], dtype=np.int64)
    closes = np.array([micros(s.end) for s in spans], dtype=np.int64)
    lo = np.searchsorted(table.start, opens, side="left")
    hi = np.searchsorted(table.start, closes, side="left")
    sizes = hi - lo
    total = int(sizes.sum())
    if total == 0:
        return np.empty(0, dtype=np.int64)
    span_of = np.repeat(np.arange(len(spans)), sizes)
    offsets = np.arange(total) - np.repeat(np.cumsum(sizes) - sizes, sizes)
    rows: Ints = (lo[span_of] + offsets).astype(np.int64)
    inside: Ints = rows[table.end[rows] <= closes[span_of]]
    return inside


def _allowed(
    problem: Problem,
    table: _ProfessionShifts,
    clinician: Clinician,
    rows: Ints,
    barred: dict[str, set[str]],
    excluded: dict[str, set[str]],
) -> Bools:
    """The mask of rows the clinician may take: every pair-alone rule but availability."""
    fits = np.array([s <= clinician.skills for s in table.skill_sets], dtype=np.bool_)
    ok = fits[table.skill_set[rows]]
    ok &= table.value[rows] > clinician.rate_cents_per_hour * table.seconds[rows]
    for facility in barred.get(clinician.id, ()):
        if facility in table.facility_index:
            ok &= table.facility[rows] != table.facility_index[facility]
    rest = clinician.min_rest_minutes * 60_000_000
    for b0, b1 in clinician.booked:
        ok &= ~((micros(b0) < table.end[rows] + rest) & (table.start[rows] - rest < micros(b1)))
    if clinician.profession in problem.licensed_professions:
        ok &= _licensed(problem, table, clinician, rows)
    if clinician.time_off or clinician.id in excluded:
        ok &= np.array([_per_pair_ok(problem, clinician, table.shifts[r]) for r in rows.tolist()],
                       dtype=np.bool_)  # fmt: skip
    return ok


def _licensed(
    problem: Problem, table: _ProfessionShifts, clinician: Clinician, rows: Ints
) -> Bools:
    """Rule 3: for every patient jurisdiction a shift needs, some grant covers the shift.

    Jurisdictions with the same grants share one coverage mask; each shift then looks up the
    mask of each jurisdiction it needs."""
    needs = table.needs[rows]
    named = np.unique(needs[needs >= 0])
    found = grants_by_jurisdiction(
        clinician.licensing,
        clinician.profession,
        [table.jurisdictions[j] for j in named.tolist()],
        problem.tables,
    )
    distinct = list(dict.fromkeys(found.values()))
    group = np.zeros(len(table.jurisdictions), dtype=np.int64)
    for j in named.tolist():
        group[j] = distinct.index(found[table.jurisdictions[j]])
    covered = np.stack(
        [_covered(held, table, rows) for held in distinct] or [np.ones(rows.size, dtype=np.bool_)]
    )
    ok = np.ones(rows.size, dtype=np.bool_)
    columns = np.arange(rows.size)
    for k in range(needs.shape[1]):
        need = needs[:, k]
        ok &= (need < 0) | covered[group[np.maximum(need, 0)], columns]
    return ok


def _covered(held: tuple[Grant, ...], table: _ProfessionShifts, rows: Ints) -> Bools:
    covered = np.zeros(rows.size, dtype=np.bool_)
    for grant in held:
        covered |= (
            (table.day[rows] >= _ordinal(grant.first_day))
            & (table.last_day[rows] <= _ordinal(grant.last_day))
            & (table.end[rows] <= (NEVER if grant.until is None else micros(grant.until)))
        )
    return covered


def _ordinal(day: date) -> int:
    return day.toordinal()


def _per_pair_ok(problem: Problem, clinician: Clinician, shift: Shift) -> bool:
    if (shift.id, clinician.id) in problem.excluded:
        return False
    touched = set(local_days(clinician.zone, shift.start, shift.end))
    return not (clinician.time_off and touched & clinician.time_off)


__all__ = ["CandidateIndex", "CandidateTable", "bulk_candidates", "micros"]
