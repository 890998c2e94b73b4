"""The iCalendar feed parses with a calendar library and shows each shift at the right local
time on both sides of a clock change; long lines are folded and text escaped."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import icalendar
from scheduling.ical import CalendarEntry, calendar_feed

NOW = datetime(2027, 3, 1, 12, 0, tzinfo=UTC)
NY = ZoneInfo("America/New_York")


def _feed() -> str:
    before = CalendarEntry(
        "b1@vsm",
        datetime(2027, 3, 13, 14, 0, tzinfo=UTC), datetime(2027, 3, 13, 22, 0, tzinfo=UTC),
        "RN shift, Prairie Clinic", "America/Chicago",
        "Scope: telehealth triage; patients in US-KS, US-MO. " * 3,
    )  # fmt: skip
    after = CalendarEntry(
        "b2@vsm",
        datetime(2027, 3, 15, 13, 0, tzinfo=UTC), datetime(2027, 3, 15, 21, 0, tzinfo=UTC),
        "RN shift, Prairie Clinic", "America/Chicago",
    )  # fmt: skip
    return calendar_feed("Ana's shifts", "America/New_York", [after, before], NOW)


def test_the_feed_parses_and_keeps_local_time_across_the_clock_change() -> None:
    calendar = icalendar.Calendar.from_ical(_feed())
    events = [c for c in calendar.walk() if c.name == "VEVENT"]
    assert [str(e["UID"]) for e in events] == ["b1@vsm", "b2@vsm"]
    local = [e.decoded("DTSTART").astimezone(NY) for e in events]
    assert [(t.hour, t.minute) for t in local] == [(9, 0), (9, 0)]  # EST, then EDT
    assert [e.decoded("DTEND").astimezone(NY).hour for e in events] == [17, 17]
    assert str(calendar["X-WR-TIMEZONE"]) == "America/New_York"
    description = str(events[0]["DESCRIPTION"])
    assert "2027-03-13 09:00-17:00 America/New_York" in description
    assert "2027-03-13 08:00-16:00 America/Chicago" in description
    assert "Scope: telehealth triage; patients in US-KS, US-MO." in description


def test_lines_are_crlf_and_folded_at_75_octets() -> None:
    feed = _feed()
    lines = feed.split("\r\n")
    assert lines[-1] == "" and "\n" not in feed.replace("\r\n", "")
    assert all(len(line.encode()) <= 75 for line in lines)
    assert any(line.startswith(" ") for line in lines)
