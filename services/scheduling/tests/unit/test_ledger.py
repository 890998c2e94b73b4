"""The booking ledger over in-memory rows, with bookings interleaved by asyncio: positions,
one clinician's overlapping shifts, the fencing lock and the sweeper of bookings that died."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from scheduling.ledger import Interval, Ledger, Refused
from vsm_platform.clock import ManualClock
from vsm_platform.testing import MemoryCollection
from vsm_rules.errors import Conflict, FailedPrecondition
from vsm_rules.rest import rest_verdict
from vsm_rules.verdict import Verdict

START = datetime(2027, 3, 10, 14, 0, tzinfo=UTC)
SHIFT = (START, START + timedelta(hours=8))


def _ledger(clock: ManualClock, rows: MemoryCollection | None = None) -> Ledger:
    return Ledger(rows or MemoryCollection(), clock, "test")  # type: ignore[arg-type]


async def _no_rules(_: list[Interval]) -> list[Verdict]:
    await asyncio.sleep(0)  # let the others run in between, as I/O would
    return []


def _rest_rule(shift: Interval) -> object:
    async def check(booked: list[Interval]) -> list[Verdict]:
        await asyncio.sleep(0)
        return [rest_verdict(booked, shift[0], shift[1], 60, "UTC")]

    return check


async def _attempt(ledger: Ledger, *args: object) -> object:
    try:
        return await ledger.book(*args)  # type: ignore[arg-type]
    except (Conflict, FailedPrecondition) as error:
        return error


async def test_a_hundred_bookings_of_a_two_position_shift_book_exactly_two() -> None:
    ledger = _ledger(ManualClock(START - timedelta(days=1)))
    results = await asyncio.gather(*(
        _attempt(ledger, "s1", f"c{i}", SHIFT, 2, _no_rules) for i in range(100)
    ))  # fmt: skip
    booked = [r for r in results if not isinstance(r, Exception)]
    assert len(booked) == 2
    assert sorted(await ledger.holders("s1", 2)) == sorted(b.clinician_id for b in booked)  # type: ignore[attr-defined]
    assert all("no free position" in str(r) for r in results if isinstance(r, Exception))


async def test_twenty_overlapping_shifts_for_one_clinician_book_exactly_one() -> None:
    ledger = _ledger(ManualClock(START - timedelta(days=1)))
    shifts = [(START + timedelta(minutes=10 * i), START + timedelta(hours=8, minutes=10 * i))
              for i in range(20)]  # fmt: skip
    results = []
    for _ in range(10):  # the losers of the lock race retry, as a caller would
        results = await asyncio.gather(*(
            _attempt(ledger, f"s{i}", "c1", shifts[i], 1, _rest_rule(shifts[i]))
            for i in range(20)
        ))  # fmt: skip
    version, booked = await ledger.schedule("c1")
    assert len(booked) == 1 and version == 0
    assert any(isinstance(r, Refused) for r in results)  # the rest rule said why


async def test_a_booking_that_died_pending_is_freed_by_the_sweeper() -> None:
    clock = ManualClock(START - timedelta(days=1))
    rows = MemoryCollection()
    ledger = _ledger(clock, rows)

    async def dies(_: list[Interval]) -> list[Verdict]:
        raise asyncio.CancelledError  # the process is killed while it books

    # the process dies after claiming the position: simulate by claiming, then never finishing
    await rows.insert_one({"_id": "booking:s1:c1:0", "status": "pending", "at": clock.now(),
                           "token": 0})  # fmt: skip
    await rows.insert_one({"_id": "slot:s1:0:0", "clinician": "c1", "attempt": 0,
                           "at": clock.now()})  # fmt: skip
    with pytest.raises(FailedPrecondition, match="no free position"):
        await ledger.book("s1", "c2", SHIFT, 1, _no_rules)
    assert await ledger.sweep_all() == 0  # not pending long enough yet
    await clock.advance(timedelta(seconds=61))
    assert await ledger.sweep_all() == 1
    booked = await ledger.book("s1", "c2", SHIFT, 1, _no_rules)
    assert (booked.slot, booked.generation) == (0, 1)
    assert await ledger.holders("s1", 1) == ["c2"]
    with pytest.raises(asyncio.CancelledError):
        await ledger.book("s2", "c3", SHIFT, 1, dies)


async def test_an_expired_lock_is_taken_over_with_the_next_generation() -> None:
    clock = ManualClock(START - timedelta(days=1))
    rows = MemoryCollection()
    ledger = _ledger(clock, rows)
    await rows.insert_one({"_id": "lock:c1:0", "owner": "dead", "at": clock.now(),
                           "expires": clock.now() + timedelta(seconds=30)})  # fmt: skip
    with pytest.raises(Conflict, match="being changed"):
        await ledger.book("s1", "c1", SHIFT, 1, _no_rules)
    await clock.advance(timedelta(seconds=31))
    booked = await ledger.book("s1", "c1", SHIFT, 1, _no_rules)
    assert booked.clinician_id == "c1"
    row = await rows.find_one({"_id": "schedule:c1:0"})
    assert row is not None and row["token"] == 1  # written under the taken-over generation


async def test_a_booking_confirmed_by_a_process_that_died_before_the_schedule_is_completed(
) -> None:  # fmt: skip
    """Killed between the confirmed outcome and the schedule: the retry (same clinician, same
    shift) completes that booking, in its position, rather than claiming a second one."""
    clock = ManualClock(START - timedelta(days=1))
    rows = MemoryCollection()
    ledger = _ledger(clock, rows)
    first = await ledger.book("s1", "c1", SHIFT, 2, _no_rules)
    await rows.delete_one({"_id": "schedule:c1:0"})  # as if it died before writing it
    await rows.insert_one({"_id": "lock:c1:1", "owner": "dead", "at": clock.now(),
                           "expires": clock.now() + timedelta(seconds=30)})  # fmt: skip
    await clock.advance(timedelta(seconds=31))
    again = await ledger.book("s1", "c1", SHIFT, 2, _no_rules)
    assert (again.slot, again.generation) == (first.slot, first.generation)
    assert await ledger.holders("s1", 2) == ["c1"]  # one position, not two
    _, schedule = await ledger.schedule("c1")
    assert [b.shift_id for b in schedule] == ["s1"]
    with pytest.raises(FailedPrecondition, match="already booked"):
        await ledger.book("s1", "c1", SHIFT, 2, _no_rules)


async def test_a_booking_left_pending_by_a_dead_process_is_ended_by_the_retry() -> None:
    """Killed after claiming the only position: the clinician's retry ends that attempt and
    books at once, instead of finding the shift full until the sweeper runs."""
    clock = ManualClock(START - timedelta(days=1))
    rows = MemoryCollection()
    ledger = _ledger(clock, rows)
    await rows.insert_one({"_id": "lock:c1:0", "owner": "dead", "at": clock.now(),
                           "expires": clock.now() + timedelta(seconds=30)})  # fmt: skip
    await rows.insert_one({"_id": "booking:s1:c1:0", "status": "pending", "at": clock.now(),
                           "token": 0})  # fmt: skip
    await rows.insert_one({"_id": "slot:s1:0:0", "clinician": "c1", "attempt": 0,
                           "at": clock.now()})  # fmt: skip
    await clock.advance(timedelta(seconds=31))  # the lock expired; the sweeper has not run
    booked = await ledger.book("s1", "c1", SHIFT, 1, _no_rules)
    assert (booked.slot, booked.generation) == (0, 1)
    outcome = await rows.find_one({"_id": "booking:s1:c1:0:outcome"})
    assert outcome is not None and outcome["status"] == "expired"
    assert await ledger.holders("s1", 1) == ["c1"]
