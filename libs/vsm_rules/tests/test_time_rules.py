"""Small cases for the time rules: availability, time off, rest and weekly minutes, each held and
broken, around DST changes and in odd-offset and no-DST zones."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from vsm_rules.availability import (
    AvailabilityWindow,
    FreeSpans,
    availability_verdict,
    is_available,
)
from vsm_rules.errors import InvalidArgument
from vsm_rules.rest import clashes, rest_verdict
from vsm_rules.time_off import local_days, time_off_verdict
from vsm_rules.wall_clock import (
    duration_text,
    interval_text,
    parse_hhmm,
    resolve_zone,
    utc_instant,
    week_bounds,
    week_monday,
)
from vsm_rules.weekly_hours import exceeds_weekly_cap, week_minutes, weekly_hours_verdict


def u(*a: int) -> datetime:
    return datetime(*a, tzinfo=UTC)  # type: ignore[misc, arg-type]


def win(day: str, start: str, end: str) -> dict[str, str]:
    return {"day": day, "start": start, "end": end}


# ---------------------------------------------------------------- wall clock


def test_parse_hhmm_accepts_wall_times_and_refuses_malformed_ones() -> None:
    assert parse_hhmm("00:00") == 0
    assert parse_hhmm("23:59") == 1439
    for bad in ("24:00", "9:00", "09:60", "0900", "", "ab:cd"):
        with pytest.raises(InvalidArgument):
            parse_hhmm(bad)


def test_unknown_zone_unknown_weekday_and_naive_datetime_are_invalid_arguments() -> None:
    with pytest.raises(InvalidArgument) as exc:
        resolve_zone("Mars/Olympus_Mons")
    assert exc.value.field == "tz"
    with pytest.raises(InvalidArgument):
        AvailabilityWindow("funday", "09:00", "17:00")
    with pytest.raises(InvalidArgument):
        AvailabilityWindow("mon", "9am", "17:00")
    with pytest.raises(InvalidArgument):
        utc_instant(datetime(2027, 3, 14, 9))
    with pytest.raises(InvalidArgument):
        availability_verdict([], "America/New_York", datetime(2027, 3, 14), u(2027, 3, 15))
    with pytest.raises(InvalidArgument):
        rest_verdict([], u(2027, 3, 14, 9), u(2027, 3, 14, 8), 600, "UTC")


def test_week_bounds_are_local_mondays() -> None:
    tz = resolve_zone("Asia/Manila")
    assert week_monday(u(2027, 3, 14, 15, 59), tz) == date(2027, 3, 8)
    assert week_monday(u(2027, 3, 14, 16, 0), tz) == date(2027, 3, 15)
    assert week_bounds(date(2027, 3, 8), tz) == (u(2027, 3, 7, 16), u(2027, 3, 14, 16))


def test_duration_and_interval_wording() -> None:
    assert duration_text(timedelta(hours=6, minutes=30)) == "6 h 30 min"
    assert duration_text(45.0) == "45 min"
    tz = resolve_zone("America/New_York")
    text = interval_text(u(2027, 3, 14, 13), u(2027, 3, 14, 21), tz)
    assert text == "2027-03-14 09:00-17:00 America/New_York (13:00-21:00 UTC)"


# ---------------------------------------------------------------- availability


def test_spring_forward_window_is_two_hours_and_a_three_hour_shift_is_refused() -> None:
    w = [win("sun", "01:00", "04:00")]
    v = availability_verdict(w, "America/New_York", u(2027, 3, 14, 6), u(2027, 3, 14, 9))
    assert not v.allowed
    assert v.reasons == (
        "available 01:00-04:00 America/New_York on 2027-03-14 is 2 h because clocks go "
        "forward 1 h; the shift needs 3 h",
    )
    ok = availability_verdict(w, "America/New_York", u(2027, 3, 14, 6), u(2027, 3, 14, 8))
    assert ok.allowed


def test_wall_time_in_the_spring_forward_gap_is_read_with_the_offset_before() -> None:
    # 02:30 does not exist on 2027-03-14 in New York; fold=0 reads it as 02:30 EST = 07:30Z.
    w = [win("sun", "02:30", "05:00")]
    assert is_available(w, "America/New_York", u(2027, 3, 14, 7, 30), u(2027, 3, 14, 9))
    assert not is_available(w, "America/New_York", u(2027, 3, 14, 7, 29), u(2027, 3, 14, 9))
    v = availability_verdict(w, "America/New_York", u(2027, 3, 14, 7, 30), u(2027, 3, 14, 9))
    assert any("02:30 does not exist on 2027-03-14" in e for e in v.evidence)


def test_fall_back_ambiguous_time_takes_its_first_occurrence() -> None:
    # 01:30 happens twice on 2027-11-07 in New York: first at 05:30Z (EDT), then 06:30Z (EST).
    w = [win("sun", "01:30", "03:00")]
    assert is_available(w, "America/New_York", u(2027, 11, 7, 5, 30), u(2027, 11, 7, 8))
    assert not is_available(w, "America/New_York", u(2027, 11, 7, 5, 29), u(2027, 11, 7, 8))
    v = availability_verdict(w, "America/New_York", u(2027, 11, 7, 5, 30), u(2027, 11, 7, 8))
    assert "clocks go back 1 h" in v.evidence[0]
    assert any("happens twice" in e for e in v.evidence)


def test_overnight_window_closes_on_the_next_date() -> None:
    w = [win("mon", "20:00", "04:00")]  # Manila, UTC+8: Mon 12:00Z to Mon 20:00Z
    assert is_available(w, "Asia/Manila", u(2027, 3, 8, 12), u(2027, 3, 8, 20))
    assert not is_available(w, "Asia/Manila", u(2027, 3, 8, 12), u(2027, 3, 8, 20, 1))
    assert not is_available(w, "Asia/Manila", u(2027, 3, 9, 12), u(2027, 3, 9, 14))  # a Tuesday


def test_midnight_end_means_the_end_of_the_day() -> None:
    w = [win("wed", "14:00", "00:00")]
    assert is_available(w, "Europe/London", u(2027, 3, 10, 14), u(2027, 3, 11, 0))
    assert not is_available(w, "Europe/London", u(2027, 3, 10, 14), u(2027, 3, 11, 0, 1))


def test_touching_windows_join_across_midnight_saturday_and_sunday_all_day() -> None:
    w = [win("sat", "00:00", "00:00"), win("sun", "00:00", "00:00")]
    v = availability_verdict(w, "America/Chicago", u(2027, 3, 14, 2), u(2027, 3, 14, 14))
    assert v.allowed
    assert not is_available(w, "America/Chicago", u(2027, 3, 13, 5), u(2027, 3, 15, 5, 1))


def test_separate_windows_with_a_gap_do_not_join() -> None:
    w = [win("mon", "06:00", "12:00"), win("mon", "12:01", "18:00")]
    assert not is_available(w, "UTC", u(2027, 3, 8, 11), u(2027, 3, 8, 13))
    v = availability_verdict(w, "UTC", u(2027, 3, 8, 11), u(2027, 3, 8, 13))
    assert "the shift runs until 2027-03-08 13:00" in v.reasons[0]


def test_shift_outside_all_windows_is_refused_with_the_nearest_windows() -> None:
    w = [win("mon", "09:00", "17:00")]
    v = availability_verdict(w, "Asia/Manila", u(2027, 3, 13, 10), u(2027, 3, 13, 12))
    assert not v.allowed
    assert "starts outside" in v.reasons[0]
    assert any(e.startswith("next after:") for e in v.evidence)
    assert not availability_verdict([], "UTC", u(2027, 3, 8), u(2027, 3, 8, 1)).allowed


@pytest.mark.parametrize(
    ("zone", "day", "wall_hours", "real_hours"),
    [
        # Lord Howe: clocks go back 30 min at 02:00 on 2027-04-04, forward 30 min on 2026-10-04.
        ("Australia/Lord_Howe", "2027-04-04", 4, 4.5),
        ("Australia/Lord_Howe", "2026-10-04", 4, 3.5),
        # Sydney (southern hemisphere): back 2027-04-04, forward 2026-10-04 at 02:00/03:00.
        ("Australia/Sydney", "2027-04-04", 4, 5),
        ("Australia/Sydney", "2026-10-04", 4, 3),
        # Santiago: forward at midnight 2026-09-06, back at midnight 2027-04-04.
        ("America/Santiago", "2026-09-05", 4, 3),
        ("America/Santiago", "2027-04-03", 4, 5),
        # no DST: the wall clock and the real clock agree all year.
        ("America/Phoenix", "2027-03-14", 4, 4),
        ("Asia/Manila", "2027-03-14", 4, 4),
    ],
)
def test_window_across_a_clock_change_has_its_real_length(
    zone: str, day: str, wall_hours: int, real_hours: float
) -> None:
    d = date.fromisoformat(day)
    start = "22:00" if zone == "America/Santiago" else "00:30"
    end = "02:00" if zone == "America/Santiago" else "04:30"
    w = [win(("mon", "tue", "wed", "thu", "fri", "sat", "sun")[d.weekday()], start, end)]
    spans = FreeSpans(w, zone, u(d.year, d.month, d.day) - timedelta(days=1), u(2028, 1, 1))
    sp = next(s for s in spans.spans if s.occurrences[0].day == d)
    assert (sp.end - sp.start) == timedelta(hours=real_hours)
    assert spans.covers(sp.start, sp.end)
    assert not spans.covers(sp.start, sp.end + timedelta(minutes=1))
    text = sp.describe(resolve_zone(zone))
    if real_hours < wall_hours:
        assert "because clocks go forward" in text
    elif real_hours > wall_hours:
        assert "because clocks go back" in text
    else:
        assert "clocks" not in text


@pytest.mark.parametrize(
    ("zone", "utc_open"),
    [
        ("Asia/Kathmandu", u(2027, 3, 8, 3, 15)),  # 09:00 at +05:45
        ("Australia/Eucla", u(2027, 3, 8, 0, 15)),  # 09:00 at +08:45
        ("Asia/Kolkata", u(2027, 3, 8, 3, 30)),  # 09:00 at +05:30
    ],
)
def test_odd_offset_zones_open_at_the_right_instant(zone: str, utc_open: datetime) -> None:
    w = [win("mon", "09:00", "17:00")]
    assert is_available(w, zone, utc_open, utc_open + timedelta(hours=8))
    assert not is_available(w, zone, utc_open - timedelta(minutes=1), utc_open)
    assert not is_available(w, zone, utc_open, utc_open + timedelta(hours=8, minutes=1))


def test_free_spans_answer_outside_their_horizon_exactly() -> None:
    w = [win("mon", "09:00", "17:00")]
    spans = FreeSpans(w, "UTC", u(2027, 3, 8), u(2027, 3, 15))
    assert spans.covers(u(2027, 3, 8, 9), u(2027, 3, 8, 17))
    assert spans.covers(u(2027, 5, 3, 9), u(2027, 5, 3, 17))  # far outside: computed on demand
    assert not spans.covers(u(2027, 5, 4, 9), u(2027, 5, 4, 17))
    assert spans.verdict(u(2027, 5, 3, 9), u(2027, 5, 3, 17)).allowed


# ---------------------------------------------------------------- time off


def test_shift_touching_a_local_day_off_is_refused() -> None:
    off = {date(2027, 3, 14)}
    # 2027-03-15 03:00Z is 23:00 on the 14th in New York (EDT).
    v = time_off_verdict(off, "America/New_York", u(2027, 3, 15, 3), u(2027, 3, 15, 5))
    assert not v.allowed
    assert "touches 2027-03-14, a day off in America/New_York" in v.reasons[0]
    assert "23 h long because clocks go forward 1 h" in v.evidence[0]


def test_shift_starting_at_the_midnight_after_a_day_off_is_allowed() -> None:
    off = {date(2027, 3, 14)}
    assert time_off_verdict(off, "America/New_York", u(2027, 3, 15, 4), u(2027, 3, 15, 9)).allowed
    assert not time_off_verdict(
        off, "America/New_York", u(2027, 3, 15, 3, 59), u(2027, 3, 15, 9)
    ).allowed


def test_local_days_of_an_overnight_shift() -> None:
    days = local_days("Asia/Kathmandu", u(2027, 3, 8, 15), u(2027, 3, 8, 23))
    assert days == [date(2027, 3, 8), date(2027, 3, 9)]


def test_time_off_must_be_dates() -> None:
    with pytest.raises(InvalidArgument):
        time_off_verdict([u(2027, 3, 8)], "UTC", u(2027, 3, 8), u(2027, 3, 8, 1))


# ---------------------------------------------------------------- rest


def test_rest_example_six_hours_after_a_booking_with_ten_needed() -> None:
    booking = (u(2027, 3, 14, 3), u(2027, 3, 14, 7))  # ends 03:00 New York (EDT)
    v = rest_verdict([booking], u(2027, 3, 14, 13), u(2027, 3, 14, 21), 600, "America/New_York")
    assert not v.allowed
    assert v.reasons == (
        "shift 2027-03-14 09:00-17:00 America/New_York (13:00-21:00 UTC) starts 6 h after a "
        "booking ending 03:00; 10 h rest needed",
    )


def test_rest_exactly_at_the_limit_is_allowed_and_one_minute_short_is_refused() -> None:
    booking = (u(2027, 3, 14, 0), u(2027, 3, 14, 3))
    start, end = u(2027, 3, 14, 13), u(2027, 3, 14, 21)
    assert rest_verdict([booking], start, end, 600, "UTC").allowed
    assert not rest_verdict([booking], start - timedelta(minutes=1), end, 600, "UTC").allowed
    later = (u(2027, 3, 15, 7), u(2027, 3, 15, 9))  # starts 10 h after the shift ends
    assert rest_verdict([later], start, end, 600, "UTC").allowed
    v = rest_verdict([later], start, end + timedelta(minutes=1), 600, "UTC")
    assert not v.allowed
    assert "ends 9 h 59 min before a booking starting" in v.reasons[0]
    assert not clashes([booking, later], start, end, 600)
    assert clashes([booking], start - timedelta(minutes=1), end, 600)


def test_overlapping_booking_is_refused() -> None:
    v = rest_verdict(
        [(u(2027, 3, 14, 12), u(2027, 3, 14, 14))], u(2027, 3, 14, 13), u(2027, 3, 14, 21), 0, "UTC"
    )
    assert not v.allowed
    assert "overlaps a booking" in v.reasons[0]
    # with no rest required, touching is fine
    assert rest_verdict(
        [(u(2027, 3, 14, 9), u(2027, 3, 14, 13))], u(2027, 3, 14, 13), u(2027, 3, 14, 21), 0, "UTC"
    ).allowed


# ---------------------------------------------------------------- weekly minutes


def test_week_minutes_split_a_shift_across_the_local_week_boundary() -> None:
    # Manila Monday 2027-03-15 00:00 is 2027-03-14 16:00Z.
    got = week_minutes("Asia/Manila", u(2027, 3, 14, 12), u(2027, 3, 14, 20))
    assert got == {date(2027, 3, 8): 240.0, date(2027, 3, 15): 240.0}


def test_week_boundary_follows_the_local_zone_not_utc() -> None:
    # Sydney Monday 2027-04-05 00:00 is 2027-04-04 14:00Z (AEST after the change back).
    got = week_minutes("Australia/Sydney", u(2027, 4, 4, 13), u(2027, 4, 4, 15))
    assert got == {date(2027, 3, 29): 60.0, date(2027, 4, 5): 60.0}


def test_weekly_cap_example_from_the_issue_is_refused() -> None:
    existing = [(u(2027, 3, 8, 0), u(2027, 3, 9, 11))]  # 2,100 minutes in Manila's week of 03-08
    v = weekly_hours_verdict(existing, u(2027, 3, 10, 0), u(2027, 3, 10, 8), "Asia/Manila", 2400)
    assert not v.allowed
    assert v.reasons == (
        "week of Mon 2027-03-08 (Asia/Manila): 2,100 booked + 480 this shift = 2,580 min > "
        "2,400 min cap",
    )
    assert exceeds_weekly_cap(existing, u(2027, 3, 10, 0), u(2027, 3, 10, 8), "Asia/Manila", 2400)


def test_weekly_cap_exactly_reached_is_allowed() -> None:
    existing = [(u(2027, 3, 8, 0), u(2027, 3, 9, 11))]
    v = weekly_hours_verdict(existing, u(2027, 3, 10, 0), u(2027, 3, 10, 5), "Asia/Manila", 2400)
    assert v.allowed
    assert "2,100 booked + 300 this shift = 2,400 min <= 2,400 min cap" in v.evidence[0]


def test_weekly_cap_counts_only_the_shifts_minutes_in_each_week() -> None:
    # 1,200 booked in the week of 03-15; the shift spends 240 min in each week.
    existing = [(u(2027, 3, 15, 0), u(2027, 3, 15, 20))]
    start, end = u(2027, 3, 14, 12), u(2027, 3, 14, 20)
    assert weekly_hours_verdict(existing, start, end, "Asia/Manila", 1440).allowed
    v = weekly_hours_verdict(existing, start, end, "Asia/Manila", 1439)
    assert not v.allowed
    assert v.reasons[0].startswith("week of Mon 2027-03-15 (Asia/Manila): 1,200 booked + 240")
