"""Quiet hours: when an offer made at some instant can first be delivered, across midnight and
clock changes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from vsm_rules.errors import InvalidArgument
from vsm_rules.quiet_hours import QuietHours, quiet_hours_of

NY = "America/New_York"
NIGHT = QuietHours("22:00", "07:00")


def _ny(year: int, month: int, day: int, hour: int, minute: int) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=ZoneInfo(NY)).astimezone(UTC)


def test_an_offer_made_at_night_waits_for_the_morning() -> None:
    assert NIGHT.delivery(_ny(2027, 3, 9, 23, 30), NY) == _ny(2027, 3, 10, 7, 0)
    assert NIGHT.delivery(_ny(2027, 3, 10, 6, 0), NY) == _ny(2027, 3, 10, 7, 0)
    noon = _ny(2027, 3, 10, 12, 0)
    assert NIGHT.delivery(noon, NY) == noon
    assert NIGHT.delivery(_ny(2027, 3, 10, 7, 0), NY) == _ny(2027, 3, 10, 7, 0)


def test_the_morning_after_the_clock_change_is_read_in_the_new_offset() -> None:
    # clocks go forward at 02:00 on 2027-03-14: 07:00 that morning is 11:00 UTC, not 12:00
    made = _ny(2027, 3, 14, 1, 0)
    assert NIGHT.delivery(made, NY) == datetime(2027, 3, 14, 11, 0, tzinfo=UTC)


def test_daytime_quiet_hours_and_none() -> None:
    lunch = QuietHours("12:00", "13:00")
    assert lunch.delivery(_ny(2027, 3, 10, 12, 30), NY) == _ny(2027, 3, 10, 13, 0)
    assert lunch.delivery(_ny(2027, 3, 10, 23, 0), NY) == _ny(2027, 3, 10, 23, 0)
    assert quiet_hours_of("", "") is None
    same = QuietHours("09:00", "09:00")
    assert same.delivery(_ny(2027, 3, 10, 9, 0), NY) == _ny(2027, 3, 10, 9, 0)
    with pytest.raises(InvalidArgument, match=r"^quiet_hours\.end"):
        QuietHours("22:00", "7am")


ZONES = ["America/New_York", "Asia/Kolkata", "Australia/Lord_Howe", "Europe/London", "UTC",
         "America/St_Johns", "Asia/Kathmandu"]  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(
    minute=st.integers(0, 60 * 24 * 400),
    zone=st.sampled_from(ZONES),
    start=st.integers(0, 95).map(lambda q: q * 15),
    length=st.integers(15, 16 * 60).map(lambda m: m - m % 15),
)
def test_delivery_is_the_first_moment_that_is_not_quiet(
    minute: int, zone: str, start: int, length: int
) -> None:
    end = (start + length) % (24 * 60)
    quiet = QuietHours(f"{start // 60:02d}:{start % 60:02d}", f"{end // 60:02d}:{end % 60:02d}")
    made = datetime(2027, 1, 1, tzinfo=UTC) + timedelta(minutes=minute)
    delivered = quiet.delivery(made, zone)
    tz = ZoneInfo(zone)

    def is_quiet(t: datetime) -> bool:
        local = t.astimezone(tz)
        return quiet.holds(local.hour * 60 + local.minute)

    assert delivered >= made and not is_quiet(delivered)
    assert delivered - made <= timedelta(minutes=length + 60)  # a clock change adds an hour
    t = made
    while t < delivered:  # every minute before delivery is quiet
        assert is_quiet(t)
        t += timedelta(minutes=15)
