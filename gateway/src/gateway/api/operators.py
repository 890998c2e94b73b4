"""What operators do: verify or revoke clinicians' licences and authorities, read and change
the compact tables, and read the audit trail. Everyone signed in may read the compacts."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from vsm.licensing.v1 import licensing_service_pb2 as lpb

from gateway import access
from gateway.api.deps import Me, Parts
from gateway.api.schemas import MAX_VERSION, CompactTableIn, as_json

router = APIRouter(prefix="/v1", tags=["operators"])
Entry = Literal["licences", "authorities"]
Decision = Literal["verify", "revoke"]


@router.get("/operator/clinicians/{clinician_id}/licensing")
async def clinician_licensing(clinician_id: str, parts: Parts, me: Me) -> dict[str, Any]:
    access.operator_role(me)
    found = await parts.services.licensing.GetLicensingRecord(
        lpb.GetLicensingRecordRequest(clinician_id=clinician_id)
    )
    return as_json(found.record)


@router.post("/operator/clinicians/{clinician_id}/{entry}/{entry_id}/{decision}")
async def decide_entry(
    clinician_id: str,
    entry: Entry,
    entry_id: str,
    decision: Decision,
    parts: Parts,
    me: Me,
    expected_version: Annotated[int, Query(ge=0, le=MAX_VERSION)] = 0,
) -> dict[str, Any]:
    """Verifies or revokes one licence or authority of a clinician."""
    access.operator_role(me)
    licensing = parts.services.licensing
    call = {
        ("licences", "verify"): licensing.VerifyLicence,
        ("licences", "revoke"): licensing.RevokeLicence,
        ("authorities", "verify"): licensing.VerifyAuthority,
        ("authorities", "revoke"): licensing.RevokeAuthority,
    }[(entry, decision)]
    found = await call(lpb.EntryRequest(
        actor=me.actor.to_proto(), clinician_id=clinician_id, entry_id=entry_id,
        expected_version=expected_version))  # fmt: skip
    return as_json(found.record)


@router.get("/compacts")
async def compacts(parts: Parts, me: Me) -> dict[str, Any]:
    """The interstate compacts, their members and effective dates."""
    found = await parts.services.licensing.ListCompacts(lpb.ListCompactsRequest())
    return as_json(found)


@router.get("/operator/compacts/{code}/history")
async def compact_history(code: str, parts: Parts, me: Me) -> dict[str, Any]:
    """Every version of one compact's table: when, by whom, on what source, and the table."""
    access.operator_role(me)
    found = await parts.services.licensing.GetCompactHistory(
        lpb.GetCompactHistoryRequest(code=code)
    )
    return as_json(found)


@router.put("/operator/compacts")
async def change_compact(body: CompactTableIn, parts: Parts, me: Me) -> dict[str, Any]:
    """Replaces one compact's table (members and dates), citing the source of the change."""
    access.operator_role(me)
    found = await parts.services.licensing.ChangeCompactTable(lpb.ChangeCompactTableRequest(
        actor=me.actor.to_proto(), table_json=json.dumps(body.table), source=body.source,
        expected_version=body.expected_version))  # fmt: skip
    return as_json(found.compact)


@router.get("/operator/audit")
async def audit(
    parts: Parts,
    me: Me,
    since: datetime | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
) -> dict[str, Any]:
    """Every change made through the gateway: when, by which account, what, with what answer."""
    access.operator_role(me)
    start = since or parts.clock.now() - timedelta(days=7)
    if start.tzinfo is None:
        start = start.replace(tzinfo=UTC)
    return {"entries": await parts.audit.since(start, limit)}
