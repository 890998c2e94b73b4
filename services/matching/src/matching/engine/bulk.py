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
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import numpy as np
import numpy.typing as npt
from vsm_rules.availability import FreeSpans
from vsm_rules.grants import Grant, grants
from vsm_rules.time_off import local_days

from matching.engine.problem import Clinician, Problem, Shift

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
NEVER = np.iinfo(np.int64).max
Ints = npt.NDArray[np.int64]
Bools = npt.NDArray[np.bool_]


def micros(instant: datetime) -> int:
    """An instant as whole microseconds since the epoch (exact, unlike a float timestamp)."""
    return (instant - EPOCH) // timedelta(microseconds=1)


@dataclass(frozen=True, slots=True)
class CandidateTable:
    """Eligible, profitable pairs as parallel arrays: shift ids, clinician ids, gains."""

    shifts: tuple[str, ...]
    clinicians: tuple[str, ...]
    gains: tuple[int, ...]

    def __len__(self) -> int:
        return len(self.gains)

    def pairs(self) -> list[tuple[str, str]]:
        return list(zip(self.shifts, self.clinicians, strict=True))


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
        needs: dict[str, list[int]] = defaultdict(list)
        for i, s in enumerate(shifts):
            for j in set(s.patient_jurisdictions):
                needs[j].append(i)
        self.needs: dict[str, Bools] = {}
        for j, rows in needs.items():
            mask = np.zeros(len(shifts), dtype=np.bool_)
            mask[rows] = True
            self.needs[j] = mask


def bulk_candidates(problem: Problem) -> CandidateTable:
    """Every eligible, profitable pair, by shift then clinician (as `candidates.candidates`)."""
    by_profession: dict[str, list[Shift]] = defaultdict(list)
    for shift in problem.shifts.values():
        by_profession[shift.profession].append(shift)
    arrays = {p: _ProfessionShifts(s) for p, s in by_profession.items()}
    first = min([problem.horizon_start, *(s.start for s in problem.shifts.values())])
    last = max([problem.horizon_end, *(s.end for s in problem.shifts.values())])
    barred: dict[str, set[str]] = defaultdict(set)
    for facility, clinician_ids in problem.do_not_return.items():
        for clinician_id in clinician_ids:
            barred[clinician_id].add(facility)
    excluded: dict[str, set[str]] = defaultdict(set)
    for shift_id, clinician_id in problem.excluded:
        excluded[clinician_id].add(shift_id)
    out_shifts: list[str] = []
    out_clinicians: list[str] = []
    out_gains: list[int] = []
    for clinician in problem.clinicians.values():
        table = arrays.get(clinician.profession)
        if table is None:
            continue
        rows = _available_rows(table, clinician, first, last)
        if rows.size:
            rows = rows[_allowed(problem, table, clinician, rows, barred, excluded)]
        gains = table.value[rows] - clinician.rate_cents_per_hour * table.seconds[rows]
        for row, gain in zip(rows.tolist(), gains.tolist(), strict=True):
            out_shifts.append(table.ids[row])
            out_clinicians.append(clinician.id)
            out_gains.append(gain)
    order = sorted(range(len(out_gains)), key=lambda i: (out_shifts[i], out_clinicians[i]))
    return CandidateTable(
        tuple(out_shifts[i] for i in order),
        tuple(out_clinicians[i] for i in order),
        tuple(out_gains[i] for i in order),
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
    """Rule 3: for every patient jurisdiction a shift needs, some grant covers the shift."""
    ok = np.ones(rows.size, dtype=np.bool_)
    for jurisdiction, needs in table.needs.items():
        needed = needs[rows]
        if not needed.any():
            continue
        held = grants(clinician.licensing, clinician.profession, jurisdiction, problem.tables)
        ok &= ~needed | _covered(held, table, rows)
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


__all__ = ["CandidateTable", "bulk_candidates", "micros"]
