"""Shift posted -> first offer: the live market's latency, through the real broker and database.

    python -m bench.offers [--clinicians 2000] [--shifts 1000] [--rate 20] [--seconds 60]
                           (after `make infra-up`)

A generated `vsm-match/1` instance (its clinicians, their licences under the instance's own
compacts, its shifts and bookings) is loaded with `vsm seed` into a licensing, a scheduling and
a matching process started here on fresh databases and topics of their own. Once the matching
service has offered the seeded shifts and gone quiet, new shifts (copies of the instance's,
moved to other days) are posted through the scheduling service at a steady rate; a consumer of
the matching topic notes when each one's first OfferMade arrives. The latency of a shift is
that moment less the moment its PostShift call was sent. Shifts no clinician can take get no
offer and are counted apart. Figures go to bench/results/offers.md and offers.json (for
`python -m bench.report`) and a histogram to bench/results/offers.svg.
"""

from __future__ import annotations

import argparse
import asyncio
import copy
import json
import os
import random
import statistics
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from aiokafka import AIOKafkaConsumer
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

from bench import svg

RESULTS = Path(__file__).parent / "results"
STAFF = common_pb2.Actor(kind=common_pb2.ACTOR_KIND_USER, id="bench-staff", role="operator")


class OfferClock:
    """Follows the matching topic: when each shift's first offer arrived (wall time)."""

    def __init__(self, bootstrap: str, topic: str) -> None:
        self._bootstrap = bootstrap
        self._topic = topic
        self.first: dict[str, float] = {}
        self.last_offer = time.time()
        self.offers = 0

    async def run(self) -> None:
        consumer = AIOKafkaConsumer(self._topic, bootstrap_servers=self._bootstrap,
                                    group_id=None, auto_offset_reset="earliest")  # fmt: skip
        await consumer.start()
        try:
            while True:
                batches = await consumer.getmany(timeout_ms=100)
                now = time.time()
                for records in batches.values():
                    for record in records:
                        message = from_record(record.key, record.value, record.headers).message()
                        if isinstance(message, matching_events.OfferMade):
                            self.offers += 1
                            self.last_offer = now
                            self.first.setdefault(message.offer.shift_id, now)
        finally:
            await consumer.stop()


def _instance(clinicians: int, shifts: int) -> dict[str, Any]:
    start = (datetime.now(UTC) + timedelta(days=2)).replace(hour=0, minute=0, second=0,
                                                            microsecond=0)  # fmt: skip
    yardstick = load_yardstick()
    document: dict[str, Any] = yardstick.generate(
        17, shifts, clinicians, start.strftime("%Y-%m-%dT%H:%M:%SZ"), 14
    )
    return document


def _new_shift(rng: random.Random, document: dict[str, Any], n: int) -> tuple[str, spb.Shift]:
    """A copy of one of the instance's shifts, moved by whole days within its fortnight."""
    raw = rng.choice(document["shifts"])
    facility = next(f for f in document["facilities"] if f["id"] == raw["facility"])
    zone = ZoneInfo(facility["tz"])
    start = datetime.fromisoformat(raw["start"].replace("Z", "+00:00"))
    end = datetime.fromisoformat(raw["end"].replace("Z", "+00:00"))
    days = timedelta(days=rng.choice([-7, -3, -1, 1, 3, 7]))
    local_start = (start.astimezone(zone) + days).replace(tzinfo=None)
    local_end = (end.astimezone(zone) + days).replace(tzinfo=None)
    minutes = (end - start).total_seconds() / 60
    shift = spb.Shift(
        facility_id=raw["facility"], profession=raw["profession"], skills=raw["skills"],
        patient_jurisdictions=raw["patient_jurisdictions"], positions=raw["positions"],
        pay_cents_per_hour=max(1, round(raw["value_cents"] * 60 / minutes)),
        scope_of_work=f"bench shift {n}",
    )  # fmt: skip
    shift.local_start.local = local_start.strftime("%Y-%m-%dT%H:%M")
    shift.local_end.local = local_end.strftime("%Y-%m-%dT%H:%M")
    return raw["id"], shift


async def _quiet(clock: OfferClock, matching: Any, seconds: float, limit: float) -> float:
    """Waits until no offer has arrived and the matcher has run no re-match for `seconds` (at
    most `limit`): the seeded market is matched and the matcher idle. The time it took."""
    began = time.time()
    rematches, still_since = -1, time.time()
    while time.time() - began < limit:
        status = await matching.GetInstanceStatus(mpb.GetInstanceStatusRequest())
        if status.rematches != rematches:
            rematches, still_since = status.rematches, time.time()
        if min(time.time() - clock.last_offer, time.time() - still_since) >= seconds:
            break
        await asyncio.sleep(1.0)
    return time.time() - began


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def bench(clinicians: int, shifts: int, rate: float, seconds: float) -> dict[str, Any]:
    settings = PlatformSettings()
    bootstrap = settings.kafka_bootstrap
    run = uuid.uuid4().hex[:8]
    logs = Path(tempfile.mkdtemp(prefix="bench-offers-"))
    env = {**os.environ, "MONGODB_URI": settings.mongodb_uri,
           "KAFKA_BOOTSTRAP": bootstrap, "LICENSING_DATABASE": f"bench_lic_{run}",
           "SCHEDULING_DATABASE": f"bench_sch_{run}", "MATCHING_DATABASE": f"bench_mat_{run}",
           "VSM_TOPIC_PREFIX": f"bench-{run}.", "MATCHING_GROUP": f"bench-{run}"}  # fmt: skip
    services = ServiceProcesses(env, logs, bootstrap)
    await services.ensure_topics()
    document = _instance(clinicians, shifts)
    try:
        licensing = services.start("licensing", "licensing.main")
        scheduling = services.start("scheduling", "scheduling.main")
        services.start("matching", "matching.main")
        await services.serving("licensing", "scheduling", "matching")
        clock = OfferClock(bootstrap, f"bench-{run}.vsm.matching.events.v1")
        follower = asyncio.create_task(clock.run())
        began = time.time()
        seeded = await seed(copy.deepcopy(document), licensing, scheduling, True, 16)
        seed_seconds = time.time() - began
        clock.last_offer = time.time()  # from here: quiet once the seeded market is offered
        matching_channel = channel(services.address["matching"])
        matcher = mgrpc.MatchingServiceStub(matching_channel)  # type: ignore[no-untyped-call]
        settle_seconds = await _quiet(clock, matcher, 10.0, 900.0)
        await matching_channel.close()
        initial_offers = clock.offers

        rng = random.Random(5)
        posted: dict[str, float] = {}
        templates: dict[str, str] = {}
        scheduling_channel = channel(scheduling)
        stub = sgrpc.SchedulingServiceStub(scheduling_channel)  # type: ignore[no-untyped-call]
        interval = 1.0 / rate
        calls = []

        async def post(n: int) -> None:
            template, shift = _new_shift(rng, document, n)
            request = spb.PostShiftRequest(actor=STAFF, shift=shift,
                                           start_reading=spb.WALL_TIME_READING_EARLIER,
                                           end_reading=spb.WALL_TIME_READING_EARLIER)  # fmt: skip
            sent = time.time()
            try:
                answer = await stub.PostShift(request, timeout=30)
            except Exception:  # a wall time the move made doubtful: not this bench's concern
                return
            posted[answer.shift.shift_id] = sent
            templates[answer.shift.shift_id] = template

        phase = time.monotonic()
        for n in range(int(rate * seconds)):
            due = phase + n * interval
            await asyncio.sleep(max(0.0, due - time.monotonic()))
            calls.append(asyncio.create_task(post(n)))
        await asyncio.gather(*calls)
        await asyncio.sleep(5.0)  # the last offers arrive
        await scheduling_channel.close()
        follower.cancel()
        latencies = [(clock.first[s] - t) * 1000 for s, t in posted.items() if s in clock.first]
        return {
            "clinicians": clinicians, "seeded_shifts": seeded.counts["shifts"],
            "seed_seconds": seed_seconds, "settle_seconds": settle_seconds,
            "initial_offers": initial_offers, "rate": rate, "seconds": seconds,
            "posted": len(posted), "offered": len(latencies),
            "never_offered": len(posted) - len(latencies), "latencies_ms": latencies,
            "p50": percentile(latencies, 0.5) if latencies else None,
            "p90": percentile(latencies, 0.9) if latencies else None,
            "p99": percentile(latencies, 0.99) if latencies else None,
            "max": max(latencies) if latencies else None,
            "mean": statistics.fmean(latencies) if latencies else None, "logs": str(logs),
        }  # fmt: skip
    finally:
        services.stop_all()


def _histogram(latencies: list[float]) -> str:
    """An SVG histogram of the latencies (25 ms bins up to 1 s, the rest in the last bin)."""
    return svg.histogram(
        f"Shift posted to first offer (ms), {len(latencies)} shifts", latencies, 25.0, 41,
        (0, 150, 250, 500, 750, 1000), "last bar: 1 s and more",
    )  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--clinicians", type=int, default=2000)
    parser.add_argument("--shifts", type=int, default=1000)
    parser.add_argument("--rate", type=float, default=20.0)
    parser.add_argument("--seconds", type=float, default=60.0)
    args = parser.parse_args(argv)
    result = asyncio.run(bench(args.clinicians, args.shifts, args.rate, args.seconds))
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "offers.svg").write_text(_histogram(result["latencies_ms"]), encoding="utf-8")
    lines = [
        "# Shift posted -> first offer", "",
        f"{result['clinicians']} clinicians, {result['seeded_shifts']} seeded shifts "
        f"(seeded in {result['seed_seconds']:.1f} s, {result['initial_offers']} offers, quiet "
        f"after {result['settle_seconds']:.1f} s); {result['posted']} shifts posted at "
        f"{result['rate']:g}/s for {result['seconds']:g} s; {result['offered']} offered, "
        f"{result['never_offered']} with no clinician who can take them.", "",
        "| p50 ms | p90 ms | p99 ms | max ms | mean ms |", "|---|---|---|---|---|",
        "| " + " | ".join("-" if result[k] is None else f"{result[k]:.0f}"
                         for k in ("p50", "p90", "p99", "max", "mean")) + " |",
    ]  # fmt: skip
    (RESULTS / "offers.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    figures = {k: v for k, v in result.items() if k != "logs"}
    figures |= {"shifts": args.shifts, "measured": datetime.now(UTC).isoformat(timespec="seconds")}
    (RESULTS / "offers.json").write_text(json.dumps(figures, indent=1) + "\n", encoding="utf-8")
    print("\n".join(lines))
    print(f"logs: {result['logs']}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
