"""A `vsm-match/1` instance read into plain values (see FORMAT.md of the benchmark): the shape
`vsm explain`, the property tests and the engine's loader read instances through."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from vsm_rules.errors import InvalidArgument

FORMAT = "vsm-match/1"
# Bounds on an instance's numbers that keep the engine's whole-number arithmetic (value less rate
# times seconds, in 64 bits) exact for any shift between years 1 and 9999 (and the hourly
# bound of vsm_rules.pay).
MAX_COUNT = 2**31 - 1
MAX_VALUE_CENTS = 10**10


def whole_number(raw: Mapping[str, Any], key: str, default: int, field: str, high: int) -> int:
    """`raw[key]` (or `default`) as a whole number from 0 to `high`; InvalidArgument otherwise."""
    value = raw.get(key, default)
    try:
        number = int(value)
    except (TypeError, ValueError, OverflowError):
        raise InvalidArgument(field, f"a whole number is needed, not {value!r}") from None
    if not 0 <= number <= high:
        raise InvalidArgument(field, f"from 0 to {high:,}, not {number}")
    return number


def parse_instant(text: Any, field: str) -> datetime:
    """An ISO 8601 instant with an offset (or Z), as timezone-aware UTC."""
    if not isinstance(text, str):
        raise InvalidArgument(field, "must be an ISO 8601 instant such as 2027-03-08T00:00:00Z")
    try:
        value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError as error:
        raise InvalidArgument(field, f"{text!r} is not an ISO 8601 instant") from error
    if value.tzinfo is None:
        raise InvalidArgument(field, f"{text!r} has no offset; write Z for UTC")
    return value.astimezone(UTC)


@dataclass(frozen=True, slots=True)
class MatchFacility:
    id: str
    zone: str
    do_not_return: frozenset[str]


@dataclass(frozen=True, slots=True)
class MatchShift:
    """A shift to fill: when, for whom, how many positions, and what filling one is worth."""

    id: str
    facility: str
    profession: str
    skills: frozenset[str]
    patient_jurisdictions: tuple[str, ...]
    start: datetime
    end: datetime
    positions: int
    value_cents: int

    @property
    def minutes(self) -> float:
        return (self.end - self.start).total_seconds() / 60

    @property
    def seconds(self) -> int:
        return int((self.end - self.start).total_seconds())


@dataclass(frozen=True, slots=True)
class MatchInstance:
    """The whole instance: the raw document plus the shifts and facilities by id."""

    document: Mapping[str, Any]
    horizon_start: datetime
    horizon_end: datetime
    facilities: Mapping[str, MatchFacility]
    shifts: Mapping[str, MatchShift]
    clinicians: Mapping[str, Mapping[str, Any]]

    def licensed_profession(self, profession: str) -> bool:
        professions = self.document.get("professions") or {}
        return bool((professions.get(profession) or {}).get("licensed", True))


def load_instance(document: Mapping[str, Any]) -> MatchInstance:
    """Reads a parsed `vsm-match/1` JSON document; InvalidArgument names a bad field."""
    if document.get("format") != FORMAT:
        raise InvalidArgument("format", f"must be {FORMAT!r}")
    horizon = document.get("horizon") or {}
    facilities = {
        f["id"]: MatchFacility(f["id"], f.get("tz", "UTC"), frozenset(f.get("do_not_return", [])))
        for f in document.get("facilities", [])
    }
    shifts: dict[str, MatchShift] = {}
    for index, raw in enumerate(document.get("shifts", [])):
        where = f"shifts[{index}]"
        start = parse_instant(raw.get("start"), f"{where}.start")
        end = parse_instant(raw.get("end"), f"{where}.end")
        if end <= start:
            raise InvalidArgument(f"{where}.end", "must be after start")
        if raw.get("facility") not in facilities:
            raise InvalidArgument(f"{where}.facility", f"unknown facility {raw.get('facility')!r}")
        shifts[raw["id"]] = MatchShift(
            id=raw["id"],
            facility=raw["facility"],
            profession=raw["profession"],
            skills=frozenset(raw.get("skills", [])),
            patient_jurisdictions=tuple(raw.get("patient_jurisdictions", [])),
            start=start,
            end=end,
            positions=whole_number(raw, "positions", 1, f"{where}.positions", MAX_COUNT),
            value_cents=whole_number(
                raw, "value_cents", 0, f"{where}.value_cents", MAX_VALUE_CENTS
            ),
        )
    return MatchInstance(
        document=document,
        horizon_start=parse_instant(horizon.get("start"), "horizon.start"),
        horizon_end=parse_instant(horizon.get("end"), "horizon.end"),
        facilities=facilities,
        shifts=shifts,
        clinicians={c["id"]: c for c in document.get("clinicians", [])},
    )
