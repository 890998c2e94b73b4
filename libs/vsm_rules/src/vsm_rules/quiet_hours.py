"""Quiet hours: the local wall times between which a clinician receives no offer, and when an
offer made at some instant can first be delivered. Wall times become instants by the same rule
as availability windows (PEP 495, fold=0: a skipped time reads with the offset before it)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from vsm_rules.wall_clock import local_date, parse_hhmm, resolve_zone, wall_instant


@dataclass(frozen=True, slots=True)
class QuietHours:
    """From `start` to `end`, local wall times "HH:MM" (may run past midnight; equal times mean
    no quiet hours at all, not a whole quiet day)."""

    start: str
    end: str

    def __post_init__(self) -> None:
        parse_hhmm(self.start, "quiet_hours.start")
        parse_hhmm(self.end, "quiet_hours.end")

    def holds(self, minute_of_day: int) -> bool:
        """Whether a local minute of the day is quiet."""
        start, end = parse_hhmm(self.start), parse_hhmm(self.end)
        if start <= end:
            return start <= minute_of_day < end
        return minute_of_day >= start or minute_of_day < end

    def delivery(self, at: datetime, zone: str) -> datetime:
        """The first instant at or after `at` outside the quiet hours in `zone`: `at` itself when
        it is not quiet, else the instant the quiet hours end (local wall time `end`)."""
        tz = resolve_zone(zone, "zone")
        start, end = parse_hhmm(self.start), parse_hhmm(self.end)
        if start == end:
            return at
        for back in (1, 0):  # a quiet span may have begun the local day before
            day = local_date(at, tz) - timedelta(days=back)
            opens = wall_instant(day, start, tz)
            closes = wall_instant(day + timedelta(days=1 if end < start else 0), end, tz)
            if opens <= at < closes:
                return closes
        return at


def quiet_hours_of(start: str, end: str) -> QuietHours | None:
    """Quiet hours from two "HH:MM" texts; None when both are empty."""
    if not start and not end:
        return None
    return QuietHours(start, end)


__all__ = ["QuietHours", "quiet_hours_of"]
