"""A clinician's schedule as an iCalendar feed (RFC 5545) that calendar apps subscribe to.

Each booking is a VEVENT whose start and end are UTC instants (`DTSTART:20270314T130000Z`):
the one form every calendar app reads the same way, and which it shows in the viewer's own
local time, right across clock changes, with no time zone table to keep in the feed. The
clinician's zone is named for apps that label the calendar (`X-WR-TIMEZONE`), and each event's
description gives the shift in the clinician's and the facility's wall time.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

from vsm_rules.wall_clock import interval_text, resolve_zone

PRODID = "-//Virtual shift marketplace//Clinician schedule//EN"
LINE_OCTETS = 75


@dataclass(frozen=True, slots=True)
class CalendarEntry:
    """One booked shift as the clinician sees it."""

    uid: str
    start: datetime  # UTC
    end: datetime
    summary: str
    facility_zone: str
    description: str = ""
    cancelled: bool = False


def _escape(text: str) -> str:
    return (
        text.replace("\\", "\\\\")
        .replace(";", "\\;")
        .replace(",", "\\,")
        .replace("\r\n", "\\n")
        .replace("\n", "\\n")
    )


def _fold(line: str) -> list[str]:
    """A content line folded at 75 octets (RFC 5545 3.1), never inside a UTF-8 character."""
    out: list[str] = []
    current, size = "", 0
    for char in line:
        width = len(char.encode("utf-8"))
        limit = LINE_OCTETS if not out else LINE_OCTETS - 1  # continuation lines start with " "
        if size + width > limit:
            out.append(current)
            current, size = "", 0
        current += char
        size += width
    out.append(current)
    return [out[0], *(" " + part for part in out[1:])]


def _utc(t: datetime) -> str:
    return t.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def calendar_feed(name: str, zone: str, entries: Iterable[CalendarEntry], now: datetime) -> str:
    """The feed: CRLF line endings, folded lines, one VEVENT per booking in start order."""
    tz = resolve_zone(zone, "zone")
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        f"PRODID:{PRODID}",
        "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH",
        f"X-WR-CALNAME:{_escape(name)}",
        f"X-WR-TIMEZONE:{zone}",
    ]
    for entry in sorted(entries, key=lambda e: (e.start, e.uid)):
        facility_tz = resolve_zone(entry.facility_zone, "facility_zone")
        when = (
            f"{interval_text(entry.start, entry.end, tz)}; at the facility "
            f"{interval_text(entry.start, entry.end, facility_tz)}"
        )
        description = f"{when}\n{entry.description}".strip()
        lines += [
            "BEGIN:VEVENT",
            f"UID:{_escape(entry.uid)}",
            f"DTSTAMP:{_utc(now)}",
            f"DTSTART:{_utc(entry.start)}",
            f"DTEND:{_utc(entry.end)}",
            f"SUMMARY:{_escape(entry.summary)}",
            f"DESCRIPTION:{_escape(description)}",
            f"STATUS:{'CANCELLED' if entry.cancelled else 'CONFIRMED'}",
            "TRANSP:OPAQUE",
            "END:VEVENT",
        ]
    lines.append("END:VCALENDAR")
    return "".join(f"{part}\r\n" for line in lines for part in _fold(line))
