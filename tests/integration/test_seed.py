"""`vsm seed` against the licensing and scheduling processes on the real servers: a generated
instance is loaded through the APIs and then means what the instance means. Every licensing
decision equals the yardstick's rule 3, every assignment of the yardstick's greedy answer books,
and seeding again adds nothing."""

from __future__ import annotations

import copy
from datetime import UTC
from typing import Any

import pytest
from vsm.licensing.v1 import licensing_service_pb2 as lpb
from vsm.licensing.v1 import licensing_service_pb2_grpc as lgrpc
from vsm.scheduling.v1 import scheduling_service_pb2 as spb
from vsm.scheduling.v1 import scheduling_service_pb2_grpc as sgrpc
from vsm_cli.seed import SEEDER, seed
from vsm_infra.testing import ServiceProcesses, load_yardstick
from vsm_platform.grpc_server import channel

pytestmark = pytest.mark.integration


async def test_a_seeded_instance_means_what_the_instance_means(
    services: ServiceProcesses, kafka_bootstrap: str
) -> None:
    await services.ensure_topics()
    yardstick = load_yardstick()
    document = yardstick.generate(11, 90, 45, "2027-03-08T00:00:00Z", 7)
    licensing_addr = services.start("licensing", "licensing.main")
    scheduling_addr = services.start("scheduling", "scheduling.main")
    await services.serving("licensing", "scheduling")

    seeded = await seed(copy.deepcopy(document), licensing_addr, scheduling_addr,
                        instance_compacts=True)  # fmt: skip
    booked = sum(len(c.get("booked", [])) for c in document["clinicians"])
    assert seeded.counts["shifts"] == len(document["shifts"])
    assert seeded.counts["clinicians"] == len(document["clinicians"])
    assert seeded.counts["bookings"] == booked > 0
    assert seeded.counts["compacts"] == len(document["compacts"])
    phases = list(seeded.seconds)  # work agreed elsewhere stands before a shift can be offered
    assert phases.index("bookings") < phases.index("shifts")

    inst = yardstick.Instance(copy.deepcopy(document))
    licensing_channel, scheduling_channel = channel(licensing_addr), channel(scheduling_addr)
    try:
        licensing = lgrpc.LicensingServiceStub(licensing_channel)
        scheduling = sgrpc.SchedulingServiceStub(scheduling_channel)
        await _same_instants_and_worth(scheduling, document, seeded.shift_ids)
        await _same_licensing(licensing, inst, document)
        await _greedy_answer_books(scheduling, yardstick, inst, seeded.shift_ids)
        again = await seed(copy.deepcopy(document), licensing_addr, scheduling_addr,
                           instance_compacts=True)  # fmt: skip
        # shifts are posted once per instance and id: the same ones come back, none is added
        assert again.shift_ids == seeded.shift_ids
        assert {k: v for k, v in again.counts.items() if k not in ("compacts", "shifts")} == {}
        listed = 0
        for facility in document["facilities"]:
            roster = await scheduling.GetRoster(spb.GetRosterRequest(facility_id=facility["id"]))
            listed += len(roster.entries)
        assert listed == len(document["shifts"])
    finally:
        await licensing_channel.close()
        await scheduling_channel.close()


async def _same_instants_and_worth(
    scheduling: Any, document: dict[str, Any], shift_ids: dict[str, str]
) -> None:
    """Each shift runs at the instance's instants and pays its value (to the cent an hour)."""
    for raw in document["shifts"]:
        read = spb.GetShiftRequest(shift_id=shift_ids[raw["id"]])
        shift = (await scheduling.GetShift(read)).shift
        start = shift.interval.start.ToDatetime(tzinfo=UTC)
        end = shift.interval.end.ToDatetime(tzinfo=UTC)
        assert (start.isoformat(), end.isoformat()) == (
            raw["start"].replace("Z", "+00:00"), raw["end"].replace("Z", "+00:00")
        )  # fmt: skip
        hours = (end - start).total_seconds() / 3600
        assert abs(shift.pay_cents_per_hour * hours - raw["value_cents"]) <= hours


async def _same_licensing(licensing: Any, inst: Any, document: dict[str, Any]) -> None:
    """The licensing service decides every jurisdiction of every same-profession pair as the
    yardstick's rule 3 does."""
    checks, expected = [], []
    for c in document["clinicians"]:
        if not document["professions"][c["profession"]]["licensed"]:
            continue
        for s in document["shifts"]:
            if s["profession"] != c["profession"]:
                continue
            check = lpb.CheckEligibilityRequest(
                clinician_id=c["id"], profession=s["profession"],
                patient_jurisdictions=s["patient_jurisdictions"],
            )  # fmt: skip
            check.interval.start.FromJsonString(s["start"])
            check.interval.end.FromJsonString(s["end"])
            checks.append(check)
            start, end = inst.shifts[s["id"]]["_start"], inst.shifts[s["id"]]["_end"]
            expected.append([inst.licensed(inst.clinicians[c["id"]], j, start, end)
                             for j in s["patient_jurisdictions"]])  # fmt: skip
    answer = await licensing.CheckEligibilityBatch(lpb.CheckEligibilityBatchRequest(checks=checks))
    decided = [[v.allowed for v in r.decision.verdicts] for r in answer.results]
    assert len(checks) > 100 and any(not all(e) for e in expected) and any(map(all, expected))
    assert decided == expected


async def _greedy_answer_books(
    scheduling: Any, yardstick: Any, inst: Any, shift_ids: dict[str, str]
) -> None:
    """A valid answer is bookable pair by pair: every hard rule of the services agrees."""
    answer = yardstick.greedy(inst)["assignments"]
    assert len(answer) > 10
    refused = []
    for pair in answer:
        request = spb.BookRequest(actor=SEEDER, shift_id=shift_ids[pair["shift"]],
                                  clinician_id=pair["clinician"])  # fmt: skip
        try:
            await scheduling.Book(request)
        except Exception as error:  # collected, reported together
            refused.append((pair, str(error)))
    assert refused == []
