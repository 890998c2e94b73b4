"""The market under faults, on a broker and a database of the test's own (loopback, own ports,
own data): while a facility posts a week of shifts and clinicians answer their offers, the broker
is stopped and started again, so is the database, and each process (licensing, scheduling,
matching, the gateway) is killed at a random moment and started again.

Afterwards:
- every acknowledged post made exactly one shift, every acknowledged acceptance exactly one
  booking; no booking lost or doubled (the roster, the accepted offers and the acknowledged
  acceptances agree);
- no offer outside a clinician's rules, and the bookings pass the yardstick's validator
  (availability, licences, rest, weekly caps, positions);
- no event left unpublished (every change row has its marker), each offer announced by one
  event, each offer and booking told to its clinician once;
- replaying every topic from the start (matching's read model, and the gateway's notification
  feed under a new consumer group) changes nothing stored.

The seed of the faults' order and moments is printed; VSM_FAULT_SEED repeats a run."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import random
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from pymongo import AsyncMongoClient
from vsm.matching.v1 import matching_service_pb2 as mpb
from vsm.matching.v1 import matching_service_pb2_grpc as mgrpc
from vsm.scheduling.v1 import scheduling_service_pb2 as spb
from vsm.scheduling.v1 import scheduling_service_pb2_grpc as sgrpc
from vsm_cli.seed import seed, shift_posting
from vsm_infra.testing import OwnServer, ServiceProcesses, free_port, load_yardstick, service_env
from vsm_platform.grpc_server import channel
from vsm_rules.match_instance import load_instance

from tests.integration.fault_market import Clinicians, Tally, post_all

pytestmark = [pytest.mark.integration, pytest.mark.restarts]
SHIFTS, CLINICIANS, POSTS_PER_SECOND = 120, 60, 2.5
PROCESSES = {"licensing": "licensing.main", "scheduling": "scheduling.main",
             "matching": "matching.main", "gateway": "gateway.main"}  # fmt: skip
FAULTS = ["broker", "database", *PROCESSES]
REPORT = Path(__file__).parents[2] / "test-artifacts" / "faults.json"  # the last run's tallies
logger = logging.getLogger(__name__)


def _market() -> dict[str, Any]:
    start = (datetime.now(UTC) + timedelta(days=2)).replace(hour=0, minute=0, second=0,
                                                            microsecond=0)  # fmt: skip
    document: dict[str, Any] = load_yardstick().generate(
        41, SHIFTS, CLINICIANS, start.isoformat().replace("+00:00", "Z"), 7
    )
    document["name"] = "faults"
    return document


class Faults:
    """Injects each fault once, in a random order at random moments, and logs what it did."""

    def __init__(self, processes: ServiceProcesses, kafka: OwnServer, mongo: OwnServer,
                 rng: random.Random, extra: dict[str, str]) -> None:  # fmt: skip
        self._processes = processes
        self._servers = {"broker": kafka, "database": mongo}
        self._rng = rng
        self._extra = extra
        self.log: list[str] = []

    async def run(self, seconds: float) -> None:
        order = self._rng.sample(FAULTS, len(FAULTS))
        began = time.monotonic()
        slot = seconds / len(order)
        for k, fault in enumerate(order):
            at = k * slot + self._rng.uniform(0.2, 0.6) * slot
            await asyncio.sleep(max(0.0, began + at - time.monotonic()))
            self.log.append(f"{time.monotonic() - began:5.1f}s {fault}")
            await self._inject(fault)

    async def _inject(self, fault: str) -> None:
        if fault in self._servers:
            server = self._servers[fault]
            await asyncio.to_thread(server.stop)  # stopped mid-flow, as an operator would
            await asyncio.sleep(self._rng.uniform(2, 5))
            await server.start()
            return
        self._processes.kill(fault)  # SIGKILL, whatever it was doing
        await asyncio.sleep(self._rng.uniform(0.2, 1.5))
        self._processes.start(fault, PROCESSES[fault], **self._extra)


async def _notification_counts(db: Any) -> Counter[tuple[str, str, str]]:
    counts: Counter[tuple[str, str, str]] = Counter()
    async for row in db["notifications"].find({}):
        counts[(row["recipient"], row["kind"], row["link"])] += 1
    return counts


async def _unpublished(db: Any) -> list[str]:
    markers = {row["_id"] async for row in db["published"].find({}, {"_id": 1})}
    return [row["_id"] async for row in db["changes"].find({}, {"_id": 1})
            if row["_id"] not in markers]  # fmt: skip


async def _snapshot(client: AsyncMongoClient[dict[str, Any]], names: list[str]) -> dict[str, Any]:
    """Every stored row, but the consumers' own bookkeeping (which events a group applied)."""
    taken: dict[str, Any] = {}
    for name in names:
        db = client[name]
        for collection in sorted(await db.list_collection_names()):
            if collection == "applied":
                continue
            rows = [row async for row in db[collection].find({})]
            taken[f"{name}.{collection}"] = sorted(rows, key=lambda r: str(r["_id"]))
    return taken


@pytest.mark.timeout(600)
async def _evidence(db: Any, shift_id: str, clinician_id: str) -> dict[str, Any]:
    """What scheduling holds of one booking: the ledger's rows and the change rows."""
    ledger = f"^(booking:{shift_id}:{clinician_id}:|slot:{shift_id}:|schedule:{clinician_id}:)"
    rows = [row async for row in db["ledger"].find({"_id": {"$regex": ledger}})]
    changes = [(r["_id"], r["change"]) async for r in db["changes"].find(
        {"_id": {"$regex": f"^booked:{shift_id}:{clinician_id}:"}})]  # fmt: skip
    return {"booking": (shift_id, clinician_id), "changes": changes,
            "ledger": [{k: v for k, v in r.items() if k != "bookings"} | (
                {"shifts": [b["shift"] for b in r["bookings"]]} if "bookings" in r else {})
                for r in rows]}  # fmt: skip


def _difference(before: list[Any], after: list[Any]) -> dict[str, Any]:
    """What a replay changed in one collection: rows gone, rows new, rows changed (a few)."""
    was, now = {str(r["_id"]): r for r in before}, {str(r["_id"]): r for r in after}
    return {"gone": sorted(set(was) - set(now))[:3],
            "new": [now[k] for k in sorted(set(now) - set(was))][:3],
            "changed": [(was[k], now[k]) for k in sorted(was.keys() & now.keys())
                        if was[k] != now[k]][:2]}  # fmt: skip


async def test_the_market_keeps_its_promises_through_restarts_and_kills(
    own_kafka: OwnServer, own_mongo: OwnServer, tmp_path: Any
) -> None:
    fault_seed = int(os.environ.get("VSM_FAULT_SEED") or random.SystemRandom().randrange(10**6))
    logger.warning("VSM_FAULT_SEED=%d", fault_seed)
    rng = random.Random(fault_seed)
    env = service_env(own_mongo.address, own_kafka.address)
    gateway_addr = f"127.0.0.1:{free_port()}"
    env.update(GATEWAY_DEV_OUTBOX="true", GATEWAY_COOKIE_SECURE="false",
               GATEWAY_PUBLIC_URL=f"http://{gateway_addr}", PARTNER_ADDR=f"127.0.0.1:{free_port()}",
               MATCHING_SOLVE_SECONDS="0.3")  # fmt: skip
    processes = ServiceProcesses(env, tmp_path / "logs", own_kafka.address)
    (tmp_path / "logs").mkdir()
    processes.address["gateway"] = gateway_addr
    document = _market()
    instance = load_instance(document)
    tally = Tally()
    channels: list[Any] = []
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(own_mongo.address)
    follower: asyncio.Task[None] | None = None
    try:
        await processes.ensure_topics()
        for name, module in PROCESSES.items():
            processes.start(name, module)
        await processes.serving("licensing", "scheduling", "matching")
        await seed({**document, "shifts": []}, processes.address["licensing"],
                   processes.address["scheduling"], True)  # fmt: skip
        channels = [channel(processes.address["scheduling"]),
                    channel(processes.address["matching"])]  # fmt: skip
        scheduling = sgrpc.SchedulingServiceStub(channels[0])  # type: ignore[no-untyped-call]
        matching = mgrpc.MatchingServiceStub(channels[1])  # type: ignore[no-untyped-call]
        people = Clinicians(matching, tally, accept=0.7, seed=fault_seed)
        topic = f"{processes.topic_prefix}vsm.matching.events.v1"
        follower = asyncio.create_task(people.follow(own_kafka.address, topic))

        # The load, and every fault during it.
        loop = asyncio.get_running_loop()
        postings = [shift_posting(instance, s["id"], f"faults:{s['id']}")
                    for s in sorted(document["shifts"], key=lambda s: s["start"])]  # fmt: skip
        load_seconds = len(postings) / POSTS_PER_SECOND
        faults = Faults(processes, own_kafka, own_mongo, rng, {})
        await asyncio.gather(
            post_all(scheduling, postings, POSTS_PER_SECOND, tally, loop.time() + 240),
            faults.run(load_seconds),
        )
        report = {"seed": fault_seed, "faults": faults.log}
        await processes.serving("licensing", "scheduling", "matching")
        await people.quiet(12.0, loop.time() + 180)
        report |= {"requests": tally.requests, "answers": dict(sorted(tally.answers.items()))}

        # Every acknowledged post made exactly one shift.
        assert len(tally.posted) == len(postings)
        shift_of = {shift_id: key.removeprefix("faults:") for key, shift_id in tally.posted.items()}
        assert len(shift_of) == len(postings), "two keys answered with one shift"
        rosters = [await scheduling.GetRoster(spb.GetRosterRequest(facility_id=f["id"]))
                   for f in document["facilities"]]  # fmt: skip
        listed = Counter(entry.shift.shift_id for r in rosters for entry in r.entries)
        assert set(listed) == set(shift_of), "a shift lost, or one nobody posted"
        assert set(listed.values()) == {1}, "a shift listed twice"
        scheduling_db = client[env["SCHEDULING_DATABASE"]]
        facilities = [f["id"] for f in document["facilities"]]
        posted = await scheduling_db["changes"].count_documents({
            "_id": {"$regex": r"^shift:.*:0000000001$"},
            "change.value.facility_id": {"$in": facilities}})  # fmt: skip
        assert posted == len(postings), f"{posted} shifts posted for {len(postings)} posts"

        # Every acknowledged acceptance made exactly one booking, and nothing else did.
        booked = Counter((entry.shift.shift_id, b.clinician_id)
                         for r in rosters for entry in r.entries
                         for b in entry.bookings)  # fmt: skip
        assert set(booked.values()) <= {1}, "a clinician booked twice on one shift"
        offers = []
        for shift_id in shift_of:
            offers += (await matching.ListOffers(mpb.ListOffersRequest(shift_id=shift_id))).offers
        accepted = {
            (o.shift_id, o.clinician_id) for o in offers if o.state == mpb.OFFER_STATE_ACCEPTED
        }
        lost = set(tally.accepted.values()) - set(booked)
        assert not lost, [await _evidence(scheduling_db, *pair) for pair in sorted(lost)[:3]]
        assert set(booked) == accepted, "bookings and accepted offers disagree"
        assert Counter(o.offer_id for o in offers) == Counter({o.offer_id: 1 for o in offers})

        # No offer outside a clinician's rules; the bookings pass the yardstick.
        yardstick = load_yardstick()
        inst = yardstick.Instance(document)
        outside = [(shift_of[o.shift_id], o.clinician_id, why) for o in offers
                   if (why := inst.eligible(inst.clinicians[o.clinician_id],
                                            inst.shifts[shift_of[o.shift_id]]))]  # fmt: skip
        assert not outside, outside[:5]
        assignments = [{"shift": shift_of[s], "clinician": c} for s, c in booked]
        errors, _, filled = yardstick.validate(inst, {"assignments": assignments})
        assert not errors, errors[:5]
        report |= {"shifts": len(postings), "offers": len(offers), "bookings": filled,
                   "acceptances acknowledged": len(tally.accepted),
                   "declines acknowledged": len(tally.declined),
                   "answers refused": len(tally.refused)}  # fmt: skip

        # No event unpublished; each offer and booking told to its clinician once.
        for name in ("LICENSING_DATABASE", "SCHEDULING_DATABASE", "MATCHING_DATABASE"):
            assert await _unpublished(client[env[name]]) == [], name
        gateway_db = client[env["GATEWAY_DATABASE"]]
        told = await _notification_counts(gateway_db)
        for offer in offers:
            assert told[(offer.clinician_id, "new_offer", f"/offers#{offer.offer_id}")] == 1, offer
        elsewhere = await scheduling.GetRoster(spb.GetRosterRequest(facility_id="elsewhere-faults"))
        every_booking = [(e.shift.shift_id, b.clinician_id)
                         for r in [*rosters, elsewhere] for e in r.entries
                         for b in e.bookings]  # fmt: skip
        confirmed = Counter((recipient, link) for (recipient, kind, link), n in told.items()
                            if kind == "booking_confirmed" for _ in range(n))  # fmt: skip
        expected = Counter((c, "/schedule") for _, c in every_booking)
        expected.update(("org:org-faults", f"/shifts#{s}") for s, _ in every_booking)
        assert confirmed == expected, "a booking told twice or never"

        # Replaying every topic from the start changes nothing.
        names = [env[n] for n in ("LICENSING_DATABASE", "SCHEDULING_DATABASE",
                                  "MATCHING_DATABASE", "GATEWAY_DATABASE")]  # fmt: skip
        before = await _snapshot(client, names)
        replay = {"GATEWAY_NOTIFICATION_GROUP": f"replay-{fault_seed}"}
        for name in ("matching", "gateway"):
            processes.stop(name)
            processes.start(name, PROCESSES[name], **replay)
        await processes.serving("matching")
        status = mpb.GetInstanceStatusRequest()
        deadline = loop.time() + 60
        while not (await matching.GetInstanceStatus(status, timeout=10)).ready:
            assert loop.time() < deadline, "matching did not catch up"
            await asyncio.sleep(0.5)
        applied = gateway_db["applied"]
        group = f"replay-{fault_seed}|"
        events = await applied.count_documents({"_id": {"$regex": "^vsm-gateway-notifications"}})
        while await applied.count_documents({"_id": {"$regex": f"^{group}"}}) < events:
            assert loop.time() < deadline + 60, "the replayed feed did not catch up"
            await asyncio.sleep(0.5)
        await asyncio.sleep(3)
        after = await _snapshot(client, names)
        changed = [k for k in sorted(set(before) | set(after)) if before.get(k) != after.get(k)]
        assert not changed, [(k, _difference(before.get(k, []), after.get(k, []))) for k in changed]
        report |= {"lost": 0, "duplicates": 0, "unpublished": 0, "changed by replay": 0}
        REPORT.parent.mkdir(exist_ok=True)
        REPORT.write_text(json.dumps(report, indent=1) + "\n", encoding="utf-8")
    finally:
        if follower is not None:
            follower.cancel()
        for open_channel in channels:
            await open_channel.close()
        await client.close()
        processes.stop_all()
