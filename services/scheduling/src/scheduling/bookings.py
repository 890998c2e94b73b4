"""Booking a clinician on a shift: every hard rule checked at that instant (licensing through the
licensing service), then the ledger makes it atomic; the confirmed booking is announced with the
clinician's rate fixed at that moment."""

from __future__ import annotations

import contextlib
from datetime import UTC, datetime, tzinfo
from typing import Protocol

import grpc
from vsm.licensing.v1 import licensing_service_pb2 as licensing_pb
from vsm.licensing.v1 import licensing_service_pb2_grpc as licensing_grpc
from vsm.scheduling.v1 import events_pb2
from vsm.scheduling.v1 import scheduling_service_pb2 as pb
from vsm_platform.actor import Actor, ActorKind
from vsm_platform.changes import ChangeLog, PendingEvent
from vsm_platform.topics import SCHEDULING_EVENTS
from vsm_rules.errors import Conflict, FailedPrecondition, InvalidArgument, PermissionDenied
from vsm_rules.verdict import Verdict
from vsm_rules.wall_clock import resolve_zone, zone_name

from scheduling.booking_rules import booking_verdicts, open_verdict, refusals
from scheduling.catalogue import Catalogue, shift_to_proto
from scheduling.ical import CalendarEntry, calendar_feed
from scheduling.ledger import Booked, Interval, Ledger
from scheduling.marketplace import CancellationPolicy, Shift, ShiftDraft, ShiftStatus, WorkProfile
from scheduling.profiles import Profiles


class LicensingCheck(Protocol):
    async def verdict(
        self, clinician_id: str, shift: Shift, organization_id: str = ""
    ) -> Verdict: ...


class LicensingOverGrpc:
    """The licensing service's decision for a booking, over gRPC."""

    def __init__(self, channel: grpc.aio.Channel) -> None:
        self._stub = licensing_grpc.LicensingServiceStub(channel)  # type: ignore[no-untyped-call]

    async def verdict(self, clinician_id: str, shift: Shift, organization_id: str = "") -> Verdict:
        """The licensing decision for work at the organisation's facility (a credentialing
        partner's verification counts for its own organisation only)."""
        request = licensing_pb.CheckEligibilityRequest(
            clinician_id=clinician_id, profession=shift.profession,
            patient_jurisdictions=list(shift.patient_jurisdictions),
            organization_id=organization_id,
        )  # fmt: skip
        request.interval.start.FromDatetime(shift.start)
        request.interval.end.FromDatetime(shift.end)
        answer = await self._stub.CheckEligibility(request, timeout=10)
        if answer.allowed:
            return Verdict.allow(
                "licensing", "; ".join(f"{v.jurisdiction}: {v.basis}" for v in answer.verdicts)
            )
        reasons = [r for v in answer.verdicts if not v.allowed for r in v.reasons]
        return Verdict.refuse("licensing", *(reasons or ["refused by the licensing service"]))


def booked_aggregate(booked: Booked) -> str:
    """The change rows of one confirmed booking: its rate when confirmed, then its release."""
    return f"booked:{booked.shift_id}:{booked.clinician_id}:{booked.slot}:{booked.generation}"


def booking_to_proto(
    booked: Booked, rate_cents_per_hour: int, agreed_elsewhere: bool = False
) -> pb.Booking:
    message = pb.Booking(
        shift_id=booked.shift_id, clinician_id=booked.clinician_id,
        rate_cents_per_hour=rate_cents_per_hour, position=booked.slot,
        agreed_elsewhere=agreed_elsewhere,
    )  # fmt: skip
    message.interval.start.FromDatetime(booked.start)
    message.interval.end.FromDatetime(booked.end)
    return message


def _local(entry: pb.ScheduleEntry | pb.RosterEntry, start: datetime, end: datetime,
           tz: tzinfo) -> None:  # fmt: skip
    """Sets an entry's local start and end in zone `tz`."""
    entry.local_start.local = start.astimezone(tz).strftime("%Y-%m-%dT%H:%M")
    entry.local_end.local = end.astimezone(tz).strftime("%Y-%m-%dT%H:%M")
    entry.local_start.zone = entry.local_end.zone = zone_name(tz)


class Bookings:
    def __init__(
        self,
        catalogue: Catalogue,
        profiles: Profiles,
        ledger: Ledger,
        licensing: LicensingCheck,
        changes: ChangeLog,
        policy: CancellationPolicy | None = None,
    ) -> None:
        self._catalogue = catalogue
        self._profiles = profiles
        self._ledger = ledger
        self._licensing = licensing
        self._changes = changes
        self.policy = policy or CancellationPolicy()

    async def book(
        self, actor: Actor, shift_id: str, clinician_id: str, agreed_elsewhere: bool = False,
        offered_rate: int = 0,
    ) -> pb.Booking:  # fmt: skip
        """Books the clinician if every hard rule holds now (FAILED_PRECONDITION with each
        refusing rule's reason otherwise), at the offer's rate when one is accepted, else at
        the clinician's rate now. An operator may record a booking agreed elsewhere (an
        import): then only the ledger's position and lock apply."""
        if offered_rate < 0:
            raise InvalidArgument("offered_rate_cents_per_hour", "must not be negative")
        shift, _ = await self._catalogue.shift(shift_id)
        facility, _ = await self._catalogue.facility(shift.facility_id)
        profile, _ = await self._profiles.get(clinician_id)
        if agreed_elsewhere and not actor.is_operator:
            raise PermissionDenied("only an operator records a booking agreed elsewhere")

        async def every_rule(booked: list[Interval]) -> list[Verdict]:
            if agreed_elsewhere:
                return [open_verdict(shift)]
            licensing = await self._licensing.verdict(clinician_id, shift, facility.organization_id)
            return booking_verdicts(shift, facility, profile, booked, licensing, offered_rate)

        rate = offered_rate or profile.rate_cents_per_hour
        try:
            booked = await self._ledger.book(
                shift_id, clinician_id, (shift.start, shift.end), shift.positions, every_rule
            )
        except FailedPrecondition as refused:
            if "already booked" in str(refused):  # perhaps by a try that died before announcing
                _, held = await self._ledger.schedule(clinician_id)
                for earlier in (b for b in held if b.shift_id == shift_id):
                    await self._confirm(earlier, rate, agreed_elsewhere, actor)
            raise
        return await self._confirm(booked, rate, agreed_elsewhere, actor)

    async def _confirm(
        self, booked: Booked, rate: int, agreed_elsewhere: bool, actor: Actor
    ) -> pb.Booking:
        """Records the booking's terms and announces it (BookingConfirmed), once."""
        booking = booking_to_proto(booked, rate, agreed_elsewhere)
        if await self._changes.get(booked_aggregate(booked), 1) is not None:
            return booking
        event = events_pb2.BookingConfirmed(booking=booking, actor=actor.to_proto())
        with contextlib.suppress(Conflict):  # announced meanwhile, by a retry of the same
            await self._changes.append(
                booked_aggregate(booked), 1,
                change={"kind": "confirmed", "rate_cents_per_hour": rate,
                        "agreed_elsewhere": agreed_elsewhere},
                events=[PendingEvent(SCHEDULING_EVENTS, event, key=booked.clinician_id)],
                actor=actor,
            )  # fmt: skip
        return booking

    async def release(
        self, actor: Actor, shift_id: str, clinician_id: str, reason: str,
        shift_cancelled: bool = False, withdrawal: bool = False,
    ) -> pb.ReleasedBooking:  # fmt: skip
        """Takes the clinician off the shift; when the facility cancels the shift late, the
        clinician is owed the policy's share of the pay at the rate fixed when booked. A
        clinician's withdrawal keeps the policy's notice (an operator's release need not, nor
        one of our services', e.g. the matcher's when a licence no longer allows the work)."""
        shift, _ = await self._catalogue.shift(shift_id)
        if withdrawal:
            self._check_notice(actor, shift)
        held = await self._ledger.release(shift_id, clinician_id)
        aggregate = booked_aggregate(held)
        booking = await self._booking(held)
        rate = booking.rate_cents_per_hour
        owed = (
            self.policy.compensation_cents(shift, rate, self._clock_now()) if shift_cancelled else 0
        )
        released = pb.ReleasedBooking(booking=booking, compensation_cents=owed)
        event = events_pb2.BookingReleased(
            booking=released.booking, actor=actor.to_proto(), reason=reason,
            compensation_cents=owed, shift_cancelled=shift_cancelled,
        )  # fmt: skip
        await self._changes.append(
            aggregate, 2, change={"kind": "released", "reason": reason, "compensation": owed},
            events=[PendingEvent(SCHEDULING_EVENTS, event, key=clinician_id)], actor=actor,
        )  # fmt: skip
        return released

    async def update_shift(
        self, actor: Actor, shift_id: str, draft: ShiftDraft, expected_version: int
    ) -> tuple[Shift, int, list[pb.ReleasedBooking]]:
        """Changes the shift, then re-checks each booked clinician against it (their other
        bookings, the licensing service): those who no longer fit are released, with why."""
        before, _ = await self._catalogue.shift(shift_id)
        holders = await self._ledger.holders(shift_id, before.positions)
        shift, version = await self._catalogue.update(
            actor, shift_id, draft, expected_version, len(holders)
        )
        facility, _ = await self._catalogue.facility(shift.facility_id)
        released = []
        for clinician_id in holders:
            profile, _ = await self._profiles.get(clinician_id)
            _, booked = await self._ledger.schedule(clinician_id)
            others = [(b.start, b.end) for b in booked if b.shift_id != shift_id]
            licensing = await self._licensing.verdict(clinician_id, shift, facility.organization_id)
            refused = refusals(booking_verdicts(shift, facility, profile, others, licensing))
            if refused:
                reason = "the shift changed: " + "; ".join(v.explain() for v in refused)
                released.append(await self.release(actor, shift_id, clinician_id, reason))
            elif (shift.start, shift.end) != (before.start, before.end):
                await self._ledger.retime(shift_id, clinician_id, (shift.start, shift.end))
        return shift, version, released

    async def cancel_shift(
        self, actor: Actor, shift_id: str, reason: str, expected_version: int
    ) -> tuple[Shift, int, list[pb.ReleasedBooking]]:
        """Cancels the shift and releases each booking on it, saying what each clinician is owed."""
        shift, version = await self._catalogue.cancel(actor, shift_id, reason, expected_version)
        released = []
        for clinician_id in await self._ledger.holders(shift_id, shift.positions):
            released.append(
                await self.release(actor, shift_id, clinician_id, reason, shift_cancelled=True)
            )
        return shift, version, released

    async def preview_cancellation(self, shift_id: str) -> list[pb.ReleasedBooking]:
        """What cancelling the shift now would release and pay each clinician; nothing changes."""
        shift, _ = await self._catalogue.shift(shift_id)
        now = self._clock_now()
        preview = []
        for held in await self._ledger.bookings_of(shift_id, shift.positions):
            booking = await self._booking(held)
            rate = booking.rate_cents_per_hour
            preview.append(pb.ReleasedBooking(
                booking=booking,
                compensation_cents=self.policy.compensation_cents(shift, rate, now),
            ))  # fmt: skip
        return preview

    def _check_notice(self, actor: Actor, shift: Shift) -> None:
        """A clinician withdraws within the policy's notice; an operator, or one of our services
        (the matcher, when a licence no longer allows the work), is not bound by it."""
        if actor.is_operator or actor.kind == ActorKind.SERVICE:
            return
        refusal = self.policy.withdrawal_refusal(shift, self._clock_now())
        if refusal:
            raise FailedPrecondition(refusal)

    async def save_profile(
        self, actor: Actor, profile: WorkProfile, expected_version: int, release_clashing: bool
    ) -> tuple[WorkProfile, int, list[pb.ReleasedBooking]]:
        """Saves a work profile. New time off that clashes with bookings is refused, unless the
        clinician asks to release them: then each is released (every one within the policy's
        notice first, or none is), and the time off saved."""
        released = []
        if release_clashing:
            clashes = await self._profiles.clashes(profile)
            for shift_id, _ in clashes:  # every one within the notice first, or none
                self._check_notice(actor, (await self._catalogue.shift(shift_id))[0])
            for shift_id, day in clashes:
                released.append(await self.release(
                    actor, shift_id, profile.clinician_id, f"time off on {day}", withdrawal=True
                ))  # fmt: skip
        saved, version = await self._profiles.save(actor, profile, expected_version)
        return saved, version, released

    async def roster(
        self, facility_id: str, window: Interval | None = None, zone: str = ""
    ) -> list[pb.RosterEntry]:
        """The facility's shifts overlapping `window` (all when None) in start order, each with
        its confirmed bookings, local times in `zone` (default: the facility's)."""
        facility, _ = await self._catalogue.facility(facility_id)
        tz = resolve_zone(zone or facility.zone, "zone")
        entries = []
        for shift, version in sorted(await self._catalogue.shifts_of(facility_id),
                                     key=lambda sv: (sv[0].start, sv[0].id)):  # fmt: skip
            if window is not None and not (shift.start < window[1] and window[0] < shift.end):
                continue
            held = await self._ledger.bookings_of(shift.id, shift.positions)
            bookings = [await self._booking(b) for b in held]
            open_positions = 0 if shift.status == ShiftStatus.CANCELLED else (
                shift.positions - len(held))  # fmt: skip
            entry = pb.RosterEntry(shift=shift_to_proto(shift, version), bookings=bookings,
                                   open_positions=max(0, open_positions))  # fmt: skip
            _local(entry, shift.start, shift.end, tz)
            entries.append(entry)
        return entries

    def _clock_now(self) -> datetime:
        return self._ledger.now()

    async def schedule(self, clinician_id: str, zone: str = "") -> list[pb.ScheduleEntry]:
        """The clinician's bookings in start order, local times in `zone` (default: theirs)."""
        profile, _ = await self._profiles.get(clinician_id)
        tz = resolve_zone(zone or profile.zone, "zone")
        _, booked = await self._ledger.schedule(clinician_id)
        entries = []
        for held in sorted(booked, key=lambda b: (b.start, b.shift_id)):
            shift, version = await self._catalogue.shift(held.shift_id)
            entry = pb.ScheduleEntry(
                booking=await self._booking(held), shift=shift_to_proto(shift, version)
            )
            _local(entry, held.start, held.end, tz)
            entries.append(entry)
        return entries

    async def calendar(self, clinician_id: str) -> str:
        profile, _ = await self._profiles.get(clinician_id)
        entries = []
        for entry in await self.schedule(clinician_id):
            shift = entry.shift
            facility, _ = await self._catalogue.facility(shift.facility_id)
            entries.append(CalendarEntry(
                uid=f"{shift.shift_id}.{clinician_id}@vsm",
                start=shift.interval.start.ToDatetime(tzinfo=UTC),
                end=shift.interval.end.ToDatetime(tzinfo=UTC),
                summary=f"{shift.profession} shift, {facility.name}",
                facility_zone=facility.zone, description=shift.scope_of_work,
            ))  # fmt: skip
        return calendar_feed(f"Shifts of {clinician_id}", profile.zone, entries, self._clock_now())

    async def _booking(self, held: Booked) -> pb.Booking:
        """The booking as confirmed: at the rate fixed then, agreed elsewhere or not."""
        confirmed = await self._changes.get(booked_aggregate(held), 1)
        change = confirmed.change if confirmed else {}
        return booking_to_proto(held, int(change.get("rate_cents_per_hour", 0)),
                                bool(change.get("agreed_elsewhere", False)))  # fmt: skip
