"""A matching process frozen (SIGSTOP) as soon as its first offer of a batch is stored, then
killed (SIGKILL), so it dies mid-batch: once it is back,
every shift has its offers, no offer was made twice, and every offer kept was announced by one
event (the relay delivers at least once: an event published just before the kill may be
published again after it, with the same id, which readers skip)."""

from __future__ import annotations

import asyncio
import os
import signal
import uuid
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from aiokafka import AIOKafkaConsumer
from pymongo import AsyncMongoClient
from vsm.common.v1 import common_pb2
from vsm.matching.v1 import events_pb2 as mev
from vsm.matching.v1 import matching_service_pb2 as mpb
from vsm.matching.v1 import matching_service_pb2_grpc as mgrpc
from vsm.scheduling.v1 import scheduling_service_pb2 as spb
from vsm.scheduling.v1 import scheduling_service_pb2_grpc as sgrpc
from vsm_cli.seed import seed
from vsm_infra.testing import ServiceProcesses
from vsm_platform.consumers import partitions_of
from vsm_platform.envelope import from_record
from vsm_platform.grpc_server import channel

pytestmark = pytest.mark.integration
SHIFTS, NURSES = 24, 12
EVERY_DAY = [{"day": d, "start": "00:00", "end": "00:00"}
             for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")]  # fmt: skip


def _market(name: str) -> dict[str, Any]:
    nurses = [{
        "id": f"{name}-c{i}", "profession": "RN", "tz": "America/New_York", "home": "US-KS",
        "skills": [name], "rate_cents_per_hour": 6000 + 50 * i, "availability": EVERY_DAY,
        "licences": [{"jurisdiction": "US-KS", "status": "active",
                      "expires": "2030-01-01T00:00:00Z", "compacts": []}],
        "max_minutes_per_week": 6000, "min_rest_minutes": 0, "booked": [],
    } for i in range(NURSES)]  # fmt: skip
    return {
        "format": "vsm-match/1", "name": name,
        "horizon": {"start": "2026-01-01T00:00:00Z", "end": "2030-01-01T00:00:00Z"},
        "compacts": [], "professions": {"RN": {"licensed": True}},
        "facilities": [{"id": f"f-{name}", "tz": "America/Chicago", "do_not_return": []}],
        "clinicians": nurses, "shifts": [],
    }  # fmt: skip


async def _announced(bootstrap: str, topic: str) -> dict[str, set[str]]:
    """The ids of the events announcing each offer as made, reading the topic to its end."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=None,
                                auto_offset_reset="earliest")  # fmt: skip
    await consumer.start()
    made: dict[str, set[str]] = defaultdict(set)
    try:
        partitions = await partitions_of(bootstrap, [topic])
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        ends = await consumer.end_offsets(partitions)
        while True:
            behind = [tp for tp, end in ends.items() if await consumer.position(tp) < end]
            if not behind:
                break
            for records in (await consumer.getmany(timeout_ms=500)).values():
                for record in records:
                    envelope = from_record(record.key, record.value, record.headers)
                    message = envelope.message()
                    if isinstance(message, mev.OfferMade):
                        made[message.offer.offer_id].add(envelope.id)
    finally:
        await consumer.stop()
    return made


async def test_a_matcher_killed_mid_batch_loses_no_offer_and_makes_none_twice(
    services: ServiceProcesses, kafka_bootstrap: str, mongodb_uri: str
) -> None:
    await services.ensure_topics()
    name = f"k{uuid.uuid4().hex[:6]}"
    licensing_addr = services.start("licensing", "licensing.main")
    scheduling_addr = services.start("scheduling", "scheduling.main")
    own = {"MATCHING_GROUP": f"test-{name}", "MATCHING_SOLVE_SECONDS": "0.3"}
    services.start("matching", "matching.main", **own)
    await services.serving("licensing", "scheduling", "matching")
    await seed(_market(name), licensing_addr, scheduling_addr)
    staff = common_pb2.Actor(kind=common_pb2.ACTOR_KIND_USER, id="u-staff",
                             role="facility_staff", organization_id=f"org-{name}")  # fmt: skip
    channels = [channel(scheduling_addr), channel(services.address["matching"])]
    try:
        scheduling = sgrpc.SchedulingServiceStub(channels[0])
        first = (datetime.now(UTC) + timedelta(days=2)).replace(minute=0, second=0, microsecond=0)
        chicago = ZoneInfo("America/Chicago")
        posted = []
        for n in range(SHIFTS):  # a facility posts a burst: one batch for the matcher
            start = (first + timedelta(hours=6 * n)).astimezone(chicago)
            shift = spb.Shift(facility_id=f"f-{name}", profession="RN", positions=1,
                              skills=[name], patient_jurisdictions=["US-KS"],
                              pay_cents_per_hour=9000)  # fmt: skip
            shift.local_start.local = start.strftime("%Y-%m-%dT%H:%M")
            shift.local_end.local = (start + timedelta(hours=4)).strftime("%Y-%m-%dT%H:%M")
            posted.append(spb.PostShiftRequest(
                actor=staff, shift=shift, start_reading=spb.WALL_TIME_READING_EARLIER,
                end_reading=spb.WALL_TIME_READING_EARLIER))  # fmt: skip
        answers = await asyncio.gather(*(scheduling.PostShift(r) for r in posted))
        shift_ids = [a.shift.shift_id for a in answers]

        async def offers(stub: Any) -> dict[str, int]:
            counts = {}
            for shift_id in shift_ids:
                listed = await stub.ListOffers(mpb.ListOffersRequest(shift_id=shift_id))
                counts[shift_id] = len(listed.offers)
            return counts

        client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(mongodb_uri)
        rows = client[services.env["MATCHING_DATABASE"]]["changes"]
        made_so_far = {"_id": {"$regex": r"^offer:.*:0000000001$"}}
        matcher = services.running["matching"]
        deadline = asyncio.get_running_loop().time() + 60
        while asyncio.get_running_loop().time() < deadline:
            if await rows.count_documents(made_so_far) > 0:
                os.kill(matcher.pid, signal.SIGSTOP)  # frozen at once, mid-batch
                break
            await asyncio.sleep(0.002)
        made_before = await rows.count_documents(made_so_far)
        services.kill("matching")  # SIGKILL works on a frozen process
        await client.close()
        assert 0 < made_before < 2 * SHIFTS, f"not killed mid-batch ({made_before} made)"
        services.start("matching", "matching.main", **own)
        await services.serving("matching")
        await channels[1].close()
        channels[1] = channel(services.address["matching"])
        stub = mgrpc.MatchingServiceStub(channels[1])
        deadline = asyncio.get_running_loop().time() + 60
        counts: dict[str, int] = {}
        while asyncio.get_running_loop().time() < deadline:
            counts = await offers(stub)
            if all(n >= 2 for n in counts.values()):
                break
            await asyncio.sleep(0.3)
        await asyncio.sleep(3)  # room for a duplicate, were there one
        counts = await offers(stub)
        assert set(counts.values()) == {2}, counts  # two per open position, none twice
        made = await _announced(kafka_bootstrap, f"{services.topic_prefix}vsm.matching.events.v1")
        kept = set()
        for shift_id in shift_ids:
            listed = await stub.ListOffers(mpb.ListOffersRequest(shift_id=shift_id))
            kept |= {o.offer_id for o in listed.offers}
        assert {offer_id: len(made[offer_id]) for offer_id in kept} == dict.fromkeys(kept, 1)
    finally:
        for open_channel in channels:
            await open_channel.close()
