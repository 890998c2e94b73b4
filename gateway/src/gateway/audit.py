"""The audit trail operators read: every request that changes something, who made it (an
account id, which stays a pseudonym once the account is deleted), what and with what outcome.
Rows are inserted with sortable `_id`s (`<time>:<random>`) and read by an `_id` range."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from vsm_platform.clock import Clock
from vsm_platform.mongo import Collection, sortable


class AuditTrail:
    def __init__(self, rows: Collection, clock: Clock) -> None:
        self._rows = rows
        self._clock = clock

    async def record(self, account_id: str, method: str, route: str, status: int) -> None:
        now = self._clock.now()
        await self._rows.insert_one(
            {"_id": f"{sortable(now)}:{uuid.uuid4().hex[:8]}", "at": now,
             "account_id": account_id, "method": method, "route": route, "status": status}
        )  # fmt: skip

    async def since(self, since: datetime, limit: int) -> list[dict[str, Any]]:
        query = {"_id": {"$gte": sortable(since), "$lt": "\uffff"}}
        entries: list[dict[str, Any]] = []
        async for row in self._rows.find(query):
            entries.append(
                {"at": row["at"].isoformat(), "account_id": row["account_id"],
                 "method": row["method"], "route": row["route"], "status": row["status"]}
            )  # fmt: skip
            if len(entries) >= limit:
                break
        return entries
