"""Notifications through a port: what to tell whom, and when it may be delivered. The
development sink keeps them in MongoDB for the pages (and tests) to show; a mail or push sender
would be another implementation of the same port. Quiet hours are decided before a
notification reaches the port (`deliver_at`); the sink never shows one before its time."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from vsm_platform.mongo import Collection, insert_unique, sortable


@dataclass(frozen=True, slots=True)
class Notification:
    """`recipient` is an account id, or `email:<address>` for someone without one yet (an
    invitation). `key` makes sending idempotent: the same key is kept once."""

    recipient: str
    kind: str
    text: str
    deliver_at: datetime
    link: str = ""
    key: str = ""


class Notifier(Protocol):
    async def notify(self, notification: Notification) -> None: ...

    async def delivered(
        self, recipient: str, now: datetime, limit: int = 100
    ) -> list[Notification]: ...

    async def forget(self, recipient: str) -> int: ...


class StoredNotifications:
    """The development sink: one row per notification, `_id` = recipient, delivery time, key."""

    def __init__(self, rows: Collection) -> None:
        self._rows = rows

    async def notify(self, notification: Notification) -> None:
        key = notification.key or uuid.uuid4().hex
        await insert_unique(
            self._rows,
            {"_id": f"{notification.recipient}|{sortable(notification.deliver_at)}|{key}",
             "recipient": notification.recipient, "kind": notification.kind,
             "text": notification.text, "link": notification.link,
             "deliver_at": notification.deliver_at, "key": key},
        )  # fmt: skip

    async def delivered(
        self, recipient: str, now: datetime, limit: int = 100
    ) -> list[Notification]:
        """What has reached `recipient` by `now`, newest first."""
        query = {"_id": {"$gte": f"{recipient}|", "$lt": f"{recipient}|{sortable(now)}\uffff"}}
        found = [
            Notification(row["recipient"], row["kind"], row["text"], row["deliver_at"],
                         row["link"], row["key"])
            async for row in self._rows.find(query)
        ]  # fmt: skip
        found.sort(key=lambda n: n.deliver_at, reverse=True)
        return found[:limit]

    async def forget(self, recipient: str) -> int:
        """Deletes everything kept for `recipient` (their account is deleted)."""
        result = await self._rows.delete_many(
            {"_id": {"$gte": f"{recipient}|", "$lt": f"{recipient}|\uffff"}}
        )
        return int(result.deleted_count)
