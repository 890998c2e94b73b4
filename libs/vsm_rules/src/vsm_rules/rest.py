"""Overlap and minimum rest (marketplace rule 6) between a new shift and a clinician's other
intervals (assigned shifts and bookings).

For two intervals a, b with a.start <= b.start the rule asks b.start >= a.end + min_rest: the
later one starts at least `min_rest` after the earlier one ends. Rest exactly at the limit is
allowed; one minute short is not.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from vsm_rules.errors import InvalidArgument
from vsm_rules.verdict import Verdict
from vsm_rules.wall_clock import (
    ZoneLike,
    duration_text,
    interval_text,
    local_date,
    local_text,
    resolve_zone,
    utc_instant,
    utc_interval,
)

RULE = "rest"

Interval = tuple[datetime, datetime]
"""An interval [start, end) of aware datetimes."""


def clashes(
    existing: Iterable[Interval], start: datetime, end: datetime, min_rest_minutes: float
) -> bool:
    """True when [start, end) overlaps, or leaves less than the minimum rest beside, any of the
    existing intervals (the fast yes/no form; aware datetimes assumed)."""
    rest = timedelta(minutes=min_rest_minutes)
    hi, lo = end + rest, start - rest
    return any(b0 < hi and lo < b1 for b0, b1 in existing)


def rest_verdict(
    existing_intervals: Iterable[Interval],
    start: datetime,
    end: datetime,
    min_rest_minutes: float,
    zone: ZoneLike,
) -> Verdict:
    """Whether the shift [start, end) keeps clear of every existing interval by at least
    `min_rest_minutes`, explained in the clinician's local time (`zone`)."""
    if min_rest_minutes < 0:
        raise InvalidArgument("min_rest_minutes", "must not be negative")
    tz = resolve_zone(zone)
    s, e = utc_interval(start, end)
    rest = timedelta(minutes=min_rest_minutes)
    need = f"{duration_text(rest)} rest needed"
    shift = f"shift {interval_text(s, e, tz)}"
    others = sorted(
        (utc_instant(b0, "existing.start"), utc_instant(b1, "existing.end"))
        for b0, b1 in existing_intervals
    )
    reasons: list[str] = []
    evidence: list[str] = []
    before: Interval | None = None
    after: Interval | None = None
    for b0, b1 in others:
        clash = b0 < e + rest and s < b1 + rest
        if b0 < e and s < b1:
            if clash:
                reasons.append(f"{shift} overlaps a booking {interval_text(b0, b1, tz)}")
            continue
        if b0 >= s:  # the booking comes after the shift
            if clash:
                reasons.append(
                    f"{shift} ends {duration_text(b0 - e)} before a booking starting "
                    f"{_when(b0, e, tz)}; {need}"
                )
            elif after is None:
                after = (b0, b1)
        else:  # the booking comes before the shift
            if clash:
                reasons.append(
                    f"{shift} starts {duration_text(s - b1)} after a booking ending "
                    f"{_when(b1, s, tz)}; {need}"
                )
            else:
                before = (b0, b1)
    if reasons:
        evidence = [f"minimum rest between intervals: {duration_text(rest)}"]
        return Verdict.refuse(RULE, *reasons, evidence=tuple(evidence))
    if before is not None:
        evidence.append(
            f"previous booking {interval_text(*before, tz)} ends {duration_text(s - before[1])} "
            "before the shift"
        )
    if after is not None:
        evidence.append(
            f"next booking {interval_text(*after, tz)} starts {duration_text(after[0] - e)} "
            "after the shift"
        )
    if not others:
        evidence.append("no other shifts or bookings")
    return Verdict.allow(
        RULE, f"{shift} leaves at least {duration_text(rest)} rest beside every booking", *evidence
    )


def _when(t: datetime, ref: datetime, tz: ZoneInfo) -> str:
    """Local wall time of `t`, with its date only when it differs from that of `ref`."""
    text = local_text(t, tz)
    return text if local_date(t, tz) != local_date(ref, tz) else text.split(" ", 1)[1]
