"""A scheduling process killed mid-booking: it is frozen (SIGSTOP) at random moments while it
books, until it is caught holding a position whose booking never completed, and then killed
(SIGKILL). Another scheduling process's sweeper frees that position; no position stays held by
a booking that is not confirmed, and the freed position books again."""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import signal
from typing import Any

import grpc
import pytest
from pymongo import AsyncMongoClient
from vsm.scheduling.v1 import scheduling_service_pb2 as spb
from vsm.scheduling.v1 import scheduling_service_pb2_grpc as sgrpc
from vsm_cli.seed import SEEDER, seed
from vsm_infra.testing import ServiceProcesses
from vsm_platform.grpc_server import channel

pytestmark = pytest.mark.integration
CLINICIANS, SHIFTS, POSITIONS = 40, 4, 40


def _scribes() -> dict[str, Any]:
    """A small marketplace of scribes (no licence needed): shifts on four days, each with a
    position for every clinician, and clinicians free every day."""
    days = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
    return {
        "format": "vsm-match/1", "name": "killed",
        "horizon": {"start": "2027-03-08T00:00:00Z", "end": "2027-03-15T00:00:00Z"},
        "compacts": [], "professions": {"SCRIBE": {"licensed": False}},
        "facilities": [{"id": "f1", "tz": "UTC", "do_not_return": []}],
        "clinicians": [{
            "id": f"c{i}", "profession": "SCRIBE", "tz": "UTC", "home": None, "skills": [],
            "rate_cents_per_hour": 2000, "licences": [],
            "availability": [{"day": d, "start": "00:00", "end": "00:00"} for d in days],
            "max_minutes_per_week": 3000, "min_rest_minutes": 60, "booked": [],
        } for i in range(CLINICIANS)],
        "shifts": [{
            "id": f"s{k}", "facility": "f1", "profession": "SCRIBE", "skills": [],
            "patient_jurisdictions": [], "start": f"2027-03-{9 + k:02d}T08:00:00Z",
            "end": f"2027-03-{9 + k:02d}T16:00:00Z", "positions": POSITIONS, "value_cents": 40000,
        } for k in range(SHIFTS)],
    }  # fmt: skip


async def _holds(ledger: Any) -> dict[str, str | None]:
    """Each position held now (claimed, not freed) and the outcome of the booking holding it
    (None: no outcome yet)."""
    ids = {row["_id"] async for row in ledger.find({}, {"_id": 1})}
    held: dict[str, str | None] = {}
    for key in ids:
        parts = key.split(":")
        if parts[0] != "slot" or len(parts) != 4 or f"{key}:free" in ids:
            continue
        slot = await ledger.find_one({"_id": key})
        outcome = await ledger.find_one(
            {"_id": f"booking:{parts[1]}:{slot['clinician']}:{slot['attempt']}:outcome"}
        )
        held[key] = None if outcome is None else outcome["status"]
    return held


async def _orphans(ledger: Any) -> list[str]:
    """Positions held by a booking that never completed."""
    return [key for key, outcome in (await _holds(ledger)).items() if outcome is None]


async def test_a_process_killed_mid_booking_holds_no_position_after_the_sweep(
    services: ServiceProcesses, kafka_bootstrap: str, mongodb_uri: str
) -> None:
    await services.ensure_topics()
    licensing_addr = services.start("licensing", "licensing.main")
    victim_addr = services.start("victim", "scheduling.main", SCHEDULING_LOCK_SECONDS="2")
    await services.serving("licensing", "victim")
    seeded = await seed(_scribes(), licensing_addr, victim_addr)
    shift_ids = list(seeded.shift_ids.values())
    victim = services.running["victim"]
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(mongodb_uri, tz_aware=True)
    ledger = client[services.env["SCHEDULING_DATABASE"]]["ledger"]
    victim_channel = channel(victim_addr)
    stub = sgrpc.SchedulingServiceStub(victim_channel)  # type: ignore[no-untyped-call]
    pairs = [(s, f"c{i}") for s in shift_ids for i in range(CLINICIANS)]
    random.Random(3).shuffle(pairs)

    async def book_all(lane: int) -> None:
        for shift_id, clinician in pairs[lane::12]:
            with contextlib.suppress(grpc.aio.AioRpcError):  # refused, busy, or gone
                await stub.Book(spb.BookRequest(actor=SEEDER, shift_id=shift_id,
                                                clinician_id=clinician), timeout=20)  # fmt: skip

    traffic = [asyncio.create_task(book_all(lane)) for lane in range(12)]
    caught: list[str] = []
    try:
        for _ in range(400):
            await asyncio.sleep(random.uniform(0.005, 0.05))
            os.kill(victim.pid, signal.SIGSTOP)
            caught = await _orphans(ledger)
            if caught:
                break
            os.kill(victim.pid, signal.SIGCONT)
        assert caught, "never caught the process between claiming a position and confirming it"
        services.kill("victim")  # SIGKILL works on a stopped process
    finally:
        for task in traffic:
            task.cancel()
        await asyncio.gather(*traffic, return_exceptions=True)
        await victim_channel.close()

    sweeper_addr = services.start(
        "sweeper", "scheduling.main", SCHEDULING_PENDING_SECONDS="1",
        SCHEDULING_SWEEP_SECONDS="0.5", SCHEDULING_LOCK_SECONDS="2",
    )  # fmt: skip
    await services.serving("sweeper")
    try:
        for _ in range(100):  # the sweeper settles an orphan (expired), then frees its slot
            if all(outcome == "confirmed" for outcome in (await _holds(ledger)).values()):
                break
            await asyncio.sleep(0.2)
        holds = await _holds(ledger)
        assert all(outcome == "confirmed" for outcome in holds.values()), holds
        for key in caught:  # each freed position books again, through the surviving process
            _, shift_id, _, _ = key.split(":")
            async with channel(sweeper_addr) as second:
                stub2 = sgrpc.SchedulingServiceStub(second)  # type: ignore[no-untyped-call]
                roster = await stub2.GetRoster(spb.GetRosterRequest(facility_id="f1"))
                entry = next(e for e in roster.entries if e.shift.shift_id == shift_id)
                assert entry.open_positions >= 1
                booked = {b.clinician_id for b in entry.bookings}
                free = next(f"c{i}" for i in range(CLINICIANS) if f"c{i}" not in booked)
                await _book_retrying(stub2, shift_id, free)
    finally:
        await client.close()


async def _book_retrying(stub: Any, shift_id: str, clinician: str) -> None:
    """Books, waiting out a lock the killed process left (it expires in 2 s)."""
    for _ in range(100):
        try:
            await stub.Book(spb.BookRequest(actor=SEEDER, shift_id=shift_id,
                                            clinician_id=clinician))  # fmt: skip
            return
        except grpc.aio.AioRpcError as error:
            if error.code() != grpc.StatusCode.ABORTED:
                raise
            await asyncio.sleep(0.1)
    pytest.fail(f"{clinician} could not be booked on {shift_id}")
