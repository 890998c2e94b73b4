"""Weekly minutes (marketplace rule 7) in the clinician's local week: Monday 00:00 local wall
time to the next Monday 00:00 (fold=0). An interval across the week boundary counts in each
week for the minutes it spends there; the cap applies to every week a new shift touches.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from vsm_rules.errors import InvalidArgument
from vsm_rules.verdict import Verdict
from vsm_rules.wall_clock import (
    ZoneLike,
    interval_text,
    minutes_text,
    resolve_zone,
    utc_instant,
    utc_interval,
    week_bounds,
    week_monday,
    zone_name,
)

RULE = "weekly_hours"

TOLERANCE = 1e-6
"""Minutes of slack when comparing against the cap (the yardstick's own)."""

Interval = tuple[datetime, datetime]
"""An interval [start, end) of aware datetimes."""


def week_minutes(zone: ZoneLike, start: datetime, end: datetime) -> dict[date, float]:
    """Minutes of [start, end) in each local week of `zone`, keyed by that week's local Monday.

    Weeks the interval does not reach are absent; an empty interval gives an empty dict.
    """
    tz = resolve_zone(zone)
    return _week_minutes(tz, utc_instant(start, "start"), utc_instant(end, "end"))


def _week_minutes(tz: ZoneInfo, a: datetime, b: datetime) -> dict[date, float]:
    out: dict[date, float] = {}
    monday = week_monday(a, tz)
    week = timedelta(days=7)
    while True:
        w0, w1 = week_bounds(monday, tz)
        if w0 >= b:
            break
        lo, hi = max(a, w0), min(b, w1)
        if hi > lo:
            out[monday] = (hi - lo).total_seconds() / 60
        monday += week
    return out


def weekly_totals(zone: ZoneLike, intervals: Iterable[Interval]) -> dict[date, float]:
    """Minutes of all the intervals in each local week, keyed by local Monday."""
    tz = resolve_zone(zone)
    totals: dict[date, float] = defaultdict(float)
    for b0, b1 in intervals:
        for monday, m in _week_minutes(tz, utc_instant(b0), utc_instant(b1)).items():
            totals[monday] += m
    return dict(totals)


def exceeds_weekly_cap(
    existing: Iterable[Interval], start: datetime, end: datetime, zone: ZoneLike, max_minutes: float
) -> bool:
    """True when adding [start, end) takes some local week it touches over `max_minutes`."""
    tz = resolve_zone(zone)
    mine = _week_minutes(tz, start, end)
    if not mine:
        return False
    booked = weekly_totals(tz, existing)
    return any(booked.get(w, 0.0) + m > max_minutes + TOLERANCE for w, m in mine.items())


def weekly_hours_verdict(
    existing: Iterable[Interval],
    start: datetime,
    end: datetime,
    zone: ZoneLike,
    max_minutes: float,
) -> Verdict:
    """Whether the shift [start, end) keeps every local week it touches within `max_minutes`,
    counting the existing intervals (assigned shifts and bookings) in those weeks; explained
    week by week, e.g. "week of Mon 2027-03-08 (Asia/Manila): 2,100 booked + 480 this shift =
    2,580 min > 2,400 min cap"."""
    if max_minutes < 0:
        raise InvalidArgument("max_minutes_per_week", "must not be negative")
    tz = resolve_zone(zone)
    s, e = utc_interval(start, end)
    booked = weekly_totals(tz, existing)
    reasons: list[str] = []
    lines: list[str] = []
    for monday, m in sorted(_week_minutes(tz, s, e).items()):
        have = booked.get(monday, 0.0)
        total = have + m
        over = total > max_minutes + TOLERANCE
        sign = ">" if over else "<="
        line = (
            f"week of Mon {monday.isoformat()} ({zone_name(tz)}): {minutes_text(have)} booked + "
            f"{minutes_text(m)} this shift = {minutes_text(total)} min {sign} "
            f"{minutes_text(max_minutes)} min cap"
        )
        (reasons if over else lines).append(line)
    bounds = _week_text(tz, s, e)
    if reasons:
        return Verdict.refuse(RULE, *reasons, evidence=(*reasons, *lines, *bounds))
    shift = f"shift {interval_text(s, e, tz)}"
    return Verdict.allow(
        RULE, f"{shift} keeps every week within {minutes_text(max_minutes)} min", *lines, *bounds
    )


def _week_text(tz: ZoneInfo, s: datetime, e: datetime) -> list[str]:
    """The local weeks the shift touches, as instants, for checking by hand."""
    out = []
    for monday in sorted(_week_minutes(tz, s, e)):
        w0, w1 = week_bounds(monday, tz)
        out.append(f"week of Mon {monday.isoformat()} is {interval_text(w0, w1, tz)}")
    return out
