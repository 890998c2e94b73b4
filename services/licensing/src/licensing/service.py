"""The licensing service's use cases: change a record and announce it, decide eligibility, keep
the compact tables, sweep for lapses. Adapters (grpc_api.py) translate; this module decides
nothing about the rules themselves (vsm_rules does) and does no I/O but through the stores."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from vsm.licensing.v1 import events_pb2
from vsm_platform.actor import Actor
from vsm_platform.changes import PendingEvent
from vsm_platform.clock import Clock
from vsm_platform.mongo import check_storable
from vsm_platform.topics import LICENSING_EVENTS
from vsm_rules.compacts import Compact, compact_from_json
from vsm_rules.eligibility import EligibilityDecision, decide
from vsm_rules.errors import Conflict, InvalidArgument, PermissionDenied
from vsm_rules.jurisdictions import check_jurisdiction
from vsm_rules.records import Authority, Licence

from licensing import record as records
from licensing.convert import record_to_proto
from licensing.record import Change, ClinicianRecord
from licensing.store import CompactStore, RecordStore

LAPSE_NOTICE = timedelta(days=30)
SWEEP_LOOKBACK_DAYS = 31  # how far back a sweep looks for the previous one
_KINDS = {
    "licence_added": events_pb2.RECORD_CHANGE_LICENCE_ADDED,
    "licence_changed": events_pb2.RECORD_CHANGE_LICENCE_CHANGED,
    "licence_verified": events_pb2.RECORD_CHANGE_LICENCE_VERIFIED,
    "licence_revoked": events_pb2.RECORD_CHANGE_LICENCE_REVOKED,
    "authority_added": events_pb2.RECORD_CHANGE_AUTHORITY_ADDED,
    "authority_changed": events_pb2.RECORD_CHANGE_AUTHORITY_CHANGED,
    "authority_verified": events_pb2.RECORD_CHANGE_AUTHORITY_VERIFIED,
    "authority_revoked": events_pb2.RECORD_CHANGE_AUTHORITY_REVOKED,
    "residence_changed": events_pb2.RECORD_CHANGE_RESIDENCE_CHANGED,
    "unverified_allowed": events_pb2.RECORD_CHANGE_TRUST_CHANGED,
    "unverified_refused": events_pb2.RECORD_CHANGE_TRUST_CHANGED,
}


@dataclass(frozen=True, slots=True)
class Check:
    """One eligibility question: a stored record (by clinician) or one given inline."""

    profession: str
    patient_jurisdictions: tuple[str, ...]
    on: date | None = None
    interval: tuple[datetime, datetime] | None = None
    clinician_id: str = ""
    record: ClinicianRecord | None = None
    organization_id: str = ""


class Licensing:
    """The use cases, over a record store, the compact tables and a clock."""

    def __init__(self, records: RecordStore, compacts: CompactStore, clock: Clock) -> None:
        self._records = records
        self._compacts = compacts
        self._clock = clock

    # ------------------------------------------------------------ records

    async def record(self, clinician_id: str) -> ClinicianRecord:
        return await self._records.get(_clinician(clinician_id))

    async def add_licence(
        self, actor: Actor, clinician_id: str, licence_id: str, licence: Licence, expected: int
    ) -> ClinicianRecord:
        entry = licence_id or uuid.uuid4().hex[:12]
        now = self._clock.now()
        return await self._change(
            actor, clinician_id, expected,
            lambda r: records.add_licence(r, entry, licence, actor, now), entry,
        )  # fmt: skip

    async def change_licence(
        self, actor: Actor, clinician_id: str, licence_id: str, licence: Licence, expected: int
    ) -> ClinicianRecord:
        now = self._clock.now()
        return await self._change(
            actor, clinician_id, expected,
            lambda r: records.change_licence(r, licence_id, licence, actor, now), licence_id,
        )  # fmt: skip

    async def verify_licence(
        self, actor: Actor, clinician_id: str, licence_id: str, expected: int
    ) -> ClinicianRecord:
        now = self._clock.now()
        return await self._change(
            actor, clinician_id, expected,
            lambda r: records.verify_licence(r, licence_id, actor, now), licence_id,
        )  # fmt: skip

    async def revoke_licence(
        self, actor: Actor, clinician_id: str, licence_id: str, expected: int
    ) -> ClinicianRecord:
        return await self._change(
            actor, clinician_id, expected,
            lambda r: records.revoke_licence(r, licence_id, actor), licence_id,
        )  # fmt: skip

    async def add_authority(
        self, actor: Actor, clinician_id: str, authority_id: str, authority: Authority,
        expected: int,
    ) -> ClinicianRecord:  # fmt: skip
        entry = authority_id or uuid.uuid4().hex[:12]
        now = self._clock.now()
        return await self._change(
            actor, clinician_id, expected,
            lambda r: records.add_authority(r, entry, authority, actor, now), entry,
        )  # fmt: skip

    async def change_authority(
        self, actor: Actor, clinician_id: str, authority_id: str, authority: Authority,
        expected: int,
    ) -> ClinicianRecord:  # fmt: skip
        now = self._clock.now()
        return await self._change(
            actor, clinician_id, expected,
            lambda r: records.change_authority(r, authority_id, authority, actor, now),
            authority_id,
        )  # fmt: skip

    async def verify_authority(
        self, actor: Actor, clinician_id: str, authority_id: str, expected: int
    ) -> ClinicianRecord:
        now = self._clock.now()
        return await self._change(
            actor, clinician_id, expected,
            lambda r: records.verify_authority(r, authority_id, actor, now), authority_id,
        )  # fmt: skip

    async def revoke_authority(
        self, actor: Actor, clinician_id: str, authority_id: str, expected: int
    ) -> ClinicianRecord:
        return await self._change(
            actor, clinician_id, expected,
            lambda r: records.revoke_authority(r, authority_id, actor), authority_id,
        )  # fmt: skip

    async def set_residence(
        self, actor: Actor, clinician_id: str, residence: str | None, expected: int
    ) -> ClinicianRecord:
        return await self._change(
            actor, clinician_id, expected, lambda r: records.set_residence(r, residence), ""
        )

    async def allow_unverified(
        self, actor: Actor, clinician_id: str, allowed: bool, expected: int
    ) -> ClinicianRecord:
        return await self._change(
            actor, clinician_id, expected,
            lambda r: records.allow_unverified(r, allowed, actor), "",
        )  # fmt: skip

    async def _change(
        self,
        actor: Actor,
        clinician_id: str,
        expected: int,
        make: Callable[[ClinicianRecord], Change],
        entry_id: str,
    ) -> ClinicianRecord:
        """Reads the record, checks the caller's version, makes the change, records it with its
        event. A writer who loses the race gets `Conflict` and nothing is lost: the winner's
        row stands, and the loser re-reads and decides again."""
        before = await self._records.get(_clinician(clinician_id))
        if expected and expected != before.version:
            raise Conflict(
                f"the record of {clinician_id} is at version {before.version}, not {expected}; "
                "read it again"
            )
        change = make(before)
        after = records.apply(before, change)
        event = events_pb2.LicensingRecordChanged(
            record=record_to_proto(after),
            change=str(change["description"]),
            actor=actor.to_proto(),
            kind=_KINDS[str(change["kind"])],
            entry_id=entry_id,
        )
        pending = PendingEvent(LICENSING_EVENTS, event, key=before.clinician_id)
        return await self._records.append(before, change, actor, [pending])

    # ------------------------------------------------------------ eligibility

    async def check(self, check: Check) -> EligibilityDecision:
        record = check.record or await self._records.get(_clinician(check.clinician_id))
        return decide(
            record.rules_record(check.organization_id or None), check.profession,
            check.patient_jurisdictions,
            self._compacts.tables(), on=check.on, interval=check.interval,
        )  # fmt: skip

    async def check_many(
        self, checks: Sequence[Check | InvalidArgument]
    ) -> list[EligibilityDecision | InvalidArgument]:
        """Each check on its own: a bad one gets its error, the others still answer. Each
        stored record is read once per call."""
        tables = self._compacts.tables()
        read: dict[str, ClinicianRecord] = {}
        results: list[EligibilityDecision | InvalidArgument] = []
        for check in checks:
            if isinstance(check, InvalidArgument):
                results.append(check)
                continue
            try:
                record = check.record
                if record is None:
                    clinician = _clinician(check.clinician_id)
                    if clinician not in read:
                        read[clinician] = await self._records.get(clinician)
                    record = read[clinician]
                decision = decide(
                    record.rules_record(check.organization_id or None), check.profession,
                    check.patient_jurisdictions, tables, on=check.on, interval=check.interval,
                )  # fmt: skip
                results.append(decision)
            except InvalidArgument as error:
                results.append(error)
        return results

    # ------------------------------------------------------------ compacts

    def compacts(self) -> list[tuple[Compact, int]]:
        return self._compacts.compacts()

    async def compact_history(
        self, code: str
    ) -> list[tuple[int, Any, Actor, str, Compact, Mapping[str, Any]]]:
        """Every version of one compact's table, oldest first, parsed and as stored."""
        if not code.strip():
            raise InvalidArgument("code", "name the compact, e.g. NLC")
        history = await self._compacts.history(code)
        return [
            (version, at, who, source, compact_from_json(table, f"compacts.{code}"), table)
            for version, at, who, source, table in history
        ]

    def standing(self, jurisdiction: str) -> list[tuple[Compact, Any]]:
        """Each compact with the jurisdiction's membership in it (None when not a member)."""
        check_jurisdiction(jurisdiction, "jurisdiction")
        return [(compact, compact.member(jurisdiction)) for compact, _ in self.compacts()]

    async def change_compact(
        self, actor: Actor, table_json: str, source: str, expected: int
    ) -> tuple[Compact, int]:
        if not actor.is_operator:
            raise PermissionDenied("only an operator changes a compact table")
        if not source.strip():
            raise InvalidArgument("source", "say where the new facts come from")
        try:
            table = json.loads(table_json)
        except json.JSONDecodeError as error:
            raise InvalidArgument("table_json", f"not JSON: {error.msg}") from None
        except RecursionError:
            raise InvalidArgument("table_json", "nested too deeply") from None
        compact = compact_from_json(table, "table_json")
        check_storable(table, "table_json")  # kept as it is given, every field
        event = events_pb2.CompactTableChanged(
            compact=compact.id, table_json=json.dumps(table, sort_keys=True), source=source,
            actor=actor.to_proto(),
        )  # fmt: skip
        pending = PendingEvent(LICENSING_EVENTS, event, key=compact.id, subject=compact.id)
        return await self._compacts.change(table, source, actor, expected, [pending])

    # ------------------------------------------------------------ the daily sweep

    async def sweep(self, day: date, clinician_ids: Iterable[str], actor: Actor) -> int:
        """Announces each licence and authority once as it comes within 30 days of lapsing
        (notices), and once when it has lapsed (bookings resting on it need a new look), for
        every day since the previous sweep (so a day missed while the service was down is
        covered by the next). One row per day: a second sweep of the same day (another process,
        a restart) announces nothing twice. Returns the number of announcements (0 when the day
        was already swept)."""
        previous = None
        for back in range(1, SWEEP_LOOKBACK_DAYS + 1):
            earlier = day - timedelta(days=back)
            if await self._records.log.get(f"sweep:{earlier.isoformat()}", 1) is not None:
                previous = earlier
                break
        found: list[PendingEvent] = []
        for clinician_id in sorted(set(clinician_ids)):
            record = await self._records.get(clinician_id)
            for entry, entry_id, what, expires, lapsed in lapses(record, day, previous):
                stage = events_pb2.LAPSE_STAGE_LAPSED if lapsed else events_pb2.LAPSE_STAGE_LAPSING
                event = events_pb2.EntryLapse(
                    clinician_id=clinician_id, entry_id=entry_id, entry=entry, description=what,
                    expires=expires.isoformat(), stage=stage, swept_on=day.isoformat(),
                )  # fmt: skip
                found.append(PendingEvent(LICENSING_EVENTS, event, key=clinician_id))
        try:
            await self._records.log.append(
                f"sweep:{day.isoformat()}", 1,
                change={"kind": "swept", "announced": len(found)}, events=found, actor=actor,
            )  # fmt: skip
        except Conflict:
            return 0
        return len(found)


def _clinician(clinician_id: str) -> str:
    if not clinician_id.strip():
        raise InvalidArgument("clinician_id", "must not be empty")
    return clinician_id


def lapses(
    record: ClinicianRecord, day: date, previous: date | None = None
) -> Iterable[tuple[str, str, str, date, bool]]:
    """(entry, id, description, expires, lapsed) for the active licences and authorities the
    sweep of `day` announces, when the one before it was on `previous` (None: no sweep yet):
    lapsed, when its last valid day fell between the sweeps (the first sweep: yesterday); and
    lapsing, when it came within `LAPSE_NOTICE` of `day` since the previous sweep (the first
    sweep: everything within it). `expires` is the last valid day."""
    lapsed_from = previous if previous is not None else day - timedelta(days=1)
    notice_from = previous + LAPSE_NOTICE + timedelta(days=1) if previous is not None else day
    entries: list[tuple[str, str, str, str, date | None]] = [
        ("licence", h.id, h.licence.status,
         f"{h.licence.jurisdiction} {h.licence.profession} licence {h.licence.number}".strip(),
         h.licence.expires)
        for h in record.licences
    ] + [
        ("authority", h.id, h.authority.status,
         " ".join(p for p in (h.authority.kind, h.authority.compact, h.authority.jurisdiction)
                  if p),
         h.authority.expires)
        for h in record.authorities
    ]  # fmt: skip
    for entry, entry_id, status, what, expires in entries:
        if status != "active" or expires is None:
            continue
        if lapsed_from <= expires < day:
            yield entry, entry_id, what, expires, True
        elif max(notice_from, day) <= expires <= day + LAPSE_NOTICE:
            yield entry, entry_id, what, expires, False
