"""Rule 7's local weeks for many intervals at once: each zone's week boundaries over the horizon,
taken from `vsm_rules.wall_clock.week_bounds` (the one definition of a local week), and the
minutes an interval spends in the week it starts in and in the next.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np
import numpy.typing as npt
from vsm_rules.wall_clock import week_bounds, week_monday

from matching.engine.bulk import micros

Ints = npt.NDArray[np.int64]
Floats = npt.NDArray[np.float64]
WEEK = timedelta(days=7)


class WeekGrid:
    """The local weeks of one zone from before `first` to after `last`."""

    def __init__(self, zone: str, first: datetime, last: datetime) -> None:
        tz = ZoneInfo(zone)
        monday = week_monday(first, tz) - WEEK
        self.mondays: list[date] = []
        edges: list[int] = []
        while True:
            start, _ = week_bounds(monday, tz)
            self.mondays.append(monday)
            edges.append(micros(start))
            if start > last + WEEK:
                break
            monday += WEEK
        self.edges = np.array(edges, dtype=np.int64)

    def parts(self, starts: Ints, ends: Ints) -> tuple[Ints, Floats, Floats]:
        """For intervals shorter than a week: the index of the week each starts in, its minutes
        there, and its minutes in the next week."""
        week = np.searchsorted(self.edges, starts, side="right") - 1
        boundary = self.edges[week + 1]
        first = (np.minimum(ends, boundary) - starts) / 60e6
        second = np.maximum(ends - boundary, 0) / 60e6
        return week.astype(np.int64), first, second


__all__ = ["WeekGrid"]
