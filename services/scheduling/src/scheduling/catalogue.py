"""Facilities and shifts as change rows (vsm_platform.changes): each version is the whole value,
inserted as `facility:<id>:<v>` or `shift:<id>:<v>` with its event; a stale writer gets
Conflict. Posting is idempotent per (organisation, key): the first answer is kept under
`post:<organisation>:<key>` and returned again."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import datetime
from typing import Any

from vsm.scheduling.v1 import events_pb2
from vsm.scheduling.v1 import scheduling_service_pb2 as pb
from vsm_platform.actor import Actor
from vsm_platform.changes import ChangeLog, PendingEvent
from vsm_platform.clock import Clock
from vsm_platform.mongo import Collection, insert_unique
from vsm_platform.topics import SCHEDULING_EVENTS
from vsm_rules.errors import Conflict, FailedPrecondition, InvalidArgument, NotFound
from vsm_rules.posting_time import Reading

from scheduling.marketplace import Facility, Shift, ShiftDraft, ShiftStatus, post_shift

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
        status=ShiftStatus(doc["status"]),
    )  # fmt: skip


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

    def __init__(self, changes: ChangeLog, posts: Collection, clock: Clock) -> None:
        self._changes = changes
        self._posts = posts
        self._clock = clock

    async def facility(self, facility_id: str) -> tuple[Facility, int]:
        version, doc = await latest_value(self._changes, f"facility:{facility_id}")
        if doc is None:
            raise NotFound(f"no facility {facility_id!r}")
        return facility_of(doc), version

    async def save_facility(
        self, actor: Actor, facility: Facility, expected_version: int
    ) -> tuple[Facility, int]:
        version, _ = await latest_value(self._changes, f"facility:{facility.id}")
        check_replaces(f"facility {facility.id}", expected_version, version)
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
        key = f"post:{facility.organization_id}:{idempotency_key}"
        if idempotency_key:
            first = await self._posts.find_one({"_id": key})
            if first is not None:
                return await self.shift(first["shift_id"])
        shift = post_shift(uuid.uuid4().hex[:12], facility, draft)
        if idempotency_key and not await insert_unique(
            self._posts, {"_id": key, "shift_id": shift.id, "at": self._clock.now()}
        ):
            first = await self._posts.find_one({"_id": key})
            assert first is not None
            return await self.shift(first["shift_id"])  # the same request, answered elsewhere
        event = events_pb2.ShiftPosted(shift=shift_to_proto(shift, 1), actor=actor.to_proto())
        await self._changes.append(
            f"shift:{shift.id}", 1, change={"kind": "posted", "value": shift_document(shift)},
            events=[PendingEvent(SCHEDULING_EVENTS, event, key=shift.id)], actor=actor,
        )  # fmt: skip
        return shift, 1

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
        updated = post_shift(shift_id, facility, draft)
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


def draft_from_proto(request: pb.PostShiftRequest) -> ShiftDraft:
    """The draft of a PostShift request; local times as "YYYY-MM-DDTHH:MM"."""
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


__all__ = ["Catalogue", "draft_from_proto"]
