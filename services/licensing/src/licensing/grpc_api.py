"""The licensing contract over gRPC: requests become domain values (bad fields are
INVALID_ARGUMENT naming them, through the platform's error interceptor), use cases run, and
answers go back as protobuf."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import grpc
from vsm.licensing.v1 import licensing_service_pb2 as pb
from vsm.licensing.v1 import licensing_service_pb2_grpc as pb_grpc
from vsm_platform.actor import Actor
from vsm_platform.licensing_records import authority_from_proto, licence_from_proto
from vsm_platform.values import interval_from_proto
from vsm_rules.errors import InvalidArgument
from vsm_rules.records import parse_date

from licensing.convert import compact_to_proto, decision_to_proto, inline_record, record_to_proto
from licensing.service import Check, Licensing

SERVICE_NAME = "vsm.licensing.v1.LicensingService"


def check_from_proto(message: pb.CheckEligibilityRequest, field: str = "") -> Check:
    """One eligibility question; `field` prefixes the names of bad fields (batch items)."""
    at = f"{field}." if field else ""
    if not message.profession:
        raise InvalidArgument(f"{at}profession", "missing")
    interval = None
    if message.HasField("interval"):
        interval = interval_from_proto(message.interval, f"{at}interval")
    on = parse_date(message.date, f"{at}date") if message.date else None
    if on is None and interval is None:
        raise InvalidArgument(f"{at}date", "give a date or an interval")
    record = None
    if message.HasField("record"):
        record = inline_record(message.record, f"{at}record")
    elif not message.clinician_id:
        raise InvalidArgument(f"{at}clinician_id", "give a clinician or an inline record")
    return Check(
        profession=message.profession,
        patient_jurisdictions=tuple(message.patient_jurisdictions),
        on=on,
        interval=interval,
        clinician_id=message.clinician_id,
        record=record,
        organization_id=message.organization_id,
    )


class LicensingApi(pb_grpc.LicensingServiceServicer):
    """Each RPC of `LicensingService`, through the use cases of service.py."""

    def __init__(self, licensing: Licensing) -> None:
        self._licensing = licensing

    async def GetLicensingRecord(self, request: Any, context: Any) -> Any:
        record = await self._licensing.record(request.clinician_id)
        return pb.GetLicensingRecordResponse(record=record_to_proto(record))

    async def AddLicence(self, request: Any, context: Any) -> Any:
        record = await self._licensing.add_licence(
            Actor.from_proto(request.actor), request.clinician_id,
            request.licence.licence_id, licence_from_proto(request.licence),
            request.expected_version,
        )  # fmt: skip
        return pb.RecordResponse(record=record_to_proto(record))

    async def ChangeLicence(self, request: Any, context: Any) -> Any:
        if not request.licence.licence_id:
            raise InvalidArgument("licence.licence_id", "name the licence to change")
        record = await self._licensing.change_licence(
            Actor.from_proto(request.actor), request.clinician_id,
            request.licence.licence_id, licence_from_proto(request.licence),
            request.expected_version,
        )  # fmt: skip
        return pb.RecordResponse(record=record_to_proto(record))

    async def VerifyLicence(self, request: Any, context: Any) -> Any:
        record = await self._licensing.verify_licence(
            Actor.from_proto(request.actor), request.clinician_id, _entry(request),
            request.expected_version,
        )  # fmt: skip
        return pb.RecordResponse(record=record_to_proto(record))

    async def RevokeLicence(self, request: Any, context: Any) -> Any:
        record = await self._licensing.revoke_licence(
            Actor.from_proto(request.actor), request.clinician_id, _entry(request),
            request.expected_version,
        )  # fmt: skip
        return pb.RecordResponse(record=record_to_proto(record))

    async def AddAuthority(self, request: Any, context: Any) -> Any:
        record = await self._licensing.add_authority(
            Actor.from_proto(request.actor), request.clinician_id,
            request.authority.authority_id, authority_from_proto(request.authority),
            request.expected_version,
        )  # fmt: skip
        return pb.RecordResponse(record=record_to_proto(record))

    async def ChangeAuthority(self, request: Any, context: Any) -> Any:
        if not request.authority.authority_id:
            raise InvalidArgument("authority.authority_id", "name the authority to change")
        record = await self._licensing.change_authority(
            Actor.from_proto(request.actor), request.clinician_id,
            request.authority.authority_id, authority_from_proto(request.authority),
            request.expected_version,
        )  # fmt: skip
        return pb.RecordResponse(record=record_to_proto(record))

    async def VerifyAuthority(self, request: Any, context: Any) -> Any:
        record = await self._licensing.verify_authority(
            Actor.from_proto(request.actor), request.clinician_id, _entry(request),
            request.expected_version,
        )  # fmt: skip
        return pb.RecordResponse(record=record_to_proto(record))

    async def RevokeAuthority(self, request: Any, context: Any) -> Any:
        record = await self._licensing.revoke_authority(
            Actor.from_proto(request.actor), request.clinician_id, _entry(request),
            request.expected_version,
        )  # fmt: skip
        return pb.RecordResponse(record=record_to_proto(record))

    async def SetResidence(self, request: Any, context: Any) -> Any:
        record = await self._licensing.set_residence(
            Actor.from_proto(request.actor), request.clinician_id, request.residence or None,
            request.expected_version,
        )  # fmt: skip
        return pb.RecordResponse(record=record_to_proto(record))

    async def AllowUnverified(self, request: Any, context: Any) -> Any:
        record = await self._licensing.allow_unverified(
            Actor.from_proto(request.actor), request.clinician_id, request.allowed,
            request.expected_version,
        )  # fmt: skip
        return pb.RecordResponse(record=record_to_proto(record))

    async def CheckEligibility(self, request: Any, context: Any) -> Any:
        decision = await self._licensing.check(check_from_proto(request))
        return decision_to_proto(decision)

    async def CheckEligibilityBatch(self, request: Any, context: Any) -> Any:
        checks: list[Check | InvalidArgument] = []
        for i, item in enumerate(request.checks):
            try:
                checks.append(check_from_proto(item, f"checks[{i}]"))
            except InvalidArgument as error:
                checks.append(error)
        response = pb.CheckEligibilityBatchResponse()
        for i, result in enumerate(await self._licensing.check_many(checks)):
            if isinstance(result, InvalidArgument):
                message = result.message
                if not message.startswith(f"checks[{i}]"):
                    message = f"checks[{i}].{message}"
                response.results.append(pb.EligibilityResult(error=message))
            else:
                response.results.append(pb.EligibilityResult(decision=decision_to_proto(result)))
        return response

    async def ListCompacts(self, request: Any, context: Any) -> Any:
        return pb.ListCompactsResponse(
            compacts=[compact_to_proto(c, v) for c, v in self._licensing.compacts()]
        )

    async def GetCompactHistory(self, request: Any, context: Any) -> Any:
        versions = await self._licensing.compact_history(request.code)
        return pb.GetCompactHistoryResponse(versions=[
            pb.CompactVersion(version=version, changed_at=at.isoformat(),
                              changed_by=who.to_proto(), source=source,
                              compact=compact_to_proto(compact, version),
                              table_json=json.dumps(table, sort_keys=True))
            for version, at, who, source, compact, table in versions
        ])  # fmt: skip

    async def GetJurisdictionStanding(self, request: Any, context: Any) -> Any:
        response = pb.GetJurisdictionStandingResponse(jurisdiction=request.jurisdiction)
        for compact, member in self._licensing.standing(request.jurisdiction):
            standing = pb.CompactStanding(compact=compact.id, member=member is not None)
            if member is not None:
                honours, residents = member.honours_from, member.residents_from
                standing.honours_from = honours.isoformat() if honours else ""
                standing.residents_from = residents.isoformat() if residents else ""
            response.standings.append(standing)
        return response

    async def ChangeCompactTable(self, request: Any, context: Any) -> Any:
        compact, version = await self._licensing.change_compact(
            Actor.from_proto(request.actor), request.table_json, request.source,
            request.expected_version,
        )  # fmt: skip
        return pb.ChangeCompactTableResponse(compact=compact_to_proto(compact, version))


def _entry(request: Any) -> str:
    if not request.entry_id:
        raise InvalidArgument("entry_id", "name the licence or authority")
    return str(request.entry_id)


def register(licensing: Licensing) -> Callable[[grpc.aio.Server], None]:
    """Adds the servicer to a server (for vsm_platform.grpc_server.serve)."""
    api = LicensingApi(licensing)

    def add(server: grpc.aio.Server) -> None:
        pb_grpc.add_LicensingServiceServicer_to_server(api, server)  # type: ignore[no-untyped-call]

    return add
