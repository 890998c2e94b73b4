"""Wall-clock time in a clinician's zone: parsing "HH:MM", zone lookup, local wall time to UTC
instants (PEP 495, fold=0, as the marketplace format defines it), local days and weeks, and the
wording that shows instants to people in their own zone.

Instants everywhere in the rules are timezone-aware UTC datetimes; local wall times only exist
on the way in (availability windows, days off) and on the way out (explanations).
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta, tzinfo
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from vsm_rules.errors import InvalidArgument

WEEKDAYS: tuple[str, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
"""Weekday names as availability windows spell them, Monday first (index = date.weekday())."""

MINUTES_PER_DAY = 24 * 60

ZoneLike = str | ZoneInfo
"""An IANA zone name or an already looked-up zone."""

_HHMM = re.compile(r"([01]\d|2[0-3]):([0-5]\d)")


def parse_hhmm(text: str, field: str = "time") -> int:
    """Minutes after local midnight of a wall-clock time written "HH:MM" (00:00 to 23:59)."""
    if not isinstance(text, str) or not _HHMM.fullmatch(text):
        raise InvalidArgument(field, f"expected a wall-clock time HH:MM, 00:00-23:59, got {text!r}")
    return int(text[:2]) * 60 + int(text[3:])


def weekday_index(day: str, field: str = "day") -> int:
    """Index (Monday = 0) of a weekday written mon, tue, wed, thu, fri, sat or sun."""
    key = day.strip().lower() if isinstance(day, str) else day
    if key not in WEEKDAYS:
        raise InvalidArgument(field, f"expected one of {', '.join(WEEKDAYS)}, got {day!r}")
    return WEEKDAYS.index(key)


@lru_cache(maxsize=1024)
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def resolve_zone(zone: ZoneLike, field: str = "tz") -> ZoneInfo:
    """The IANA zone a name stands for; an unknown or malformed name is an invalid argument."""
    if isinstance(zone, ZoneInfo):
        return zone
    if not isinstance(zone, str) or not zone:
        raise InvalidArgument(field, f"expected an IANA time zone name, got {zone!r}")
    try:
        return _zone(zone)
    except (ZoneInfoNotFoundError, ValueError, OSError) as exc:
        raise InvalidArgument(field, f"unknown time zone {zone!r}") from exc


def utc_instant(t: datetime, field: str = "time") -> datetime:
    """The same instant as a UTC datetime; a naive datetime (no zone) is an invalid argument."""
    if not isinstance(t, datetime):
        raise InvalidArgument(field, f"expected a datetime, got {type(t).__name__}")
    if t.tzinfo is None or t.utcoffset() is None:
        raise InvalidArgument(field, "a naive datetime is not an instant; give it a time zone")
    return t.astimezone(UTC)


def utc_interval(
    start: datetime, end: datetime, start_field: str = "start", end_field: str = "end"
) -> tuple[datetime, datetime]:
    """An interval [start, end) as UTC instants; it must be aware and end after it starts."""
    s, e = utc_instant(start, start_field), utc_instant(end, end_field)
    if e <= s:
        raise InvalidArgument(end_field, "must be after start")
    return s, e


def wall_instant(day: date, minute_of_day: int, zone: tzinfo) -> datetime:
    """The UTC instant of local wall time `minute_of_day` on local date `day` (PEP 495, fold=0).

    A wall time skipped by a spring-forward change is read with the offset in force before it;
    an ambiguous wall time (clocks going back) is its first occurrence. A `minute_of_day` of
    1440 is midnight at the end of the day, i.e. 00:00 of the next date.
    """
    if minute_of_day >= MINUTES_PER_DAY:
        day += timedelta(days=minute_of_day // MINUTES_PER_DAY)
        minute_of_day %= MINUTES_PER_DAY
    h, m = divmod(minute_of_day, 60)
    return datetime(day.year, day.month, day.day, h, m, tzinfo=zone).astimezone(UTC)


def local_midnight(day: date, zone: tzinfo) -> datetime:
    """The UTC instant local date `day` begins (its 00:00 wall time, fold=0)."""
    return datetime(day.year, day.month, day.day, tzinfo=zone).astimezone(UTC)


def local_date(t: datetime, zone: tzinfo) -> date:
    """The local calendar date an instant falls on in `zone`."""
    return t.astimezone(zone).date()


def local_day_bounds(day: date, zone: tzinfo) -> tuple[datetime, datetime]:
    """The instants [start, end) of local date `day`: its midnight to the next one."""
    return local_midnight(day, zone), local_midnight(day + timedelta(days=1), zone)


def week_monday(t: datetime, zone: tzinfo) -> date:
    """The local Monday of the local week an instant falls in."""
    d = local_date(t, zone)
    return d - timedelta(days=d.weekday())


def week_bounds(monday: date, zone: tzinfo) -> tuple[datetime, datetime]:
    """The instants [start, end) of the local week beginning on local Monday `monday`."""
    return local_midnight(monday, zone), local_midnight(monday + timedelta(days=7), zone)


def wall_time_exists(day: date, minute_of_day: int, zone: tzinfo) -> bool:
    """False when the wall time falls in a spring-forward gap on that date."""
    h, m = divmod(minute_of_day % MINUTES_PER_DAY, 60)
    naive = datetime(day.year, day.month, day.day, h, m)
    back = naive.replace(tzinfo=zone).astimezone(UTC).astimezone(zone).replace(tzinfo=None)
    return back == naive


def wall_time_ambiguous(day: date, minute_of_day: int, zone: tzinfo) -> bool:
    """True when the wall time happens twice on that date (clocks going back)."""
    h, m = divmod(minute_of_day % MINUTES_PER_DAY, 60)
    first = datetime(day.year, day.month, day.day, h, m, tzinfo=zone)
    second = first.replace(fold=1)
    return wall_time_exists(day, minute_of_day, zone) and first.utcoffset() != second.utcoffset()


# ---------------------------------------------------------------- wording for people


def hhmm(minute_of_day: int) -> str:
    """A minute of the day written HH:MM."""
    h, m = divmod(minute_of_day % MINUTES_PER_DAY, 60)
    return f"{h:02d}:{m:02d}"


def duration_text(span: timedelta | float) -> str:
    """A length of time in people's words: "2 h", "6 h 30 min", "45 min" (minutes if float)."""
    total = span.total_seconds() / 60 if isinstance(span, timedelta) else float(span)
    sign = "-" if total < 0 else ""
    total = abs(total)
    whole = int(total)
    if total != whole:
        return f"{sign}{minutes_text(total)} min"
    h, m = divmod(whole, 60)
    if h and m:
        return f"{sign}{h} h {m} min"
    if h:
        return f"{sign}{h} h"
    return f"{sign}{m} min"


def minutes_text(value: float) -> str:
    """A count of minutes with thousands separators: 2,580 (one decimal place if fractional)."""
    if float(value).is_integer():
        return f"{int(value):,}"
    return f"{value:,.1f}"


def offset_text(t: datetime, zone: tzinfo) -> str:
    """The UTC offset in force at an instant in a zone, written UTC+05:45."""
    off = t.astimezone(zone).utcoffset() or timedelta(0)
    sign = "-" if off < timedelta(0) else "+"
    minutes = int(abs(off).total_seconds() // 60)
    return f"UTC{sign}{minutes // 60:02d}:{minutes % 60:02d}"


def _local_clock(t: datetime, zone: tzinfo) -> str:
    """HH:MM of an instant in a zone, with the offset when that wall time happens twice."""
    lt = t.astimezone(zone)
    text = lt.strftime("%H:%M")
    if wall_time_ambiguous(lt.date(), lt.hour * 60 + lt.minute, zone):
        text += f" ({offset_text(t, zone)})"
    return text


def local_text(t: datetime, zone: tzinfo) -> str:
    """An instant as local date and wall time: "2027-03-14 09:00"."""
    return f"{local_date(t, zone).isoformat()} {_local_clock(t, zone)}"


def zone_name(zone: tzinfo) -> str:
    """The IANA name of a zone (its key), for sentences."""
    return getattr(zone, "key", None) or str(zone)


def interval_text(start: datetime, end: datetime, zone: tzinfo) -> str:
    """An interval in local time with its UTC equivalent.

    E.g. "2027-03-14 09:00-17:00 America/New_York (13:00-21:00 UTC)"; dates are repeated only
    where they change.
    """
    d0, d1 = local_date(start, zone), local_date(end, zone)
    local = f"{d0.isoformat()} {_local_clock(start, zone)}-"
    local += _local_clock(end, zone) if d1 == d0 else f"{d1.isoformat()} {_local_clock(end, zone)}"
    u0, u1 = start.astimezone(UTC), end.astimezone(UTC)
    utc = u0.strftime("%H:%M") if u0.date() == d0 else u0.strftime("%Y-%m-%d %H:%M")
    utc += "-" + (u1.strftime("%H:%M") if u1.date() == u0.date() else u1.strftime("%Y-%m-%d %H:%M"))
    return f"{local} {zone_name(zone)} ({utc} UTC)"
