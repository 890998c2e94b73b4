"""A fortnight's market, live: scripted clinicians answer the matching service's offers, and the
shifts they fill are scored against the engine's batch answer, the yardstick's LP bound and
greedy baseline, and a policy that broadcasts every shift to every eligible clinician.

    python -m bench.simulation [--shifts 400] [--clinicians 200] [--accept 0.7]
                               (after `make infra-up`)

A generated `vsm-match/1` instance (a fortnight starting two days from now) is loaded with
`vsm seed --instance-compacts` into a licensing, a scheduling and a matching process on fresh
databases and topics. Each offer the matching service makes is answered by its clinician after
a random delay (0.1 to 1.5 s): accepted with the set probability, else declined. When offers
stop, the bookings on the instance's shifts are the live answer; the yardstick validates it
and scores it. The broadcast policy is simulated offline on the same instance with the same
answer probability: each shift in turn goes to all its eligible clinicians at once, and the
first to say yes whom every rule still allows gets it. Figures go to bench/results/simulation.md
and simulation.json (for `python -m bench.report`).
"""

from __future__ import annotations

import argparse
import asyncio
import copy
import json
import os
import random
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import grpc
from aiokafka import AIOKafkaConsumer
from matching.engine.loader import problem_from_instance
from matching.engine.solve import answer_document, solve
from vsm.common.v1 import common_pb2
from vsm.matching.v1 import events_pb2 as matching_events
from vsm.matching.v1 import matching_service_pb2 as mpb
from vsm.matching.v1 import matching_service_pb2_grpc as mgrpc
from vsm.scheduling.v1 import scheduling_service_pb2 as spb
from vsm.scheduling.v1 import scheduling_service_pb2_grpc as sgrpc
from vsm_cli.seed import seed
from vsm_infra.testing import ServiceProcesses, load_yardstick
from vsm_platform.envelope import from_record
from vsm_platform.grpc_server import channel
from vsm_platform.settings import PlatformSettings

RESULTS = Path(__file__).parent / "results"


class Clinicians:
    """The scripted clinicians: each offer is answered once, after a delay."""

    def __init__(self, matching: Any, accept: float, seed_: int) -> None:
        self._matching = matching
        self._accept = accept
        self._rng = random.Random(seed_)
        self.pending = 0
        self.last_offer = time.time()
        self.answers = {"accepted": 0, "declined": 0, "too late": 0}
        self._answering: set[asyncio.Task[None]] = set()

    async def follow(self, bootstrap: str, topic: str) -> None:
        consumer = AIOKafkaConsumer(topic, bootstrap_servers=bootstrap, group_id=None,
                                    auto_offset_reset="earliest")  # fmt: skip
        await consumer.start()
        try:
            while True:
                for records in (await consumer.getmany(timeout_ms=200)).values():
                    for record in records:
                        message = from_record(record.key, record.value, record.headers).message()
                        if isinstance(message, matching_events.OfferMade):
                            self.last_offer = time.time()
                            self.pending += 1
                            task = asyncio.create_task(self._answer(message.offer))
                            self._answering.add(task)
                            task.add_done_callback(self._answering.discard)
        finally:
            await consumer.stop()

    async def quiet(self, seconds: float) -> None:
        """Returns once every offer is answered and none came for `seconds`."""
        while True:
            idle = time.time() - self.last_offer
            if not self.pending and idle >= seconds:
                return
            await asyncio.sleep(max(0.5, seconds - idle))

    async def _answer(self, offer: Any) -> None:
        try:
            await asyncio.sleep(self._rng.uniform(0.1, 1.5))
            actor = common_pb2.Actor(kind=common_pb2.ACTOR_KIND_USER, id=offer.clinician_id,
                                     role="clinician")  # fmt: skip
            try:
                if self._rng.random() < self._accept:
                    await self._matching.AcceptOffer(
                        mpb.AcceptOfferRequest(actor=actor, offer_id=offer.offer_id), timeout=30
                    )
                    self.answers["accepted"] += 1
                else:
                    await self._matching.DeclineOffer(
                        mpb.DeclineOfferRequest(actor=actor, offer_id=offer.offer_id,
                                                reason="not this one"), timeout=30)  # fmt: skip
                    self.answers["declined"] += 1
            except grpc.aio.AioRpcError:
                self.answers["too late"] += 1  # filled, withdrawn or taken meanwhile
        finally:
            self.pending -= 1


def broadcast(
    yardstick: Any, document: dict[str, Any], accept: float, seed_: int
) -> tuple[float, int]:
    """The broadcast policy's score: shifts in posting order (by start), each offered to every
    eligible clinician at once; they answer in random order, yes with probability `accept`,
    and the first whom every rule still allows takes a position."""
    rng = random.Random(seed_)
    inst = yardstick.Instance(copy.deepcopy(document))
    candidates = inst.candidates()
    chosen: list[dict[str, str]] = []
    for shift in sorted(document["shifts"], key=lambda s: (s["start"], s["id"])):
        responders = list(candidates.get(shift["id"], []))
        rng.shuffle(responders)
        taken = 0
        for clinician in responders:
            if taken >= shift["positions"]:
                break
            if rng.random() >= accept:
                continue
            trial = [*chosen, {"shift": shift["id"], "clinician": clinician}]
            errors, _, _ = yardstick.validate(inst, {"assignments": trial})
            if not errors:
                chosen = trial
                taken += 1
    _, score, filled = yardstick.validate(inst, {"assignments": chosen})
    return float(score), int(filled)


async def live(document: dict[str, Any], accept: float) -> dict[str, Any]:
    settings = PlatformSettings()
    bootstrap = settings.kafka_bootstrap
    run = uuid.uuid4().hex[:8]
    env = {**os.environ, "MONGODB_URI": settings.mongodb_uri, "KAFKA_BOOTSTRAP": bootstrap,
           "LICENSING_DATABASE": f"sim_lic_{run}", "SCHEDULING_DATABASE": f"sim_sch_{run}",
           "MATCHING_DATABASE": f"sim_mat_{run}", "VSM_TOPIC_PREFIX": f"sim-{run}.",
           "MATCHING_GROUP": f"sim-{run}"}  # fmt: skip
    services = ServiceProcesses(env, Path(tempfile.mkdtemp(prefix="bench-sim-")), bootstrap)
    await services.ensure_topics()
    try:
        licensing = services.start("licensing", "licensing.main")
        scheduling = services.start("scheduling", "scheduling.main")
        matching = services.start("matching", "matching.main")
        await services.serving("licensing", "scheduling", "matching")
        channels = [channel(scheduling), channel(matching)]
        people = Clinicians(mgrpc.MatchingServiceStub(channels[1]), accept, 9)  # type: ignore[no-untyped-call]
        follower = asyncio.create_task(
            people.follow(bootstrap, f"sim-{run}.vsm.matching.events.v1")
        )
        began = time.time()
        seeded = await seed(copy.deepcopy(document), licensing, scheduling, True, 16)
        people.last_offer = time.time()
        await people.quiet(15.0)
        seconds = time.time() - began
        follower.cancel()
        stub = sgrpc.SchedulingServiceStub(channels[0])  # type: ignore[no-untyped-call]
        instance_of = {v: k for k, v in seeded.shift_ids.items()}
        assignments = []
        for facility in document["facilities"]:
            roster = await stub.GetRoster(spb.GetRosterRequest(facility_id=facility["id"]))
            for entry in roster.entries:
                for booking in entry.bookings:
                    if entry.shift.shift_id in instance_of:
                        assignments.append({"shift": instance_of[entry.shift.shift_id],
                                            "clinician": booking.clinician_id})  # fmt: skip
        for open_channel in channels:
            await open_channel.close()
        return {"assignments": assignments, "seconds": seconds, "answers": people.answers,
                "logs": str(services.logs)}  # fmt: skip
    finally:
        services.stop_all()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--shifts", type=int, default=400)
    parser.add_argument("--clinicians", type=int, default=200)
    parser.add_argument("--accept", type=float, default=0.7)
    args = parser.parse_args(argv)
    yardstick = load_yardstick()
    start = (datetime.now(UTC) + timedelta(days=2)).replace(hour=0, minute=0, second=0,
                                                            microsecond=0)  # fmt: skip
    document = yardstick.generate(23, args.shifts, args.clinicians,
                                  start.strftime("%Y-%m-%dT%H:%M:%SZ"), 14)  # fmt: skip
    inst = yardstick.Instance(copy.deepcopy(document))
    result = asyncio.run(live(document, args.accept))
    errors, live_score, filled = yardstick.validate(inst, {"assignments": result["assignments"]})
    batch = answer_document(solve(problem_from_instance(document), time_limit=10.0, workers=2))
    _, batch_score, batch_filled = yardstick.validate(inst, batch)
    _, greedy_score, greedy_filled = yardstick.validate(inst, yardstick.greedy(inst))
    bound = yardstick.lp_bound(inst)
    broadcast_score, broadcast_filled = broadcast(yardstick, document, args.accept, 9)
    positions = sum(s["positions"] for s in document["shifts"])
    rows = [
        ("live", "live market (offers answered by scripted clinicians)", live_score, filled),
        ("batch", "engine, batch (every clinician says yes)", batch_score, batch_filled),
        ("greedy", "yardstick greedy (every clinician says yes)", greedy_score, greedy_filled),
        ("broadcast", "broadcast to every eligible clinician", broadcast_score, broadcast_filled),
    ]
    lines = [
        "# A fortnight's market, live", "",
        f"{document['name']}: {len(document['shifts'])} shifts ({positions} positions), "
        f"{len(document['clinicians'])} clinicians, the instance's own compacts. Clinicians "
        f"accept an offer with probability {args.accept:g} after 0.1-1.5 s. The live run took "
        f"{result['seconds']:.0f} s; answers: {result['answers']}; the live answer is "
        f"{'valid' if not errors else f'INVALID: {errors[:3]}'} under the yardstick.", "",
        "| policy | score | score / LP bound | filled positions |", "|---|---|---|---|",
        *[f"| {name} | {score:.0f} | {score / bound:.4f} | {'-' if n is None else n} |"
          for _, name, score, n in rows],
        f"| LP bound | {bound:.0f} | 1 | - |",
    ]  # fmt: skip
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "simulation.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    figures = {
        "measured": datetime.now(UTC).isoformat(timespec="seconds"), "instance": document["name"],
        "shifts": len(document["shifts"]), "positions": positions,
        "clinicians": len(document["clinicians"]), "accept": args.accept,
        "live_seconds": result["seconds"], "answers": result["answers"], "live_valid": not errors,
        "lp_bound": bound,
        "policies": [{"policy": key, "name": name, "score": score, "of_lp_bound": score / bound,
                      "filled": n} for key, name, score, n in rows],
    }  # fmt: skip
    (RESULTS / "simulation.json").write_text(json.dumps(figures, indent=1) + "\n", encoding="utf-8")
    print("\n".join(lines))
    print(f"logs: {result['logs']}")
    return 0 if not errors else 1


if __name__ == "__main__":
    raise SystemExit(main())
