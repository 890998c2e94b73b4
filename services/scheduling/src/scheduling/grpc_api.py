"""The scheduling contract over gRPC: organisations, facilities, shifts and series, work
profiles, the booking ledger, schedules, rosters and calendars. Requests become domain values
here (a bad field is INVALID_ARGUMENT naming it); the use cases do the rest."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import grpc
from vsm.scheduling.v1 import scheduling_service_pb2 as pb
from vsm.scheduling.v1 import scheduling_service_pb2_grpc as pb_grpc
from vsm_platform.actor import Actor
from vsm_platform.values import interval_from_proto
from vsm_rules.errors import InvalidArgument
from vsm_rules.records import within

from scheduling.bookings import Bookings
from scheduling.catalogue import (
    Catalogue,
    draft_from_proto,
    facility_to_proto,
    organization_to_proto,
    shift_to_proto,
)
from scheduling.marketplace import Facility, Organization, ShiftDraft
from scheduling.profiles import Profiles, profile_from_proto, profile_to_proto

SERVICE_NAME = "vsm.scheduling.v1.SchedulingService"


def facility_from_proto(message: pb.Facility) -> Facility:
    with within("facility"):
        return Facility(
            id=message.facility_id, organization_id=message.organization_id,
            name=message.name, zone=message.zone, jurisdictions=tuple(message.jurisdictions),
            do_not_return=frozenset(message.do_not_return),
            favourites=frozenset(message.favourites),
        )  # fmt: skip


class SchedulingApi(pb_grpc.SchedulingServiceServicer):
    def __init__(self, catalogue: Catalogue, profiles: Profiles, bookings: Bookings) -> None:
        self._catalogue = catalogue
        self._profiles = profiles
        self._bookings = bookings

    async def Book(self, request: Any, context: Any) -> Any:
        if not request.shift_id:
            raise InvalidArgument("shift_id", "must not be empty")
        if not request.clinician_id:
            raise InvalidArgument("clinician_id", "must not be empty")
        booking = await self._bookings.book(
            Actor.from_proto(request.actor), request.shift_id, request.clinician_id,
            request.agreed_elsewhere, request.offered_rate_cents_per_hour,
        )  # fmt: skip
        return pb.BookResponse(booking=booking)

    async def Release(self, request: Any, context: Any) -> Any:
        if not request.shift_id or not request.clinician_id:
            raise InvalidArgument("shift_id" if not request.shift_id else "clinician_id", "missing")
        released = await self._bookings.release(
            Actor.from_proto(request.actor), request.shift_id, request.clinician_id,
            request.reason, withdrawal=True,
        )  # fmt: skip
        return pb.ReleaseResponse(released=released)

    async def UpdateShift(self, request: Any, context: Any) -> Any:
        if not request.shift.shift_id:
            raise InvalidArgument("shift.shift_id", "name the shift to change")
        with within("shift"):
            draft = draft_from_proto(request)
            shift, version, released = await self._bookings.update_shift(
                Actor.from_proto(request.actor), request.shift.shift_id, draft,
                request.expected_version,
            )  # fmt: skip
        return pb.UpdateShiftResponse(shift=shift_to_proto(shift, version), released=released)

    async def PreviewCancellation(self, request: Any, context: Any) -> Any:
        if not request.shift_id:
            raise InvalidArgument("shift_id", "must not be empty")
        released = await self._bookings.preview_cancellation(request.shift_id)
        return pb.PreviewCancellationResponse(
            released=released, policy=self._bookings.policy.describe()
        )

    async def CancelShift(self, request: Any, context: Any) -> Any:
        if not request.shift_id:
            raise InvalidArgument("shift_id", "must not be empty")
        shift, version, released = await self._bookings.cancel_shift(
            Actor.from_proto(request.actor), request.shift_id, request.reason,
            request.expected_version,
        )  # fmt: skip
        return pb.CancelShiftResponse(
            shift=shift_to_proto(shift, version), released=released,
            policy=self._bookings.policy.describe(),
        )  # fmt: skip

    async def GetSchedule(self, request: Any, context: Any) -> Any:
        entries = await self._bookings.schedule(request.clinician_id, request.zone)
        return pb.ScheduleResponse(entries=entries)

    async def GetRoster(self, request: Any, context: Any) -> Any:
        if not request.facility_id:
            raise InvalidArgument("facility_id", "must not be empty")
        window = None
        if request.HasField("window"):
            window = interval_from_proto(request.window, "window")
        entries = await self._bookings.roster(request.facility_id, window, request.zone)
        return pb.RosterResponse(entries=entries)

    async def GetCalendar(self, request: Any, context: Any) -> Any:
        return pb.CalendarResponse(ical=await self._bookings.calendar(request.clinician_id))

    async def SaveProfile(self, request: Any, context: Any) -> Any:
        profile, version, released = await self._bookings.save_profile(
            Actor.from_proto(request.actor), profile_from_proto(request.profile),
            request.expected_version, request.release_clashing_bookings,
        )  # fmt: skip
        return pb.ProfileResponse(profile=profile_to_proto(profile, version), released=released)

    async def GetProfile(self, request: Any, context: Any) -> Any:
        profile, version = await self._profiles.get(request.clinician_id)
        return pb.ProfileResponse(profile=profile_to_proto(profile, version))

    async def SaveOrganization(self, request: Any, context: Any) -> Any:
        with within("organization"):
            organization = Organization(request.organization.organization_id,
                                        request.organization.name)  # fmt: skip
        saved, _ = await self._catalogue.save_organization(
            Actor.from_proto(request.actor), organization, request.expected_version
        )
        return await self._organization(saved.id)

    async def GetOrganization(self, request: Any, context: Any) -> Any:
        if not request.organization_id:
            raise InvalidArgument("organization_id", "must not be empty")
        return await self._organization(request.organization_id)

    async def _organization(self, organization_id: str) -> pb.OrganizationResponse:
        organization, version = await self._catalogue.organization(organization_id)
        return pb.OrganizationResponse(
            organization=organization_to_proto(organization, version),
            facility_ids=await self._catalogue.facilities_of(organization_id),
        )

    async def SaveFacility(self, request: Any, context: Any) -> Any:
        facility, version = await self._catalogue.save_facility(
            Actor.from_proto(request.actor), facility_from_proto(request.facility),
            request.expected_version,
        )  # fmt: skip
        return pb.FacilityResponse(facility=facility_to_proto(facility, version))

    async def GetFacility(self, request: Any, context: Any) -> Any:
        if not request.facility_id:
            raise InvalidArgument("facility_id", "must not be empty")
        facility, version = await self._catalogue.facility(request.facility_id)
        return pb.FacilityResponse(facility=facility_to_proto(facility, version))

    @staticmethod
    def _posting(request: Any) -> tuple[Actor, ShiftDraft]:
        """Who posts, and the draft of a PostShift or PostShiftSeries request."""
        actor = Actor.from_proto(request.actor)
        if not request.shift.facility_id:
            raise InvalidArgument("shift.facility_id", "must not be empty")
        with within("shift"):
            return actor, draft_from_proto(request)

    async def PostShift(self, request: Any, context: Any) -> Any:
        actor, draft = self._posting(request)
        with within("shift"):
            shift, version = await self._catalogue.post(
                actor, request.shift.facility_id, draft, request.idempotency_key
            )
        return pb.PostShiftResponse(shift=shift_to_proto(shift, version))

    async def PostShiftSeries(self, request: Any, context: Any) -> Any:
        actor, draft = self._posting(request)
        series_id, posted = await self._catalogue.post_series(
            actor, request.shift.facility_id, draft, request.recurrence.every_days,
            request.recurrence.occurrences, request.idempotency_key,
        )  # fmt: skip
        return pb.PostShiftSeriesResponse(
            series_id=series_id, shifts=[shift_to_proto(s, v) for s, v in posted]
        )

    async def GetShift(self, request: Any, context: Any) -> Any:
        if not request.shift_id:
            raise InvalidArgument("shift_id", "must not be empty")
        shift, version = await self._catalogue.shift(request.shift_id)
        return pb.GetShiftResponse(shift=shift_to_proto(shift, version))


def register(
    catalogue: Catalogue, profiles: Profiles, bookings: Bookings
) -> Callable[[grpc.aio.Server], None]:
    api = SchedulingApi(catalogue, profiles, bookings)

    def add(server: grpc.aio.Server) -> None:
        pb_grpc.add_SchedulingServiceServicer_to_server(api, server)  # type: ignore[no-untyped-call]

    return add
