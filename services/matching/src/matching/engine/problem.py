"""The engine's own input model: clinicians, shifts, the compact tables in force, and the live
marketplace's fixed work (bookings, accepted offers) and hint (the previous answer).

`vsm-match/1` is one loader of it (loader.py); the matching service builds it from read models.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime

from vsm_rules.availability import AvailabilityWindow
from vsm_rules.compacts import CompactTables
from vsm_rules.match_instance import MatchShift as Shift  # one shift model for rules and engine
from vsm_rules.records import LicensingRecord

Interval = tuple[datetime, datetime]
Pair = tuple[str, str]  # (shift id, clinician id)


@dataclass(frozen=True, slots=True)
class Clinician:
    """A clinician's licensing record, availability in their zone, limits, rate and bookings."""

    id: str
    profession: str
    skills: frozenset[str]
    zone: str
    rate_cents_per_hour: int
    licensing: LicensingRecord
    availability: tuple[AvailabilityWindow, ...]
    min_rest_minutes: int
    max_minutes_per_week: int
    booked: tuple[Interval, ...] = ()
    time_off: frozenset[date] = frozenset()


@dataclass(frozen=True, slots=True)
class Problem:
    """Everything the engine decides on."""

    horizon_start: datetime
    horizon_end: datetime
    shifts: Mapping[str, Shift]
    clinicians: Mapping[str, Clinician]
    do_not_return: Mapping[str, frozenset[str]]
    licensed_professions: frozenset[str]
    tables: CompactTables
    fixed: tuple[Pair, ...] = ()
    hint: tuple[Pair, ...] = ()
    excluded: frozenset[Pair] = field(default_factory=frozenset)

    def gain_scaled(self, shift: Shift, clinician: Clinician) -> int:
        """The format's score of one assignment, times 3,600 so it is an exact integer."""
        return shift.value_cents * 3600 - clinician.rate_cents_per_hour * shift.seconds


__all__ = ["Clinician", "Interval", "Pair", "Problem", "Shift"]
