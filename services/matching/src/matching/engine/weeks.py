"""Rule 7's local weeks for many intervals at once: each zone's week boundaries over the horizon,
taken from `vsm_rules.wall_clock.week_bounds` (the one definition of a local week), the minutes
an interval spends in the week it starts in and in the next, and each clinician-week's room.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np
import numpy.typing as npt
from vsm_rules.wall_clock import week_bounds, week_monday
from vsm_rules.weekly_hours import weekly_totals

from matching.engine.bulk import micros
from matching.engine.problem import Clinician

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


@dataclass(frozen=True, slots=True)
class WeekCells:
    """Some clinicians' local weeks as cells `c * per_clinician + w` (clinician c's week w),
    each with its room: the weekly cap less the minutes already booked, never below zero."""

    per_clinician: int
    room: Floats
    grids: list[WeekGrid]
    zone_of: Ints

    @classmethod
    def build(cls, clinicians: Sequence[Clinician], first: datetime, last: datetime) -> WeekCells:
        """The weeks of these clinicians from before `first` to after `last`."""
        zones = sorted({c.zone for c in clinicians})
        index = {zone: i for i, zone in enumerate(zones)}
        zone_of = np.array([index[c.zone] for c in clinicians], dtype=np.int64)
        grids = [WeekGrid(zone, first, last) for zone in zones]
        per_clinician = max((len(g.mondays) for g in grids), default=1)
        room = np.zeros(len(clinicians) * per_clinician)
        for c, clinician in enumerate(clinicians):
            row = c * per_clinician
            room[row : row + per_clinician] = clinician.max_minutes_per_week
            if clinician.booked:
                mondays = {m: i for i, m in enumerate(grids[int(zone_of[c])].mondays)}
                for monday, minutes in weekly_totals(clinician.zone, clinician.booked).items():
                    if monday in mondays:
                        room[row + mondays[monday]] -= minutes
        return cls(per_clinician, np.maximum(room, 0.0), grids, zone_of)

    def parts(self, clinician_of: Ints, starts: Ints, ends: Ints) -> tuple[Ints, Floats]:
        """For intervals of these clinicians (shorter than a week): the cells of the week each
        starts in and the next, (n, 2), -1 where it spends no minutes; and those minutes."""
        cell = np.full((starts.size, 2), -1, dtype=np.int64)
        minutes = np.zeros((starts.size, 2))
        zone = self.zone_of[clinician_of]
        for z, grid in enumerate(self.grids):
            rows = np.flatnonzero(zone == z)
            if rows.size:
                week, one, two = grid.parts(starts[rows], ends[rows])
                base = clinician_of[rows] * self.per_clinician + week
                minutes[rows, 0], minutes[rows, 1] = one, two
                cell[rows, 0] = np.where(one > 0, base, -1)
                cell[rows, 1] = np.where(two > 0, base + 1, -1)
        return cell, minutes


__all__ = ["WeekCells", "WeekGrid"]
