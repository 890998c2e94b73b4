"""Facilities and posting over a real local gRPC server (in-memory rows): a shift posted in the
facility's wall time, a doubtful wall time refused with both readings unless chosen, bad fields
named, a stale facility version refused, posting idempotent, every change announced."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import grpc
import icalendar
import pytest
import pytest_asyncio
from scheduling.bookings import Bookings
from scheduling.catalogue import Catalogue
from scheduling.grpc_api import SERVICE_NAME, register
from scheduling.ledger import Ledger
from scheduling.marketplace import Shift
from scheduling.profiles import Profiles
from vsm.common.v1 import common_pb2
from vsm.scheduling.v1 import events_pb2
from vsm.scheduling.v1 import scheduling_service_pb2 as pb
from vsm.scheduling.v1 import scheduling_service_pb2_grpc as pb_grpc
from vsm_platform.changes import ChangeLog, row_id
from vsm_platform.clock import ManualClock
from vsm_platform.grpc_server import channel, start_server
from vsm_platform.testing import MemoryCollection
from vsm_rules.verdict import Verdict

STAFF = common_pb2.Actor(kind=common_pb2.ACTOR_KIND_USER, id="u-f", role="facility_staff",
                         organization_id="org1")  # fmt: skip
OPERATOR = common_pb2.Actor(kind=common_pb2.ACTOR_KIND_USER, id="u-op", role="operator")
CLINIC = pb.Facility(facility_id="f1", organization_id="org1", name="Prairie Clinic",
                     zone="America/Chicago", jurisdictions=["US-KS"])  # fmt: skip


class FakeLicensing:
    """The licensing service's answer: licensed, except the clinicians listed as not."""

    unlicensed = frozenset({"c-unlicensed"})

    async def verdict(self, clinician_id: str, shift: Shift, organization_id: str = "") -> Verdict:
        if clinician_id in self.unlicensed:
            return Verdict.refuse("licensing", f"no licence for {shift.patient_jurisdictions[0]}")
        return Verdict.allow("licensing", "direct licence")


@pytest_asyncio.fixture
async def setup() -> AsyncIterator[tuple[Any, ChangeLog, Ledger]]:
    clock = ManualClock(datetime(2027, 3, 1, tzinfo=UTC))
    ledger_rows = MemoryCollection()
    changes = ChangeLog(MemoryCollection(), source="scheduling", clock=clock)  # type: ignore[arg-type]
    catalogue = Catalogue(changes, MemoryCollection(), clock)  # type: ignore[arg-type]
    ledger = Ledger(ledger_rows, clock, "test")  # type: ignore[arg-type]
    profiles = Profiles(changes, ledger)
    bookings = Bookings(catalogue, profiles, ledger, FakeLicensing(), changes)
    registered = register(catalogue, profiles, bookings)
    server = await start_server("127.0.0.1:0", [registered], [SERVICE_NAME])
    client = channel(f"127.0.0.1:{server.port}")
    stub = pb_grpc.SchedulingServiceStub(client)
    await stub.SaveOrganization(pb.SaveOrganizationRequest(
        actor=OPERATOR, organization=pb.Organization(organization_id="org1", name="Prairie Health")
    ))  # fmt: skip
    try:
        yield stub, changes, ledger
    finally:
        await client.close()
        await server.stop(0)


def _post(start: str, end: str, **kw: Any) -> pb.PostShiftRequest:
    shift = pb.Shift(facility_id="f1", profession="RN", skills=["triage"], positions=2,
                     patient_jurisdictions=["US-KS"], pay_cents_per_hour=9000,
                     scope_of_work="Telehealth triage.")  # fmt: skip
    shift.local_start.local, shift.local_end.local = start, end
    return pb.PostShiftRequest(actor=STAFF, shift=shift, **kw)


async def test_a_shift_is_posted_in_the_facilitys_wall_time(setup: Any) -> None:
    stub, changes, _ = setup
    await stub.SaveFacility(pb.SaveFacilityRequest(actor=STAFF, facility=CLINIC))
    posted = (await stub.PostShift(_post("2027-03-10T08:00", "2027-03-10T16:00"))).shift
    assert posted.interval.start.ToDatetime(tzinfo=UTC) == datetime(2027, 3, 10, 14, tzinfo=UTC)
    assert (posted.local_start.local, posted.local_start.zone) == (
        "2027-03-10T08:00",
        "America/Chicago",
    )
    assert posted.state == pb.SHIFT_STATE_OPEN and posted.version == 1
    again = await stub.GetShift(pb.GetShiftRequest(shift_id=posted.shift_id))
    assert again.shift == posted
    (row,) = await changes.history(f"shift:{posted.shift_id}")
    event = events_pb2.ShiftPosted.FromString(row.events[0].envelope.data)
    assert event.shift == posted and event.actor.id == "u-f"


async def test_a_doubtful_wall_time_needs_a_reading(setup: Any) -> None:
    stub, _, _ = setup
    await stub.SaveFacility(pb.SaveFacilityRequest(actor=STAFF, facility=CLINIC))
    gap = _post("2027-03-14T02:30", "2027-03-14T10:00")
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await stub.PostShift(gap)
    assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    details = refused.value.details() or ""
    assert details.startswith("shift.local_start: 2027-03-14 02:30 in America/Chicago")
    assert "(earlier)" in details and "(later)" in details
    gap.start_reading = pb.WALL_TIME_READING_LATER
    posted = (await stub.PostShift(gap)).shift
    assert posted.interval.start.ToDatetime(tzinfo=UTC) == datetime(2027, 3, 14, 8, 30, tzinfo=UTC)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"profession": "ZZ"}, "shift.profession"),
        ({"positions": 0}, "shift.positions"),
        ({"patient_jurisdictions": ["US-QQ"]}, "shift.patient_jurisdictions[0]"),
    ],
)
async def test_bad_fields_are_named(setup: Any, change: dict[str, Any], field: str) -> None:
    stub, _, _ = setup
    await stub.SaveFacility(pb.SaveFacilityRequest(actor=STAFF, facility=CLINIC))
    request = _post("2027-03-10T08:00", "2027-03-10T16:00")
    for name, value in change.items():
        if isinstance(value, list):
            del getattr(request.shift, name)[:]
            getattr(request.shift, name).extend(value)
        else:
            setattr(request.shift, name, value)
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await stub.PostShift(request)
    assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert (refused.value.details() or "").startswith(field)
    bad_time = _post("10/03/2027 08:00", "2027-03-10T16:00")
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await stub.PostShift(bad_time)
    assert (caught.value.details() or "").startswith("shift.local_start")


async def test_facilities_keep_versions_and_posting_is_idempotent(setup: Any) -> None:
    stub, _, _ = setup
    saved = (await stub.SaveFacility(pb.SaveFacilityRequest(actor=STAFF, facility=CLINIC))).facility
    assert saved.version == 1
    with pytest.raises(grpc.aio.AioRpcError) as exists:
        await stub.SaveFacility(pb.SaveFacilityRequest(actor=STAFF, facility=CLINIC))
    assert exists.value.code() == grpc.StatusCode.ABORTED
    barred = pb.Facility()
    barred.CopyFrom(CLINIC)
    barred.do_not_return.append("c7")
    changed = await stub.SaveFacility(
        pb.SaveFacilityRequest(actor=STAFF, facility=barred, expected_version=1)
    )
    assert list(changed.facility.do_not_return) == ["c7"] and changed.facility.version == 2
    with pytest.raises(grpc.aio.AioRpcError) as bad_zone:
        wrong = pb.Facility()
        wrong.CopyFrom(CLINIC)
        wrong.facility_id = "f2"
        wrong.zone = "Central"
        await stub.SaveFacility(pb.SaveFacilityRequest(actor=STAFF, facility=wrong))
    assert (bad_zone.value.details() or "").startswith("facility.zone")
    request = _post("2027-03-10T08:00", "2027-03-10T16:00", idempotency_key="k1")
    first = (await stub.PostShift(request)).shift
    second = (await stub.PostShift(request)).shift
    assert first.shift_id == second.shift_id
    with pytest.raises(grpc.aio.AioRpcError) as missing:
        await stub.GetShift(pb.GetShiftRequest(shift_id="nope"))
    assert missing.value.code() == grpc.StatusCode.NOT_FOUND


NURSE = pb.WorkProfile(
    clinician_id="c1", profession="RN", skills=["triage"], zone="America/New_York",
    rate_cents_per_hour=8000, quiet_hours_start="22:00", quiet_hours_end="07:00",
    availability=[pb.AvailabilityWindow(day="wed", start="07:00", end="23:00")],
    max_minutes_per_week=2400, min_rest_minutes=600,
)  # fmt: skip


async def test_a_profile_is_kept_and_says_what_changed(setup: Any) -> None:
    stub, changes, _ = setup
    saved = (await stub.SaveProfile(pb.SaveProfileRequest(actor=STAFF, profile=NURSE))).profile
    assert saved.version == 1 and saved.quiet_hours_start == "22:00"
    changed = pb.WorkProfile()
    changed.CopyFrom(saved)
    changed.time_off.append("2027-03-12")
    await stub.SaveProfile(pb.SaveProfileRequest(actor=STAFF, profile=changed, expected_version=1))
    created, off = await changes.history("profile:c1")
    assert [e.envelope.type.rsplit(".", 1)[1] for e in created.events] == [
        "ClinicianProfileChanged", "AvailabilityChanged", "TimeOffChanged"
    ]  # fmt: skip
    (event,) = [e.envelope.message() for e in off.events]  # only what changed is announced
    assert isinstance(event, events_pb2.TimeOffChanged)
    assert (list(event.added), event.zone, event.version) == (
        ["2027-03-12"], "America/New_York", 2
    )  # fmt: skip
    moved = pb.WorkProfile()
    moved.CopyFrom(changed)
    moved.zone = "America/Chicago"
    await stub.SaveProfile(pb.SaveProfileRequest(actor=STAFF, profile=moved, expected_version=2))
    (_, _, rezoned) = await changes.history("profile:c1")
    kinds = [type(e.envelope.message()).__name__ for e in rezoned.events]
    assert kinds == ["ClinicianProfileChanged", "AvailabilityChanged", "TimeOffChanged"]
    got = (await stub.GetProfile(pb.GetProfileRequest(clinician_id="c1"))).profile
    assert list(got.time_off) == ["2027-03-12"] and got.version == 3


async def test_bad_profiles_are_named_and_time_off_over_a_booking_is_refused(setup: Any) -> None:
    stub, _, ledger = setup
    bad = pb.WorkProfile()
    bad.CopyFrom(NURSE)
    bad.availability[0].start = "25:00"
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await stub.SaveProfile(pb.SaveProfileRequest(actor=STAFF, profile=bad))
    assert (refused.value.details() or "").startswith("profile.availability[0]")
    await stub.SaveProfile(pb.SaveProfileRequest(actor=STAFF, profile=NURSE))

    async def no_rules(_: Any) -> list[Any]:
        return []

    start = datetime(2027, 3, 10, 14, tzinfo=UTC)
    await ledger.book("s1", "c1", (start, start.replace(hour=22)), 1, no_rules)
    off = pb.WorkProfile()
    off.CopyFrom(NURSE)
    off.time_off.append("2027-03-10")
    with pytest.raises(grpc.aio.AioRpcError) as clash:
        await stub.SaveProfile(pb.SaveProfileRequest(actor=STAFF, profile=off, expected_version=1))
    assert clash.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert "clashes with the booking of shift s1" in (clash.value.details() or "")


async def test_book_holds_every_rule_and_the_positions(setup: Any) -> None:
    stub, changes, _ = setup
    await stub.SaveFacility(pb.SaveFacilityRequest(actor=STAFF, facility=CLINIC))
    shift = (await stub.PostShift(_post("2027-03-10T08:00", "2027-03-10T16:00"))).shift
    for clinician in ["c1", "c2", "c3", "c-unlicensed", "c-dear"]:
        profile = pb.WorkProfile()
        profile.CopyFrom(NURSE)
        profile.clinician_id = clinician
        if clinician == "c-dear":
            profile.rate_cents_per_hour = 9500
        await stub.SaveProfile(pb.SaveProfileRequest(actor=STAFF, profile=profile))
    booked = (await stub.Book(pb.BookRequest(actor=STAFF, shift_id=shift.shift_id,
                                             clinician_id="c1"))).booking  # fmt: skip
    assert (booked.rate_cents_per_hour, booked.position) == (8000, 0)
    for clinician, reason in [("c-unlicensed", "licensing: refused: no licence for US-KS"),
                              ("c-dear", "pay: refused")]:  # fmt: skip
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            await stub.Book(pb.BookRequest(actor=STAFF, shift_id=shift.shift_id,
                                           clinician_id=clinician))  # fmt: skip
        assert refused.value.code() == grpc.StatusCode.FAILED_PRECONDITION
        assert reason in (refused.value.details() or "")
    await stub.Book(pb.BookRequest(actor=STAFF, shift_id=shift.shift_id, clinician_id="c2"))
    with pytest.raises(grpc.aio.AioRpcError) as full:
        await stub.Book(pb.BookRequest(actor=STAFF, shift_id=shift.shift_id, clinician_id="c3"))
    assert "no free position" in (full.value.details() or "")
    rows = await changes.history(f"booked:{shift.shift_id}:c1:0:0")
    event = events_pb2.BookingConfirmed.FromString(rows[0].events[0].envelope.data)
    assert event.booking == booked


async def test_a_late_cancellation_releases_the_bookings_and_owes_half_the_pay(
    setup: Any,
) -> None:
    stub, changes, _ = setup
    await stub.SaveFacility(pb.SaveFacilityRequest(actor=STAFF, facility=CLINIC))
    # the test clock stands at 2027-03-01 00:00 UTC: one shift far ahead, one starting 14 hours
    # later (08:00 Chicago), inside the 24 hours of notice
    early = (await stub.PostShift(_post("2027-03-10T08:00", "2027-03-10T16:00"))).shift
    late = (await stub.PostShift(_post("2027-03-01T08:00", "2027-03-01T16:00"))).shift
    for clinician in ("c1", "c2"):
        profile = pb.WorkProfile()
        profile.CopyFrom(NURSE)
        profile.clinician_id = clinician
        del profile.availability[:]
        profile.availability.extend([pb.AvailabilityWindow(day=d, start="00:00", end="00:00")
                                     for d in ("mon", "wed")])  # fmt: skip
        await stub.SaveProfile(pb.SaveProfileRequest(actor=STAFF, profile=profile))
    for shift_id in (early.shift_id, late.shift_id):
        await stub.Book(pb.BookRequest(actor=STAFF, shift_id=shift_id, clinician_id="c1"))
    await stub.Book(pb.BookRequest(actor=STAFF, shift_id=late.shift_id, clinician_id="c2"))

    withdrawn = await stub.Release(
        pb.ReleaseRequest(
            actor=STAFF, shift_id=early.shift_id, clinician_id="c1", reason="clinician unwell"
        )
    )
    assert withdrawn.released.compensation_cents == 0
    again = await stub.Book(pb.BookRequest(actor=STAFF, shift_id=early.shift_id, clinician_id="c2"))
    assert again.booking.position == 0  # the position is free again

    preview = await stub.PreviewCancellation(
        pb.PreviewCancellationRequest(shift_id=late.shift_id)
    )  # what cancelling would pay, shown before the facility decides; nothing changes yet
    assert {r.booking.clinician_id: r.compensation_cents for r in preview.released} == {
        "c1": 32000, "c2": 32000}  # fmt: skip
    assert "50%" in preview.policy
    cancelled = await stub.CancelShift(
        pb.CancelShiftRequest(actor=STAFF, shift_id=late.shift_id, reason="patient clinic closed")
    )
    assert cancelled.shift.state == pb.SHIFT_STATE_CANCELLED
    owed = {r.booking.clinician_id: r.compensation_cents for r in cancelled.released}
    assert owed == {"c1": 32000, "c2": 32000}  # half of 8 h at 80.00
    assert "50%" in cancelled.policy
    rows = await changes.history(f"booked:{late.shift_id}:c1:0:0")
    event = events_pb2.BookingReleased.FromString(rows[1].events[0].envelope.data)
    assert (event.compensation_cents, event.shift_cancelled) == (32000, True)
    with pytest.raises(grpc.aio.AioRpcError) as closed:
        await stub.Book(pb.BookRequest(actor=STAFF, shift_id=late.shift_id, clinician_id="c1"))
    assert "cancelled" in (closed.value.details() or "")


async def test_a_clinicians_schedule_in_any_zone_and_as_a_calendar(setup: Any) -> None:
    stub, _, _ = setup
    await stub.SaveFacility(pb.SaveFacilityRequest(actor=STAFF, facility=CLINIC))
    before = (await stub.PostShift(_post("2027-03-10T08:00", "2027-03-10T16:00"))).shift
    after = (await stub.PostShift(_post("2027-03-17T08:00", "2027-03-17T16:00"))).shift
    await stub.SaveProfile(pb.SaveProfileRequest(actor=STAFF, profile=NURSE))
    for shift in (after, before):
        await stub.Book(pb.BookRequest(actor=STAFF, shift_id=shift.shift_id, clinician_id="c1"))
    own = await stub.GetSchedule(pb.GetScheduleRequest(clinician_id="c1"))
    assert [(e.local_start.local, e.local_start.zone) for e in own.entries] == [
        ("2027-03-10T09:00", "America/New_York"),
        ("2027-03-17T09:00", "America/New_York"),
    ]  # Chicago 08:00 is New York 09:00 on both sides of the spring change
    utc = await stub.GetSchedule(pb.GetScheduleRequest(clinician_id="c1", zone="UTC"))
    assert [e.local_start.local for e in utc.entries] == ["2027-03-10T14:00", "2027-03-17T13:00"]
    with pytest.raises(grpc.aio.AioRpcError) as bad:
        await stub.GetSchedule(pb.GetScheduleRequest(clinician_id="c1", zone="Mars/Base"))
    assert (bad.value.details() or "").startswith("zone")
    feed = (await stub.GetCalendar(pb.GetCalendarRequest(clinician_id="c1"))).ical
    calendar = icalendar.Calendar.from_ical(feed)
    starts = [e.decoded("DTSTART") for e in calendar.walk() if e.name == "VEVENT"]
    assert [s.astimezone(ZoneInfo("America/New_York")).hour for s in starts] == [9, 9]


async def test_an_update_releases_only_the_clinicians_who_no_longer_fit(setup: Any) -> None:
    stub, _, _ = setup
    await stub.SaveFacility(pb.SaveFacilityRequest(actor=STAFF, facility=CLINIC))
    shift = (await stub.PostShift(_post("2027-03-10T08:00", "2027-03-10T14:00"))).shift
    for clinician, closes in (("c-late", "23:00"), ("c-early", "16:00")):
        profile = pb.WorkProfile()
        profile.CopyFrom(NURSE)
        profile.clinician_id = clinician
        profile.availability[0].end = closes
        await stub.SaveProfile(pb.SaveProfileRequest(actor=STAFF, profile=profile))
        await stub.Book(pb.BookRequest(actor=STAFF, shift_id=shift.shift_id,
                                       clinician_id=clinician))  # fmt: skip
    later = pb.Shift()
    later.CopyFrom(shift)
    later.local_start.local, later.local_end.local = "2027-03-10T12:00", "2027-03-10T18:00"
    updated = await stub.UpdateShift(pb.UpdateShiftRequest(actor=STAFF, shift=later,
                                                           expected_version=1))  # fmt: skip
    assert updated.shift.version == 2 and updated.shift.local_start.local == "2027-03-10T12:00"
    (gone,) = updated.released
    assert gone.booking.clinician_id == "c-early"
    schedule = await stub.GetSchedule(pb.GetScheduleRequest(clinician_id="c-late"))
    assert [(e.shift.version, e.local_start.local) for e in schedule.entries] == [
        (2, "2027-03-10T13:00")  # still booked, on the new times (12:00 Chicago, 13:00 New York)
    ]
    fewer = pb.Shift()
    fewer.CopyFrom(updated.shift)
    fewer.positions = 0
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await stub.UpdateShift(pb.UpdateShiftRequest(actor=STAFF, shift=fewer))
    assert (refused.value.details() or "").startswith("shift.positions")


async def test_an_organisation_owns_its_facilities(setup: Any) -> None:
    stub, _, _ = setup
    await stub.SaveFacility(pb.SaveFacilityRequest(actor=STAFF, facility=CLINIC))
    orphan = pb.Facility()
    orphan.CopyFrom(CLINIC)
    orphan.facility_id, orphan.organization_id = "f9", "org-unknown"
    with pytest.raises(grpc.aio.AioRpcError) as unknown:
        await stub.SaveFacility(pb.SaveFacilityRequest(actor=STAFF, facility=orphan))
    assert (unknown.value.details() or "").startswith("facility.organization_id: no organisation")
    await stub.SaveOrganization(pb.SaveOrganizationRequest(
        actor=OPERATOR, organization=pb.Organization(organization_id="org2", name="Lakes Health")
    ))  # fmt: skip
    moved = pb.Facility()
    moved.CopyFrom(CLINIC)
    moved.organization_id = "org2"
    with pytest.raises(grpc.aio.AioRpcError) as stays:
        await stub.SaveFacility(
            pb.SaveFacilityRequest(actor=STAFF, facility=moved, expected_version=1)
        )
    assert (stays.value.details() or "").startswith("facility.organization_id: a facility stays")
    second = pb.Facility()
    second.CopyFrom(CLINIC)
    second.facility_id = "f2"
    await stub.SaveFacility(pb.SaveFacilityRequest(actor=STAFF, facility=second))
    owned = await stub.GetOrganization(pb.GetOrganizationRequest(organization_id="org1"))
    assert (owned.organization.name, sorted(owned.facility_ids)) == ("Prairie Health",
                                                                     ["f1", "f2"])  # fmt: skip
    empty = await stub.GetOrganization(pb.GetOrganizationRequest(organization_id="org2"))
    assert list(empty.facility_ids) == []
    with pytest.raises(grpc.aio.AioRpcError) as bad:
        await stub.SaveOrganization(pb.SaveOrganizationRequest(
            actor=OPERATOR, organization=pb.Organization(organization_id="org3")
        ))  # fmt: skip
    assert (bad.value.details() or "").startswith("organization.name")
    with pytest.raises(grpc.aio.AioRpcError) as stale:
        await stub.SaveOrganization(pb.SaveOrganizationRequest(
            actor=OPERATOR, organization=pb.Organization(organization_id="org2", name="L")
        ))  # fmt: skip
    assert stale.value.code() == grpc.StatusCode.ABORTED


def _series(start: str, end: str, every: int, count: int, **kw: Any) -> pb.PostShiftSeriesRequest:
    single = _post(start, end)
    return pb.PostShiftSeriesRequest(
        actor=STAFF, shift=single.shift,
        recurrence=pb.Recurrence(every_days=every, occurrences=count), **kw,
    )  # fmt: skip


async def test_a_series_keeps_its_wall_time_across_the_clock_change(setup: Any) -> None:
    stub, _, _ = setup
    await stub.SaveFacility(pb.SaveFacilityRequest(actor=STAFF, facility=CLINIC))
    request = _series("2027-03-07T09:00", "2027-03-07T17:00", 7, 3, idempotency_key="weekly")
    posted = await stub.PostShiftSeries(request)
    assert [s.local_start.local for s in posted.shifts] == [
        "2027-03-07T09:00", "2027-03-14T09:00", "2027-03-21T09:00"
    ]  # fmt: skip
    # Chicago goes from UTC-6 to UTC-5 on 2027-03-14: the instants move, the wall time does not
    assert [s.interval.start.ToDatetime().hour for s in posted.shifts] == [15, 14, 14]
    assert {s.series_id for s in posted.shifts} == {posted.series_id}
    again = await stub.PostShiftSeries(request)
    assert [s.shift_id for s in again.shifts] == [s.shift_id for s in posted.shifts]

    nightly = _series("2027-03-12T02:30", "2027-03-12T10:00", 1, 3)
    with pytest.raises(grpc.aio.AioRpcError) as gap:
        await stub.PostShiftSeries(nightly)
    details = gap.value.details() or ""
    assert details.startswith("occurrences[2].local_start: 2027-03-14 02:30")
    assert "(earlier)" in details and "(later)" in details
    roster = await stub.GetRoster(pb.GetRosterRequest(facility_id="f1"))
    assert len(roster.entries) == 3  # nothing of the refused series was posted
    nightly.start_reading = pb.WALL_TIME_READING_LATER
    chosen = await stub.PostShiftSeries(nightly)
    # 02:30 on the 14th does not exist; read later it is 03:30 CDT, the same 08:30 UTC
    assert [s.interval.start.ToDatetime().hour for s in chosen.shifts] == [8, 8, 8]
    for every, count, field in ((7, 0, "recurrence.occurrences"),
                                (7, 105, "recurrence.occurrences"),
                                (0, 2, "recurrence.every_days")):  # fmt: skip
        with pytest.raises(grpc.aio.AioRpcError) as bad:
            await stub.PostShiftSeries(
                _series("2027-03-07T09:00", "2027-03-07T17:00", every, count)
            )
        assert (bad.value.details() or "").startswith(field)


async def test_a_facilitys_roster_in_its_zone_with_who_is_booked(setup: Any) -> None:
    stub, _, _ = setup
    await stub.SaveFacility(pb.SaveFacilityRequest(actor=STAFF, facility=CLINIC))
    later = (await stub.PostShift(_post("2027-03-17T08:00", "2027-03-17T16:00"))).shift
    first = (await stub.PostShift(_post("2027-03-10T08:00", "2027-03-10T16:00"))).shift
    await stub.SaveProfile(pb.SaveProfileRequest(actor=STAFF, profile=NURSE))
    await stub.Book(pb.BookRequest(actor=STAFF, shift_id=first.shift_id, clinician_id="c1"))
    roster = await stub.GetRoster(pb.GetRosterRequest(facility_id="f1"))
    assert [(e.shift.shift_id, e.local_start.local, e.local_start.zone, e.open_positions,
             [b.clinician_id for b in e.bookings]) for e in roster.entries] == [
        (first.shift_id, "2027-03-10T08:00", "America/Chicago", 1, ["c1"]),
        (later.shift_id, "2027-03-17T08:00", "America/Chicago", 2, []),
    ]  # fmt: skip
    assert roster.entries[0].bookings[0].rate_cents_per_hour == 8000
    window = pb.GetRosterRequest(facility_id="f1", zone="Asia/Manila")
    window.window.start.FromDatetime(datetime(2027, 3, 15, tzinfo=UTC))
    window.window.end.FromDatetime(datetime(2027, 3, 20, tzinfo=UTC))
    seen = await stub.GetRoster(window)
    assert [(e.local_start.local, e.local_start.zone) for e in seen.entries] == [
        ("2027-03-17T21:00", "Asia/Manila")
    ]
    backwards = pb.GetRosterRequest(facility_id="f1")
    backwards.window.start.FromDatetime(datetime(2027, 3, 20, tzinfo=UTC))
    backwards.window.end.FromDatetime(datetime(2027, 3, 15, tzinfo=UTC))
    with pytest.raises(grpc.aio.AioRpcError) as bad:
        await stub.GetRoster(backwards)
    assert (bad.value.details() or "").startswith("window.end")


async def test_unlicensed_roles_need_no_patient_jurisdiction(setup: Any) -> None:
    stub, _, _ = setup
    await stub.SaveFacility(pb.SaveFacilityRequest(actor=STAFF, facility=CLINIC))
    scribe = _post("2027-03-10T08:00", "2027-03-10T16:00")
    scribe.shift.profession = "SCRIBE"
    del scribe.shift.patient_jurisdictions[:]
    assert (await stub.PostShift(scribe)).shift.profession == "SCRIBE"
    nurse = _post("2027-03-10T08:00", "2027-03-10T16:00")
    del nurse.shift.patient_jurisdictions[:]
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await stub.PostShift(nurse)
    assert (refused.value.details() or "").startswith("shift.patient_jurisdictions")


async def test_only_an_operator_records_a_booking_agreed_elsewhere(setup: Any) -> None:
    stub, changes, _ = setup
    await stub.SaveFacility(pb.SaveFacilityRequest(actor=STAFF, facility=CLINIC))
    # a Thursday: outside the nurse's declared hours, which an imported booking does not need
    shift = (await stub.PostShift(_post("2027-03-11T08:00", "2027-03-11T16:00"))).shift
    await stub.SaveProfile(pb.SaveProfileRequest(actor=STAFF, profile=NURSE))
    with pytest.raises(grpc.aio.AioRpcError) as hours:
        await stub.Book(pb.BookRequest(actor=STAFF, shift_id=shift.shift_id, clinician_id="c1"))
    assert "availability: refused" in (hours.value.details() or "")
    imported = pb.BookRequest(actor=STAFF, shift_id=shift.shift_id, clinician_id="c1",
                              agreed_elsewhere=True)  # fmt: skip
    with pytest.raises(grpc.aio.AioRpcError) as denied:
        await stub.Book(imported)
    assert denied.value.code() == grpc.StatusCode.PERMISSION_DENIED
    imported.actor.CopyFrom(OPERATOR)
    booking = (await stub.Book(imported)).booking
    assert (booking.clinician_id, booking.agreed_elsewhere) == ("c1", True)
    # the event and every later reading say so too: the matcher must never release it
    (confirmed,) = await changes.history(f"booked:{shift.shift_id}:c1:0:0")
    assert confirmed.events[0].envelope.message().booking.agreed_elsewhere
    schedule = await stub.GetSchedule(pb.GetScheduleRequest(clinician_id="c1"))
    assert [e.booking.agreed_elsewhere for e in schedule.entries] == [True]


async def test_a_booking_whose_process_died_before_announcing_it_is_announced_on_retry(
    setup: Any,
) -> None:
    """Booked in the ledger, then killed before the BookingConfirmed row: the caller's retry
    is told the clinician is booked, and the booking is announced then, once."""
    stub, changes, _ = setup
    await stub.SaveFacility(pb.SaveFacilityRequest(actor=STAFF, facility=CLINIC))
    await stub.SaveProfile(pb.SaveProfileRequest(actor=STAFF, profile=NURSE))
    shift = (await stub.PostShift(_post("2027-03-10T08:00", "2027-03-10T16:00"))).shift
    book = pb.BookRequest(actor=STAFF, shift_id=shift.shift_id, clinician_id="c1")
    await stub.Book(book)
    aggregate = f"booked:{shift.shift_id}:c1:0:0"
    await changes.rows.delete_one({"_id": row_id(aggregate, 1)})  # as if it died right then
    for _ in range(2):
        with pytest.raises(grpc.aio.AioRpcError) as again:
            await stub.Book(book)
        assert "already booked" in (again.value.details() or "")
    (confirmed,) = await changes.history(aggregate)
    assert confirmed.events[0].envelope.message().booking.clinician_id == "c1"


async def test_time_off_releases_clashing_bookings_only_with_notice(setup: Any) -> None:
    stub, changes, _ = setup
    await stub.SaveFacility(pb.SaveFacilityRequest(actor=STAFF, facility=CLINIC))
    # the clock stands at 2027-03-01 00:00 UTC: Wednesday 03-10 is far, Monday 03-01 is near
    far = (await stub.PostShift(_post("2027-03-10T08:00", "2027-03-10T16:00"))).shift
    near = (await stub.PostShift(_post("2027-03-01T08:00", "2027-03-01T16:00"))).shift
    profile = pb.WorkProfile()
    profile.CopyFrom(NURSE)
    profile.availability.append(pb.AvailabilityWindow(day="mon", start="00:00", end="00:00"))
    await stub.SaveProfile(pb.SaveProfileRequest(actor=STAFF, profile=profile))
    for shift in (far, near):
        await stub.Book(pb.BookRequest(actor=STAFF, shift_id=shift.shift_id, clinician_id="c1"))

    both = pb.WorkProfile()
    both.CopyFrom(profile)
    both.time_off.extend(["2027-03-01", "2027-03-10"])
    with pytest.raises(grpc.aio.AioRpcError) as short:
        await stub.SaveProfile(pb.SaveProfileRequest(
            actor=STAFF, profile=both, expected_version=1, release_clashing_bookings=True
        ))  # fmt: skip
    assert short.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert "less than 24 hours" in (short.value.details() or "")
    schedule = await stub.GetSchedule(pb.GetScheduleRequest(clinician_id="c1"))
    assert len(schedule.entries) == 2  # nothing was released

    one = pb.WorkProfile()
    one.CopyFrom(profile)
    one.time_off.append("2027-03-10")
    saved = await stub.SaveProfile(pb.SaveProfileRequest(
        actor=STAFF, profile=one, expected_version=1, release_clashing_bookings=True
    ))  # fmt: skip
    assert [r.booking.shift_id for r in saved.released] == [far.shift_id]
    assert list(saved.profile.time_off) == ["2027-03-10"]
    (_, released) = await changes.history(f"booked:{far.shift_id}:c1:0:0")
    assert released.events[0].envelope.message().reason == "time off on 2027-03-10"

    with pytest.raises(grpc.aio.AioRpcError) as withdraw:
        await stub.Release(pb.ReleaseRequest(actor=STAFF, shift_id=near.shift_id,
                                             clinician_id="c1"))  # fmt: skip
    assert "less than 24 hours" in (withdraw.value.details() or "")
    await stub.Release(pb.ReleaseRequest(
        actor=OPERATOR, shift_id=near.shift_id, clinician_id="c1", reason="covered by a colleague"
    ))  # fmt: skip


async def test_a_booking_that_accepts_an_offer_honours_the_offers_rate(setup: Any) -> None:
    stub, _, _ = setup
    await stub.SaveFacility(pb.SaveFacilityRequest(actor=STAFF, facility=CLINIC))
    shift = (await stub.PostShift(_post("2027-03-10T08:00", "2027-03-10T16:00"))).shift
    raised = pb.WorkProfile()
    raised.CopyFrom(NURSE)
    raised.rate_cents_per_hour = 9500  # asked after the offer at 85.00, above the pay of 90.00
    await stub.SaveProfile(pb.SaveProfileRequest(actor=STAFF, profile=raised))
    with pytest.raises(grpc.aio.AioRpcError) as dear:
        await stub.Book(pb.BookRequest(actor=STAFF, shift_id=shift.shift_id, clinician_id="c1"))
    assert "pay: refused" in (dear.value.details() or "")
    offer = pb.BookRequest(actor=STAFF, shift_id=shift.shift_id, clinician_id="c1",
                           offered_rate_cents_per_hour=8500)  # fmt: skip
    accepted = await stub.Book(offer)
    assert accepted.booking.rate_cents_per_hour == 8500
    schedule = await stub.GetSchedule(pb.GetScheduleRequest(clinician_id="c1"))
    assert schedule.entries[0].booking.rate_cents_per_hour == 8500
