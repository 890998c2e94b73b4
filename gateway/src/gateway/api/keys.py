"""API keys for an organisation's partner systems: an admin issues one (shown once), lists
them and revokes one."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import Field
from vsm_rules.errors import NotFound

from gateway import access
from gateway.api.deps import Me, Parts
from gateway.api.schemas import Body

router = APIRouter(prefix="/v1", tags=["partners"])


class KeyIn(Body):
    name: str = Field(min_length=1, max_length=100, examples=["VMS production"])


@router.post("/organizations/{organization_id}/api-keys", status_code=201)
async def issue_key(organization_id: str, body: KeyIn, parts: Parts, me: Me) -> dict[str, Any]:
    """A new key for the organisation's partner system; the key is shown only in this answer."""
    access.organization_admin(me, organization_id)
    issued, key = await parts.keys.issue(organization_id, body.name, me.id)
    return {"key_id": issued.key_id, "name": issued.name, "key": key,
            "use": "gRPC metadata x-api-key, at the partner API"}  # fmt: skip


@router.get("/organizations/{organization_id}/api-keys")
async def list_keys(organization_id: str, parts: Parts, me: Me) -> dict[str, Any]:
    access.organization_admin(me, organization_id)
    return {"keys": await parts.keys.listed(organization_id)}


@router.delete("/organizations/{organization_id}/api-keys/{key_id}", status_code=204)
async def revoke_key(organization_id: str, key_id: str, parts: Parts, me: Me) -> None:
    """Revokes a key at once."""
    access.organization_admin(me, organization_id)
    if not await parts.keys.revoke(organization_id, key_id):
        raise NotFound(f"no key {key_id!r}")
