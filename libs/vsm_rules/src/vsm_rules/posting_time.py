"""When a facility posts a shift in its own wall time: a local time that does not exist (the hour
skipped when clocks go forward) or happens twice (clocks going back) is refused with both
readings named, unless the caller chose one; a weekly series keeps its local wall time across
clock changes, each occurrence resolved on its own.

Unlike availability windows (read by PEP 495 fold=0, as the marketplace format defines), a
posted shift is a promise to a person: the poster says which instant they mean.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from enum import StrEnum

from vsm_rules.errors import InvalidArgument
from vsm_rules.wall_clock import offset_text, resolve_zone, zone_name

MAX_SERIES = 104  # two years of weekly shifts


class Reading(StrEnum):
    """Which instant a doubtful wall time means: the earlier or the later reading."""

    EARLIER = "earlier"
    LATER = "later"


@dataclass(frozen=True, slots=True)
class PostedTime:
    """A wall time resolved to an instant, with the zone it was given in."""

    instant: datetime  # UTC
    zone: str
    local: datetime  # naive, as given


def _readings(local: datetime, zone: tzinfo) -> tuple[datetime, datetime]:
    """The two instants a wall time can mean (the same one twice when it is plain)."""
    first = local.replace(tzinfo=zone, fold=0).astimezone(UTC)
    second = local.replace(tzinfo=zone, fold=1).astimezone(UTC)
    return min(first, second), max(first, second)


def resolve_posted(
    local: datetime, zone_name_: str, field: str, reading: Reading | None = None
) -> PostedTime:
    """The instant of a posted local wall time (naive `local` in zone `zone_name_`).

    A wall time in a spring-forward gap or a fall-back overlap is refused, naming both readings,
    unless `reading` says which one is meant; a plain one resolves whatever `reading` says.
    """
    if local.tzinfo is not None:
        raise InvalidArgument(field, "a local wall time carries no offset; the zone gives it")
    zone = resolve_zone(zone_name_, "zone")
    earlier, later = _readings(local, zone)
    if earlier == later:
        return PostedTime(earlier, zone_name(zone), local)
    gap = earlier.astimezone(zone).replace(tzinfo=None) != local
    if reading is None:
        what = "does not exist (clocks go forward)" if gap else "happens twice (clocks go back)"
        raise InvalidArgument(
            field,
            f"{local.strftime('%Y-%m-%d %H:%M')} in {zone_name(zone)} {what}: it can mean "
            f"{_reading_text(earlier, zone)} (earlier) or {_reading_text(later, zone)} (later); "
            "choose one",
        )
    return PostedTime(earlier if reading == Reading.EARLIER else later, zone_name(zone), local)


def _reading_text(instant: datetime, zone: tzinfo) -> str:
    local = instant.astimezone(zone)
    return (
        f"{local.strftime('%Y-%m-%d %H:%M')} {offset_text(instant, zone)} "
        f"({instant.strftime('%H:%M')} UTC)"
    )


def weekly_series(
    first_start: datetime,
    first_end: datetime,
    zone_name_: str,
    weeks: int,
    reading: Reading | None = None,
) -> list[tuple[PostedTime, PostedTime]]:
    """`weeks` weekly occurrences of a shift at the same local wall times as the first, each
    resolved on its own (a clock change between them moves the UTC instants, not the local
    times); an occurrence that falls in a gap or an overlap is refused like a single one."""
    if not 1 <= weeks <= MAX_SERIES:
        raise InvalidArgument("weeks", f"from 1 to {MAX_SERIES}")
    if first_end <= first_start:
        raise InvalidArgument("end", "must be after start")
    occurrences = []
    for week in range(weeks):
        shift = timedelta(weeks=week)
        start = resolve_posted(first_start + shift, zone_name_, f"occurrences[{week}].start",
                               reading)  # fmt: skip
        end = resolve_posted(first_end + shift, zone_name_, f"occurrences[{week}].end", reading)
        if end.instant <= start.instant:
            raise InvalidArgument(f"occurrences[{week}].end", "must be after start")
        occurrences.append((start, end))
    return occurrences
