"""What the matching service knows of the marketplace, built from the other services' events and
nothing else (it never calls them per candidate): facilities, shifts, work profiles with
availability and time off, bookings, licensing records and compact tables.

Pure: `apply` takes one decoded event and says which professions' markets it changed; `problem`
builds the engine's input for one profession. Events of one aggregate arrive in order (one key,
one partition); across aggregates they may not, so each part is kept by its own key and joined
only when a problem is built, and a versioned value never goes back to an older version.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from importlib import resources
from typing import Any

from google.protobuf.message import Message
from vsm.licensing.v1 import events_pb2 as licensing_events
from vsm.licensing.v1 import licensing_service_pb2 as lpb
from vsm.scheduling.v1 import events_pb2 as scheduling_events
from vsm.scheduling.v1 import scheduling_service_pb2 as spb
from vsm_platform.licensing_records import partner_verified, record_from_proto
from vsm_rules.availability import AvailabilityWindow
from vsm_rules.compacts import CompactTables
from vsm_rules.eligibility import decide
from vsm_rules.match_instance import MatchShift
from vsm_rules.quiet_hours import QuietHours, quiet_hours_of
from vsm_rules.records import UNLICENSED_PROFESSIONS, LicensingRecord, Profession

from matching.engine.problem import Clinician, Pair, Problem

EVERY_PROFESSION = frozenset(p.value for p in Profession)
LICENSED = EVERY_PROFESSION - UNLICENSED_PROFESSIONS


@dataclass(frozen=True, slots=True)
class FacilityView:
    id: str
    zone: str
    do_not_return: frozenset[str]
    favourites: frozenset[str]
    organization_id: str = ""


@dataclass(frozen=True, slots=True)
class ShiftView:
    id: str
    facility_id: str
    profession: str
    skills: frozenset[str]
    patient_jurisdictions: tuple[str, ...]
    start: datetime
    end: datetime
    positions: int
    pay_cents_per_hour: int  # the most the facility pays per hour
    cancelled: bool
    version: int

    @property
    def value_cents(self) -> int:
        """What filling one position is worth: the most the facility pays for its hours."""
        return round(self.pay_cents_per_hour * (self.end - self.start).total_seconds() / 3600)


@dataclass(frozen=True, slots=True)
class ProfileView:
    clinician_id: str
    profession: str
    skills: frozenset[str]
    zone: str
    rate_cents_per_hour: int
    max_minutes_per_week: int
    min_rest_minutes: int
    version: int
    availability: tuple[AvailabilityWindow, ...] = ()
    quiet_hours: QuietHours | None = None
    time_off: frozenset[date] = frozenset()


@dataclass(frozen=True, slots=True)
class BookingView:
    shift_id: str
    clinician_id: str
    start: datetime
    end: datetime
    rate_cents_per_hour: int
    agreed_elsewhere: bool = False  # recorded by an operator; the marketplace never releases it


def _instant(stamp: Any) -> datetime:
    return stamp.ToDatetime(tzinfo=UTC)  # type: ignore[no-any-return]


def shift_view(message: spb.Shift) -> ShiftView:
    return ShiftView(
        id=message.shift_id, facility_id=message.facility_id, profession=message.profession,
        skills=frozenset(message.skills),
        patient_jurisdictions=tuple(message.patient_jurisdictions),
        start=_instant(message.interval.start), end=_instant(message.interval.end),
        positions=message.positions, pay_cents_per_hour=message.pay_cents_per_hour,
        cancelled=message.state == spb.SHIFT_STATE_CANCELLED, version=message.version,
    )  # fmt: skip


def _windows(messages: Iterable[spb.AvailabilityWindow]) -> tuple[AvailabilityWindow, ...]:
    return tuple(AvailabilityWindow(w.day, w.start, w.end) for w in messages)


def _repo_tables_document() -> dict[str, Any]:
    text = resources.files("vsm_rules").joinpath("data/compacts.json").read_text("utf-8")
    document: dict[str, Any] = json.loads(text)
    return document


@dataclass
class MarketView:
    """The read model. `apply` returns the professions whose market an event changed."""

    facilities: dict[str, FacilityView] = field(default_factory=dict)
    shifts: dict[str, ShiftView] = field(default_factory=dict)
    profiles: dict[str, ProfileView] = field(default_factory=dict)
    bookings: dict[Pair, BookingView] = field(default_factory=dict)
    by_shift: dict[str, dict[str, BookingView]] = field(default_factory=dict)  # its bookings
    # Each clinician's record trusting every verification (what finds candidates) ...
    records: dict[str, tuple[int, LicensingRecord]] = field(default_factory=dict)
    # ... and, for those with a credentialing partner's verifications (which count for its own
    # organisation only), the record as announced, read again per organisation.
    partner_vouched: dict[str, lpb.LicensingRecord] = field(default_factory=dict)
    _vouched_memo: dict[tuple[object, ...], Any] = field(default_factory=dict)
    compacts: dict[str, Any] = field(default_factory=_repo_tables_document)
    _tables: CompactTables | None = None

    # ------------------------------------------------------------ applying events

    def apply(self, event: Message) -> set[str]:
        handler = getattr(self, f"_on_{type(event).__name__}", None)
        return set(handler(event)) if handler is not None else set()

    def _on_FacilityChanged(self, event: scheduling_events.FacilityChanged) -> Iterable[str]:
        f = event.facility
        self.facilities[f.facility_id] = FacilityView(
            f.facility_id,
            f.zone,
            frozenset(f.do_not_return),
            frozenset(f.favourites),
            f.organization_id,
        )
        return {s.profession for s in self.shifts.values() if s.facility_id == f.facility_id}

    def _shift(self, message: spb.Shift) -> Iterable[str]:
        before = self.shifts.get(message.shift_id)
        if before is not None and before.version >= message.version:
            return ()
        after = shift_view(message)
        self.shifts[after.id] = after
        return {after.profession} | ({before.profession} if before else set())

    def _on_ShiftPosted(self, event: scheduling_events.ShiftPosted) -> Iterable[str]:
        return self._shift(event.shift)

    def _on_ShiftUpdated(self, event: scheduling_events.ShiftUpdated) -> Iterable[str]:
        return self._shift(event.shift)

    def _on_ShiftCancelled(self, event: scheduling_events.ShiftCancelled) -> Iterable[str]:
        return self._shift(event.shift)

    def _on_ClinicianProfileChanged(
        self, event: scheduling_events.ClinicianProfileChanged
    ) -> Iterable[str]:
        p = event.profile
        before = self.profiles.get(p.clinician_id)
        if before is not None and before.version >= p.version:
            return ()
        self.profiles[p.clinician_id] = ProfileView(
            clinician_id=p.clinician_id, profession=p.profession, skills=frozenset(p.skills),
            zone=p.zone, rate_cents_per_hour=p.rate_cents_per_hour,
            max_minutes_per_week=p.max_minutes_per_week, min_rest_minutes=p.min_rest_minutes,
            version=p.version, availability=_windows(p.availability),
            quiet_hours=quiet_hours_of(p.quiet_hours_start, p.quiet_hours_end),
            time_off=frozenset(date.fromisoformat(d) for d in p.time_off),
        )  # fmt: skip
        return {p.profession} | ({before.profession} if before else set())

    def _on_AvailabilityChanged(
        self, event: scheduling_events.AvailabilityChanged
    ) -> Iterable[str]:
        before = self.profiles.get(event.clinician_id)
        if before is None or before.version > event.version:
            return ()
        self.profiles[event.clinician_id] = ProfileView(
            **{**_fields(before), "zone": event.zone, "version": event.version,
               "availability": _windows(event.availability),
               "quiet_hours": quiet_hours_of(event.quiet_hours_start, event.quiet_hours_end)},
        )  # fmt: skip
        return {before.profession}

    def _on_TimeOffChanged(self, event: scheduling_events.TimeOffChanged) -> Iterable[str]:
        before = self.profiles.get(event.clinician_id)
        if before is None or before.version > event.version:
            return ()
        self.profiles[event.clinician_id] = ProfileView(
            **{**_fields(before), "zone": event.zone, "version": event.version,
               "time_off": frozenset(date.fromisoformat(d) for d in event.time_off)},
        )  # fmt: skip
        return {before.profession}

    def _profession_of(self, clinician_id: str) -> set[str]:
        profile = self.profiles.get(clinician_id)
        return {profile.profession} if profile else set()

    def _on_BookingConfirmed(self, event: scheduling_events.BookingConfirmed) -> Iterable[str]:
        b = event.booking
        booking = BookingView(
            b.shift_id, b.clinician_id, _instant(b.interval.start), _instant(b.interval.end),
            b.rate_cents_per_hour, b.agreed_elsewhere,
        )  # fmt: skip
        self.bookings[(b.shift_id, b.clinician_id)] = booking
        self.by_shift.setdefault(b.shift_id, {})[b.clinician_id] = booking
        return self._profession_of(b.clinician_id)

    def _on_BookingReleased(self, event: scheduling_events.BookingReleased) -> Iterable[str]:
        b = event.booking
        self.bookings.pop((b.shift_id, b.clinician_id), None)
        self.by_shift.get(b.shift_id, {}).pop(b.clinician_id, None)
        return self._profession_of(b.clinician_id)

    def _on_LicensingRecordChanged(
        self, event: licensing_events.LicensingRecordChanged
    ) -> Iterable[str]:
        r = event.record
        known = self.records.get(r.clinician_id)
        if known is not None and known[0] >= r.version:
            return ()
        self.records[r.clinician_id] = (r.version, record_from_proto(r))
        if partner_verified(r):
            self.partner_vouched[r.clinician_id] = r
        else:
            self.partner_vouched.pop(r.clinician_id, None)
        self._vouched_memo.clear()
        return self._profession_of(r.clinician_id)

    def _on_CompactTableChanged(self, event: licensing_events.CompactTableChanged) -> Iterable[str]:
        table = json.loads(event.table_json)
        kept = [t for t in self.compacts["compacts"] if t["id"] != table["id"]]
        self.compacts = {**self.compacts, "compacts": [*kept, table]}
        self._tables = None
        self._vouched_memo.clear()
        return set(table.get("professions", []))

    # ------------------------------------------------------------ reading

    @property
    def tables(self) -> CompactTables:
        if self._tables is None:
            self._tables = CompactTables.from_json(self.compacts)
        return self._tables

    def record_for(self, clinician_id: str, facility_id: str) -> LicensingRecord:
        """The clinician's record as it counts for work at this facility: a credentialing
        partner's verifications count only at its own organisation's facilities."""
        vouched = self.partner_vouched.get(clinician_id)
        if vouched is None:
            return self.records.get(clinician_id, (0, LicensingRecord(None)))[1]
        facility = self.facilities.get(facility_id)
        organization = facility.organization_id if facility else None
        key = ("record", clinician_id, organization)
        if key not in self._vouched_memo:
            self._vouched_memo[key] = record_from_proto(vouched, organization)
        record: LicensingRecord = self._vouched_memo[key]
        return record

    def licensed_here(self, clinician_id: str, shift: ShiftView) -> bool:
        """Whether the clinician's record, as it counts at the shift's facility, allows the
        work (true for an unlicensed role); the engine found candidates on every verification."""
        if clinician_id not in self.partner_vouched or shift.profession not in LICENSED:
            return True
        facility = self.facilities.get(shift.facility_id)
        key = ("licensed", clinician_id, facility.organization_id if facility else None,
               shift.profession, shift.patient_jurisdictions, shift.start, shift.end)  # fmt: skip
        if key not in self._vouched_memo:
            record = self.record_for(clinician_id, shift.facility_id)
            self._vouched_memo[key] = decide(
                record, shift.profession, shift.patient_jurisdictions, self.tables,
                interval=(shift.start, shift.end),
            ).allowed  # fmt: skip
        allowed: bool = self._vouched_memo[key]
        return allowed

    def booked_on(self, shift_id: str) -> list[BookingView]:
        return list(self.by_shift.get(shift_id, {}).values())

    def open_positions(self, shift_id: str) -> int:
        shift = self.shifts.get(shift_id)
        if shift is None or shift.cancelled:
            return 0
        return max(0, shift.positions - len(self.booked_on(shift_id)))

    def unlicensed_bookings(
        self, clinician_id: str, now: datetime
    ) -> list[tuple[BookingView, str]]:
        """The clinician's bookings yet to start that the licensing record (and compact tables)
        no longer allow, each with why: they rested on a licence that lapsed, was revoked, or on
        a compact membership that ended. Bookings agreed elsewhere are not the marketplace's to
        release."""
        lost = []
        for (shift_id, who), booking in self.bookings.items():
            shift = self.shifts.get(shift_id)
            if who != clinician_id or shift is None or booking.start <= now:
                continue
            if booking.agreed_elsewhere:
                continue
            if shift.profession not in LICENSED:
                continue
            record = self.record_for(clinician_id, shift.facility_id)
            decision = decide(record, shift.profession, shift.patient_jurisdictions, self.tables,
                              interval=(booking.start, booking.end))  # fmt: skip
            if not decision.allowed:
                refused = [f"{j}: {'; '.join(v.reasons)}"
                           for j, v in decision.verdicts.items() if not v.allowed]  # fmt: skip
                lost.append((booking, " | ".join(refused)))
        return lost

    def problem(
        self, profession: str, now: datetime, excluded: Iterable[Pair] = (),
        hint: Iterable[Pair] = (),
    ) -> Problem:  # fmt: skip
        """The engine's input for one profession: its open shifts that start after `now`, with
        the positions still open; its clinicians with a profile, their trusted licensing record
        and their bookings; each facility's do-not-return list."""
        booked_count: dict[str, int] = defaultdict(int)
        booked_of: dict[str, list[tuple[datetime, datetime]]] = defaultdict(list)
        for (shift_id, clinician_id), booking in self.bookings.items():
            booked_count[shift_id] += 1
            booked_of[clinician_id].append((booking.start, booking.end))
        shifts = {}
        for s in self.shifts.values():
            left = s.positions - booked_count[s.id]
            if s.profession != profession or s.cancelled or s.start <= now or left <= 0:
                continue
            if s.facility_id not in self.facilities:
                continue  # its facility not seen yet: nothing to read its zone or bars from
            shifts[s.id] = MatchShift(
                id=s.id, facility=s.facility_id, profession=s.profession, skills=s.skills,
                patient_jurisdictions=s.patient_jurisdictions, start=s.start, end=s.end,
                positions=left, value_cents=s.value_cents,
            )  # fmt: skip
        clinicians = {}
        for p in self.profiles.values():
            if p.profession != profession:
                continue
            record = self.records.get(p.clinician_id, (0, LicensingRecord(None)))[1]
            clinicians[p.clinician_id] = Clinician(
                id=p.clinician_id, profession=p.profession, skills=p.skills, zone=p.zone,
                rate_cents_per_hour=p.rate_cents_per_hour, licensing=record,
                availability=p.availability, min_rest_minutes=p.min_rest_minutes,
                max_minutes_per_week=p.max_minutes_per_week,
                booked=tuple(sorted(booked_of[p.clinician_id])), time_off=p.time_off,
            )  # fmt: skip
        vouched = [c for c in clinicians if c in self.partner_vouched]
        elsewhere = {(s, c) for c in vouched for s in shifts  # a partner's word counts at home
                     if not self.licensed_here(c, self.shifts[s])}  # fmt: skip
        ends = [s.end for s in shifts.values()] or [now]
        return Problem(
            horizon_start=now - timedelta(days=8), horizon_end=max(ends) + timedelta(days=8),
            shifts=shifts, clinicians=clinicians,
            do_not_return={f.id: f.do_not_return for f in self.facilities.values()},
            licensed_professions=LICENSED, tables=self.tables,
            excluded=frozenset(excluded) | elsewhere, hint=tuple(hint),
        )  # fmt: skip


def _fields(profile: ProfileView) -> dict[str, Any]:
    return {name: getattr(profile, name) for name in ProfileView.__slots__}


__all__ = ["BookingView", "FacilityView", "MarketView", "ProfileView", "ShiftView"]
