"""Time off: local dates (in the clinician's zone) on which the clinician takes no shift at all.

A local day runs from its midnight to the next (wall time 00:00, fold=0); a shift that touches
any part of such a day is refused.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from vsm_rules.errors import InvalidArgument
from vsm_rules.verdict import Verdict
from vsm_rules.wall_clock import (
    ZoneLike,
    duration_text,
    interval_text,
    local_date,
    local_day_bounds,
    resolve_zone,
    utc_interval,
    zone_name,
)

RULE = "time_off"


def local_days(zone: ZoneLike, start: datetime, end: datetime) -> list[date]:
    """The local dates in `zone` that the interval [start, end) touches, in order."""
    tz = resolve_zone(zone)
    s, e = utc_interval(start, end)
    return _touched(tz, s, e)


def _touched(tz: ZoneInfo, s: datetime, e: datetime) -> list[date]:
    out = []
    d = local_date(s, tz) - timedelta(days=1)
    last = local_date(e, tz) + timedelta(days=1)
    while d <= last:
        d0, d1 = local_day_bounds(d, tz)
        if d0 < e and s < d1:
            out.append(d)
        d += timedelta(days=1)
    return out


def time_off_verdict(
    days_off: Iterable[date], zone: ZoneLike, start: datetime, end: datetime
) -> Verdict:
    """Whether the shift [start, end) stays clear of every local day off, explained."""
    off = set()
    for d in days_off:
        if isinstance(d, datetime) or not isinstance(d, date):
            raise InvalidArgument("time_off", f"expected local dates, got {d!r}")
        off.add(d)
    tz = resolve_zone(zone)
    s, e = utc_interval(start, end)
    touched = _touched(tz, s, e)
    shift = f"shift {interval_text(s, e, tz)}"
    hit = [d for d in touched if d in off]
    if hit:
        reasons = [f"{shift} touches {d.isoformat()}, a day off in {zone_name(tz)}" for d in hit]
        evidence = tuple(_day_text(d, tz) for d in hit)
        return Verdict.refuse(RULE, *reasons, evidence=evidence)
    dates = ", ".join(d.isoformat() for d in touched)
    return Verdict.allow(
        RULE,
        f"{shift} falls on {dates} ({zone_name(tz)}), none of them a day off",
        *(f"days off: {', '.join(sorted(d.isoformat() for d in off)) or 'none'}",),
    )


def _day_text(d: date, tz: ZoneInfo) -> str:
    d0, d1 = local_day_bounds(d, tz)
    length = d1 - d0
    text = f"local day {d.isoformat()} in {zone_name(tz)} is {interval_text(d0, d1, tz)}"
    if length != timedelta(days=1):
        change = length - timedelta(days=1)
        way = "back" if change > timedelta(0) else "forward"
        text += f", {duration_text(length)} long because clocks go {way} "
        text += duration_text(abs(change))
    return text
