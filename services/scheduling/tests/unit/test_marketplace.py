"""Facilities, shifts posted in the facility's wall time, work profiles, the cancellation policy
and every booking rule with a reason."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest
from scheduling.booking_rules import booking_verdicts, refusals
from scheduling.marketplace import (
    CancellationPolicy,
    Facility,
    ShiftDraft,
    ShiftStatus,
    WorkProfile,
    check_within_reach,
    post_shift,
)
from vsm_rules.availability import AvailabilityWindow
from vsm_rules.errors import InvalidArgument
from vsm_rules.pay import MAX_CENTS_PER_HOUR
from vsm_rules.posting_time import Reading
from vsm_rules.quiet_hours import QuietHours
from vsm_rules.verdict import Verdict

CLINIC = Facility("f1", "org1", "Prairie Clinic", "America/Chicago", ("US-KS",))
DRAFT = ShiftDraft(
    profession="RN",
    local_start=datetime(2027, 3, 10, 8, 0), local_end=datetime(2027, 3, 10, 16, 0),
    positions=2, pay_cents_per_hour=9000, patient_jurisdictions=("US-KS",), skills=("triage",),
    scope_of_work="Telehealth triage for walk-in patients.",
)  # fmt: skip
NURSE = WorkProfile(
    "c1", "RN", "America/New_York", 8000, frozenset({"triage"}),
    tuple(AvailabilityWindow(d, "07:00", "23:00") for d in ("mon", "tue", "wed", "thu", "fri")),
    QuietHours("22:00", "07:00"), max_minutes_per_week=2400, min_rest_minutes=600,
)  # fmt: skip
LICENSED = Verdict.allow("licensing", "NLC multistate licence from home US-TX")


def test_a_shift_keeps_the_facility_zone_and_wall_times_and_stores_utc() -> None:
    shift = post_shift("s1", CLINIC, DRAFT)
    assert (shift.start, shift.end) == (
        datetime(2027, 3, 10, 14, 0, tzinfo=UTC),
        datetime(2027, 3, 10, 22, 0, tzinfo=UTC),
    )
    assert shift.zone == "America/Chicago" and shift.local_start.hour == 8
    assert shift.hours == 8


def test_a_shift_across_the_spring_gap_needs_a_reading() -> None:
    draft = replace(DRAFT, local_start=datetime(2027, 3, 14, 2, 30),
                    local_end=datetime(2027, 3, 14, 10, 0))  # fmt: skip
    with pytest.raises(InvalidArgument, match=r"^local_start: .* does not exist"):
        post_shift("s1", CLINIC, draft)
    shift = post_shift("s1", CLINIC, replace(draft, start_reading=Reading.LATER))
    assert shift.start == datetime(2027, 3, 14, 8, 30, tzinfo=UTC)
    assert shift.hours == 6.5


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"profession": "ZZ"}, "profession"),
        ({"positions": 0}, "positions"),
        ({"positions": 2**31 - 1}, "positions"),  # the ledger looked at each: a hung roster
        ({"pay_cents_per_hour": 0}, "pay_cents_per_hour"),
        ({"pay_cents_per_hour": 2**62}, "pay_cents_per_hour"),  # overflowed the matcher
        ({"patient_jurisdictions": ("US-QQ",)}, "patient_jurisdictions[0]"),
        ({"patient_jurisdictions": ()}, "patient_jurisdictions"),
        ({"local_end": datetime(2027, 3, 10, 7, 0)}, "local_end"),
        ({"local_end": datetime(2027, 3, 12, 7, 0)}, "local_end"),
    ],
)
def test_bad_drafts_name_their_field(change: dict[str, object], field: str) -> None:
    with pytest.raises(InvalidArgument) as refused:
        post_shift("s1", CLINIC, replace(DRAFT, **change))  # type: ignore[arg-type]
    assert refused.value.field == field


def test_a_rate_beyond_the_hourly_bound_is_refused() -> None:
    """The bound of the REST API, now for every caller: a shift paying 2**62 cents an hour was
    stored, and every re-matching of its profession then failed on the engine's 64-bit
    arithmetic; a rate that high would make it wrap around."""
    assert replace(NURSE, rate_cents_per_hour=MAX_CENTS_PER_HOUR).rate_cents_per_hour > 0
    with pytest.raises(InvalidArgument) as refused:
        replace(NURSE, rate_cents_per_hour=MAX_CENTS_PER_HOUR + 1)
    assert refused.value.field == "rate_cents_per_hour"


def test_a_facility_cannot_bar_and_favour_one_clinician() -> None:
    with pytest.raises(InvalidArgument, match="favourites"):
        replace(CLINIC, do_not_return=frozenset({"c1"}), favourites=frozenset({"c1"}))
    with pytest.raises(InvalidArgument, match="zone"):
        replace(CLINIC, zone="Central")


def test_quiet_hours_run_past_midnight() -> None:
    quiet = QuietHours("22:00", "07:00")
    assert quiet.holds(23 * 60) and quiet.holds(6 * 60) and not quiet.holds(12 * 60)


def test_late_cancellation_owes_half_the_booked_pay() -> None:
    shift = post_shift("s1", CLINIC, DRAFT)
    policy = CancellationPolicy()
    assert policy.compensation_cents(shift, 8000, shift.start - timedelta(hours=25)) == 0
    assert policy.compensation_cents(shift, 8000, shift.start - timedelta(hours=23)) == 32000
    assert "50%" in policy.describe()


def test_a_fitting_clinician_passes_every_booking_rule() -> None:
    shift = post_shift("s1", CLINIC, DRAFT)
    verdicts = booking_verdicts(shift, CLINIC, NURSE, [], LICENSED)
    assert refusals(verdicts) == []
    assert {v.rule for v in verdicts} >= {"profession", "skills", "licensing", "pay", "rest",
                                          "availability", "time_off", "do_not_return"}  # fmt: skip


def test_each_booking_rule_refuses_with_its_reason() -> None:
    shift = post_shift("s1", CLINIC, DRAFT)
    earlier = (shift.start - timedelta(hours=9), shift.start - timedelta(hours=1))
    cases = [
        (replace(NURSE, rate_cents_per_hour=9500), [], "pay"),
        (replace(NURSE, skills=frozenset()), [], "skills"),
        (replace(NURSE, profession="LPN"), [], "profession"),
        (replace(NURSE, time_off=frozenset({date(2027, 3, 10)})), [], "time_off"),
        (replace(NURSE, availability=()), [], "availability"),
        (NURSE, [earlier], "rest"),
        (replace(NURSE, max_minutes_per_week=300), [], "weekly_hours"),
    ]
    for profile, bookings, rule in cases:
        refused = refusals(booking_verdicts(shift, CLINIC, profile, bookings, LICENSED))
        assert [v.rule for v in refused] == [rule], rule
        assert refused[0].reasons
    barred = replace(CLINIC, do_not_return=frozenset({"c1"}))
    assert [v.rule for v in refusals(booking_verdicts(shift, barred, NURSE, [], LICENSED))] == [
        "do_not_return"
    ]
    cancelled = replace(shift, status=ShiftStatus.CANCELLED)
    assert [v.rule for v in refusals(booking_verdicts(cancelled, CLINIC, NURSE, [], LICENSED))] == [
        "shift"
    ]


def test_a_shift_is_posted_for_work_to_come_not_long_past_or_years_away() -> None:
    shift = post_shift("s1", CLINIC, DRAFT)
    check_within_reach(shift, shift.start - timedelta(days=30))  # a month ahead
    check_within_reach(shift, shift.start + timedelta(days=2))  # just begun: recorded late
    with pytest.raises(InvalidArgument, match="in the past") as past:
        check_within_reach(shift, shift.start + timedelta(days=40))
    assert past.value.field == "local_start"
    with pytest.raises(InvalidArgument, match="three years"):
        check_within_reach(shift, shift.start - timedelta(days=4 * 365), "occurrences[3].x")
