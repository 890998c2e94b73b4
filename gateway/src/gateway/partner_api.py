"""`vsm.partner.v1.PartnerService`: what facilities and credentialing systems do, over gRPC,
with an API key of one organisation. Every call is checked against that organisation the way
the REST API checks a signed-in person: a shift, facility or clinician of another organisation
is NOT_FOUND. Bulk calls answer each item on its own, naming the field of a refused one."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, TypeVar

import grpc
from vsm.licensing.v1 import licensing_service_pb2 as lpb
from vsm.matching.v1 import matching_service_pb2 as mpb
from vsm.partner.v1 import events_pb2 as epb
from vsm.partner.v1 import partner_service_pb2 as pb
from vsm.partner.v1 import partner_service_pb2_grpc as pb_grpc
from vsm.scheduling.v1 import scheduling_service_pb2 as spb
from vsm_platform.actor import Actor, ActorKind
from vsm_rules.errors import DomainError, InvalidArgument, NotFound

from gateway.account_store import AccountStore
from gateway.api_keys import ApiKeys, PartnerKey
from gateway.inward import Services, split_field, work_profile
from gateway.owners import Owners

SERVICE_NAME = pb.DESCRIPTOR.services_by_name["PartnerService"].full_name
MAX_ITEMS = 2000
IN_FLIGHT = 16
T = TypeVar("T")


def partner_actor(key: PartnerKey) -> Actor:
    return Actor(ActorKind.PARTNER, f"partner:{key.key_id}", key.organization_id, "partner")


def item_error(field: str, error: Exception, inside: str = "") -> pb.ItemError:
    """A refused item's error, its field named from the request's root; `inside` is the
    prefix the service's own field names carry that the partner's message does not."""
    if isinstance(error, grpc.aio.AioRpcError):
        inner, message = split_field(error.details() or "")
        inner = inner.removeprefix(inside)
        code = error.code().name
    elif isinstance(error, InvalidArgument):
        inner, message, code = error.field, error.message.split(": ", 1)[-1], "INVALID_ARGUMENT"
    elif isinstance(error, NotFound):
        (inner, message), code = split_field(error.message), "NOT_FOUND"
    else:
        assert isinstance(error, DomainError)
        inner, message, code = "", error.message, "FAILED_PRECONDITION"
    return pb.ItemError(field=f"{field}.{inner}" if inner else field, message=message, code=code)


class PartnerApi(pb_grpc.PartnerServiceServicer):
    def __init__(
        self, keys: ApiKeys, services: Services, owners: Owners, accounts: AccountStore,
        subscribe: Callable[[PartnerKey, epb.StreamCursor, set[int]], AsyncIterator[Any]],
    ) -> None:  # fmt: skip
        self._keys = keys
        self._services = services
        self._owners = owners
        self._accounts = accounts
        self._subscribe = subscribe

    async def _partner(self, context: grpc.aio.ServicerContext[Any, Any]) -> PartnerKey:
        metadata = dict(context.invocation_metadata() or ())
        key = str(metadata.get("x-api-key", ""))
        bearer = str(metadata.get("authorization", ""))
        if not key and bearer.lower().startswith("bearer "):
            key = bearer[7:].strip()
        found = await self._keys.partner(key) if key else None
        if found is None:
            message = "give a live API key of your organisation in x-api-key"
            await context.abort(grpc.StatusCode.UNAUTHENTICATED, message)
            raise AssertionError("unreachable")
        return found

    async def _each(
        self,
        items: list[Any],
        field: str,
        work: Callable[[int, Any], Awaitable[T]],
        inside: str = "",
    ) -> list[T | pb.ItemError]:
        """Runs `work` on every item, a few at a time; an item's refusal becomes its error."""
        if len(items) > MAX_ITEMS:
            raise InvalidArgument(field, f"at most {MAX_ITEMS} in one call")
        gate = asyncio.Semaphore(IN_FLIGHT)

        async def one(index: int, item: Any) -> T | pb.ItemError:
            async with gate:
                try:
                    return await work(index, item)
                except (grpc.aio.AioRpcError, DomainError) as error:
                    return item_error(f"{field}[{index}]", error, inside)

        return list(await asyncio.gather(*(one(i, item) for i, item in enumerate(items))))

    async def _facility(self, key: PartnerKey, facility_id: str, field: str) -> None:
        if not facility_id:
            raise InvalidArgument(field, "name one of your facilities")
        if await self._owners.of_facility(facility_id) != key.organization_id:
            raise NotFound(f"{field}: no facility {facility_id!r} of yours")

    async def _shift(self, key: PartnerKey, shift_id: str, field: str = "shift_id") -> None:
        if not shift_id:
            raise InvalidArgument(field, "name one of your shifts")
        if await self._owners.of_shift(shift_id) != key.organization_id:
            raise NotFound(f"{field}: no shift {shift_id!r} of yours")

    async def _clinician(self, key: PartnerKey, clinician_id: str, field: str) -> None:
        if not clinician_id:
            raise InvalidArgument(field, "name the clinician")
        if await self._owners.clinician_owner(clinician_id) != key.organization_id:
            raise NotFound(f"{field}: no clinician {clinician_id!r} entered by your organisation")

    # shifts

    async def PostShifts(self, request: Any, context: Any) -> Any:
        key = await self._partner(context)
        actor = partner_actor(key).to_proto()

        async def post(index: int, draft: Any) -> pb.PostedShift:
            await self._facility(key, draft.facility_id, "facility_id")
            shift = spb.Shift(
                facility_id=draft.facility_id, profession=draft.profession, skills=draft.skills,
                patient_jurisdictions=draft.patient_jurisdictions,
                positions=draft.positions, pay_cents_per_hour=draft.pay_cents_per_hour,
                scope_of_work=draft.scope_of_work,
            )  # fmt: skip
            shift.local_start.local, shift.local_end.local = draft.local_start, draft.local_end
            posted = await self._services.scheduling.PostShift(spb.PostShiftRequest(
                actor=actor, shift=shift, idempotency_key=draft.idempotency_key,
                start_reading=draft.start_reading, end_reading=draft.end_reading))  # fmt: skip
            return pb.PostedShift(index=index, shift=posted.shift)

        results = await self._each(list(request.shifts), "shifts", post, inside="shift.")
        answer = pb.PostShiftsResponse()
        for index, result in enumerate(results):
            if isinstance(result, pb.ItemError):
                answer.results.append(pb.PostedShift(index=index, error=result))
                answer.refused += 1
            else:
                answer.results.append(result)
                answer.posted += 1
        return answer

    async def CancelShifts(self, request: Any, context: Any) -> Any:
        key = await self._partner(context)
        actor = partner_actor(key).to_proto()
        policy = ""

        async def cancel(index: int, item: Any) -> pb.CancelledShift:
            nonlocal policy
            await self._shift(key, item.shift_id)
            done = await self._services.scheduling.CancelShift(spb.CancelShiftRequest(
                actor=actor, shift_id=item.shift_id, reason=item.reason))  # fmt: skip
            policy = done.policy
            return pb.CancelledShift(index=index, shift=done.shift, released=done.released)

        results = await self._each(list(request.cancellations), "cancellations", cancel)
        answer = pb.CancelShiftsResponse(policy=policy)
        for index, result in enumerate(results):
            answer.results.append(result if isinstance(result, pb.CancelledShift)
                                  else pb.CancelledShift(index=index, error=result))  # fmt: skip
        return answer

    async def GetShift(self, request: Any, context: Any) -> Any:
        key = await self._partner(context)
        await self._shift(key, request.shift_id)
        found = await self._services.scheduling.GetShift(
            spb.GetShiftRequest(shift_id=request.shift_id)
        )
        return pb.GetShiftResponse(shift=found.shift)

    async def GetShiftStatus(self, request: Any, context: Any) -> Any:
        key = await self._partner(context)
        await self._shift(key, request.shift_id)
        found = await self._services.matching.GetShiftStatus(
            mpb.GetShiftStatusRequest(shift_id=request.shift_id)
        )
        return pb.GetShiftStatusResponse(status=found.status)

    async def GetRoster(self, request: Any, context: Any) -> Any:
        key = await self._partner(context)
        await self._facility(key, request.facility_id, "facility_id")
        window = request.window if request.HasField("window") else None
        found = await self._services.scheduling.GetRoster(spb.GetRosterRequest(
            facility_id=request.facility_id, window=window, zone=request.zone))  # fmt: skip
        return pb.GetRosterResponse(entries=found.entries)

    # clinicians and their licensing records

    async def UpsertClinicians(self, request: Any, context: Any) -> Any:
        key = await self._partner(context)
        actor = partner_actor(key).to_proto()

        async def upsert(index: int, item: Any) -> pb.ClinicianResult:
            clinician_id = item.profile.clinician_id
            if not clinician_id:
                raise InvalidArgument("profile.clinician_id", "name the clinician")
            if await self._accounts.account(clinician_id) is not None or not (
                await self._owners.claim_clinician(clinician_id, key.organization_id)
            ):
                raise NotFound(f"profile.clinician_id: {clinician_id!r} is not yours to enter")
            current = await self._profile_version(clinician_id)
            saved = await self._services.scheduling.SaveProfile(spb.SaveProfileRequest(
                actor=actor, profile=item.profile, expected_version=current))  # fmt: skip
            if item.residence:
                await self._services.licensing.SetResidence(lpb.SetResidenceRequest(
                    actor=actor, clinician_id=clinician_id, residence=item.residence))  # fmt: skip
            return pb.ClinicianResult(index=index, profile=saved.profile)

        results = await self._each(list(request.clinicians), "clinicians", upsert)
        return pb.UpsertCliniciansResponse(results=[
            r if isinstance(r, pb.ClinicianResult) else pb.ClinicianResult(index=i, error=r)
            for i, r in enumerate(results)
        ])  # fmt: skip

    async def _profile_version(self, clinician_id: str) -> int:
        profile = await work_profile(self._services.scheduling, clinician_id)
        return profile.version if profile is not None else 0

    async def UpsertLicences(self, request: Any, context: Any) -> Any:
        key = await self._partner(context)
        actor = partner_actor(key).to_proto()

        async def upsert(index: int, item: Any) -> pb.LicensingResult:
            await self._clinician(key, item.clinician_id, "clinician_id")
            record = await self._record(item.clinician_id)
            known = any(lic.licence_id == item.licence.licence_id for lic in record.licences)
            call = (self._services.licensing.ChangeLicence if known
                    else self._services.licensing.AddLicence)  # fmt: skip
            request_type = lpb.ChangeLicenceRequest if known else lpb.AddLicenceRequest
            saved = await call(request_type(actor=actor, clinician_id=item.clinician_id,
                                            licence=item.licence))  # fmt: skip
            return pb.LicensingResult(index=index, record=saved.record)

        return await self._licensing_results(request.licences, "licences", upsert)

    async def UpsertAuthorities(self, request: Any, context: Any) -> Any:
        key = await self._partner(context)
        actor = partner_actor(key).to_proto()

        async def upsert(index: int, item: Any) -> pb.LicensingResult:
            await self._clinician(key, item.clinician_id, "clinician_id")
            record = await self._record(item.clinician_id)
            known = any(a.authority_id == item.authority.authority_id for a in record.authorities)
            call = (self._services.licensing.ChangeAuthority if known
                    else self._services.licensing.AddAuthority)  # fmt: skip
            saved = await call(lpb.AuthorityRequest(actor=actor, clinician_id=item.clinician_id,
                                                    authority=item.authority))  # fmt: skip
            return pb.LicensingResult(index=index, record=saved.record)

        return await self._licensing_results(request.authorities, "authorities", upsert)

    async def _licensing_results(
        self, items: Any, field: str, upsert: Callable[[int, Any], Awaitable[pb.LicensingResult]]
    ) -> pb.UpsertLicensingResponse:
        results = await self._each(list(items), field, upsert)
        return pb.UpsertLicensingResponse(results=[
            r if isinstance(r, pb.LicensingResult) else pb.LicensingResult(index=i, error=r)
            for i, r in enumerate(results)
        ])  # fmt: skip

    async def _record(self, clinician_id: str) -> lpb.LicensingRecord:
        found = await self._services.licensing.GetLicensingRecord(
            lpb.GetLicensingRecordRequest(clinician_id=clinician_id)
        )
        record: lpb.LicensingRecord = found.record
        return record

    async def GetClinicianSchedule(self, request: Any, context: Any) -> Any:
        key = await self._partner(context)
        await self._clinician(key, request.clinician_id, "clinician_id")
        found = await self._services.scheduling.GetSchedule(
            spb.GetScheduleRequest(clinician_id=request.clinician_id, zone=request.zone)
        )
        return pb.GetClinicianScheduleResponse(entries=found.entries)

    async def Solve(self, request: Any, context: Any) -> Any:
        await self._partner(context)
        limit = request.time_limit_seconds or 10.0
        if not 0 < limit <= 120:
            raise InvalidArgument("time_limit_seconds", "between 0 and 120 seconds")
        found = await self._services.matching.Solve(mpb.SolveRequest(
            instance_json=request.instance_json, time_limit_seconds=limit))  # fmt: skip
        return pb.SolveResponse(answer_json=found.answer_json, score=found.score,
                                bound=found.bound, positions=found.positions,
                                filled=found.filled)  # fmt: skip

    async def Subscribe(self, request: Any, context: Any) -> Any:
        key = await self._partner(context)
        kinds = {k for k in request.kinds if k != epb.EVENT_KIND_UNSPECIFIED}
        async for event in self._subscribe(key, request.cursor, kinds):
            yield event


def register(api: PartnerApi) -> Callable[[grpc.aio.Server], None]:
    def add(server: grpc.aio.Server) -> None:
        pb_grpc.add_PartnerServiceServicer_to_server(api, server)  # type: ignore[no-untyped-call]

    return add
