"""What the market says back, without giving anyone's private details away.

- To a facility, why a shift is unfilled: the clinicians of its profession counted through each
  rule in turn (skills, licences for each patient jurisdiction, declared hours, time off, the
  facility's own do-not-return list, other bookings, rest and weekly limits, pay) and the
  answers to its offers, said in aggregate ("no RN licensed for US-NJ available 02:00-06:00
  EST"). No clinician is named.
- To a clinician, why they were not offered a shift: each rule's verdict about them, where a
  facility's do-not-return list reads only "not available for this facility".
- Supply for the heat map: per patient jurisdiction and hour, how many clinicians of a
  profession could work there then (licensed on trusted records, inside declared hours).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from vsm_rules.availability import FreeSpans
from vsm_rules.eligibility import decide
from vsm_rules.jurisdictions import US_STATES
from vsm_rules.pay import pay_verdict
from vsm_rules.records import LicensingRecord
from vsm_rules.rest import rest_verdict
from vsm_rules.role import do_not_return_verdict, profession_verdict, skills_verdict
from vsm_rules.time_off import time_off_verdict
from vsm_rules.verdict import Verdict
from vsm_rules.weekly_hours import weekly_hours_verdict

from matching.offer_store import Kept
from matching.offers import Outcome
from matching.read_model import LICENSED, MarketView, ProfileView, ShiftView

NOT_AVAILABLE_HERE = "not available for this facility"


def _record(view: MarketView, clinician_id: str) -> LicensingRecord:
    """The record trusting every verification: supply counts anyone who could work somewhere
    (a partner-vouched clinician counts though only its organisation may book them)."""
    return view.records.get(clinician_id, (0, LicensingRecord(None)))[1]


def licensing_verdicts(view: MarketView, shift: ShiftView, clinician_id: str) -> dict[str, Verdict]:
    """Each patient jurisdiction's licensing verdict (all allowed for an unlicensed role)."""
    if shift.profession not in LICENSED:
        return {j: Verdict.allow("licensing", "an unlicensed role") for j in
                shift.patient_jurisdictions}  # fmt: skip
    decision = decide(view.record_for(clinician_id, shift.facility_id), shift.profession,
                      shift.patient_jurisdictions,
                      view.tables, interval=(shift.start, shift.end))  # fmt: skip
    return dict(decision.verdicts)


def _others(
    view: MarketView, shift: ShiftView, clinician_id: str
) -> list[tuple[datetime, datetime]]:
    return sorted((b.start, b.end) for (s, c), b in view.bookings.items()
                  if c == clinician_id and s != shift.id)  # fmt: skip


def pair_verdicts(view: MarketView, shift: ShiftView, profile: ProfileView) -> list[Verdict]:
    """Every rule's verdict for offering `shift` to this clinician."""
    facility = view.facilities.get(shift.facility_id)
    barred = facility.do_not_return if facility else frozenset()
    licences = licensing_verdicts(view, shift, profile.clinician_id)
    refused = [v for v in licences.values() if not v.allowed]
    licensing = Verdict.allow("licensing", "licensed for every patient jurisdiction")
    if refused:
        licensing = Verdict.refuse("licensing", *[r for v in refused for r in v.reasons])
    others = _others(view, shift, profile.clinician_id)
    zone = profile.zone
    free = FreeSpans(profile.availability, zone, shift.start, shift.end)
    return [
        profession_verdict(profile.profession, shift.profession),
        skills_verdict(profile.skills, shift.skills),
        licensing,
        do_not_return_verdict(profile.clinician_id, shift.facility_id, barred),
        free.verdict(shift.start, shift.end),
        time_off_verdict(profile.time_off, zone, shift.start, shift.end),
        rest_verdict(others, shift.start, shift.end, profile.min_rest_minutes, zone),
        weekly_hours_verdict(others, shift.start, shift.end, zone, profile.max_minutes_per_week),
        pay_verdict(profile.rate_cents_per_hour, shift.pay_cents_per_hour),
    ]


def for_clinician(verdicts: Iterable[Verdict]) -> list[str]:
    """The refusals a clinician may read: a facility's do-not-return list stays private."""
    said = []
    for verdict in verdicts:
        if verdict.allowed:
            continue
        said.append(NOT_AVAILABLE_HERE if verdict.rule == "do_not_return" else verdict.explain())
    return said


@dataclass(frozen=True, slots=True)
class Funnel:
    """How many clinicians of the profession pass each rule in turn."""

    registered: int
    skilled: int
    licensed: int
    available: int
    not_off: int
    not_barred: int
    free: int
    affordable: int
    unlicensed_in: tuple[str, ...]  # jurisdictions where no skilled clinician is licensed


def funnel(view: MarketView, shift: ShiftView) -> Funnel:
    pool = [p for p in view.profiles.values() if p.profession == shift.profession]
    skilled = [p for p in pool if skills_verdict(p.skills, shift.skills).allowed]
    licensed_in: Counter[str] = Counter()
    licensed = []
    for p in skilled:
        verdicts = licensing_verdicts(view, shift, p.clinician_id)
        licensed_in.update(j for j, v in verdicts.items() if v.allowed)
        if all(v.allowed for v in verdicts.values()):
            licensed.append(p)
    available = [p for p in licensed
                 if FreeSpans(p.availability, p.zone, shift.start, shift.end).covers(
                     shift.start, shift.end)]  # fmt: skip
    not_off = [p for p in available
               if time_off_verdict(p.time_off, p.zone, shift.start, shift.end).allowed]  # fmt: skip
    facility = view.facilities.get(shift.facility_id)
    barred = facility.do_not_return if facility else frozenset()
    not_barred = [p for p in not_off if p.clinician_id not in barred]
    free = []
    for p in not_barred:
        others = _others(view, shift, p.clinician_id)
        if (rest_verdict(others, shift.start, shift.end, p.min_rest_minutes, p.zone).allowed
                and weekly_hours_verdict(others, shift.start, shift.end, p.zone,
                                         p.max_minutes_per_week).allowed):  # fmt: skip
            free.append(p)
    affordable = [p for p in free if p.rate_cents_per_hour <= shift.pay_cents_per_hour]
    return Funnel(
        len(pool), len(skilled), len(licensed), len(available), len(not_off), len(not_barred),
        len(free), len(affordable),
        tuple(j for j in shift.patient_jurisdictions if licensed_in[j] == 0),
    )  # fmt: skip


def _hours(shift: ShiftView, zone: str) -> str:
    tz = ZoneInfo(zone)
    start, end = shift.start.astimezone(tz), shift.end.astimezone(tz)
    return f"{start:%H:%M}-{end:%H:%M} {start.tzname()}"


def unfilled_reasons(view: MarketView, shift: ShiftView, offers: Iterable[Kept]) -> list[str]:
    """Why the shift is not filled yet, in aggregate (no clinician named)."""
    facility = view.facilities.get(shift.facility_id)
    zone = facility.zone if facility else "UTC"
    f = funnel(view, shift)
    p = shift.profession
    reasons = []
    if f.registered == 0:
        reasons.append(f"no {p} clinician is registered yet")
    elif f.skilled == 0:
        reasons.append(f"no {p} clinician has the skills {', '.join(sorted(shift.skills))}")
    elif f.licensed == 0:
        where = ", ".join(f.unlicensed_in or shift.patient_jurisdictions)
        reasons.append(f"no {p} clinician with the skills is licensed for {where}")
    elif f.available == 0:
        where = ", ".join(shift.patient_jurisdictions) or "this work"
        reasons.append(f"no {p} licensed for {where} is available {_hours(shift, zone)}")
    elif f.not_off == 0:
        reasons.append(f"every {p} licensed and available then has that day off")
    elif f.not_barred == 0:
        reasons.append(f"the only {p} clinicians who fit are on your do-not-return list")
    elif f.free == 0:
        reasons.append(f"the {f.not_barred} {p} clinicians who fit are booked then, need their "
                       "rest, or have reached their weekly hours")  # fmt: skip
    elif f.affordable == 0:
        pay = shift.pay_cents_per_hour / 100
        reasons.append(f"{_count(f.free, f'{p} clinician')} who fit ask more than "
                       f"${pay:.2f} per hour")  # fmt: skip
    answers = Counter(k.outcome for k in offers)
    if answers[Outcome.DECLINED] or answers[Outcome.EXPIRED]:
        reasons.append(f"{answers[Outcome.DECLINED]} declined and {answers[Outcome.EXPIRED]} "
                       "let the offer expire")  # fmt: skip
    if answers[None]:
        waiting = answers[None]
        reasons.append(f"{_count(waiting, 'offer')} {'is' if waiting == 1 else 'are'} awaiting "
                       "an answer")  # fmt: skip
    if not reasons:
        reasons.append(f"{_count(f.affordable, f'{p} clinician')} fit; offers go out as the "
                       "market moves")  # fmt: skip
    return reasons


def _count(n: int, noun: str) -> str:
    """A count and its noun: 1 offer, 2 offers."""
    return f"{n} {noun}{'' if n == 1 else 's'}"


def supply(
    view: MarketView, profession: str, start: datetime, hours: int,
    jurisdictions: Iterable[str] = US_STATES,
) -> dict[tuple[str, datetime], int]:  # fmt: skip
    """For each jurisdiction and each hour from `start` (UTC, whole hours): how many clinicians
    of the profession could work there for that hour (trusted licence, inside declared hours).
    Zero counts are left out."""
    places = list(jurisdictions)
    counts: Counter[tuple[str, datetime]] = Counter()
    end = start + timedelta(hours=hours)
    for p in view.profiles.values():
        if p.profession != profession:
            continue
        free = FreeSpans(p.availability, p.zone, start, end)
        starts = [start + timedelta(hours=h) for h in range(hours)]
        open_hours = [t for t in starts if free.covers(t, t + timedelta(hours=1))]
        if not open_hours:
            continue
        if profession in LICENSED:
            record = _record(view, p.clinician_id)
            allowed = [j for j in places if decide(record, profession, [j], view.tables,
                                                   interval=(start, end)).allowed]  # fmt: skip
        else:
            allowed = places
        for j in allowed:
            for hour in open_hours:
                counts[(j, hour)] += 1
    return dict(counts)


__all__ = ["Funnel", "for_clinician", "funnel", "pair_verdicts", "supply", "unfilled_reasons"]
