"""Organisations, facilities and shifts as change rows (vsm_platform.changes): each version is the
whole value, inserted as `organization:<id>:<v>`, `facility:<id>:<v>` or `shift:<id>:<v>` with
its event; a stale writer gets Conflict.

Beside them, keyed rows of the catalogue (every one an insert, none ever updated):
- posting is idempotent per (organisation, key): the shifts a request posts are kept under
  `post:<organisation>:<key>` before they are published, so repeating the request returns them
  and completes a series a crash cut short;
- listings: `org-facility:<organisation>:<facility>` and `facility-shift:<facility>:<shift>`,
  written before the fact they list (a reader skips a listed id whose fact never landed) and read
  by an `_id` range."""

from __future__ import annotations

import contextlib
import uuid
from dataclasses import replace
from datetime import datetime
from typing import Any

from vsm.scheduling.v1 import events_pb2
from vsm.scheduling.v1 import scheduling_service_pb2 as pb
from vsm_platform.actor import Actor
from vsm_platform.changes import ChangeLog, PendingEvent
from vsm_platform.clock import Clock
from vsm_platform.mongo import Collection, insert_unique, prefixed
from vsm_platform.topics import SCHEDULING_EVENTS
from vsm_rules.errors import Conflict, FailedPrecondition, InvalidArgument, NotFound
from vsm_rules.posting_time import Reading

from scheduling.marketplace import (
    Facility,
    Organization,
    Shift,
    ShiftDraft,
    ShiftStatus,
    check_recurrence,
    check_within_reach,
    post_series,
    post_shift,
)

_STATE = {ShiftStatus.OPEN: pb.SHIFT_STATE_OPEN, ShiftStatus.CANCELLED: pb.SHIFT_STATE_CANCELLED}


def facility_document(facility: Facility) -> dict[str, Any]:
    return {
        "id": facility.id, "organization_id": facility.organization_id, "name": facility.name,
        "zone": facility.zone, "jurisdictions": list(facility.jurisdictions),
        "do_not_return": sorted(facility.do_not_return), "favourites": sorted(facility.favourites),
    }  # fmt: skip


def facility_of(doc: dict[str, Any]) -> Facility:
    return Facility(
        doc["id"], doc["organization_id"], doc["name"], doc["zone"],
        tuple(doc["jurisdictions"]), frozenset(doc["do_not_return"]), frozenset(doc["favourites"]),
    )  # fmt: skip


def shift_document(shift: Shift) -> dict[str, Any]:
    return {
        "id": shift.id, "facility_id": shift.facility_id, "zone": shift.zone,
        "start": shift.start, "end": shift.end,
        "local_start": shift.local_start.isoformat(), "local_end": shift.local_end.isoformat(),
        "profession": shift.profession, "skills": list(shift.skills),
        "patient_jurisdictions": list(shift.patient_jurisdictions),
        "positions": shift.positions, "pay_cents_per_hour": shift.pay_cents_per_hour,
        "scope_of_work": shift.scope_of_work, "status": shift.status.value,
        "series_id": shift.series_id,
    }  # fmt: skip


def shift_of(doc: dict[str, Any]) -> Shift:
    return Shift(
        id=doc["id"], facility_id=doc["facility_id"], zone=doc["zone"],
        start=doc["start"], end=doc["end"],
        local_start=datetime.fromisoformat(doc["local_start"]),
        local_end=datetime.fromisoformat(doc["local_end"]),
        profession=doc["profession"], skills=tuple(doc["skills"]),
        patient_jurisdictions=tuple(doc["patient_jurisdictions"]), positions=doc["positions"],
        pay_cents_per_hour=doc["pay_cents_per_hour"], scope_of_work=doc["scope_of_work"],
        status=ShiftStatus(doc["status"]), series_id=doc.get("series_id", ""),
    )  # fmt: skip


def organization_to_proto(organization: Organization, version: int) -> pb.Organization:
    return pb.Organization(organization_id=organization.id, name=organization.name, version=version)


def facility_to_proto(facility: Facility, version: int) -> pb.Facility:
    return pb.Facility(
        facility_id=facility.id, organization_id=facility.organization_id, name=facility.name,
        zone=facility.zone, jurisdictions=list(facility.jurisdictions),
        do_not_return=sorted(facility.do_not_return), favourites=sorted(facility.favourites),
        version=version,
    )  # fmt: skip


def shift_to_proto(shift: Shift, version: int) -> pb.Shift:
    message = pb.Shift(
        shift_id=shift.id, facility_id=shift.facility_id, profession=shift.profession,
        skills=list(shift.skills), patient_jurisdictions=list(shift.patient_jurisdictions),
        positions=shift.positions, pay_cents_per_hour=shift.pay_cents_per_hour,
        scope_of_work=shift.scope_of_work, state=_STATE[shift.status], version=version,
        series_id=shift.series_id,
    )  # fmt: skip
    message.interval.start.FromDatetime(shift.start)
    message.interval.end.FromDatetime(shift.end)
    message.local_start.local = shift.local_start.strftime("%Y-%m-%dT%H:%M")
    message.local_start.zone = shift.zone
    message.local_end.local = shift.local_end.strftime("%Y-%m-%dT%H:%M")
    message.local_end.zone = shift.zone
    return message


async def latest_value(changes: ChangeLog, aggregate: str) -> tuple[int, dict[str, Any] | None]:
    """The version and whole value of an aggregate whose rows each hold the whole value
    (0 and None when it has none yet)."""
    rows = await changes.history(aggregate)
    return (rows[-1].version, dict(rows[-1].change["value"])) if rows else (0, None)


def check_replaces(what: str, expected_version: int, version: int) -> None:
    """A save creates (expected 0) or replaces the version the caller read; Conflict else."""
    if expected_version != version:
        state = "exists already" if expected_version == 0 else f"is at version {version}"
        raise Conflict(f"{what} {state}; read it again")


class Catalogue:
    """Facilities and shifts: what facilities post, kept and announced."""

    def __init__(self, changes: ChangeLog, rows: Collection, clock: Clock) -> None:
        self._changes = changes
        self._rows = rows  # keyed rows: idempotency answers and listings
        self._clock = clock

    # ------------------------------------------------------------ organisations

    async def organization(self, organization_id: str) -> tuple[Organization, int]:
        version, doc = await latest_value(self._changes, f"organization:{organization_id}")
        if doc is None:
            raise NotFound(f"no organisation {organization_id!r}")
        return Organization(doc["id"], doc["name"]), version

    async def save_organization(
        self, actor: Actor, organization: Organization, expected_version: int
    ) -> tuple[Organization, int]:
        aggregate = f"organization:{organization.id}"
        version, _ = await latest_value(self._changes, aggregate)
        check_replaces(f"organisation {organization.id}", expected_version, version)
        event = events_pb2.OrganizationChanged(
            organization=organization_to_proto(organization, version + 1), actor=actor.to_proto()
        )
        await self._changes.append(
            aggregate, version + 1,
            change={"kind": "saved", "value": {"id": organization.id, "name": organization.name}},
            events=[PendingEvent(SCHEDULING_EVENTS, event, key=organization.id)], actor=actor,
        )  # fmt: skip
        return organization, version + 1

    async def facilities_of(self, organization_id: str) -> list[str]:
        """The ids of the organisation's facilities (those whose first save landed)."""
        listed = [row["facility"] async for row in
                  self._rows.find(prefixed(f"org-facility:{organization_id}:"))]  # fmt: skip
        return [f for f in listed if await self._changes.get(f"facility:{f}", 1) is not None]

    # ------------------------------------------------------------ facilities

    async def facility(self, facility_id: str) -> tuple[Facility, int]:
        version, doc = await latest_value(self._changes, f"facility:{facility_id}")
        if doc is None:
            raise NotFound(f"no facility {facility_id!r}")
        return facility_of(doc), version

    async def save_facility(
        self, actor: Actor, facility: Facility, expected_version: int
    ) -> tuple[Facility, int]:
        version, doc = await latest_value(self._changes, f"facility:{facility.id}")
        check_replaces(f"facility {facility.id}", expected_version, version)
        if doc is not None and doc["organization_id"] != facility.organization_id:
            raise InvalidArgument(
                "facility.organization_id", "a facility stays with the organisation that owns it"
            )
        try:
            await self.organization(facility.organization_id)
        except NotFound:
            raise InvalidArgument(
                "facility.organization_id",
                f"no organisation {facility.organization_id!r}; save it first",
            ) from None
        if doc is None:
            await insert_unique(self._rows, {
                "_id": f"org-facility:{facility.organization_id}:{facility.id}",
                "facility": facility.id,
            })  # fmt: skip
        event = events_pb2.FacilityChanged(
            facility=facility_to_proto(facility, version + 1), actor=actor.to_proto()
        )
        await self._changes.append(
            f"facility:{facility.id}", version + 1,
            change={"kind": "saved", "value": facility_document(facility)},
            events=[PendingEvent(SCHEDULING_EVENTS, event, key=facility.id)], actor=actor,
        )  # fmt: skip
        return facility, version + 1

    async def shift(self, shift_id: str) -> tuple[Shift, int]:
        version, doc = await latest_value(self._changes, f"shift:{shift_id}")
        if doc is None:
            raise NotFound(f"no shift {shift_id!r}")
        return shift_of(doc), version

    async def post(
        self, actor: Actor, facility_id: str, draft: ShiftDraft, idempotency_key: str = ""
    ) -> tuple[Shift, int]:
        """Posts a shift of the facility (checked, every field named when bad); repeating the
        same idempotency key returns the first shift."""
        facility, _ = await self.facility(facility_id)
        first = await self._answered(actor, facility, idempotency_key)
        if first is not None:
            return first[0]
        shift = post_shift(uuid.uuid4().hex[:12], facility, draft)
        check_within_reach(shift, self._clock.now())
        return (await self._publish(actor, facility, idempotency_key, [shift]))[0]

    async def post_series(
        self, actor: Actor, facility_id: str, draft: ShiftDraft, every_days: int,
        occurrences: int, idempotency_key: str = "",
    ) -> tuple[str, list[tuple[Shift, int]]]:  # fmt: skip
        """Posts a series (every occurrence checked before any is posted); repeating the same
        idempotency key returns the first answer, completing a series a crash cut short."""
        facility, _ = await self.facility(facility_id)
        first = await self._answered(actor, facility, idempotency_key)
        if first is not None:
            return first[0][0].series_id, first
        check_recurrence(every_days, occurrences)  # before an id is made for each occurrence
        series_id = uuid.uuid4().hex[:12]
        ids = [f"{series_id}-{k + 1}" for k in range(occurrences)]
        shifts = post_series(ids, series_id, facility, draft, every_days)
        for k, shift in enumerate(shifts):
            check_within_reach(shift, self._clock.now(), f"occurrences[{k}].local_start")
        return series_id, await self._publish(actor, facility, idempotency_key, shifts)

    async def _answered(
        self, actor: Actor, facility: Facility, idempotency_key: str
    ) -> list[tuple[Shift, int]] | None:
        """The shifts an earlier request with this key posted (published again where a crash
        stopped it), or None when the key is new."""
        if not idempotency_key:
            return None
        first = await self._rows.find_one({"_id": f"post:{facility.organization_id}:"
                                                  f"{idempotency_key}"})  # fmt: skip
        if first is None:
            return None
        return await self._announce(actor, [shift_of(doc) for doc in first["shifts"]])

    async def _publish(
        self, actor: Actor, facility: Facility, idempotency_key: str, shifts: list[Shift]
    ) -> list[tuple[Shift, int]]:
        if idempotency_key:
            key = f"post:{facility.organization_id}:{idempotency_key}"
            row = {"_id": key, "shifts": [shift_document(s) for s in shifts],
                   "at": self._clock.now()}  # fmt: skip
            if not await insert_unique(self._rows, row):  # the same request, answered elsewhere
                answered = await self._answered(actor, facility, idempotency_key)
                assert answered is not None
                return answered
        return await self._announce(actor, shifts)

    async def _announce(self, actor: Actor, shifts: list[Shift]) -> list[tuple[Shift, int]]:
        """Lists and posts each shift not posted yet; every shift with its version now."""
        answers = []
        for shift in shifts:
            if await self._changes.get(f"shift:{shift.id}", 1) is None:
                await insert_unique(self._rows, {
                    "_id": f"facility-shift:{shift.facility_id}:{shift.id}", "shift": shift.id,
                })  # fmt: skip
                event = events_pb2.ShiftPosted(shift=shift_to_proto(shift, 1),
                                               actor=actor.to_proto())  # fmt: skip
                with contextlib.suppress(Conflict):  # posted meanwhile by the same request
                    await self._changes.append(
                        f"shift:{shift.id}", 1,
                        change={"kind": "posted", "value": shift_document(shift)},
                        events=[PendingEvent(SCHEDULING_EVENTS, event, key=shift.id)],
                        actor=actor,
                    )  # fmt: skip
            answers.append(await self.shift(shift.id))
        return answers

    async def shifts_of(self, facility_id: str) -> list[tuple[Shift, int]]:
        """The facility's shifts as they stand (those whose posting landed)."""
        found = []
        async for row in self._rows.find(prefixed(f"facility-shift:{facility_id}:")):
            version, doc = await latest_value(self._changes, f"shift:{row['shift']}")
            if doc is not None:
                found.append((shift_of(doc), version))
        return found

    async def update(
        self, actor: Actor, shift_id: str, draft: ShiftDraft, expected_version: int,
        booked: int,
    ) -> tuple[Shift, int]:  # fmt: skip
        """The shift with new facts (checked like a new post); its positions stay at least the
        `booked` ones."""
        shift, version = await self.shift(shift_id)
        if expected_version and expected_version != version:
            raise Conflict(f"shift {shift_id} is at version {version}; read it again")
        if shift.status == ShiftStatus.CANCELLED:
            raise FailedPrecondition(f"shift {shift_id} is cancelled")
        if draft.positions < booked:
            raise InvalidArgument(
                "positions", f"{booked} clinicians are booked on it; release one first"
            )
        facility, _ = await self.facility(shift.facility_id)
        updated = post_shift(shift_id, facility, draft, shift.series_id)
        check_within_reach(updated, self._clock.now())
        event = events_pb2.ShiftUpdated(
            shift=shift_to_proto(updated, version + 1), actor=actor.to_proto()
        )
        await self._changes.append(
            f"shift:{shift_id}", version + 1,
            change={"kind": "updated", "value": shift_document(updated)},
            events=[PendingEvent(SCHEDULING_EVENTS, event, key=shift_id)], actor=actor,
        )  # fmt: skip
        return updated, version + 1

    async def cancel(
        self, actor: Actor, shift_id: str, reason: str, expected_version: int
    ) -> tuple[Shift, int]:
        """The shift, cancelled (its bookings are the caller's to release)."""
        shift, version = await self.shift(shift_id)
        if expected_version and expected_version != version:
            raise Conflict(f"shift {shift_id} is at version {version}; read it again")
        if shift.status == ShiftStatus.CANCELLED:
            raise FailedPrecondition(f"shift {shift_id} is already cancelled")
        cancelled = replace(shift, status=ShiftStatus.CANCELLED)
        event = events_pb2.ShiftCancelled(
            shift=shift_to_proto(cancelled, version + 1), reason=reason, actor=actor.to_proto()
        )
        await self._changes.append(
            f"shift:{shift_id}", version + 1,
            change={"kind": "cancelled", "value": shift_document(cancelled), "reason": reason},
            events=[PendingEvent(SCHEDULING_EVENTS, event, key=shift_id)], actor=actor,
        )  # fmt: skip
        return cancelled, version + 1


READINGS = {
    pb.WALL_TIME_READING_UNSPECIFIED: None,
    pb.WALL_TIME_READING_EARLIER: Reading.EARLIER,
    pb.WALL_TIME_READING_LATER: Reading.LATER,
}


def draft_from_proto(
    request: pb.PostShiftRequest | pb.PostShiftSeriesRequest | pb.UpdateShiftRequest,
) -> ShiftDraft:
    """The draft of a PostShift, PostShiftSeries or UpdateShift request; local times as
    "YYYY-MM-DDTHH:MM"."""
    message = request.shift

    def local(value: str, field: str) -> datetime:
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            raise InvalidArgument(field, f"a local time YYYY-MM-DDTHH:MM, not {value!r}") from None
        if parsed.tzinfo is not None:
            raise InvalidArgument(field, "a local wall time carries no offset")
        return parsed

    return ShiftDraft(
        profession=message.profession,
        local_start=local(message.local_start.local, "local_start"),
        local_end=local(message.local_end.local, "local_end"),
        positions=message.positions, pay_cents_per_hour=message.pay_cents_per_hour,
        patient_jurisdictions=tuple(message.patient_jurisdictions), skills=tuple(message.skills),
        scope_of_work=message.scope_of_work,
        start_reading=READINGS.get(request.start_reading),
        end_reading=READINGS.get(request.end_reading),
    )  # fmt: skip


__all__ = ["Catalogue", "draft_from_proto", "organization_to_proto"]
