"""API keys for partner systems: each belongs to one organisation, is shown once when issued,
is stored only as its SHA-256, and can be revoked. A key reads `vsm_<key id>_<secret>`, so a
key in a log can be named without being usable."""

from __future__ import annotations

import hashlib
import secrets
import uuid
from dataclasses import dataclass
from typing import Any

from vsm_platform.clock import Clock
from vsm_platform.mongo import Collection, prefixed


@dataclass(frozen=True, slots=True)
class PartnerKey:
    key_id: str
    organization_id: str
    name: str


def _hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


class ApiKeys:
    def __init__(self, rows: Collection, clock: Clock) -> None:
        self._rows = rows
        self._clock = clock

    async def issue(self, organization_id: str, name: str, by: str) -> tuple[PartnerKey, str]:
        """A new key for the organisation; the key itself is returned only here."""
        key_id = uuid.uuid4().hex[:12]
        key = f"vsm_{key_id}_{secrets.token_urlsafe(32)}"
        digest = _hash(key)
        now = self._clock.now()
        await self._rows.insert_one({"_id": f"apikey:{digest}", "key_id": key_id,
                                     "org": organization_id, "name": name})  # fmt: skip
        await self._rows.insert_one({"_id": f"org-apikey:{organization_id}:{key_id}",
                                     "hash": digest, "name": name, "created_at": now,
                                     "created_by": by})  # fmt: skip
        return PartnerKey(key_id, organization_id, name), key

    async def listed(self, organization_id: str) -> list[dict[str, Any]]:
        return [
            {"key_id": row["_id"].rsplit(":", 1)[1], "name": row["name"],
             "created_at": row["created_at"].isoformat(), "created_by": row["created_by"]}
            async for row in self._rows.find(prefixed(f"org-apikey:{organization_id}:"))
        ]  # fmt: skip

    async def revoke(self, organization_id: str, key_id: str) -> bool:
        """Ends the key at once; False when the organisation has no such key."""
        listing = await self._rows.find_one({"_id": f"org-apikey:{organization_id}:{key_id}"})
        if listing is None:
            return False
        await self._rows.delete_one({"_id": f"apikey:{listing['hash']}"})
        await self._rows.delete_one({"_id": listing["_id"]})
        return True

    async def partner(self, key: str) -> PartnerKey | None:
        """Whose key this is, if it is live."""
        if not key.startswith("vsm_") or len(key) > 200:
            return None
        row = await self._rows.find_one({"_id": f"apikey:{_hash(key)}"})
        if row is None:
            return None
        return PartnerKey(row["key_id"], row["org"], row["name"])
