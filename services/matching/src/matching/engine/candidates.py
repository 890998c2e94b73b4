"""Which clinicians may ever take which shifts: every rule that concerns one pair alone (profession,
skills, do-not-return, availability, time off, licensing, rest beside bookings), through the rules
of vsm_rules, cheapest checks first. Pairs that would lose money are left out: they never help."""

from __future__ import annotations

from bisect import bisect_left
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from vsm_rules.availability import FreeSpans
from vsm_rules.eligibility import decide
from vsm_rules.rest import clashes
from vsm_rules.time_off import local_days

from matching.engine.problem import Clinician, Pair, Problem, Shift


@dataclass(frozen=True, slots=True)
class Candidate:
    """An eligible pair and its gain (score x 3,600)."""

    shift: str
    clinician: str
    gain: int


def licensed_for(
    problem: Problem, clinician: Clinician, shift: Shift, memo: dict[tuple[object, ...], bool]
) -> bool:
    """Rule 3 through vsm_rules' one licensing decision, remembered per clinician, patient
    jurisdictions, start date and end (all the decision depends on)."""
    if shift.profession not in problem.licensed_professions:
        return True
    key = (clinician.id, shift.profession, shift.patient_jurisdictions, shift.start.date(),
           shift.end)  # fmt: skip
    known = memo.get(key)
    if known is not None:
        return known
    memo[key] = decide(
        clinician.licensing, shift.profession, shift.patient_jurisdictions, problem.tables,
        interval=(shift.start, shift.end),
    ).allowed  # fmt: skip
    return memo[key]


def pair_allowed(
    problem: Problem, clinician: Clinician, shift: Shift, memo: dict[tuple[object, ...], bool]
) -> bool:
    """Every rule of one pair alone but availability (settled by the caller), cheapest first."""
    return (
        clinician.profession == shift.profession
        and shift.skills <= clinician.skills
        and clinician.id not in problem.do_not_return.get(shift.facility, frozenset())
        and not (clinician.time_off and set(local_days(clinician.zone, shift.start, shift.end))
                 & clinician.time_off)
        and not clashes(clinician.booked, shift.start, shift.end, clinician.min_rest_minutes)
        and licensed_for(problem, clinician, shift, memo)
    )  # fmt: skip


def candidates(problem: Problem) -> list[Candidate]:
    """Every eligible, profitable pair, by shift then clinician.

    Availability does the heavy pruning: for each clinician, only the shifts of their profession
    that start inside one of their free spans are looked at (a binary search per span), and a
    shift is available exactly when it also ends inside that span.
    """
    shifts_by_profession: dict[str, list[Shift]] = defaultdict(list)
    for shift in problem.shifts.values():
        shifts_by_profession[shift.profession].append(shift)
    starts: dict[str, list[datetime]] = {}
    for profession, shifts in shifts_by_profession.items():
        shifts.sort(key=lambda s: (s.start, s.id))
        starts[profession] = [s.start for s in shifts]
    first = min([problem.horizon_start, *(s.start for s in problem.shifts.values())])
    last = max([problem.horizon_end, *(s.end for s in problem.shifts.values())])
    found: list[Candidate] = []
    memo: dict[tuple[object, ...], bool] = {}
    for clinician in problem.clinicians.values():
        shifts = shifts_by_profession.get(clinician.profession, [])
        if not shifts:
            continue
        opens = starts[clinician.profession]
        for span in FreeSpans(clinician.availability, clinician.zone, first, last).spans:
            for shift in shifts[bisect_left(opens, span.start) : bisect_left(opens, span.end)]:
                if shift.end > span.end or (shift.id, clinician.id) in problem.excluded:
                    continue
                gain = problem.gain_scaled(shift, clinician)
                if gain > 0 and pair_allowed(problem, clinician, shift, memo):
                    found.append(Candidate(shift.id, clinician.id, gain))
    found.sort(key=lambda c: (c.shift, c.clinician))
    return found


def components(pairs: Iterable[Pair]) -> list[list[Pair]]:
    """Pairs split into groups that share no shift and no clinician: groups never interact, so
    each is solved on its own (union-find over shifts and clinicians)."""
    parent: dict[str, str] = {}

    def find(node: str) -> str:
        while parent.setdefault(node, node) != node:
            parent[node] = parent[parent[node]]
            node = parent[node]
        return node

    listed = list(pairs)
    for shift, clinician in listed:
        parent[find("s:" + shift)] = find("c:" + clinician)
    groups: dict[str, list[Pair]] = defaultdict(list)
    for pair in listed:
        groups[find("s:" + pair[0])].append(pair)
    return sorted(groups.values(), key=len)
