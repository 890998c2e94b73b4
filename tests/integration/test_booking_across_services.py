"""A booking across the services, each its own process on the real servers: the licensing
service decides the licence, the scheduling service every other rule and the position."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import grpc
import pytest
import pytest_asyncio
from vsm.common.v1 import common_pb2
from vsm.licensing.v1 import licensing_service_pb2 as lpb
from vsm.licensing.v1 import licensing_service_pb2_grpc as lgrpc
from vsm.scheduling.v1 import scheduling_service_pb2 as spb
from vsm.scheduling.v1 import scheduling_service_pb2_grpc as sgrpc
from vsm_infra.testing import ServiceProcesses
from vsm_platform.grpc_server import channel

pytestmark = pytest.mark.integration
# org1's credentialing system: its verifications count at org1's facilities (all of this test's)
PARTNER = common_pb2.Actor(
    kind=common_pb2.ACTOR_KIND_PARTNER, id="credentials-inc", organization_id="org1"
)
OPERATOR = common_pb2.Actor(kind=common_pb2.ACTOR_KIND_USER, id="u-op", role="operator")
STAFF = common_pb2.Actor(
    kind=common_pb2.ACTOR_KIND_USER, id="u-f", role="facility_staff", organization_id="org1"
)


@pytest_asyncio.fixture
async def stubs(
    services: ServiceProcesses, kafka_bootstrap: str
) -> AsyncIterator[tuple[Any, Any, Any]]:
    """The licensing service and two scheduling processes sharing one database."""
    await services.ensure_topics()
    services.start("licensing", "licensing.main")
    services.start("scheduling", "scheduling.main")
    services.start("scheduling-2", "scheduling.main")
    names = ("licensing", "scheduling", "scheduling-2")
    await services.serving(*names)
    clients = [channel(services.address[n]) for n in names]
    try:
        await _organisation(sgrpc.SchedulingServiceStub(clients[1]))
        yield (
            lgrpc.LicensingServiceStub(clients[0]),
            sgrpc.SchedulingServiceStub(clients[1]),
            sgrpc.SchedulingServiceStub(clients[2]),
        )
    finally:
        for client in clients:
            await client.close()


async def _organisation(scheduling: Any) -> None:
    await scheduling.SaveOrganization(spb.SaveOrganizationRequest(
        actor=OPERATOR, organization=spb.Organization(organization_id="org1", name="Prairie")
    ))  # fmt: skip


async def test_a_licensed_nurse_is_booked_and_an_unlicensed_one_refused_with_the_reason(
    stubs: tuple[Any, Any, Any],
) -> None:
    licensing, scheduling, _ = stubs
    await _facility(scheduling)
    posted = await _shift(scheduling, positions=1)
    for clinician, home in (("c-tx", "US-TX"), ("c-ca", "US-CA")):
        await _clinician(licensing, scheduling, clinician, home)

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


async def _facility(scheduling: Any) -> None:
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


async def _shift(
    scheduling: Any, positions: int, start: str = "2027-03-10T08:00", end: str = "2027-03-10T16:00"
) -> Any:
    shift = spb.Shift(
        facility_id="f1",
        profession="RN",
        positions=positions,
        pay_cents_per_hour=9000,
        patient_jurisdictions=["US-KS"],
    )
    shift.local_start.local, shift.local_end.local = start, end
    return (await scheduling.PostShift(spb.PostShiftRequest(actor=STAFF, shift=shift))).shift


async def _clinician(licensing: Any, scheduling: Any, clinician: str, home: str) -> None:
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


async def _book(stub: Any, shift_id: str, clinician: str) -> str:
    """Book, retrying while the clinician's bookings are being changed elsewhere (ABORTED),
    for up to about 12 s (a loaded machine)."""
    for _ in range(600):
        try:
            await stub.Book(spb.BookRequest(actor=STAFF, shift_id=shift_id, clinician_id=clinician))
            return "booked"
        except grpc.aio.AioRpcError as error:
            if error.code() == grpc.StatusCode.ABORTED:
                await asyncio.sleep(0.02)
                continue
            details = error.details() or ""
            return "full" if "no free position" in details else "refused"
    return "gave up"


async def test_a_hundred_books_through_two_service_processes_fill_exactly_two_positions(
    stubs: tuple[Any, Any, Any],
) -> None:
    licensing, first, second = stubs
    await _facility(first)
    posted = await _shift(first, positions=2)
    clinicians = [f"c{i}" for i in range(100)]
    for start in range(0, 100, 20):
        await asyncio.gather(
            *(_clinician(licensing, first, c, "US-TX") for c in clinicians[start : start + 20])
        )
    outcomes = await asyncio.gather(
        *(_book(first if i % 2 else second, posted.shift_id, c) for i, c in enumerate(clinicians))
    )
    assert outcomes.count("booked") == 2 and outcomes.count("full") == 98, outcomes


async def test_twenty_overlapping_books_for_one_clinician_through_two_processes_book_one(
    stubs: tuple[Any, Any, Any],
) -> None:
    licensing, first, second = stubs
    await _facility(first)
    await _clinician(licensing, first, "c-one", "US-TX")
    shifts = [
        await _shift(first, 1, f"2027-03-10T08:{10 + i:02d}", f"2027-03-10T16:{10 + i:02d}")
        for i in range(20)
    ]
    outcomes = await asyncio.gather(
        *(_book(first if i % 2 else second, s.shift_id, "c-one") for i, s in enumerate(shifts))
    )
    assert outcomes.count("booked") == 1 and outcomes.count("refused") == 19, outcomes
