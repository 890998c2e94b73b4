"""The catalogue's keyed rows: a repeated series request completes a series that a crash cut
short (the shifts were kept before any was posted), and listings skip what never landed; a
series out of range is refused before anything is made for it."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from scheduling.catalogue import Catalogue
from scheduling.marketplace import Facility, Organization, ShiftDraft
from vsm_platform.actor import Actor
from vsm_platform.changes import ChangeLog
from vsm_platform.clock import ManualClock
from vsm_platform.testing import MemoryCollection
from vsm_rules.errors import InvalidArgument

STAFF = Actor.service("test")
DRAFT = ShiftDraft(
    profession="RN", local_start=datetime(2027, 3, 7, 9), local_end=datetime(2027, 3, 7, 17),
    positions=1, pay_cents_per_hour=9000, patient_jurisdictions=("US-KS",),
)  # fmt: skip


class Crash(Exception):
    pass


class CrashingRows(MemoryCollection):
    """Change rows whose insert fails once, at the n-th shift posted: the process died there."""

    def __init__(self, crash_at: int) -> None:
        super().__init__()
        self.shifts_left = crash_at

    async def insert_one(self, document: Any) -> None:
        if str(document["_id"]).startswith("shift:"):
            self.shifts_left -= 1
            if self.shifts_left == 0:
                raise Crash("the process died here")
        await super().insert_one(document)


async def _catalogue(rows: MemoryCollection) -> tuple[Catalogue, ChangeLog, MemoryCollection]:
    clock = ManualClock(datetime(2027, 3, 1, tzinfo=UTC))
    changes = ChangeLog(rows, source="scheduling", clock=clock)  # type: ignore[arg-type]
    keyed = MemoryCollection()
    catalogue = Catalogue(changes, keyed, clock)  # type: ignore[arg-type]
    await catalogue.save_organization(STAFF, Organization("org1", "Prairie Health"), 0)
    facility = Facility("f1", "org1", "Prairie Clinic", "America/Chicago", ("US-KS",))
    await catalogue.save_facility(STAFF, facility, 0)
    return catalogue, changes, keyed


async def test_a_repeated_request_completes_a_series_cut_short() -> None:
    catalogue, changes, _ = await _catalogue(CrashingRows(crash_at=3))
    with pytest.raises(Crash):
        await catalogue.post_series(STAFF, "f1", DRAFT, 7, 4, idempotency_key="k")
    assert len(await catalogue.shifts_of("f1")) == 2  # the third was listed, never posted
    series_id, posted = await catalogue.post_series(STAFF, "f1", DRAFT, 7, 4, idempotency_key="k")
    assert [s.id for s, _ in posted] == [f"{series_id}-{k}" for k in (1, 2, 3, 4)]
    assert [s.local_start.day for s, _ in posted] == [7, 14, 21, 28]
    assert len(await catalogue.shifts_of("f1")) == 4
    for shift, version in posted:  # each posted once, announced once
        assert version == 1 and len(await changes.history(f"shift:{shift.id}")) == 1


async def test_without_a_key_each_request_posts_anew() -> None:
    catalogue, _, _ = await _catalogue(MemoryCollection())
    first, _ = await catalogue.post(STAFF, "f1", DRAFT)
    second, _ = await catalogue.post(STAFF, "f1", DRAFT)
    assert first.id != second.id and len(await catalogue.shifts_of("f1")) == 2


@pytest.mark.parametrize(("every_days", "occurrences"), [(7, 2**31 - 1), (7, -1), (0, 3)])
async def test_a_series_out_of_range_is_refused_before_anything_is_made(
    every_days: int, occurrences: int
) -> None:
    """2**31 - 1 occurrences once made an id for each before the range was checked: the
    process grew past 20 GB and was killed (the fuzzer's PostShiftSeries)."""
    catalogue, _, _ = await _catalogue(MemoryCollection())
    with pytest.raises(InvalidArgument) as refused:
        await catalogue.post_series(STAFF, "f1", DRAFT, every_days, occurrences)
    assert refused.value.field.startswith("recurrence.")
    assert await catalogue.shifts_of("f1") == []
