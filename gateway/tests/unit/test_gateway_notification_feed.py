"""The notification feed over in-memory rows and a scripted scheduling service: an offer made
in the clinician's quiet hours reaches them when the quiet hours end; a redelivered event
tells no one twice; the reminder goes only for an offer still open; fills reach the facility's
organisation."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from gateway.notification_feed import NotificationFeed, deliver_at
from gateway.notifications import StoredNotifications
from gateway.owners import Owners
from google.protobuf.timestamp_pb2 import Timestamp
from vsm.common.v1 import common_pb2
from vsm.matching.v1 import events_pb2 as matching_events
from vsm.matching.v1 import matching_service_pb2 as mpb
from vsm.scheduling.v1 import events_pb2 as scheduling_events
from vsm.scheduling.v1 import scheduling_service_pb2 as spb
from vsm_platform.clock import ManualClock
from vsm_platform.envelope import new_envelope
from vsm_platform.testing import MemoryCollection

# 23:30 in New York (EST, UTC-5): inside quiet hours 22:00-07:00, which end at 12:00 UTC.
LATE = datetime(2026, 12, 2, 4, 30, tzinfo=UTC)
QUIET_ENDS = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)
PROFILE = spb.WorkProfile(clinician_id="c-1", zone="America/New_York",
                          quiet_hours_start="22:00", quiet_hours_end="07:00")  # fmt: skip


class Scheduling:
    async def GetProfile(self, request: Any) -> Any:
        return spb.ProfileResponse(profile=PROFILE)

    async def GetShift(self, request: Any) -> Any:
        return spb.GetShiftResponse(shift=spb.Shift(shift_id=request.shift_id, facility_id="f1"))

    async def GetFacility(self, request: Any) -> Any:
        return spb.FacilityResponse(facility=spb.Facility(facility_id="f1", organization_id="o1"))


def _feed(clock: ManualClock) -> tuple[NotificationFeed, StoredNotifications]:
    sink = StoredNotifications(MemoryCollection())  # type: ignore[arg-type]
    owners = Owners(Scheduling(), MemoryCollection())  # type: ignore[arg-type]
    feed = NotificationFeed(sink, Scheduling(), owners, MemoryCollection(), clock)  # type: ignore[arg-type]
    return feed, sink


def _offer_made(at: datetime, expires: datetime) -> Any:
    offer = mpb.Offer(offer_id="o-1", shift_id="s-1", clinician_id="c-1",
                      rate_cents_per_hour=6000, shift_start="2026-12-05T15:00:00+00:00",
                      deliver_at=at.isoformat(), expires_at=expires.isoformat())  # fmt: skip
    return new_envelope(matching_events.OfferMade(offer=offer), source="matching",
                        subject="o-1", key="s-1", time=at)  # fmt: skip


def test_a_notification_in_quiet_hours_waits_until_they_end() -> None:
    assert deliver_at(LATE, PROFILE) == QUIET_ENDS
    noon = datetime(2026, 12, 2, 17, 0, tzinfo=UTC)
    assert deliver_at(noon, PROFILE) == noon
    assert deliver_at(LATE, None) == LATE


async def test_an_offer_made_at_night_is_told_in_the_morning_once() -> None:
    clock = ManualClock(LATE)
    feed, sink = _feed(clock)
    event = _offer_made(LATE, QUIET_ENDS + timedelta(minutes=15))
    await feed.handle(event)
    await feed.handle(event)  # redelivered
    assert await sink.delivered("c-1", LATE + timedelta(hours=1)) == []
    told = await sink.delivered("c-1", QUIET_ENDS)
    assert [n.kind for n in told] == ["new_offer"]
    assert "Sat 5 Dec 10:00 EST" in told[0].text and "$60.00/h" in told[0].text


async def test_the_reminder_goes_only_for_an_offer_still_open() -> None:
    clock = ManualClock(QUIET_ENDS)
    feed, sink = _feed(clock)
    expires = QUIET_ENDS + timedelta(minutes=15)
    await feed.handle(_offer_made(QUIET_ENDS, expires))
    assert await feed.send_due_reminders() == 0  # not due yet
    await clock.advance(timedelta(minutes=11))
    assert await feed.send_due_reminders() == 1
    assert await feed.send_due_reminders() == 0  # sent once
    kinds = [n.kind for n in await sink.delivered("c-1", clock.now())]
    assert sorted(kinds) == ["new_offer", "offer_expiring"]

    clock2 = ManualClock(QUIET_ENDS)
    feed2, sink2 = _feed(clock2)
    await feed2.handle(_offer_made(QUIET_ENDS, expires))
    accepted = matching_events.OfferAccepted(offer=mpb.Offer(offer_id="o-1"))
    await feed2.handle(new_envelope(accepted, source="matching", subject="o-1", key="s-1",
                                    time=QUIET_ENDS))  # fmt: skip
    await clock2.advance(timedelta(minutes=11))
    assert await feed2.send_due_reminders() == 0
    assert [n.kind for n in await sink2.delivered("c-1", clock2.now())] == ["new_offer"]
    assert await feed2.forget_closed(timedelta(days=1)) == 0
    await clock2.advance(timedelta(days=2))
    assert await feed2.forget_closed(timedelta(days=1)) == 1


async def test_a_fill_reaches_the_clinician_and_the_facility_organisation() -> None:
    clock = ManualClock(QUIET_ENDS)
    feed, sink = _feed(clock)
    start = Timestamp()
    start.FromDatetime(datetime(2026, 12, 5, 15, 0, tzinfo=UTC))
    booking = spb.Booking(shift_id="s-1", clinician_id="c-1", position=0,
                          interval=common_pb2.Interval(start=start, end=start))  # fmt: skip
    event = new_envelope(scheduling_events.BookingConfirmed(booking=booking), source="scheduling",
                         subject="s-1", key="s-1", time=QUIET_ENDS)  # fmt: skip
    await feed.handle(event)
    assert [n.kind for n in await sink.delivered("c-1", clock.now())] == ["booking_confirmed"]
    told = await sink.delivered("org:o1", clock.now())
    assert [n.text for n in told] == ["Booking confirmed: shift s-1, position 1"]
