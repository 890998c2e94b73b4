"""The time rules against brute force and against the yardstick.

The brute-force references here enumerate window occurrences exactly as FORMAT.md rule 5 says
(fold=0), convert them to UTC and scan UTC minutes: a minute is free if any occurrence covers
it, a shift is available if every minute of it is free; weekly minutes count each UTC minute in
the local week it falls in. The yardstick's own `Instance` methods are the other reference.
"""

from __future__ import annotations

import inspect
from datetime import UTC, date, datetime, time, timedelta
from types import ModuleType
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from vsm_infra.testing import load_yardstick
from vsm_rules.availability import AvailabilityWindow, FreeSpans, is_available
from vsm_rules.weekly_hours import week_minutes

ZONES = [
    "Asia/Kolkata",
    "Asia/Kathmandu",
    "Australia/Eucla",
    "Asia/Manila",
    "America/Phoenix",
    "Australia/Sydney",
    "America/Santiago",
    "Australia/Lord_Howe",
    "America/New_York",
    "Europe/London",
]
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
MINUTE = timedelta(minutes=1)


def _transitions() -> list[datetime]:
    """UTC instants of the clock changes in 2026-2027 of the zones above (found by scanning)."""
    out: set[datetime] = set()
    for name in ZONES:
        tz = ZoneInfo(name)
        t = datetime(2026, 1, 1, tzinfo=UTC)
        step = timedelta(hours=1)
        prev = t.astimezone(tz).utcoffset()
        while t < datetime(2028, 1, 1, tzinfo=UTC):
            t += step
            off = t.astimezone(tz).utcoffset()
            if off != prev:
                lo = t - step
                while t - lo > MINUTE:  # bisect down to the minute
                    mid = lo + (t - lo) / 2
                    mid = mid.replace(second=0, microsecond=0)
                    if mid == lo:
                        break
                    if mid.astimezone(tz).utcoffset() == prev:
                        lo = mid
                    else:
                        t = mid
                out.add(t)
                prev = off
    return sorted(out)


TRANSITIONS = _transitions()


# ---------------------------------------------------------------- brute-force references


def reference_free_minutes(
    windows: list[dict[str, str]], zone: str, lo: datetime, hi: datetime
) -> set[datetime]:
    """UTC minutes in [lo, hi) covered by some occurrence, occurrences built per FORMAT.md."""
    tz = ZoneInfo(zone)
    free: set[datetime] = set()
    d = (lo - timedelta(days=3)).astimezone(tz).date()
    last = (hi + timedelta(days=3)).astimezone(tz).date()
    while d <= last:
        for w in windows:
            if DAYS.index(w["day"]) != d.weekday():
                continue
            sh, sm = map(int, w["start"].split(":"))
            eh, em = map(int, w["end"].split(":"))
            close_day = d + timedelta(days=1) if (eh, em) <= (sh, sm) else d
            o = datetime.combine(d, time(sh, sm), tzinfo=tz).astimezone(UTC)  # fold=0
            c = datetime.combine(close_day, time(eh, em), tzinfo=tz).astimezone(UTC)
            t = max(o, lo)
            while t < min(c, hi):
                free.add(t)
                t += MINUTE
        d += timedelta(days=1)
    return free


def reference_available(
    windows: list[dict[str, str]], zone: str, start: datetime, end: datetime
) -> bool:
    free = reference_free_minutes(windows, zone, start, end)
    t = start
    while t < end:
        if t not in free:
            return False
        t += MINUTE
    return True


def reference_week_minutes(zone: str, start: datetime, end: datetime) -> dict[date, float]:
    tz = ZoneInfo(zone)
    out: dict[date, float] = {}
    t = start
    while t < end:
        d = t.astimezone(tz).date()
        monday = d - timedelta(days=d.weekday())
        out[monday] = out.get(monday, 0.0) + 1
        t += MINUTE
    return out


# ---------------------------------------------------------------- strategies


@st.composite
def hhmm(draw: st.DrawFn) -> str:
    h = draw(st.integers(0, 23))
    m = draw(st.sampled_from([0, 0, 15, 30, 45, draw(st.integers(0, 59))]))
    return f"{h:02d}:{m:02d}"


@st.composite
def window(draw: st.DrawFn) -> dict[str, str]:
    return {"day": draw(st.sampled_from(DAYS)), "start": draw(hhmm()), "end": draw(hhmm())}


@st.composite
def near_transition(draw: st.DrawFn) -> datetime:
    """A whole-minute UTC instant within two days of a 2026-2027 clock change."""
    t = draw(st.sampled_from(TRANSITIONS))
    return t + timedelta(minutes=draw(st.integers(-2 * 24 * 60, 2 * 24 * 60)))


PROPERTY = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@PROPERTY
@given(
    zone=st.sampled_from(ZONES),
    windows=st.lists(window(), min_size=0, max_size=5),
    start=near_transition(),
    minutes=st.integers(1, 18 * 60),
)
def test_availability_agrees_with_a_minute_scan_of_fold0_occurrences(
    zone: str, windows: list[dict[str, str]], start: datetime, minutes: int
) -> None:
    end = start + timedelta(minutes=minutes)
    expected = reference_available(windows, zone, start, end)
    assert is_available(windows, zone, start, end) == expected
    spans = FreeSpans(windows, zone, start - timedelta(days=5), end + timedelta(days=5))
    assert spans.covers(start, end) == expected
    assert spans.verdict(start, end).allowed == expected


@PROPERTY
@given(
    zone=st.sampled_from(ZONES),
    windows=st.lists(window(), min_size=1, max_size=4),
    anchor=near_transition(),
)
def test_free_spans_cover_exactly_the_free_minutes_around_clock_changes(
    zone: str, windows: list[dict[str, str]], anchor: datetime
) -> None:
    lo, hi = anchor - timedelta(hours=12), anchor + timedelta(hours=12)
    free = reference_free_minutes(windows, zone, lo, hi)
    spans = FreeSpans(windows, zone, lo - timedelta(days=1), hi + timedelta(days=1))
    t = lo
    while t < hi:
        assert spans.covers(t, t + MINUTE) == (t in free), t
        t += timedelta(minutes=7)


@PROPERTY
@given(zone=st.sampled_from(ZONES), start=near_transition(), minutes=st.integers(0, 12 * 24 * 60))
def test_week_minutes_agree_with_a_minute_scan(zone: str, start: datetime, minutes: int) -> None:
    end = start + timedelta(minutes=minutes)
    got = week_minutes(zone, start, end)
    assert got == reference_week_minutes(zone, start, end)
    assert sum(got.values()) == minutes


@PROPERTY
@given(window=window())
def test_window_wall_length_is_one_minute_to_a_day(window: dict[str, str]) -> None:
    w = AvailabilityWindow.from_mapping(window)
    assert 1 <= w.wall_minutes <= 24 * 60
    assert w.overnight == (w.end <= w.start)


# ---------------------------------------------------------------- against the yardstick


def _instance(ys: ModuleType, seed: int, start: str) -> Any:
    params = inspect.signature(ys.generate).parameters
    wanted = {"seed", "n_shifts", "n_clin", "start", "days"}
    if not wanted <= set(params):
        pytest.skip(f"yardstick.generate has an unexpected signature: {list(params)}")
    doc = ys.generate(seed=seed, n_shifts=60, n_clin=40, start=start, days=14)
    return ys.Instance(doc)


@pytest.mark.parametrize(
    ("seed", "start"),
    [
        (1, "2027-03-08T00:00:00Z"),  # US spring forward
        (2, "2027-03-22T00:00:00Z"),  # Europe spring forward, southern-hemisphere fall back
        (3, "2026-09-28T00:00:00Z"),  # southern-hemisphere spring forward, Europe fall back
        (4, "2026-10-26T00:00:00Z"),  # US fall back
        (5, "2027-03-29T00:00:00Z"),
    ],
)
def test_rules_agree_with_the_yardstick_for_every_pair(seed: int, start: str) -> None:
    ys = load_yardstick()
    inst = _instance(ys, seed, start)
    checked = 0
    for c in inst.clinicians.values():
        spans = FreeSpans(c.get("availability", []), c["tz"], inst.h0, inst.h1)
        assert [(s.start, s.end) for s in spans.spans] == c["_windows"]
        for s in inst.shifts.values():
            a, b = s["_start"], s["_end"]
            assert spans.covers(a, b) == inst.available(c, a, b), (c["id"], s["id"])
            assert week_minutes(c["tz"], a, b) == inst.week_minutes(c, a, b), (c["id"], s["id"])
            checked += 1
    assert checked > 0
