"""Who owns what, as the gateway checks it: the organisation of a facility and of a shift
(kept once read: shifts never change facility, facilities never change organisation), and the
clinicians a partner system entered for its organisation (claims by insert)."""

from __future__ import annotations

from typing import Any

import grpc
from vsm.scheduling.v1 import scheduling_service_pb2 as spb
from vsm_platform.mongo import Collection, insert_unique


class Owners:
    def __init__(self, scheduling: Any, rows: Collection) -> None:
        self._scheduling = scheduling
        self._rows = rows
        self._of_facility: dict[str, str] = {}
        self._of_shift: dict[str, str] = {}

    async def of_facility(self, facility_id: str) -> str:
        """The facility's organisation; "" when there is no such facility."""
        known = self._of_facility.get(facility_id)
        if known is not None:
            return known
        try:
            found = await self._scheduling.GetFacility(
                spb.GetFacilityRequest(facility_id=facility_id)
            )
        except grpc.aio.AioRpcError as error:
            if error.code() in (grpc.StatusCode.NOT_FOUND, grpc.StatusCode.INVALID_ARGUMENT):
                return ""
            raise
        organization: str = found.facility.organization_id
        self._of_facility[facility_id] = organization
        return organization

    async def of_shift(self, shift_id: str) -> str:
        """The shift's organisation; "" when there is no such shift."""
        known = self._of_shift.get(shift_id)
        if known is not None:
            return known
        try:
            found = await self._scheduling.GetShift(spb.GetShiftRequest(shift_id=shift_id))
        except grpc.aio.AioRpcError as error:
            if error.code() in (grpc.StatusCode.NOT_FOUND, grpc.StatusCode.INVALID_ARGUMENT):
                return ""
            raise
        organization = await self.of_facility(found.shift.facility_id)
        self._of_shift[shift_id] = organization
        return organization

    async def claim_clinician(self, clinician_id: str, organization_id: str) -> bool:
        """Whether the clinician is (now) the organisation's: the first partner to enter a
        clinician keeps them; another organisation's partner cannot change them."""
        row = {"_id": f"partner-clinician:{clinician_id}", "org": organization_id}
        if await insert_unique(self._rows, row):
            return True
        return await self.clinician_owner(clinician_id) == organization_id

    async def clinician_owner(self, clinician_id: str) -> str:
        row = await self._rows.find_one({"_id": f"partner-clinician:{clinician_id}"})
        return "" if row is None else str(row["org"])
