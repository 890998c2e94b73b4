"""A process that books through the ledger on the real server, for the race tests:
`python ledger_worker.py URI DATABASE MODE`, printing one JSON line of outcomes."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from datetime import UTC, datetime, timedelta

from scheduling.ledger import Interval, Ledger
from vsm_platform.clock import SystemClock
from vsm_platform.mongo import connect
from vsm_rules.errors import Conflict, FailedPrecondition
from vsm_rules.rest import rest_verdict
from vsm_rules.verdict import Verdict

START = datetime(2027, 3, 10, 14, 0, tzinfo=UTC)


async def _book(ledger: Ledger, shift: str, clinician: str, span: Interval, positions: int) -> str:
    async def rules(booked: list[Interval]) -> list[Verdict]:
        return [rest_verdict(booked, span[0], span[1], 60, "UTC")]

    for _ in range(600):  # a lock held by the other process: try again, as a caller would
        try:
            await ledger.book(shift, clinician, span, positions, rules)
            return "booked"
        except Conflict:
            await asyncio.sleep(0.02)
        except FailedPrecondition as refused:
            return "full" if "no free position" in refused.message else "refused"
    return "gave up"


async def main(uri: str, database: str, mode: str, tag: str) -> None:
    client = connect(uri)
    ledger = Ledger(client[database]["ledger"], SystemClock(), f"worker-{os.getpid()}",
                    lock_seconds=5, pending_seconds=1)  # fmt: skip
    span = (START, START + timedelta(hours=8))
    if mode == "positions":  # 50 clinicians, one 2-position shift
        jobs = [_book(ledger, "s-two", f"c-{tag}-{i}", span, 2) for i in range(50)]
    elif mode == "overlap":  # one clinician, 10 overlapping shifts
        jobs = [
            _book(ledger, f"s-{tag}-{i}", "c-one",
                  (START + timedelta(minutes=7 * i), START + timedelta(hours=8, minutes=7 * i)), 1)
            for i in range(10)
        ]  # fmt: skip
    else:  # "dies": claim the position of a 1-position shift, then hang until killed

        async def hang(_: list[Interval]) -> list[Verdict]:
            return []

        rows = client[database]["ledger"]
        await rows.insert_one({"_id": "booking:s-kill:c-dead:0", "status": "pending",
                               "at": datetime.now(UTC), "token": 0})  # fmt: skip
        await rows.insert_one({"_id": "slot:s-kill:0:0", "clinician": "c-dead", "attempt": 0,
                               "at": datetime.now(UTC)})  # fmt: skip
        sys.stdout.write(json.dumps(["claimed"]) + "\n")
        sys.stdout.flush()
        await asyncio.sleep(3600)
        jobs = []
    sys.stdout.write(json.dumps(await asyncio.gather(*jobs)) + "\n")
    await client.close()


if __name__ == "__main__":
    asyncio.run(main(*sys.argv[1:5]))
