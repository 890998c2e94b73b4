"""Every rule's verdict for one (clinician, shift) pair of a `vsm-match/1` instance, in the order
of FORMAT.md: profession, skills, licensing, do-not-return, availability, then rest and weekly
hours against the clinician's existing bookings. Used by `vsm explain` and checked against the
benchmark's validator."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from vsm_rules.availability import FreeSpans
from vsm_rules.compacts import CompactTables
from vsm_rules.eligibility import decide
from vsm_rules.errors import NotFound
from vsm_rules.match_instance import MatchInstance, MatchShift, parse_instant
from vsm_rules.records import record_from_instance
from vsm_rules.rest import rest_verdict
from vsm_rules.role import do_not_return_verdict, profession_verdict, skills_verdict
from vsm_rules.verdict import Verdict
from vsm_rules.weekly_hours import weekly_hours_verdict

# The rules that concern one clinician and one shift alone (FORMAT.md rules 1-5).
PAIR_RULES = ("profession", "skills", "licensing", "do_not_return", "availability")


def booked_intervals(clinician: Mapping[str, Any]) -> list[tuple[datetime, datetime]]:
    return sorted(
        (
            parse_instant(b.get("start"), f"booked[{i}].start"),
            parse_instant(b.get("end"), f"booked[{i}].end"),
        )
        for i, b in enumerate(clinician.get("booked", []))
    )


def licensing_verdict(
    instance: MatchInstance, clinician: Mapping[str, Any], shift: MatchShift, tables: CompactTables
) -> Verdict:
    """Rule 3, one verdict for all patient jurisdictions, each named in the evidence."""
    if not instance.licensed_profession(shift.profession):
        return Verdict.allow("licensing", f"{shift.profession} is not a licensed role")
    decision = decide(
        record_from_instance(clinician),
        shift.profession,
        shift.patient_jurisdictions,
        tables,
        interval=(shift.start, shift.end),
    )
    evidence = tuple(f"{j}: {v.explain()}" for j, v in decision.verdicts.items())
    if decision.allowed:
        bases = "; ".join(f"{j}: {v.basis}" for j, v in decision.verdicts.items())
        return Verdict.allow("licensing", bases, *evidence)
    reasons = [r for v in decision.verdicts.values() if not v.allowed for r in v.reasons]
    return Verdict.refuse("licensing", *reasons, evidence=evidence)


def explain_pair(
    instance: MatchInstance, shift_id: str, clinician_id: str, tables: CompactTables | None = None
) -> list[Verdict]:
    """The verdict of every rule for this pair; NotFound names an unknown id."""
    shift = instance.shifts.get(shift_id)
    if shift is None:
        raise NotFound(f"shift {shift_id!r} is not in the instance")
    clinician = instance.clinicians.get(clinician_id)
    if clinician is None:
        raise NotFound(f"clinician {clinician_id!r} is not in the instance")
    tables = tables or CompactTables.from_instance(
        instance.document.get("compacts", []), instance.document.get("professions")
    )
    zone = clinician["tz"]
    facility = instance.facilities[shift.facility]
    free = FreeSpans(clinician.get("availability", []), zone, instance.horizon_start,
                     instance.horizon_end)  # fmt: skip
    booked = booked_intervals(clinician)
    return [
        profession_verdict(clinician["profession"], shift.profession),
        skills_verdict(clinician.get("skills", []), shift.skills),
        licensing_verdict(instance, clinician, shift, tables),
        do_not_return_verdict(clinician_id, facility.id, facility.do_not_return),
        free.verdict(shift.start, shift.end),
        rest_verdict(booked, shift.start, shift.end, clinician.get("min_rest_minutes", 0), zone),
        weekly_hours_verdict(
            booked, shift.start, shift.end, zone, clinician.get("max_minutes_per_week", 10080)
        ),
    ]
