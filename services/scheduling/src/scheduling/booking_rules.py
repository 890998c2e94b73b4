"""Whether a clinician may be booked on a shift, rule by rule, each with a reason a person can
read: the hard rules of the marketplace for one booking, from `vsm_rules` (licensing is decided
by the licensing service and passed in). Free positions are the ledger's to count."""

from __future__ import annotations

from collections.abc import Iterable

from vsm_rules.availability import availability_verdict
from vsm_rules.pay import pay_verdict
from vsm_rules.rest import rest_verdict
from vsm_rules.role import do_not_return_verdict, profession_verdict, skills_verdict
from vsm_rules.time_off import time_off_verdict
from vsm_rules.verdict import Verdict
from vsm_rules.weekly_hours import Interval, weekly_hours_verdict

from scheduling.marketplace import Facility, Shift, ShiftStatus, WorkProfile


def open_verdict(shift: Shift) -> Verdict:
    """A shift takes bookings until it is cancelled."""
    if shift.status == ShiftStatus.OPEN:
        return Verdict.allow("shift", "open")
    return Verdict.refuse("shift", f"shift {shift.id} was cancelled")


def booking_verdicts(
    shift: Shift,
    facility: Facility,
    profile: WorkProfile,
    bookings: Iterable[Interval],
    licensing: Verdict,
    offered_rate_cents_per_hour: int = 0,
) -> list[Verdict]:
    """Every hard rule's verdict for booking `profile` on `shift`, given the clinician's other
    bookings (intervals) and the licensing service's verdict. A booking that accepts an offer
    honours the offer's rate, made within the pay of its day."""
    others = sorted(bookings)
    return [
        open_verdict(shift),
        profession_verdict(profile.profession, shift.profession),
        skills_verdict(profile.skills, shift.skills),
        licensing,
        do_not_return_verdict(profile.clinician_id, facility.id, facility.do_not_return),
        pay_verdict(profile.rate_cents_per_hour, shift.pay_cents_per_hour)
        if not offered_rate_cents_per_hour
        else Verdict.allow(
            "pay",
            f"the offer's rate, {offered_rate_cents_per_hour / 100:.2f}, fixed when it was made",
        ),
        availability_verdict(profile.availability, profile.zone, shift.start, shift.end),
        time_off_verdict(profile.time_off, profile.zone, shift.start, shift.end),
        rest_verdict(others, shift.start, shift.end, profile.min_rest_minutes, profile.zone),
        weekly_hours_verdict(
            others, shift.start, shift.end, profile.zone, profile.max_minutes_per_week
        ),
    ]


def refusals(verdicts: Iterable[Verdict]) -> list[Verdict]:
    return [v for v in verdicts if not v.allowed]
