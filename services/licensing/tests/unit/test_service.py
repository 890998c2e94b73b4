"""The use cases over in-memory rows: every change is a row with its event, stale writers get a
conflict, batches answer each check on its own, compact tables change only by an operator with
a source, and the daily sweep announces lapses once."""

from __future__ import annotations

import json
from datetime import date, timedelta

import pytest
from licensing.service import Check, Licensing
from vsm.licensing.v1 import events_pb2
from vsm_platform.actor import Actor, ActorKind
from vsm_platform.clock import ManualClock
from vsm_rules.errors import Conflict, InvalidArgument, PermissionDenied
from vsm_rules.records import Licence

CLINICIAN = Actor(ActorKind.USER, "u-c1", role="clinician")
OPERATOR = Actor(ActorKind.USER, "u-op", role="operator")
PARTNER = Actor(ActorKind.PARTNER, "credentials-inc", "org-vms")
TX_RN = Licence("US-TX", "RN", "active", date(2027, 1, 31), multistate=True, number="123")


async def _verified_nurse(licensing: Licensing, clinician: str = "c1") -> None:
    await licensing.set_residence(CLINICIAN, clinician, "US-TX", 0)
    await licensing.add_licence(PARTNER, clinician, "l1", TX_RN, 0)


async def test_each_change_is_a_row_with_its_event(licensing: Licensing) -> None:
    await _verified_nurse(licensing)
    rows = await licensing._records.log.history("clinician:c1")
    assert [r.version for r in rows] == [1, 2]
    (event,) = rows[1].events
    assert event.topic == "vsm.licensing.events.v1"
    assert event.envelope.key == "c1"
    changed = events_pb2.LicensingRecordChanged.FromString(event.envelope.data)
    assert changed.kind == events_pb2.RECORD_CHANGE_LICENCE_ADDED
    assert changed.record.version == 2
    assert changed.entry_id == "l1"


async def test_a_stale_version_is_a_conflict_and_loses_nothing(licensing: Licensing) -> None:
    await _verified_nurse(licensing)
    with pytest.raises(Conflict, match="version 2, not 1"):
        await licensing.add_licence(CLINICIAN, "c1", "l2", TX_RN, 1)
    record = await licensing.record("c1")
    assert [h.id for h in record.licences] == ["l1"]
    assert record.version == 2


async def test_eligibility_through_a_stored_record_and_an_inline_one(
    licensing: Licensing,
) -> None:
    await licensing.set_residence(CLINICIAN, "c1", "US-TX", 0)
    await licensing.add_licence(CLINICIAN, "c1", "l1", TX_RN, 0)
    day = date(2026, 12, 1)
    stored = Check("RN", ("US-FL",), on=day, clinician_id="c1")
    refused = await licensing.check(stored)
    assert not refused.allowed  # self-declared only
    await licensing.verify_licence(OPERATOR, "c1", "l1", 0)
    assert (await licensing.check(stored)).allowed
    inline = Check("RN", ("US-FL",), on=day, record=await licensing.record("c1"))
    assert (await licensing.check(inline)).allowed


async def test_a_batch_answers_each_check_on_its_own(licensing: Licensing) -> None:
    await _verified_nurse(licensing)
    day = date(2026, 12, 1)
    results = await licensing.check_many([
        Check("RN", ("US-FL",), on=day, clinician_id="c1", organization_id="org-vms"),
        InvalidArgument("checks[1].date", "give a date or an interval"),
        Check("XX", ("US-FL",), on=day, clinician_id="c1"),
        Check("RN", ("US-CA",), on=day, clinician_id="c1", organization_id="org-vms"),
        Check("RN", ("US-FL",), on=day, clinician_id="c1", organization_id="org-other"),
    ])  # fmt: skip
    # the partner verified the licence: it counts for the partner's organisation only
    assert [getattr(r, "allowed", None) for r in results] == [True, None, None, False, False]
    assert isinstance(results[2], InvalidArgument) and results[2].field == "profession"


async def test_compact_tables_change_only_by_an_operator_with_a_source(
    licensing: Licensing,
) -> None:
    nlc = next(c for c, _ in licensing.compacts() if c.id == "NLC")
    texas = {"honours_from": "2000-01-01", "residents_from": "2000-01-01"}
    table = {"id": "NLC", "name": nlc.name, "model": nlc.model.value,
             "professions": sorted(nlc.professions), "members": {"US-TX": texas}}  # fmt: skip
    with pytest.raises(PermissionDenied):
        await licensing.change_compact(PARTNER, json.dumps(table), "board letter", 0)
    with pytest.raises(InvalidArgument, match="source"):
        await licensing.change_compact(OPERATOR, json.dumps(table), " ", 0)
    with pytest.raises(InvalidArgument, match=r"table_json\.model"):
        await licensing.change_compact(OPERATOR, json.dumps({**table, "model": "x"}), "s", 0)
    compact, version = await licensing.change_compact(OPERATOR, json.dumps(table), "letter", 1)
    assert version == 2 and set(compact.members) == {"US-TX"}
    with pytest.raises(Conflict):
        await licensing.change_compact(OPERATOR, json.dumps(table), "letter", 1)
    await _verified_nurse(licensing)
    after = await licensing.check(Check("RN", ("US-FL",), on=date(2026, 12, 1), clinician_id="c1"))
    assert not after.allowed  # Florida is no longer in the operator's NLC table


async def test_a_compact_table_nested_too_deeply_or_beyond_64_bits_is_refused_naming_it(
    licensing: Licensing,
) -> None:
    """Each was INTERNAL: a RecursionError from the JSON parser, and the store failing on an
    integer or a key no document can hold (kept as given, in a field the table does not read)."""
    nlc = next(c for c, _ in licensing.compacts() if c.id == "NLC")
    table: dict[str, object] = {"id": "NLC", "name": nlc.name, "model": nlc.model.value,
                                "professions": sorted(nlc.professions), "members": {}}  # fmt: skip
    for text, field in (
        ("[" * 100_000, "table_json: nested too deeply"),
        (json.dumps({**table, "sources": ["a", 2**70]}), "table_json.sources[1]: a whole number"),
        (json.dumps({**table, "notes": {"a\x00b": 1}}), "table_json.notes.'a\\x00b': a key"),
    ):
        with pytest.raises(InvalidArgument) as refused:
            await licensing.change_compact(OPERATOR, text, "letter", 0)
        assert refused.value.message.startswith(field)


async def test_the_daily_sweep_announces_lapses_once(
    licensing: Licensing, clock: ManualClock
) -> None:
    await _verified_nurse(licensing)
    soon = Licence("US-FL", "RN", "active", date(2026, 12, 10), number="9")
    gone = Licence("US-GA", "RN", "active", date(2026, 11, 22), number="8")
    await licensing.add_licence(PARTNER, "c1", "l2", soon, 0)
    await licensing.add_licence(PARTNER, "c1", "l3", gone, 0)
    service = Actor.service("licensing")
    today = clock.now().date()
    assert await licensing.sweep(today, ["c1"], service) == 2
    assert await licensing.sweep(today, ["c1"], service) == 0  # another process, or a restart
    (row,) = await licensing._records.log.history("sweep:2026-11-23")
    stages = {
        e.entry_id: e.stage
        for e in (events_pb2.EntryLapse.FromString(x.envelope.data) for x in row.events)
    }
    assert stages == {"l2": events_pb2.LAPSE_STAGE_LAPSING, "l3": events_pb2.LAPSE_STAGE_LAPSED}
    await clock.advance(timedelta(days=1))
    assert await licensing.sweep(clock.now().date(), ["c1"], service) == 0  # noticed once


async def test_a_missed_day_is_covered_by_the_next_sweep(licensing: Licensing) -> None:
    await _verified_nurse(licensing)
    await licensing.add_licence(
        PARTNER, "c1", "l2", Licence("US-FL", "RN", "active", date(2026, 11, 24)), 0
    )
    await licensing.add_licence(
        PARTNER, "c1", "l3", Licence("US-GA", "RN", "active", date(2026, 12, 25)), 0
    )
    service = Actor.service("licensing")
    assert await licensing.sweep(date(2026, 11, 23), ["c1"], service) == 1  # l2 lapsing
    # the service was down on the 24th and 25th; the 26th covers them
    assert await licensing.sweep(date(2026, 11, 26), ["c1"], service) == 2
    (row,) = await licensing._records.log.history("sweep:2026-11-26")
    stages = {
        e.entry_id: e.stage
        for e in (events_pb2.EntryLapse.FromString(x.envelope.data) for x in row.events)
    }
    assert stages == {"l2": events_pb2.LAPSE_STAGE_LAPSED, "l3": events_pb2.LAPSE_STAGE_LAPSING}


async def test_the_sweep_finds_every_clinician_with_a_record(licensing: Licensing) -> None:
    await _verified_nurse(licensing, "c1")
    await _verified_nurse(licensing, "c2")
    await licensing.sweep(date(2026, 11, 23), [], Actor.service("licensing"))
    assert await licensing._records.clinician_ids() == {"c1", "c2"}  # not the sweep's row
