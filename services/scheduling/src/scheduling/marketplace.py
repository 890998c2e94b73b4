"""The scheduling domain: facilities, shifts posted in the facility's wall time, clinicians' work
profiles, and the cancellation policy. Pure: values and the checks that make them valid, no I/O.
The rules of time and licensing come from `vsm_rules`, written once."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from enum import StrEnum

from vsm_rules.availability import AvailabilityWindow
from vsm_rules.errors import InvalidArgument
from vsm_rules.jurisdictions import check_jurisdiction
from vsm_rules.pay import MAX_CENTS_PER_HOUR
from vsm_rules.posting_time import Reading, resolve_posted
from vsm_rules.quiet_hours import QuietHours
from vsm_rules.records import UNLICENSED_PROFESSIONS, Profession, within
from vsm_rules.wall_clock import resolve_zone

PROFESSIONS = frozenset(p.value for p in Profession)


def _profession(value: str, field_name: str) -> str:
    if value not in PROFESSIONS:
        raise InvalidArgument(field_name, f"unknown profession {value!r}")
    return value


def _zone(value: str, field_name: str) -> str:
    resolve_zone(value, field_name)
    return value


@dataclass(frozen=True, slots=True)
class Organization:
    """A health system or clinic group: it owns facilities, and its staff act for them."""

    id: str
    name: str

    def __post_init__(self) -> None:
        if not self.id.strip():
            raise InvalidArgument("organization_id", "must not be empty")
        if not self.name.strip():
            raise InvalidArgument("name", "must not be empty")


@dataclass(frozen=True, slots=True)
class Facility:
    """A clinic or hospital of an organisation: its zone (shifts are posted in it), the
    jurisdictions its patients are usually in, clinicians it bars and clinicians it favours."""

    id: str
    organization_id: str
    name: str
    zone: str
    jurisdictions: tuple[str, ...] = ()
    do_not_return: frozenset[str] = frozenset()
    favourites: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        if not self.id.strip():
            raise InvalidArgument("facility_id", "must not be empty")
        if not self.organization_id.strip():
            raise InvalidArgument("organization_id", "must not be empty")
        _zone(self.zone, "zone")
        for i, j in enumerate(self.jurisdictions):
            check_jurisdiction(j, f"jurisdictions[{i}]")
        if self.do_not_return & self.favourites:
            both = ", ".join(sorted(self.do_not_return & self.favourites))
            raise InvalidArgument("favourites", f"{both} cannot be barred and favoured at once")


class ShiftStatus(StrEnum):
    OPEN = "open"
    CANCELLED = "cancelled"


@dataclass(frozen=True, slots=True)
class ShiftDraft:
    """What a facility posts: local wall times in its zone (and, for a wall time that does not
    exist or happens twice, which reading it means)."""

    profession: str
    local_start: datetime  # naive, facility wall time
    local_end: datetime
    positions: int
    pay_cents_per_hour: int
    patient_jurisdictions: tuple[str, ...]
    skills: tuple[str, ...] = ()
    scope_of_work: str = ""
    start_reading: Reading | None = None
    end_reading: Reading | None = None


@dataclass(frozen=True, slots=True)
class Shift:
    """A posted shift: UTC instants with the facility's zone and wall times kept."""

    id: str
    facility_id: str
    zone: str
    start: datetime
    end: datetime
    local_start: datetime
    local_end: datetime
    profession: str
    skills: tuple[str, ...]
    patient_jurisdictions: tuple[str, ...]
    positions: int
    pay_cents_per_hour: int  # the most the facility pays per hour
    scope_of_work: str
    status: ShiftStatus = ShiftStatus.OPEN
    series_id: str = ""  # the series it was posted in, if any

    @property
    def hours(self) -> float:
        return (self.end - self.start).total_seconds() / 3600


MAX_SHIFT = timedelta(hours=24)
MAX_POSITIONS = 1000  # as the REST API says; the ledger looks at each position of a shift
MAX_OCCURRENCES = 104  # two years of weekly shifts
# A shift is posted for work to come: not one that started a month ago, nor one years away.
MAX_PAST = timedelta(days=31)
MAX_AHEAD = timedelta(days=3 * 366)


def check_within_reach(shift: Shift, now: datetime, field: str = "local_start") -> None:
    """Refuses a shift starting long before `now` (a typo in the year, say) or years ahead."""
    if shift.start < now - MAX_PAST:
        raise InvalidArgument(field, f"{shift.local_start} is in the past; post work to come")
    if shift.start > now + MAX_AHEAD:
        raise InvalidArgument(field, f"{shift.local_start} is more than three years away")


def post_shift(shift_id: str, facility: Facility, draft: ShiftDraft, series_id: str = "") -> Shift:
    """The shift a draft describes, every field checked (a bad one named)."""
    profession = _profession(draft.profession, "profession")
    start = resolve_posted(draft.local_start, facility.zone, "local_start", draft.start_reading)
    end = resolve_posted(draft.local_end, facility.zone, "local_end", draft.end_reading)
    if end.instant <= start.instant:
        raise InvalidArgument("local_end", "must be after the start")
    if end.instant - start.instant > MAX_SHIFT:
        raise InvalidArgument("local_end", "a shift lasts at most 24 hours")
    if not 1 <= draft.positions <= MAX_POSITIONS:
        raise InvalidArgument("positions", f"from 1 to {MAX_POSITIONS:,}")
    if draft.pay_cents_per_hour <= 0:
        raise InvalidArgument("pay_cents_per_hour", "must be more than 0")
    if draft.pay_cents_per_hour > MAX_CENTS_PER_HOUR:
        raise InvalidArgument("pay_cents_per_hour", f"at most {MAX_CENTS_PER_HOUR:,}")
    if not draft.patient_jurisdictions and profession not in UNLICENSED_PROFESSIONS:
        raise InvalidArgument(
            "patient_jurisdictions", f"name where the patients are: {profession} is licensed"
        )
    for i, j in enumerate(draft.patient_jurisdictions):
        check_jurisdiction(j, f"patient_jurisdictions[{i}]")
    if any(not s.strip() for s in draft.skills):
        raise InvalidArgument("skills", "empty skill")
    return Shift(
        id=shift_id, facility_id=facility.id, zone=facility.zone,
        start=start.instant, end=end.instant,
        local_start=draft.local_start, local_end=draft.local_end,
        profession=profession, skills=tuple(dict.fromkeys(draft.skills)),
        patient_jurisdictions=tuple(dict.fromkeys(draft.patient_jurisdictions)),
        positions=draft.positions, pay_cents_per_hour=draft.pay_cents_per_hour,
        scope_of_work=draft.scope_of_work.strip(), series_id=series_id,
    )  # fmt: skip


def check_recurrence(every_days: int, occurrences: int) -> None:
    """Refuses a recurrence out of range, before anything is made for each occurrence."""
    if not 1 <= occurrences <= MAX_OCCURRENCES:
        raise InvalidArgument("recurrence.occurrences", f"from 1 to {MAX_OCCURRENCES}")
    if not 1 <= every_days <= 28:
        raise InvalidArgument("recurrence.every_days", "from 1 (daily) to 28")


def post_series(
    shift_ids: list[str], series_id: str, facility: Facility, draft: ShiftDraft, every_days: int
) -> list[Shift]:
    """A series: the draft's shift, then one every `every_days` days at the same local wall
    times, one per id. Each occurrence is resolved on its own, so a clock change between them
    moves the UTC instants, not the local times; an occurrence whose wall time does not exist
    or happens twice is refused like a single shift, named `occurrences[k]`."""
    check_recurrence(every_days, len(shift_ids))
    shifts = []
    for k, shift_id in enumerate(shift_ids):
        step = timedelta(days=k * every_days)
        moved = replace(
            draft, local_start=draft.local_start + step, local_end=draft.local_end + step
        )
        with within(f"occurrences[{k}]"):
            shifts.append(post_shift(shift_id, facility, moved, series_id))
    return shifts


@dataclass(frozen=True, slots=True)
class WorkProfile:
    """A clinician as the scheduling service knows them: what they do, where they are, what
    they ask, when they work, and the limits they set."""

    clinician_id: str
    profession: str
    zone: str
    rate_cents_per_hour: int
    skills: frozenset[str] = frozenset()
    availability: tuple[AvailabilityWindow, ...] = ()
    quiet_hours: QuietHours | None = None
    time_off: frozenset[date] = frozenset()
    max_minutes_per_week: int = 40 * 60
    min_rest_minutes: int = 8 * 60

    def __post_init__(self) -> None:
        if not self.clinician_id.strip():
            raise InvalidArgument("clinician_id", "must not be empty")
        _profession(self.profession, "profession")
        _zone(self.zone, "zone")
        if self.rate_cents_per_hour <= 0:
            raise InvalidArgument("rate_cents_per_hour", "must be more than 0")
        if self.rate_cents_per_hour > MAX_CENTS_PER_HOUR:
            raise InvalidArgument("rate_cents_per_hour", f"at most {MAX_CENTS_PER_HOUR:,}")
        if not 0 <= self.max_minutes_per_week <= 7 * 24 * 60:
            raise InvalidArgument("max_minutes_per_week", "from 0 to 10,080")
        if not 0 <= self.min_rest_minutes <= 7 * 24 * 60:
            raise InvalidArgument("min_rest_minutes", "from 0 to 10,080")


@dataclass(frozen=True, slots=True)
class CancellationPolicy:
    """What a facility owes a clinician for cancelling a booked shift late: `share` of the
    booked pay when cancelled less than `notice_hours` before the start. Shown to both sides."""

    notice_hours: float = 24.0
    share: float = 0.5
    clinician_notice_hours: float = 24.0  # a clinician withdraws at least this long before

    def __post_init__(self) -> None:
        if self.notice_hours < 0:
            raise InvalidArgument("notice_hours", "must not be negative")
        if self.clinician_notice_hours < 0:
            raise InvalidArgument("clinician_notice_hours", "must not be negative")
        if not 0 <= self.share <= 1:
            raise InvalidArgument("share", "from 0 to 1")

    def compensation_cents(self, shift: Shift, rate_cents_per_hour: int, at: datetime) -> int:
        """What is owed for cancelling at `at` a booking of `shift` at the booked rate."""
        if shift.start - at >= timedelta(hours=self.notice_hours):
            return 0
        return round(self.share * rate_cents_per_hour * shift.hours)

    def withdrawal_refusal(self, shift: Shift, at: datetime) -> str | None:
        """Why a clinician may not withdraw from `shift` at `at` (None when they may)."""
        if shift.start - at >= timedelta(hours=self.clinician_notice_hours):
            return None
        return (
            f"shift {shift.id} starts in less than {self.clinician_notice_hours:g} hours: "
            "a clinician withdraws earlier than that, or asks the facility or an operator"
        )

    def describe(self) -> str:
        return (
            f"a facility that cancels a booked shift less than {self.notice_hours:g} hours "
            f"before it starts owes the clinician {self.share:.0%} of the booked pay; a "
            f"clinician withdraws at least {self.clinician_notice_hours:g} hours before it starts"
        )


__all__ = [
    "CancellationPolicy",
    "Facility",
    "Organization",
    "Shift",
    "ShiftDraft",
    "ShiftStatus",
    "WorkProfile",
    "check_recurrence",
    "post_series",
    "post_shift",
]
