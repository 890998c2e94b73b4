"""Clinicians' work profiles as change rows `profile:<clinician>:<v>` with their event, which
says what changed (the matching service re-reads only that). New time off that clashes with a
confirmed booking is refused: the clinician cancels the booking first."""

from __future__ import annotations

from datetime import date
from typing import Any

from google.protobuf.message import Message
from vsm.scheduling.v1 import events_pb2
from vsm.scheduling.v1 import scheduling_service_pb2 as pb
from vsm_platform.actor import Actor
from vsm_platform.changes import ChangeLog, PendingEvent
from vsm_platform.topics import SCHEDULING_EVENTS
from vsm_rules.availability import AvailabilityWindow
from vsm_rules.errors import FailedPrecondition, InvalidArgument, NotFound
from vsm_rules.quiet_hours import QuietHours
from vsm_rules.records import parse_date, within
from vsm_rules.time_off import local_days

from scheduling.catalogue import check_replaces, latest_value
from scheduling.ledger import Ledger
from scheduling.marketplace import WorkProfile


def profile_document(profile: WorkProfile) -> dict[str, Any]:
    quiet = profile.quiet_hours
    return {
        "clinician_id": profile.clinician_id, "profession": profile.profession,
        "zone": profile.zone, "rate_cents_per_hour": profile.rate_cents_per_hour,
        "skills": sorted(profile.skills),
        "availability": [[w.day, w.start, w.end] for w in profile.availability],
        "quiet_hours": None if quiet is None else [quiet.start, quiet.end],
        "time_off": sorted(d.isoformat() for d in profile.time_off),
        "max_minutes_per_week": profile.max_minutes_per_week,
        "min_rest_minutes": profile.min_rest_minutes,
    }  # fmt: skip


def profile_of(doc: dict[str, Any]) -> WorkProfile:
    quiet = doc["quiet_hours"]
    return WorkProfile(
        doc["clinician_id"], doc["profession"], doc["zone"], doc["rate_cents_per_hour"],
        frozenset(doc["skills"]), tuple(AvailabilityWindow(*w) for w in doc["availability"]),
        None if quiet is None else QuietHours(*quiet),
        frozenset(date.fromisoformat(d) for d in doc["time_off"]),
        doc["max_minutes_per_week"], doc["min_rest_minutes"],
    )  # fmt: skip


def profile_from_proto(message: pb.WorkProfile) -> WorkProfile:
    with within("profile"):
        windows = []
        for i, w in enumerate(message.availability):
            with within(f"availability[{i}]"):
                windows.append(AvailabilityWindow(w.day, w.start, w.end))
        quiet = None
        if message.quiet_hours_start or message.quiet_hours_end:
            quiet = QuietHours(message.quiet_hours_start, message.quiet_hours_end)
        off = frozenset(parse_date(d, f"time_off[{i}]") for i, d in enumerate(message.time_off))
        return WorkProfile(
            clinician_id=message.clinician_id, profession=message.profession, zone=message.zone,
            rate_cents_per_hour=message.rate_cents_per_hour, skills=frozenset(message.skills),
            availability=tuple(windows), quiet_hours=quiet, time_off=off,
            max_minutes_per_week=message.max_minutes_per_week,
            min_rest_minutes=message.min_rest_minutes,
        )  # fmt: skip


def profile_to_proto(profile: WorkProfile, version: int) -> pb.WorkProfile:
    quiet = profile.quiet_hours
    return pb.WorkProfile(
        clinician_id=profile.clinician_id, profession=profile.profession,
        skills=sorted(profile.skills), zone=profile.zone,
        rate_cents_per_hour=profile.rate_cents_per_hour,
        availability=[pb.AvailabilityWindow(day=w.day, start=w.start, end=w.end)
                      for w in profile.availability],
        quiet_hours_start=quiet.start if quiet else "", quiet_hours_end=quiet.end if quiet else "",
        time_off=sorted(d.isoformat() for d in profile.time_off),
        max_minutes_per_week=profile.max_minutes_per_week,
        min_rest_minutes=profile.min_rest_minutes, version=version,
    )  # fmt: skip


def changed_parts(before: WorkProfile | None, after: WorkProfile) -> list[str]:
    if before is None:
        return ["profile", "availability", "quiet_hours", "time_off"]
    parts = []
    core = ("profession", "zone", "rate_cents_per_hour", "skills", "max_minutes_per_week",
            "min_rest_minutes")  # fmt: skip
    if any(getattr(before, f) != getattr(after, f) for f in core):
        parts.append("profile")
    for name in ("availability", "quiet_hours", "time_off"):
        if getattr(before, name) != getattr(after, name):
            parts.append(name)
    return parts


def profile_events(
    actor: Actor, before: WorkProfile | None, after: WorkProfile, version: int, parts: list[str]
) -> list[PendingEvent]:
    """What a save announces: the profile when its core changed (or it is new), availability
    and quiet hours, and time off, each when it changed or its zone did (their local times
    mean other instants then)."""
    moved = before is None or before.zone != after.zone
    key = after.clinician_id
    events: list[Message] = []
    if "profile" in parts:
        events.append(events_pb2.ClinicianProfileChanged(
            profile=profile_to_proto(after, version), actor=actor.to_proto(), changed=parts
        ))  # fmt: skip
    if moved or "availability" in parts or "quiet_hours" in parts:
        quiet = after.quiet_hours
        events.append(events_pb2.AvailabilityChanged(
            clinician_id=key, zone=after.zone, version=version, actor=actor.to_proto(),
            availability=[pb.AvailabilityWindow(day=w.day, start=w.start, end=w.end)
                          for w in after.availability],
            quiet_hours_start=quiet.start if quiet else "",
            quiet_hours_end=quiet.end if quiet else "",
        ))  # fmt: skip
    if moved or "time_off" in parts:
        added = after.time_off - (before.time_off if before else frozenset())
        events.append(events_pb2.TimeOffChanged(
            clinician_id=key, zone=after.zone, version=version, actor=actor.to_proto(),
            time_off=sorted(d.isoformat() for d in after.time_off),
            added=sorted(d.isoformat() for d in added),
        ))  # fmt: skip
    return [PendingEvent(SCHEDULING_EVENTS, event, key=key) for event in events]


class Profiles:
    def __init__(self, changes: ChangeLog, ledger: Ledger) -> None:
        self._changes = changes
        self._ledger = ledger

    async def clashes(self, profile: WorkProfile) -> list[tuple[str, str]]:
        """(shift, first clashing date) of each booking on a day the profile newly takes off."""
        _, doc = await latest_value(self._changes, f"profile:{profile.clinician_id}")
        before = profile_of(doc).time_off if doc is not None else frozenset()
        new_off = profile.time_off - before
        if not new_off:
            return []
        _, booked = await self._ledger.schedule(profile.clinician_id)
        found = []
        for b in booked:
            clash = sorted(new_off & set(local_days(profile.zone, b.start, b.end)))
            if clash:
                found.append((b.shift_id, clash[0].isoformat()))
        return found

    async def get(self, clinician_id: str) -> tuple[WorkProfile, int]:
        if not clinician_id.strip():
            raise InvalidArgument("clinician_id", "must not be empty")
        version, doc = await latest_value(self._changes, f"profile:{clinician_id}")
        if doc is None:
            raise NotFound(f"no work profile for {clinician_id!r}")
        return profile_of(doc), version

    async def save(
        self, actor: Actor, profile: WorkProfile, expected_version: int
    ) -> tuple[WorkProfile, int]:
        version, doc = await latest_value(self._changes, f"profile:{profile.clinician_id}")
        before = profile_of(doc) if doc is not None else None
        check_replaces(f"the profile of {profile.clinician_id}", expected_version, version)
        clashes = await self.clashes(profile)
        if clashes:
            shift_id, day = clashes[0]
            raise FailedPrecondition(
                f"time off on {day} clashes with the booking of shift {shift_id}; "
                "cancel that booking first (or ask to release clashing bookings)"
            )
        parts = changed_parts(before, profile)
        await self._changes.append(
            f"profile:{profile.clinician_id}", version + 1,
            change={"kind": "saved", "value": profile_document(profile), "changed": parts},
            events=profile_events(actor, before, profile, version + 1, parts), actor=actor,
        )  # fmt: skip
        return profile, version + 1
