"""A booking across the services, each its own process on the real servers: the licensing
service decides the licence, the scheduling service every other rule and the position."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import grpc
import pytest
import pytest_asyncio
from grpc_health.v1 import health_pb2, health_pb2_grpc
from vsm.common.v1 import common_pb2
from vsm.licensing.v1 import licensing_service_pb2 as lpb
from vsm.licensing.v1 import licensing_service_pb2_grpc as lgrpc
from vsm.scheduling.v1 import scheduling_service_pb2 as spb
from vsm.scheduling.v1 import scheduling_service_pb2_grpc as sgrpc
from vsm_infra.testing import free_port
from vsm_infra.topics import ensure_topics
from vsm_platform.grpc_server import channel

pytestmark = pytest.mark.integration
PARTNER = common_pb2.Actor(kind=common_pb2.ACTOR_KIND_PARTNER, id="credentials-inc")
STAFF = common_pb2.Actor(
    kind=common_pb2.ACTOR_KIND_USER, id="u-f", role="facility_staff", organization_id="org1"
)


@pytest.fixture
def addresses(mongodb_uri: str, kafka_bootstrap: str, tmp_path: Path) -> Iterator[dict[str, str]]:
    run = uuid.uuid4().hex[:8]
    found = {
        "LICENSING_ADDR": f"127.0.0.1:{free_port()}",
        "SCHEDULING_ADDR": f"127.0.0.1:{free_port()}",
    }
    env = {
        **os.environ,
        **found,
        "MONGODB_URI": mongodb_uri,
        "KAFKA_BOOTSTRAP": kafka_bootstrap,
        "LICENSING_DATABASE": f"test_lic_{run}",
        "SCHEDULING_DATABASE": f"test_sch_{run}",
    }
    processes = []
    for module in ("licensing.main", "scheduling.main"):
        log = (tmp_path / f"{module}.log").open("wb")
        processes.append(
            subprocess.Popen([sys.executable, "-m", module], env=env, stdout=log, stderr=log)
        )
    try:
        yield found
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()


async def _serving(address: str) -> None:
    async with channel(address) as client:
        stub = health_pb2_grpc.HealthStub(client)
        for _ in range(300):
            try:
                answer = await stub.Check(health_pb2.HealthCheckRequest(), timeout=2)
                if answer.status == health_pb2.HealthCheckResponse.SERVING:
                    return
            except grpc.aio.AioRpcError:
                pass
            await asyncio.sleep(0.2)
    pytest.fail(f"nothing serves at {address}")


@pytest_asyncio.fixture
async def stubs(addresses: dict[str, str], kafka_bootstrap: str) -> AsyncIterator[tuple[Any, Any]]:
    await ensure_topics(kafka_bootstrap)
    await asyncio.gather(*(_serving(a) for a in addresses.values()))
    licensing, scheduling = (
        channel(addresses["LICENSING_ADDR"]),
        channel(addresses["SCHEDULING_ADDR"]),
    )
    try:
        yield lgrpc.LicensingServiceStub(licensing), sgrpc.SchedulingServiceStub(scheduling)
    finally:
        await licensing.close()
        await scheduling.close()


async def test_a_licensed_nurse_is_booked_and_an_unlicensed_one_refused_with_the_reason(
    stubs: tuple[Any, Any],
) -> None:
    licensing, scheduling = stubs
    await scheduling.SaveFacility(
        spb.SaveFacilityRequest(
            actor=STAFF,
            facility=spb.Facility(
                facility_id="f1",
                organization_id="org1",
                name="Prairie Clinic",
                zone="America/Chicago",
                jurisdictions=["US-KS"],
            ),
        )
    )
    shift = spb.Shift(
        facility_id="f1",
        profession="RN",
        positions=1,
        pay_cents_per_hour=9000,
        patient_jurisdictions=["US-KS"],
    )
    shift.local_start.local, shift.local_end.local = "2027-03-10T08:00", "2027-03-10T16:00"
    posted = (await scheduling.PostShift(spb.PostShiftRequest(actor=STAFF, shift=shift))).shift
    for clinician, home in (("c-tx", "US-TX"), ("c-ca", "US-CA")):
        await scheduling.SaveProfile(
            spb.SaveProfileRequest(
                actor=STAFF,
                profile=spb.WorkProfile(
                    clinician_id=clinician,
                    profession="RN",
                    zone="America/New_York",
                    rate_cents_per_hour=8000,
                    max_minutes_per_week=2400,
                    min_rest_minutes=600,
                    availability=[spb.AvailabilityWindow(day="wed", start="07:00", end="23:00")],
                ),
            )
        )
        await licensing.SetResidence(
            lpb.SetResidenceRequest(actor=PARTNER, clinician_id=clinician, residence=home)
        )
        await licensing.AddLicence(
            lpb.AddLicenceRequest(
                actor=PARTNER,
                clinician_id=clinician,
                licence=lpb.Licence(
                    jurisdiction=home,
                    profession="RN",
                    status=lpb.STATUS_ACTIVE,
                    expires="2028-01-31",
                    multistate=home == "US-TX",
                ),
            )
        )

    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await scheduling.Book(
            spb.BookRequest(actor=STAFF, shift_id=posted.shift_id, clinician_id="c-ca")
        )
    assert refused.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert "licensing: refused" in (refused.value.details() or "")
    booked = (
        await scheduling.Book(
            spb.BookRequest(actor=STAFF, shift_id=posted.shift_id, clinician_id="c-tx")
        )
    ).booking
    assert (booked.clinician_id, booked.rate_cents_per_hour) == ("c-tx", 8000)
