"""Absurd-but-plausible values for a fuzzer, chosen by the name of the field they go into: ids
that do not exist, zones that are not zones, dates and wall times that cannot be (and ones at a
clock change), jurisdictions, professions and JSON documents with their leaves swapped for such
values. `protobuf_strategies` puts them into messages."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from hypothesis import strategies as st

MISSING = object()  # a JSON key dropped from its object


@dataclass(frozen=True)
class Hints:
    """What a run adds: more values for a field name (ids that exist, cursors), and JSON
    documents to mutate for a `*_json` field."""

    values: Mapping[str, Sequence[str]] = field(default_factory=dict)
    documents: Mapping[str, Any] = field(default_factory=dict)


def _clock_changes(zone: str, days: int = 800) -> list[str]:
    """Local wall times that do not exist or happen twice in `zone`, in the coming `days`."""
    tz, found, today = ZoneInfo(zone), [], date.today()
    for n in range(days):
        day = today + timedelta(days=n)
        before = datetime.combine(day, time(0), tz).utcoffset()
        after = datetime.combine(day + timedelta(days=1), time(0), tz).utcoffset()
        if before != after:
            found += [f"{day}T02:30", f"{day}T01:30"]
    return found


def _days(*offsets: int) -> list[str]:
    return [(date.today() + timedelta(days=n)).isoformat() for n in offsets]


_SOON = _days(1, 7, 30)
_BIG = "x" * 100_000
WEIRD = ["", " ", "\x00", "a\x00b", "\t\n", "é", "🙂" * 20, "\u202e\u0647", "\ufeff", "İ",
         "x" * 1000, _BIG, "' OR 1=1 --", '{"$ne": null}', "$where", "%s%n", "null", "-1",
         "NaN"]  # fmt: skip
IDS = ["f1", "c1", "s1", "org1", "o1", "no-such-id", "00000000-0000-0000-0000-000000000000",
       "../../etc/passwd", "shift:s1:slot:0", "clinician:c1:booking:s1", "a" * 300]  # fmt: skip
ZONES = ["America/New_York", "America/Chicago", "America/Los_Angeles", "UTC", "Etc/UTC",
         "Europe/London", "Asia/Kathmandu", "Pacific/Chatham", "Pacific/Kiritimati",
         "Australia/Lord_Howe", "America/St_Johns", "Mars/Olympus", "UTC+99", "Etc/GMT+14",
         "Etc/GMT-14", "EST5EDT", "../../../etc/passwd", "/etc/localtime", "America/New_York\x00",
         "posixrules", "localtime", "Factory", "right/UTC", "utc", " UTC", "America/New_York/",
         "America", "Z" * 300]  # fmt: skip
DATES = [*_days(0, 1, 7, 30, -1, -40, 3 * 366 + 5), "2026-02-30", "2027-02-29", "2028-02-29",
         "0001-01-01", "9999-12-31", "10000-01-01", "0000-00-00", "2026-13-01", "2026-2-3",
         "20260203", "-0001-01-01", "2026-02-03T25:00", "2026-W09-1"]  # fmt: skip
WALL_TIMES = ["00:00", "09:00", "17:30", "23:59", "24:00", "24:61", "12:60", "9:5", "-1:00",
              "noon", "00:00:00", "12:00Z", "99999:00",
              *(f"{d}T{h}" for d in _SOON for h in ("09:00", "13:00", "23:30")),
              *(f"{d}T{h}" for d in _SOON[:1] for h in ("24:00", "24:61", "09:00Z", "09:00+05:00")),
              *_clock_changes("America/New_York"), "2026-02-30T10:00", "0001-01-01T00:00",
              "9999-12-31T23:59", "T", "2027-01-01T00:00:00.999999999"]  # fmt: skip
INSTANTS = ["2026-01-01T00:00:00Z", "9999-12-31T23:59:59Z", "0001-01-01T00:00:00+14:00",
            "2026-06-01T09:00", "not-a-time", f"{_SOON[0]}T09:00:00Z"]  # fmt: skip
JURISDICTIONS = ["US-KS", "US-TX", "US-NY", "US-NJ", "US-MO", "US-FL", "CA-ON", "US-DC", "US-PR",
                 "US-XX", "us-ks", "KS", "US-", "ZZ-99", "US-KS ", "US-KS\x00"]  # fmt: skip
PROFESSIONS = ["RN", "LPN", "NP", "MD", "DO", "PSY", "LPC", "LCSW", "PT", "OT", "SLP", "SCRIBE",
               "XX", "rn"]  # fmt: skip
DAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun", "Mon", "monday", "xyz"]
COMPACTS = ["NLC", "PSYPACT", "COUNSELING", "IMLC", "APRN", "PT", "XX", "nlc"]
ROLES = ["operator", "facility_staff", "clinician", "partner", "admin"]
JSON_TEXTS = ["{}", "[]", "null", "1", '"x"', "{", '{"format": "vsm-match/1"}', "NaN",
              '{"a": ' * 5000 + "}" * 5000, "[" * 100_000]  # fmt: skip
ODD_KEYS = ["$where", "$set", "a.b", "", "\x00", "k\x00", "_id", "é🙂", "x" * 1000]
JSON_LEAVES: list[Any] = [None, True, 0, -1, 2**63, -(2**63) - 1, 10**400, 1e308, float("nan"),
                          float("inf"), "", [], {}, "x"]  # fmt: skip


def _is_id(name: str) -> bool:
    return name == "id" or name.endswith(("_id", "_ids")) or name in {
        "do_not_return", "favourites", "booked_clinicians", "idempotency_key", "position",
        "shift", "clinician", "facility"}  # fmt: skip


_BY_NAME: tuple[tuple[Callable[[str], bool], Sequence[str]], ...] = (
    (lambda n: n in {"zone", "tz", "time_zone", "timezone"} or n.endswith("_zone"), ZONES),
    (lambda n: "jurisdiction" in n or n in {"residence", "home"}, JURISDICTIONS),
    (lambda n: n.startswith("profession"), PROFESSIONS),
    (lambda n: n == "day", DAYS),
    (
        lambda n: (
            "date" in n
            or n in {"issued", "expires", "time_off", "honours_from", "residents_from", "members"}
        ),
        DATES,
    ),
    (lambda n: n.endswith("_at") or n in {"hour", "shift_start", "time", "start", "end"}, INSTANTS),
    (
        lambda n: (
            "time" in n
            or n.startswith("quiet_hours")
            or n in {"local", "local_start", "local_end", "start", "end"}
        ),
        WALL_TIMES,
    ),
    (lambda n: n.endswith("_json"), JSON_TEXTS),
    (lambda n: n in {"code", "compact", "compacts", "id"}, COMPACTS),
    (lambda n: n == "role", ROLES),
    (_is_id, IDS),
)


def _known(name: str) -> bool:
    return any(matches(name) for matches, _ in _BY_NAME)


_ANY_TEXT = st.one_of(
    st.text(st.characters(codec="utf-8"), max_size=24),
    st.sampled_from(WEIRD),
    st.sampled_from([*DATES, *WALL_TIMES, *ZONES, *JURISDICTIONS]),
)


def strings(name: str, hints: Hints) -> st.SearchStrategy[str]:
    """Text for a field called `name`: mostly values meant for such a field (a zone for
    `zone`, a date for `expires`), the rest anything at all; for a field with a JSON document
    in `hints`, also that document with a few leaves made absurd."""
    plausible = [v for matches, pool in _BY_NAME if matches(name) for v in pool]
    plausible += hints.values.get(name, ())
    options = [st.sampled_from(plausible)] if plausible else []
    if name in hints.documents:
        options.append(json_texts(hints.documents[name], name, hints))
    return st.one_of(*options, _ANY_TEXT)


def json_texts(document: Any, name: str, hints: Hints) -> st.SearchStrategy[str]:
    """The document with about one leaf made absurd or one key dropped, as JSON text (NaN and
    Infinity as Python writes and reads them)."""
    odds = max(5, _leaves(document))
    return _documents(document, name, hints, odds).map(json.dumps)


def mostly(
    keep: st.SearchStrategy[Any], other: st.SearchStrategy[Any], odds: int = 5
) -> st.SearchStrategy[Any]:
    """`keep`, but `other` once in `odds`; shrinks towards `keep`."""
    return st.integers(0, odds - 1).flatmap(lambda n: other if n == odds - 1 else keep)


def _leaves(value: Any) -> int:
    if isinstance(value, dict):
        return sum(1 + _leaves(v) for v in value.values())
    if isinstance(value, list):
        return 1 + sum(_leaves(v) for v in value)
    return 1


def _documents(value: Any, name: str, hints: Hints, odds: int) -> st.SearchStrategy[Any]:
    """The value with, at each place, one chance in `odds` of something else: a leaf of the
    wrong kind or an absurd one for its name, a key dropped, a list emptied or repeated."""
    absurd = st.one_of(st.sampled_from(JSON_LEAVES), st.integers(-(2**70), 2**70),
                       strings(name, Hints(hints.values)))  # fmt: skip
    if isinstance(value, dict):  # a key no pool knows (a jurisdiction) takes its parent's name
        items = {k: mostly(_documents(v, k if _known(k) else name, hints, odds), st.just(MISSING),
                           odds) for k, v in value.items()}  # fmt: skip
        extra = mostly(st.just({}), st.dictionaries(st.sampled_from(ODD_KEYS), absurd, max_size=1),
                       odds)  # fmt: skip
        kept = st.tuples(st.fixed_dictionaries(items), extra).map(
            lambda t: {k: v for k, v in (t[0] | t[1]).items() if v is not MISSING}
        )
        return mostly(kept, absurd, odds)
    if isinstance(value, list):
        each = st.tuples(*(_documents(v, name, hints, odds) for v in value)).map(list)
        return mostly(each, st.one_of(st.sampled_from([[], value * 50]), absurd), odds)
    return mostly(st.just(value), absurd, odds)


def instants_in_seconds() -> st.SearchStrategy[int]:
    """Seconds since the epoch for a Timestamp: now-ish, year 1, year 9999, and beyond."""
    now = int(datetime.now(UTC).timestamp())
    edges = [0, 1, -1, -62135596800, -62135596801, 253402300799, 253402300800, 2**63 - 1, -(2**63),
             now, now + 3600, now - 40 * 86400, now + 4 * 366 * 86400]  # fmt: skip
    return st.one_of(st.sampled_from(edges), st.integers(now - 86400 * 365, now + 86400 * 365 * 2),
                     st.integers(-(2**63), 2**63 - 1))  # fmt: skip


def nanos() -> st.SearchStrategy[int]:
    return st.one_of(st.just(0), st.sampled_from([999_999_999, 10**9, -1, 2**31 - 1, -(2**31)]),
                     st.integers(0, 999_999_999))  # fmt: skip
