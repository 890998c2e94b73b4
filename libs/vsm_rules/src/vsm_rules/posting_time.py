"""When a facility posts a shift in its own wall time: a local time that does not exist (the hour
skipped when clocks go forward) or happens twice (clocks going back) is refused with both
readings named, unless the caller chose one. (A series is each occurrence resolved on its own, so
it keeps its local wall time across clock changes: `scheduling.marketplace.post_series`.)

Unlike availability windows (read by PEP 495 fold=0, as the marketplace format defines), a
posted shift is a promise to a person: the poster says which instant they mean.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from enum import StrEnum

from vsm_rules.errors import InvalidArgument
from vsm_rules.wall_clock import offset_text, resolve_zone, zone_name


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
