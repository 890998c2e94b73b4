"""Availability (marketplace rule 5): weekly windows in the clinician's local wall time, their
occurrences as UTC instants, the free spans they join into, and whether a shift fits in one.

A window `{day, start, end}` occurs on every local date whose weekday is `day`; it opens at that
date's wall time `start` and closes at wall time `end` the same date, or the next date when
`end <= start` ("00:00" as end is midnight at the end of the day). Wall times become instants
with PEP 495 fold=0. Occurrences that overlap or touch join into one free span, and a shift
must lie wholly inside one free span.

`FreeSpans` does the work once per clinician over a horizon, after which `covers` is a binary
search; `availability_verdict` is the one-off form with the explanation.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from vsm_rules.errors import InvalidArgument
from vsm_rules.verdict import Verdict
from vsm_rules.wall_clock import (
    MINUTES_PER_DAY,
    ZoneLike,
    duration_text,
    hhmm,
    interval_text,
    local_date,
    local_text,
    parse_hhmm,
    resolve_zone,
    utc_instant,
    utc_interval,
    wall_instant,
    wall_time_ambiguous,
    wall_time_exists,
    weekday_index,
    zone_name,
)

RULE = "availability"

_MARGIN = timedelta(days=2)
"""Local dates looked at either side of an interval: an occurrence spans at most two dates."""


@dataclass(frozen=True, slots=True)
class AvailabilityWindow:
    """A weekly window of availability: weekday `day` (mon..sun), from wall time `start` to wall
    time `end` ("HH:MM", local to the clinician); `end <= start` closes on the next date."""

    day: str
    start: str
    end: str

    def __post_init__(self) -> None:
        _weekday(self.day)
        _minute(self.start, "availability.start")
        _minute(self.end, "availability.end")

    @classmethod
    def from_mapping(cls, doc: Mapping[str, str]) -> AvailabilityWindow:
        """A window from its JSON form {"day": "mon", "start": "20:00", "end": "04:00"}."""
        try:
            return cls(day=doc["day"], start=doc["start"], end=doc["end"])
        except KeyError as exc:
            raise InvalidArgument(f"availability.{exc.args[0]}", "is required") from exc

    @property
    def weekday(self) -> int:
        """The weekday index, Monday = 0."""
        return _weekday(self.day)

    @property
    def start_minute(self) -> int:
        """Minutes after midnight the window opens."""
        return _minute(self.start, "availability.start")

    @property
    def end_minute(self) -> int:
        """Minutes after midnight (of the opening or the next date) the window closes."""
        return _minute(self.end, "availability.end")

    @property
    def overnight(self) -> bool:
        """True when the window closes on the date after it opens."""
        return self.end_minute <= self.start_minute

    @property
    def wall_minutes(self) -> int:
        """Length on the wall clock, ignoring any clock change: 1 to 1,440 minutes."""
        return self.end_minute - self.start_minute + (MINUTES_PER_DAY if self.overnight else 0)


def _weekday(day: str) -> int:
    return weekday_index(day, "availability.day")


def _minute(text: str, field: str) -> int:
    return parse_hhmm(text, field)


def windows_from(
    docs: Iterable[AvailabilityWindow | Mapping[str, str]],
) -> tuple[AvailabilityWindow, ...]:
    """Windows from their dataclass or JSON forms."""
    return tuple(
        w if isinstance(w, AvailabilityWindow) else AvailabilityWindow.from_mapping(w) for w in docs
    )


@dataclass(frozen=True, slots=True)
class Occurrence:
    """One occurrence of a window: the local date it opens on and its UTC instants [opens,
    closes). Around a clock change the real length differs from the wall-clock length (and a
    window inside a spring-forward gap can even close before it opens: it then covers nothing)."""

    window: AvailabilityWindow
    day: date
    opens: datetime
    closes: datetime

    @property
    def real_minutes(self) -> float:
        """Minutes that really pass between opening and closing (0 if it closes first)."""
        return max(0.0, (self.closes - self.opens).total_seconds() / 60)

    def describe(self, zone: ZoneInfo) -> str:
        """E.g. "available 01:00-04:00 America/New_York on 2027-03-14 is 2 h because clocks go
        forward 1 h"; the clock change is named only when there is one."""
        w = self.window
        on = self.day.isoformat()
        if w.overnight:
            on += f" to {(self.day + timedelta(days=1)).isoformat()}"
        text = f"available {w.start}-{w.end} {zone_name(zone)} on {on}"
        raw = (self.closes - self.opens).total_seconds() / 60
        change = raw - w.wall_minutes
        text += f" is {duration_text(self.real_minutes)}"
        if change < 0:
            text += f" because clocks go forward {duration_text(-change)}"
        elif change > 0:
            text += f" because clocks go back {duration_text(change)}"
        return text

    def notes(self, zone: ZoneInfo) -> list[str]:
        """Sentences about wall times that do not exist or happen twice at its ends."""
        out = []
        w = self.window
        close_day = self.day + timedelta(days=1) if w.overnight else self.day
        for label, d, minute, instant in (
            ("opens", self.day, w.start_minute, self.opens),
            ("closes", close_day, w.end_minute, self.closes),
        ):
            if not wall_time_exists(d, minute, zone):
                out.append(
                    f"{hhmm(minute)} does not exist on {d.isoformat()} in {zone_name(zone)} "
                    f"(clocks go forward); the window {label} at {local_text(instant, zone)}"
                )
            elif wall_time_ambiguous(d, minute, zone):
                out.append(
                    f"{hhmm(minute)} happens twice on {d.isoformat()} in {zone_name(zone)} "
                    f"(clocks go back); the window {label} at the first, "
                    f"{instant.strftime('%H:%M')} UTC"
                )
        return out


@dataclass(frozen=True, slots=True)
class FreeSpan:
    """Time covered by availability: occurrences that overlap or touch, joined, as [start, end)."""

    start: datetime
    end: datetime
    occurrences: tuple[Occurrence, ...]

    def describe(self, zone: ZoneInfo) -> str:
        """The span in local time, or its single occurrence's own description."""
        if len(self.occurrences) == 1:
            return self.occurrences[0].describe(zone)
        parts = " + ".join(
            f"{o.window.day} {o.window.start}-{o.window.end}" for o in self.occurrences
        )
        length = max(timedelta(0), self.end - self.start)
        return f"available {interval_text(self.start, self.end, zone)} ({parts}) is " + (
            duration_text(length)
        )


def occurrences(
    windows: Sequence[AvailabilityWindow], zone: ZoneInfo, first: date, last: date
) -> list[Occurrence]:
    """Every occurrence of the windows opening on local dates first..last, sorted by instants."""
    by_day: dict[int, list[tuple[AvailabilityWindow, int, int, bool]]] = {}
    for w in windows:
        sm, em = w.start_minute, w.end_minute
        by_day.setdefault(w.weekday, []).append((w, sm, em, em <= sm))
    out: list[Occurrence] = []
    one_day = timedelta(days=1)
    d = first
    while d <= last:
        for w, sm, em, overnight in by_day.get(d.weekday(), ()):
            opens = wall_instant(d, sm, zone)
            closes = wall_instant(d + one_day if overnight else d, em, zone)
            out.append(Occurrence(w, d, opens, closes))
        d += one_day
    out.sort(key=lambda o: (o.opens, o.closes))
    return out


def join(occs: Sequence[Occurrence]) -> list[FreeSpan]:
    """Sorted occurrences joined where they overlap or touch, into free spans."""
    spans: list[FreeSpan] = []
    for o in occs:
        if spans and o.opens <= spans[-1].end:
            last = spans[-1]
            spans[-1] = FreeSpan(last.start, max(last.end, o.closes), (*last.occurrences, o))
        else:
            spans.append(FreeSpan(o.opens, o.closes, (o,)))
    return spans


class FreeSpans:
    """A clinician's free spans over a horizon, computed once; `covers` is O(log n).

    Built from the windows, the clinician's zone and the horizon [horizon_start, horizon_end)
    (occurrences are taken from two local dates before to two after, so spans near the edges
    are whole). A query reaching outside the horizon is answered exactly all the same, by a
    one-off computation around it.
    """

    __slots__ = ("_closes", "_opens", "_spans", "horizon_end", "horizon_start", "windows", "zone")

    def __init__(
        self,
        windows: Iterable[AvailabilityWindow | Mapping[str, str]],
        zone: ZoneLike,
        horizon_start: datetime,
        horizon_end: datetime,
    ) -> None:
        self.windows = windows_from(windows)
        self.zone = resolve_zone(zone)
        self.horizon_start = utc_instant(horizon_start, "horizon.start")
        self.horizon_end = utc_instant(horizon_end, "horizon.end")
        if self.horizon_end < self.horizon_start:
            raise InvalidArgument("horizon.end", "must not be before horizon.start")
        self._spans = self._compute(self.horizon_start, self.horizon_end)
        self._opens = [s.start for s in self._spans]
        self._closes = [s.end for s in self._spans]

    def _compute(self, start: datetime, end: datetime) -> list[FreeSpan]:
        first = local_date(start - _MARGIN, self.zone)
        last = local_date(end + _MARGIN, self.zone)
        return join(occurrences(self.windows, self.zone, first, last))

    @property
    def spans(self) -> tuple[FreeSpan, ...]:
        """The free spans over the horizon and its margins, in order."""
        return tuple(self._spans)

    def covers(self, start: datetime, end: datetime) -> bool:
        """True when [start, end) (aware datetimes) lies wholly inside one free span."""
        if start < self.horizon_start or end > self.horizon_end:
            return self._span_for(start, self._compute(start, end), end) is not None
        i = bisect.bisect_right(self._opens, start)
        return i > 0 and end <= self._closes[i - 1]

    @staticmethod
    def _span_for(start: datetime, spans: Sequence[FreeSpan], end: datetime) -> FreeSpan | None:
        i = bisect.bisect_right([s.start for s in spans], start)
        return spans[i - 1] if i > 0 and end <= spans[i - 1].end else None

    def verdict(self, start: datetime, end: datetime) -> Verdict:
        """Whether the shift [start, end) fits in one free span, explained in local time."""
        s, e = utc_interval(start, end)
        if s < self.horizon_start or e > self.horizon_end:
            spans = self._compute(s, e)
        else:
            spans = self._spans
        return _explain(spans, self.zone, s, e, bool(self.windows))


def _explain(
    spans: Sequence[FreeSpan], zone: ZoneInfo, start: datetime, end: datetime, any_windows: bool
) -> Verdict:
    shift = f"shift {interval_text(start, end, zone)}"
    needs = duration_text(end - start)
    if not any_windows:
        return Verdict.refuse(RULE, f"{shift}: the clinician has no availability windows")
    i = bisect.bisect_right([sp.start for sp in spans], start)
    here = spans[i - 1] if i > 0 else None
    if here is not None and end <= here.end:
        inside = [o for o in here.occurrences if o.opens < end and o.closes > start] or list(
            here.occurrences
        )
        evidence = [o.describe(zone) for o in inside]
        for o in inside:
            evidence += o.notes(zone)
        return Verdict.allow(
            RULE,
            f"{shift} lies within availability {interval_text(here.start, here.end, zone)}",
            *evidence,
        )
    if here is not None and start < here.end:
        tail = (
            f"the shift needs {needs}"
            if start == here.start
            else (f"the shift runs until {local_text(end, zone)}")
        )
        reason = f"{here.describe(zone)}; {tail}"
        evidence = [f"{shift} needs {needs}"]
        for o in here.occurrences:
            evidence += o.notes(zone)
        if len(here.occurrences) > 1:
            evidence += [o.describe(zone) for o in here.occurrences]
        return Verdict.refuse(RULE, reason, evidence=tuple(evidence))
    reason = f"{shift} starts outside the clinician's availability"
    evidence = []
    before = [sp for sp in spans[:i] if sp.end > sp.start]
    after = [sp for sp in spans[i:] if sp.end > sp.start]
    if before:
        evidence.append(f"last before: {before[-1].describe(zone)}")
    if after:
        evidence.append(f"next after: {after[0].describe(zone)}")
        if after[0].start < end:
            reason += f"; availability only opens {local_text(after[0].start, zone)}"
    for sp in before[-1:] + after[:1]:
        for o in sp.occurrences:
            evidence += o.notes(zone)
    return Verdict.refuse(RULE, reason, evidence=tuple(evidence))


def availability_verdict(
    windows: Iterable[AvailabilityWindow | Mapping[str, str]],
    zone: ZoneLike,
    start: datetime,
    end: datetime,
) -> Verdict:
    """Rule 5 for one shift [start, end): does it lie wholly inside one free span of the
    clinician's availability windows (local wall time in `zone`)? Explained in local time."""
    s, e = utc_interval(start, end)
    return FreeSpans(windows, zone, s, e).verdict(s, e)


def is_available(
    windows: Iterable[AvailabilityWindow | Mapping[str, str]],
    zone: ZoneLike,
    start: datetime,
    end: datetime,
) -> bool:
    """Rule 5 as a yes/no, for one shift; build a `FreeSpans` to ask many times."""
    s, e = utc_interval(start, end)
    return FreeSpans(windows, zone, s, e).covers(s, e)
