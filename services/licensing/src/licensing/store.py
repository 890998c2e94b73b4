"""Records and compact tables in MongoDB as change rows (vsm_platform.changes): every change is an
inserted row `<aggregate>:<version>`, so two writers of one record race on one `_id` and the
second gets `Conflict`; reads are `_id` lookups, and what was read is cached and only newer rows
are read again."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Mapping, Sequence
from importlib import resources
from typing import Any

from vsm_platform.actor import Actor
from vsm_platform.changes import ChangeLog, PendingEvent
from vsm_rules.compacts import Compact, CompactTables, compact_from_json
from vsm_rules.errors import Conflict, NotFound

from licensing.record import Change, ClinicianRecord, apply


def record_aggregate(clinician_id: str) -> str:
    return f"clinician:{clinician_id}"


class RecordStore:
    """Clinicians' licensing records, folded from their change rows."""

    def __init__(self, changes: ChangeLog) -> None:
        self._changes = changes
        self._cache: dict[str, ClinicianRecord] = {}

    @property
    def log(self) -> ChangeLog:
        return self._changes

    async def clinician_ids(self) -> set[str]:
        """Every clinician with a record: a full scan of the rows (the daily sweep's read)."""
        prefix = record_aggregate("")
        return {
            row.aggregate.removeprefix(prefix)
            async for row in self._changes.scan()
            if row.aggregate.startswith(prefix)
        }

    async def get(self, clinician_id: str) -> ClinicianRecord:
        """The record as it stands (an empty record for a clinician never seen)."""
        record = self._cache.get(clinician_id) or ClinicianRecord(clinician_id)
        aggregate = record_aggregate(clinician_id)
        for row in await self._changes.history(aggregate, after=record.version):
            record = apply(record, row.change)
        self._cache[clinician_id] = record
        return record

    async def append(
        self,
        before: ClinicianRecord,
        change: Change,
        actor: Actor,
        events: Sequence[PendingEvent] = (),
    ) -> ClinicianRecord:
        """Records `change` as the next version of `before`; `Conflict` if someone was first
        (the cache then forgets the record, so the next read sees the winner's change)."""
        after = apply(before, change)
        try:
            await self._changes.append(
                record_aggregate(before.clinician_id),
                after.version,
                change=change,
                events=events,
                actor=actor,
            )
        except Conflict:
            self._cache.pop(before.clinician_id, None)
            raise
        self._cache[before.clinician_id] = after
        return after


def compact_aggregate(code: str) -> str:
    return f"compact:{code}"


class CompactStore:
    """The compact tables: the repo's data (`vsm_rules/data/compacts.json`) as version 1 of each
    compact, then an operator's changes. `tables()` is the policy eligibility decides by."""

    def __init__(self, changes: ChangeLog, document: Mapping[str, Any] | None = None) -> None:
        self._changes = changes
        self._document = dict(document) if document is not None else _repo_document()
        self._tables: dict[str, tuple[int, Mapping[str, Any]]] = {}

    async def load(self, actor: Actor) -> None:
        """Seeds version 1 of every compact from the repo's data where none is stored yet
        (another process may have seeded it first: then its row stands), then reads them all."""
        for table in self._document["compacts"]:
            code = table["id"]
            if await self._changes.get(compact_aggregate(code), 1) is None:
                with contextlib.suppress(Conflict):  # another process seeded it at the same moment
                    await self._changes.append(
                        compact_aggregate(code), 1,
                        change={"table": table, "source": self._document.get("derived_from", "")},
                        actor=actor,
                    )  # fmt: skip
            await self.refresh(code)

    async def refresh(self, code: str) -> None:
        version, table = self._tables.get(code, (0, {}))
        for row in await self._changes.history(compact_aggregate(code), after=version):
            version, table = row.version, row.change["table"]
        if version:
            self._tables[code] = (version, table)

    def tables(self) -> CompactTables:
        document = dict(self._document)
        document["compacts"] = [table for _, table in self._tables.values()]
        return CompactTables.from_json(document)

    def compacts(self) -> list[tuple[Compact, int]]:
        return [
            (compact_from_json(table, f"compacts.{code}"), version)
            for code, (version, table) in self._tables.items()
        ]

    async def history(self, code: str) -> list[tuple[int, Any, Actor, str, Mapping[str, Any]]]:
        """Every version of one compact: (version, when, who, source, table), oldest first."""
        rows = await self._changes.history(compact_aggregate(code))
        if not rows:
            raise NotFound(f"no compact {code!r}")
        return [(r.version, r.at, r.actor, r.change.get("source", ""), r.change["table"])
                for r in rows]  # fmt: skip

    def version(self, code: str) -> int:
        if code not in self._tables:
            raise NotFound(f"no compact {code!r}")
        return self._tables[code][0]

    async def change(
        self,
        table: Mapping[str, Any],
        source: str,
        actor: Actor,
        expected_version: int,
        events: Sequence[PendingEvent],
    ) -> tuple[Compact, int]:
        """Replaces one compact's table (checked first); `Conflict` on a stale version."""
        code = table["id"]
        await self.refresh(code)
        version = self._tables[code][0] if code in self._tables else 0
        if expected_version and expected_version != version:
            raise Conflict(f"compact {code} is at version {version}, not {expected_version}")
        await self._changes.append(
            compact_aggregate(code), version + 1,
            change={"table": dict(table), "source": source}, events=events, actor=actor,
        )  # fmt: skip
        self._tables[code] = (version + 1, dict(table))
        return compact_from_json(table, "table_json"), version + 1


def _repo_document() -> dict[str, Any]:
    text = resources.files("vsm_rules").joinpath("data/compacts.json").read_text("utf-8")
    document: dict[str, Any] = json.loads(text)
    return document


__all__ = ["CompactStore", "RecordStore", "compact_aggregate", "record_aggregate"]
