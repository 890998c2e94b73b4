"""The booking ledger's races across two processes sharing the real MongoDB-protocol server:
100 bookings of a 2-position shift book exactly 2; 20 bookings of one clinician's overlapping
shifts book exactly 1; a process killed mid-booking holds no position after the sweeper runs."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from scheduling.ledger import Ledger
from vsm_platform.clock import SystemClock
from vsm_platform.mongo import connect

pytestmark = pytest.mark.integration
WORKER = Path(__file__).with_name("ledger_worker.py")


def _run_two(uri: str, database: str, mode: str) -> list[str]:
    workers = [
        subprocess.Popen(
            [sys.executable, str(WORKER), uri, database, mode, tag],
            stdout=subprocess.PIPE,
            text=True,
        )
        for tag in ("a", "b")
    ]
    outcomes: list[str] = []
    for worker in workers:
        out, _ = worker.communicate(timeout=120)
        assert worker.returncode == 0
        outcomes += json.loads(out.strip().splitlines()[-1])
    return outcomes


async def test_a_hundred_bookings_across_two_processes_fill_exactly_two_positions(
    mongodb_uri: str,
) -> None:
    database = f"test_ledger_{uuid.uuid4().hex[:10]}"
    started = time.monotonic()
    outcomes = await asyncio.to_thread(_run_two, mongodb_uri, database, "positions")
    assert len(outcomes) == 100
    assert outcomes.count("booked") == 2 and outcomes.count("full") == 98, outcomes
    client = connect(mongodb_uri)
    try:
        ledger = Ledger(client[database]["ledger"], SystemClock(), "test")
        assert len(await ledger.holders("s-two", 2)) == 2
    finally:
        await client.close()
    assert time.monotonic() - started < 60


async def test_twenty_overlapping_bookings_of_one_clinician_across_two_processes_book_one(
    mongodb_uri: str,
) -> None:
    database = f"test_ledger_{uuid.uuid4().hex[:10]}"
    outcomes = await asyncio.to_thread(_run_two, mongodb_uri, database, "overlap")
    assert len(outcomes) == 20
    assert outcomes.count("booked") == 1 and outcomes.count("refused") == 19, outcomes
    client = connect(mongodb_uri)
    try:
        ledger = Ledger(client[database]["ledger"], SystemClock(), "test")
        _, booked = await ledger.schedule("c-one")
        assert len(booked) == 1
    finally:
        await client.close()


async def test_a_process_killed_mid_booking_holds_no_position_after_the_sweeper(
    mongodb_uri: str,
) -> None:
    database = f"test_ledger_{uuid.uuid4().hex[:10]}"
    worker = await asyncio.create_subprocess_exec(
        sys.executable, str(WORKER), mongodb_uri, database, "dies", "k",
        stdout=asyncio.subprocess.PIPE,
    )  # fmt: skip
    assert worker.stdout is not None
    line = await asyncio.wait_for(worker.stdout.readline(), 60)
    assert json.loads(line) == ["claimed"]
    worker.kill()
    await asyncio.wait_for(worker.wait(), 10)
    client = connect(mongodb_uri)
    try:
        ledger = Ledger(client[database]["ledger"], SystemClock(), "sweeper", pending_seconds=1)
        assert await ledger.holders("s-kill", 1) == ["c-dead"]
        await asyncio.sleep(1.2)
        assert await ledger.sweep_shift("s-kill", 1) == 1
        assert await ledger.holders("s-kill", 1) == []
    finally:
        await client.close()
