"""What facility staff do: their organisation's facilities, do-not-return lists and
favourites, posting shifts and series in the facility's wall time, rosters, a shift's status and
why it is unfilled, changing and cancelling shifts, and the supply heat map."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import grpc
from fastapi import APIRouter, Header, Query
from google.protobuf.timestamp_pb2 import Timestamp
from vsm.common.v1 import common_pb2
from vsm.matching.v1 import matching_service_pb2 as mpb
from vsm.scheduling.v1 import scheduling_service_pb2 as spb
from vsm_rules.errors import InvalidArgument

from gateway import access
from gateway.accounts import Account
from gateway.api.deps import Me, Parts
from gateway.api.schemas import (
    CancelIn,
    ClinicianIds,
    FacilityIn,
    SeriesIn,
    ShiftChange,
    ShiftIn,
    as_json,
)

router = APIRouter(prefix="/v1", tags=["facilities"])
READINGS = {None: spb.WALL_TIME_READING_UNSPECIFIED, "earlier": spb.WALL_TIME_READING_EARLIER,
            "later": spb.WALL_TIME_READING_LATER}  # fmt: skip
IdempotencyKey = Annotated[str, Header(max_length=100, description="Repeat-safe posting")]


async def facility_of(parts: Parts, me: Account, facility_id: str) -> spb.Facility:
    """The facility, if it is in reach of `me`; NotFound otherwise (not even its existence)."""
    found = await parts.services.scheduling.GetFacility(
        spb.GetFacilityRequest(facility_id=facility_id)
    )
    facility: spb.Facility = found.facility
    access.facility_in_reach(me, facility_id, facility.organization_id)
    return facility


async def shift_of(parts: Parts, me: Account, shift_id: str) -> tuple[spb.Shift, spb.Facility]:
    """The shift and its facility, if in reach of `me`'s organisation."""
    found = await parts.services.scheduling.GetShift(spb.GetShiftRequest(shift_id=shift_id))
    return found.shift, await facility_of(parts, me, found.shift.facility_id)


def _shift(body: ShiftIn, facility: spb.Facility, shift_id: str = "") -> spb.Shift:
    return spb.Shift(
        shift_id=shift_id, facility_id=facility.facility_id, profession=body.profession,
        skills=body.skills, patient_jurisdictions=body.patient_jurisdictions,
        local_start=common_pb2.WallTime(local=body.local_start, zone=facility.zone),
        local_end=common_pb2.WallTime(local=body.local_end, zone=facility.zone),
        positions=body.positions, pay_cents_per_hour=body.pay_cents_per_hour,
        scope_of_work=body.scope_of_work,
    )  # fmt: skip


@router.get("/organizations/{organization_id}")
async def organization(organization_id: str, parts: Parts, me: Me) -> dict[str, Any]:
    access.organization_in_reach(me, organization_id)
    found = await parts.services.scheduling.GetOrganization(
        spb.GetOrganizationRequest(organization_id=organization_id)
    )
    return as_json(found)


@router.put("/facilities/{facility_id}")
async def save_facility(facility_id: str, body: FacilityIn, parts: Parts, me: Me) -> dict[str, Any]:
    """Creates or changes a facility of the admin's organisation (lists kept as they are)."""
    if body.facility_id != facility_id:
        raise InvalidArgument("facility_id", "must be the facility of the path")
    access.organization_admin(me, me.organization_id)
    current = await _existing_facility(parts, facility_id)
    if current is None:
        current = spb.Facility()
    else:
        access.facility_in_reach(me, facility_id, current.organization_id)
    saved = await parts.services.scheduling.SaveFacility(spb.SaveFacilityRequest(
        actor=me.actor.to_proto(),
        facility=spb.Facility(
            facility_id=facility_id, organization_id=me.organization_id, name=body.name,
            zone=body.zone, jurisdictions=body.jurisdictions,
            do_not_return=current.do_not_return, favourites=current.favourites),
        expected_version=body.expected_version or current.version,
    ))  # fmt: skip
    return as_json(saved.facility)


async def _existing_facility(parts: Parts, facility_id: str) -> spb.Facility | None:
    try:
        found = await parts.services.scheduling.GetFacility(
            spb.GetFacilityRequest(facility_id=facility_id)
        )
    except grpc.aio.AioRpcError as error:
        if error.code() == grpc.StatusCode.NOT_FOUND:
            return None
        raise
    facility: spb.Facility = found.facility
    return facility


@router.get("/facilities/{facility_id}")
async def facility(facility_id: str, parts: Parts, me: Me) -> dict[str, Any]:
    return as_json(await facility_of(parts, me, facility_id))


async def _save_lists(
    parts: Parts,
    me: Account,
    facility_id: str,
    *,
    do_not_return: list[str] | None = None,
    favourites: list[str] | None = None,
) -> dict[str, Any]:
    if not me.is_operator:
        access.facility_role(me)
    current = await facility_of(parts, me, facility_id)
    changed = spb.Facility()
    changed.CopyFrom(current)
    if do_not_return is not None:
        del changed.do_not_return[:]
        changed.do_not_return.extend(sorted(set(do_not_return)))
    if favourites is not None:
        del changed.favourites[:]
        changed.favourites.extend(sorted(set(favourites)))
    saved = await parts.services.scheduling.SaveFacility(spb.SaveFacilityRequest(
        actor=me.actor.to_proto(), facility=changed, expected_version=current.version))  # fmt: skip
    return as_json(saved.facility)


@router.put("/facilities/{facility_id}/do-not-return")
async def set_do_not_return(
    facility_id: str, body: ClinicianIds, parts: Parts, me: Me
) -> dict[str, Any]:
    """Clinicians never to be offered this facility's shifts (they are told only that they
    are not available for it)."""
    return await _save_lists(parts, me, facility_id, do_not_return=body.clinician_ids)


@router.put("/facilities/{facility_id}/favourites")
async def set_favourites(
    facility_id: str, body: ClinicianIds, parts: Parts, me: Me
) -> dict[str, Any]:
    """Clinicians offered first among near-equal candidates."""
    return await _save_lists(parts, me, facility_id, favourites=body.clinician_ids)


@router.post("/facilities/{facility_id}/shifts", status_code=201)
async def post_shift(
    facility_id: str,
    body: ShiftIn,
    parts: Parts,
    me: Me,
    idempotency_key: IdempotencyKey = "",
) -> dict[str, Any]:
    """Posts a shift in the facility's wall time; an `Idempotency-Key` makes a retry safe."""
    access.facility_role(me)
    facility = await facility_of(parts, me, facility_id)
    posted = await parts.services.scheduling.PostShift(spb.PostShiftRequest(
        actor=me.actor.to_proto(), shift=_shift(body, facility), idempotency_key=idempotency_key,
        start_reading=READINGS[body.start_reading], end_reading=READINGS[body.end_reading],
    ))  # fmt: skip
    return as_json(posted.shift)


@router.post("/facilities/{facility_id}/shift-series", status_code=201)
async def post_series(
    facility_id: str,
    body: SeriesIn,
    parts: Parts,
    me: Me,
    idempotency_key: IdempotencyKey = "",
) -> dict[str, Any]:
    """Posts a shift and its repeats every `every_days` days, each at the same wall time."""
    access.facility_role(me)
    facility = await facility_of(parts, me, facility_id)
    posted = await parts.services.scheduling.PostShiftSeries(spb.PostShiftSeriesRequest(
        actor=me.actor.to_proto(), shift=_shift(body, facility),
        recurrence=spb.Recurrence(every_days=body.every_days, occurrences=body.occurrences),
        idempotency_key=idempotency_key,
        start_reading=READINGS[body.start_reading], end_reading=READINGS[body.end_reading],
    ))  # fmt: skip
    return as_json(posted)


def _stamp(value: datetime | None) -> Timestamp:
    stamp = Timestamp()
    if value is not None:
        stamp.FromDatetime(value)
    return stamp


@router.get("/facilities/{facility_id}/roster")
async def roster(
    facility_id: str,
    parts: Parts,
    me: Me,
    zone: Annotated[str, Query(max_length=64)] = "",
    start: datetime | None = None,
    end: datetime | None = None,
) -> dict[str, Any]:
    """The facility's shifts in start order with bookings and open positions, in its zone or
    `zone`; `start` and `end` (ISO instants with offset) limit the window."""
    await facility_of(parts, me, facility_id)
    window = None
    if start is not None or end is not None:
        if start is None or end is None or start.tzinfo is None or end.tzinfo is None:
            raise InvalidArgument("start", "give both start and end, each with its UTC offset")
        window = common_pb2.Interval(start=_stamp(start), end=_stamp(end))
    found = await parts.services.scheduling.GetRoster(
        spb.GetRosterRequest(facility_id=facility_id, window=window, zone=zone)
    )
    return as_json(found)


@router.get("/shifts/{shift_id}")
async def shift(shift_id: str, parts: Parts, me: Me) -> dict[str, Any]:
    found, _ = await shift_of(parts, me, shift_id)
    return as_json(found)


@router.put("/shifts/{shift_id}")
async def update_shift(shift_id: str, body: ShiftChange, parts: Parts, me: Me) -> dict[str, Any]:
    """Changes a shift; bookings it no longer suits are released (and returned)."""
    access.facility_role(me)
    _, facility = await shift_of(parts, me, shift_id)
    changed = await parts.services.scheduling.UpdateShift(spb.UpdateShiftRequest(
        actor=me.actor.to_proto(), shift=_shift(body, facility, shift_id),
        start_reading=READINGS[body.start_reading], end_reading=READINGS[body.end_reading],
        expected_version=body.expected_version,
    ))  # fmt: skip
    return as_json(changed)


@router.post("/shifts/{shift_id}/cancel")
async def cancel_shift(shift_id: str, body: CancelIn, parts: Parts, me: Me) -> dict[str, Any]:
    """Cancels a shift; its bookings are released with the compensation the policy gives."""
    access.facility_role(me)
    await shift_of(parts, me, shift_id)
    cancelled = await parts.services.scheduling.CancelShift(spb.CancelShiftRequest(
        actor=me.actor.to_proto(), shift_id=shift_id, reason=body.reason,
        expected_version=body.expected_version,
    ))  # fmt: skip
    return as_json(cancelled)


@router.get("/shifts/{shift_id}/cancellation")
async def preview_cancellation(shift_id: str, parts: Parts, me: Me) -> dict[str, Any]:
    """What cancelling the shift now would release and pay each booked clinician, before the
    facility decides; nothing changes."""
    await shift_of(parts, me, shift_id)
    found = await parts.services.scheduling.PreviewCancellation(
        spb.PreviewCancellationRequest(shift_id=shift_id)
    )
    return as_json(found)


@router.get("/shifts/{shift_id}/status")
async def shift_status(shift_id: str, parts: Parts, me: Me) -> dict[str, Any]:
    """Positions, offers out and bookings."""
    await shift_of(parts, me, shift_id)
    found = await parts.services.matching.GetShiftStatus(
        mpb.GetShiftStatusRequest(shift_id=shift_id)
    )
    offers = await parts.services.matching.ListOffers(mpb.ListOffersRequest(shift_id=shift_id))
    status = as_json(found.status)
    status["offers"] = [
        {k: v for k, v in as_json(offer).items() if k != "deliver_at"} for offer in offers.offers
    ]
    return status


@router.get("/shifts/{shift_id}/unfilled")
async def why_unfilled(shift_id: str, parts: Parts, me: Me) -> dict[str, Any]:
    """Why the shift is not filled, in aggregate: no clinician's details."""
    await shift_of(parts, me, shift_id)
    found = await parts.services.matching.ExplainUnfilled(
        mpb.ExplainUnfilledRequest(shift_id=shift_id)
    )
    return as_json(found)


@router.get("/supply")
async def supply(
    parts: Parts,
    me: Me,
    profession: Annotated[str, Query(min_length=1, max_length=40)],
    start: datetime,
    end: datetime,
    jurisdictions: Annotated[list[str] | None, Query(max_length=60)] = None,
) -> dict[str, Any]:
    """Clinicians available by jurisdiction and hour: counts only, for the heat map."""
    if not (me.role.is_facility or me.is_operator):
        access.facility_role(me)
    if start.tzinfo is None or end.tzinfo is None:
        raise InvalidArgument("start", "give start and end with their UTC offset")
    if end <= start or (end - start).days > 14:
        raise InvalidArgument("end", "must be after start, at most 14 days on")
    found = await parts.services.matching.GetSupply(mpb.GetSupplyRequest(
        profession=profession, window=common_pb2.Interval(start=_stamp(start), end=_stamp(end)),
        jurisdictions=jurisdictions or [],
    ))  # fmt: skip
    return as_json(found)
