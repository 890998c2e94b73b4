"""What people are told, fed from the services' events: a new offer, an offer about to expire,
a booking confirmed or released, a licence lapsing. A clinician is told nothing in their quiet
hours: the notification waits until they end. Facility staff are told about their
organisation's fills and releases (recipient `org:<organisation>`).

The wording and the delivery time are pure functions; the feed around them reads the
clinician's profile (zone, quiet hours) and the facility's organisation from the scheduling
service. An offer's reminder is a row due `remind_minutes` before it expires; the reminder loop
sends it only if the offer is still open by then."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from vsm.licensing.v1 import events_pb2 as licensing_events
from vsm.matching.v1 import events_pb2 as matching_events
from vsm.scheduling.v1 import events_pb2 as scheduling_events
from vsm.scheduling.v1 import scheduling_service_pb2 as spb
from vsm_platform.clock import Clock
from vsm_platform.envelope import Envelope
from vsm_platform.mongo import Collection, insert_unique, prefixed, sortable
from vsm_rules.quiet_hours import quiet_hours_of

from gateway.inward import work_profile
from gateway.notifications import Notification, Notifier
from gateway.owners import Owners

logger = logging.getLogger(__name__)
CLOSING = (matching_events.OfferAccepted, matching_events.OfferDeclined,
           matching_events.OfferExpired, matching_events.OfferWithdrawn)  # fmt: skip


def dollars(cents: int) -> str:
    return f"${cents / 100:,.2f}"


def local_text(instant: datetime, zone: str) -> str:
    """An instant as the reader's wall time: "Tue 1 Dec 10:00 EST"."""
    local = instant.astimezone(ZoneInfo(zone))
    return f"{local:%a} {local.day} {local:%b %H:%M %Z}"


def deliver_at(at: datetime, profile: spb.WorkProfile | None) -> datetime:
    """When a notification made at `at` may reach the clinician: at once, or when their
    quiet hours end."""
    if profile is None or not profile.zone:
        return at
    quiet = quiet_hours_of(profile.quiet_hours_start, profile.quiet_hours_end)
    return at if quiet is None else quiet.delivery(at, profile.zone)


def _instant(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


class NotificationFeed:
    def __init__(
        self, notifier: Notifier, scheduling: Any, owners: Owners, reminders: Collection,
        clock: Clock, remind_minutes: float = 5.0,
    ) -> None:  # fmt: skip
        self._notifier = notifier
        self._scheduling = scheduling
        self._owners = owners
        self._reminders = reminders
        self._clock = clock
        self._remind = timedelta(minutes=remind_minutes)

    async def handle(self, envelope: Envelope) -> None:
        """The WorkConsumer's handler: one event, the notifications it calls for (each keyed
        by the event, so a redelivered event tells no one twice)."""
        message = envelope.message()
        at = envelope.time
        if isinstance(message, matching_events.OfferMade):
            await self._offer_made(message.offer, at, envelope.id)
        elif isinstance(message, CLOSING):
            await insert_unique(
                self._reminders, {"_id": f"closed|{message.offer.offer_id}", "at": at}
            )
        elif isinstance(message, scheduling_events.BookingConfirmed):
            await self._booking(message.booking, at, envelope.id, "booking_confirmed",
                                "Booking confirmed", "")  # fmt: skip
        elif isinstance(message, scheduling_events.BookingReleased):
            why = f": {message.reason}" if message.reason else ""
            pay = (f"; compensation {dollars(message.compensation_cents)}"
                   if message.compensation_cents else "")  # fmt: skip
            await self._booking(message.booking, at, envelope.id, "booking_released",
                                "Booking released", f"{why}{pay}")  # fmt: skip
        elif isinstance(message, licensing_events.EntryLapse):
            await self._lapse(message, at, envelope.id)

    async def _profile(self, clinician_id: str) -> spb.WorkProfile | None:
        return await work_profile(self._scheduling, clinician_id)

    async def _offer_made(self, offer: Any, at: datetime, event_id: str) -> None:
        profile = await self._profile(offer.clinician_id)
        zone = profile.zone if profile and profile.zone else "UTC"
        start = local_text(_instant(offer.shift_start), zone) if offer.shift_start else "soon"
        delivery = max(_instant(offer.deliver_at) if offer.deliver_at else at,
                       deliver_at(at, profile))  # fmt: skip
        expires = _instant(offer.expires_at) if offer.expires_at else None
        until = f"; answer by {local_text(expires, zone)}" if expires else ""
        await self._notifier.notify(Notification(
            offer.clinician_id, "new_offer",
            f"New offer: a shift starting {start} at {dollars(offer.rate_cents_per_hour)}/h{until}",
            delivery, f"/offers#{offer.offer_id}", key=event_id,
        ))  # fmt: skip
        if expires is not None:
            due = expires - self._remind
            await insert_unique(self._reminders, {
                "_id": f"{sortable(due)}|{offer.offer_id}",
                "clinician_id": offer.clinician_id, "offer_id": offer.offer_id,
                "expires_at": expires,
            })  # fmt: skip

    async def _booking(
        self, booking: Any, at: datetime, event_id: str, kind: str, title: str, detail: str
    ) -> None:
        profile = await self._profile(booking.clinician_id)
        zone = profile.zone if profile and profile.zone else "UTC"
        start = booking.interval.start.ToDatetime(tzinfo=UTC)
        await self._notifier.notify(Notification(
            booking.clinician_id, kind,
            f"{title}: the shift starting {local_text(start, zone)}{detail}",
            deliver_at(at, profile), "/schedule", key=f"{event_id}:clinician",
        ))  # fmt: skip
        organization = await self._owners.of_shift(booking.shift_id)
        if organization:
            await self._notifier.notify(Notification(
                f"org:{organization}", kind,
                f"{title}: shift {booking.shift_id}, position {booking.position + 1}{detail}",
                at, f"/shifts#{booking.shift_id}", key=f"{event_id}:facility",
            ))  # fmt: skip

    async def _lapse(self, lapse: Any, at: datetime, event_id: str) -> None:
        profile = await self._profile(lapse.clinician_id)
        lapsed = lapse.stage == licensing_events.LAPSE_STAGE_LAPSED
        text = (
            f"{lapse.description} has lapsed; shifts that relied on it are released"
            if lapsed
            else f"{lapse.description} lapses on {lapse.expires}; renew it"
        )
        await self._notifier.notify(Notification(
            lapse.clinician_id, "licence_lapsing", text, deliver_at(at, profile), "/licences",
            key=event_id,
        ))  # fmt: skip

    async def forget_closed(self, older_than: timedelta) -> int:
        """Retention: the marks of offers answered long ago (their reminders are gone)."""
        cutoff = self._clock.now() - older_than
        old = [row["_id"] async for row in self._reminders.find(prefixed("closed|"))
               if row["at"] < cutoff]  # fmt: skip
        for key in old:
            await self._reminders.delete_one({"_id": key})
        return len(old)

    async def send_due_reminders(self) -> int:
        """Sends the reminders now due of offers still open; returns how many it sent."""
        now = self._clock.now()
        due = {"_id": {"$gte": "0", "$lt": sortable(now) + "|\uffff"}}
        sent = 0
        async for row in self._reminders.find(due):
            closed = await self._reminders.find_one({"_id": f"closed|{row['offer_id']}"})
            expires = row["expires_at"]
            profile = await self._profile(row["clinician_id"]) if closed is None else None
            delivery = deliver_at(now, profile)
            if closed is None and delivery < expires:
                zone = profile.zone if profile and profile.zone else "UTC"
                await self._notifier.notify(Notification(
                    row["clinician_id"], "offer_expiring",
                    f"An offer expires at {local_text(expires, zone)}: accept or decline it",
                    delivery, f"/offers#{row['offer_id']}", key=f"remind:{row['offer_id']}",
                ))  # fmt: skip
                sent += 1
            await self._reminders.delete_one({"_id": row["_id"]})
        return sent
