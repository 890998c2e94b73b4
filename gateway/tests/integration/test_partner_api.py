"""The partner gRPC API at the gateway, on the whole stack: API keys issued and revoked through
REST; bulk posting 1,000 shifts with refusals named; one organisation's key sees nothing of
another's; a stream interrupted and resumed from its cursor sees every event once; bad input is
INVALID_ARGUMENT or NOT_FOUND naming the field; grpcurl lists and calls the service."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import uuid
from collections.abc import AsyncIterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import grpc
import pytest
import pytest_asyncio
from gateway.testing import Stack
from vsm.licensing.v1 import licensing_service_pb2 as lpb
from vsm.partner.v1 import events_pb2 as epb
from vsm.partner.v1 import partner_service_pb2 as pb
from vsm.partner.v1 import partner_service_pb2_grpc as pb_grpc
from vsm.scheduling.v1 import scheduling_service_pb2 as spb
from vsm_platform.grpc_server import channel

pytestmark = pytest.mark.integration
EVERY_DAY = [spb.AvailabilityWindow(day=d, start="00:00", end="00:00")
             for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")]  # fmt: skip


@pytest_asyncio.fixture(scope="module")
async def orgs(stack: Stack) -> dict[str, Any]:
    """Two organisations, each with a facility and a partner API key."""
    made: dict[str, Any] = {}
    for name in ("alpha", "beta"):
        org = await stack.sign_up_organization(name)
        admin = await stack.as_user(org["email"])
        facility = f"{name}-{uuid.uuid4().hex[:6]}"
        saved = await admin.put(f"/v1/facilities/{facility}", json={
            "facility_id": facility, "name": f"{name} clinic", "zone": "America/Chicago",
            "jurisdictions": ["US-KS"]})  # fmt: skip
        assert saved.status_code == 200, saved.text
        issued = await admin.post(
            f"/v1/organizations/{org['organization_id']}/api-keys", json={"name": "VMS"}
        )
        assert issued.status_code == 201, issued.text
        made[name] = {"org": org["organization_id"], "facility": facility,
                      "key": issued.json()["key"], "key_id": issued.json()["key_id"],
                      "admin": admin}  # fmt: skip
    return made


@pytest_asyncio.fixture(scope="module")
async def stub(stack: Stack) -> AsyncIterator[Any]:
    async with channel(stack.partner_addr) as opened:
        yield pb_grpc.PartnerServiceStub(opened)  # type: ignore[no-untyped-call]


def _key(key: str) -> list[tuple[str, str]]:
    return [("x-api-key", key)]


def _day(offset: int) -> str:
    return (date.today() + timedelta(days=offset)).isoformat()


def _draft(facility: str, day: str, hour: int = 9, **more: Any) -> pb.ShiftDraft:
    return pb.ShiftDraft(
        facility_id=facility, profession="RN", patient_jurisdictions=["US-KS"],
        local_start=f"{day}T{hour:02d}:00", local_end=f"{day}T{hour + 4:02d}:00", positions=1,
        pay_cents_per_hour=9000, scope_of_work="telehealth triage", **more,
    )  # fmt: skip


async def test_bulk_posting_a_thousand_shifts_names_each_refusal(
    stub: Any, orgs: dict[str, Any]
) -> None:
    alpha, beta = orgs["alpha"], orgs["beta"]
    drafts = [_draft(alpha["facility"], _day(30 + i % 60), 6 + i % 12) for i in range(1000)]
    drafts.append(_draft(alpha["facility"], "2027-13-40"))  # no such date
    drafts.append(_draft(beta["facility"], _day(31)))  # another organisation's facility
    started = asyncio.get_running_loop().time()
    answer = await stub.PostShifts(pb.PostShiftsRequest(shifts=drafts), metadata=_key(alpha["key"]),
                                   timeout=300)  # fmt: skip
    seconds = asyncio.get_running_loop().time() - started
    print(f"posted 1,000 shifts in one call in {seconds:.1f} s")  # noqa: T201
    assert (answer.posted, answer.refused) == (1000, 2)
    assert [r.index for r in answer.results] == list(range(1002))
    assert answer.results[1000].error.field == "shifts[1000].local_start"
    assert answer.results[1000].error.code == "INVALID_ARGUMENT"
    assert answer.results[1001].error.field == "shifts[1001].facility_id"
    assert answer.results[1001].error.code == "NOT_FOUND"
    assert len({r.shift.shift_id for r in answer.results[:1000]}) == 1000

    with pytest.raises(grpc.aio.AioRpcError) as refused:  # oversized
        await stub.PostShifts(pb.PostShiftsRequest(shifts=[drafts[0]] * 2001),
                              metadata=_key(alpha["key"]))  # fmt: skip
    assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert (refused.value.details() or "").startswith("shifts")


async def test_a_key_sees_nothing_of_another_organisation(
    stack: Stack, stub: Any, orgs: dict[str, Any]
) -> None:
    alpha, beta = orgs["alpha"], orgs["beta"]
    one = pb.PostShiftsRequest(shifts=[_draft(alpha["facility"], _day(3))])
    posted = await stub.PostShifts(one, metadata=_key(alpha["key"]))
    shift_id = posted.results[0].shift.shift_id
    found = await stub.GetShift(pb.GetShiftRequest(shift_id=shift_id), metadata=_key(alpha["key"]))
    assert found.shift.facility_id == alpha["facility"]
    for call, request in (
        (stub.GetShift, pb.GetShiftRequest(shift_id=shift_id)),
        (stub.GetShiftStatus, pb.GetShiftStatusRequest(shift_id=shift_id)),
        (stub.GetRoster, pb.GetRosterRequest(facility_id=alpha["facility"])),
        (stub.GetClinicianSchedule, pb.GetClinicianScheduleRequest(clinician_id="nobody")),
    ):
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            await call(request, metadata=_key(beta["key"]))
        assert refused.value.code() == grpc.StatusCode.NOT_FOUND, call
        assert alpha["facility"] not in (refused.value.details() or "") or call == stub.GetRoster
    cancel = pb.CancelShiftsRequest(cancellations=[pb.ShiftCancellation(shift_id=shift_id)])
    cancelled = await stub.CancelShifts(cancel, metadata=_key(beta["key"]))
    assert cancelled.results[0].error.code == "NOT_FOUND"
    still = await stub.GetShift(pb.GetShiftRequest(shift_id=shift_id), metadata=_key(alpha["key"]))
    assert still.shift.state == spb.SHIFT_STATE_OPEN

    for metadata in ([], _key("vsm_made_up"), [("authorization", "Bearer nonsense")]):
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            await stub.GetShift(pb.GetShiftRequest(shift_id=shift_id), metadata=metadata)
        assert refused.value.code() == grpc.StatusCode.UNAUTHENTICATED

    extra = await beta["admin"].post(f"/v1/organizations/{beta['org']}/api-keys",
                                     json={"name": "to revoke"})  # fmt: skip
    revoked_key = extra.json()["key"]
    await stub.GetRoster(pb.GetRosterRequest(facility_id=beta["facility"]),
                         metadata=_key(revoked_key))  # fmt: skip
    gone = await beta["admin"].delete(
        f"/v1/organizations/{beta['org']}/api-keys/{extra.json()['key_id']}"
    )
    assert gone.status_code == 204
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await stub.GetRoster(pb.GetRosterRequest(facility_id=beta["facility"]),
                             metadata=_key(revoked_key))  # fmt: skip
    assert refused.value.code() == grpc.StatusCode.UNAUTHENTICATED
    other = await orgs["alpha"]["admin"].get(f"/v1/organizations/{beta['org']}/api-keys")
    assert other.status_code == 404


async def _collect(
    stub: Any, key: str, cursor: epb.StreamCursor, count: int = 0, quiet: float = 5.0
) -> list[Any]:
    """Reads a stream until `count` events (if given) or until it is quiet, then hangs up."""
    events: list[Any] = []
    call = stub.Subscribe(pb.SubscribeRequest(cursor=cursor), metadata=_key(key))
    stream = call.__aiter__()
    try:
        while not count or len(events) < count:
            try:
                events.append(await asyncio.wait_for(stream.__anext__(), quiet))
            except (TimeoutError, StopAsyncIteration):
                break
    finally:
        call.cancel()
    return events


async def _nurses(stub: Any, key: str, count: int) -> list[str]:
    """Clinicians the organisation's credentialing system enters, with verified licences."""
    nurses = [f"n-{uuid.uuid4().hex[:8]}" for _ in range(count)]
    profiles = [pb.ClinicianUpsert(residence="US-KS", profile=spb.WorkProfile(
        clinician_id=n, profession="RN", zone="America/Chicago", rate_cents_per_hour=5000,
        availability=EVERY_DAY, max_minutes_per_week=6000, min_rest_minutes=60))
        for n in nurses]  # fmt: skip
    saved = await stub.UpsertClinicians(
        pb.UpsertCliniciansRequest(clinicians=profiles), metadata=_key(key)
    )
    assert not [r.error for r in saved.results if r.HasField("error")]
    licences = [pb.LicenceUpsert(clinician_id=n, licence=lpb.Licence(
        licence_id="ks", jurisdiction="US-KS", profession="RN", number=f"RN-{n}",
        status=lpb.STATUS_ACTIVE, issued="2020-01-01", expires="2030-01-01"))
        for n in nurses]  # fmt: skip
    added = await stub.UpsertLicences(
        pb.UpsertLicencesRequest(licences=licences), metadata=_key(key)
    )
    record = added.results[0].record
    assert record.licences[0].verification.verification == lpb.VERIFICATION_PARTNER
    return nurses


async def test_a_stream_resumed_from_its_cursor_sees_every_event_once(
    stub: Any, orgs: dict[str, Any]
) -> None:
    alpha, beta = orgs["alpha"], orgs["beta"]
    nurses = await _nurses(stub, alpha["key"], 3)
    theirs = spb.WorkProfile(clinician_id=nurses[0], profession="RN", zone="UTC")
    taken = await stub.UpsertClinicians(
        pb.UpsertCliniciansRequest(clinicians=[pb.ClinicianUpsert(profile=theirs)]),
        metadata=_key(beta["key"]),
    )
    assert taken.results[0].error.code == "NOT_FOUND"  # another organisation's clinician

    async def post(days: list[int]) -> list[str]:
        drafts = [_draft(alpha["facility"], _day(d), 10) for d in days]
        posted = await stub.PostShifts(pb.PostShiftsRequest(shifts=drafts),
                                       metadata=_key(alpha["key"]))  # fmt: skip
        return [r.shift.shift_id for r in posted.results]

    outsider = asyncio.create_task(_collect(stub, beta["key"], epb.StreamCursor(), quiet=10))
    anchor_task = asyncio.create_task(_collect(stub, alpha["key"], epb.StreamCursor(), count=1))
    await asyncio.sleep(1.5)  # both read from the logs' ends by now
    shifts = await post([40, 41, 42])
    anchor = (await anchor_task)[0].cursor  # a point in the flow of offers
    first_part = await _collect(stub, alpha["key"], anchor, count=3)  # then it hangs up
    shifts += await post([43, 44])  # the market goes on while it is away
    await stub.CancelShifts(pb.CancelShiftsRequest(cancellations=[
        pb.ShiftCancellation(shift_id=shifts[0], reason="clinic closed")]),
        metadata=_key(alpha["key"]))  # fmt: skip
    rest = await _collect(stub, alpha["key"], first_part[-1].cursor, quiet=8)
    replay = await _collect(stub, alpha["key"], anchor, quiet=8)  # the same stretch, unbroken
    seen_by_beta = await outsider

    assert len(first_part) == 3
    resumed = [e.event_id for e in first_part + rest]
    assert len(resumed) == len(set(resumed))  # no repeat
    assert set(resumed) == {e.event_id for e in replay}  # no gap
    assert len(replay) >= 6, [e.type for e in replay]
    assert {epb.EVENT_KIND_OFFER, epb.EVENT_KIND_CANCELLATION} <= {e.kind for e in replay}
    cancelled = [e for e in replay if e.type == "ShiftCancelled"]
    assert [e.shift.shift_id for e in cancelled] == [shifts[0]]
    assert seen_by_beta == []  # the other organisation's key saw none of it

    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await _collect(stub, alpha["key"], epb.StreamCursor(position="not-a-cursor!"), 1)
    assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "cursor.position" in (refused.value.details() or "")


def _grpcurl() -> str:
    built = [Path(".cache/tools/bin/grpcurl"), Path.home() / "go/bin/grpcurl"]
    found = (os.environ.get("VSM_GRPCURL") or shutil.which("grpcurl")
             or next((str(p) for p in built if p.exists()), None))  # fmt: skip
    if not found:
        pytest.fail("grpcurl is not built: run `make grpcurl` (from the Go module proxy)")
    return found


async def test_grpcurl_lists_and_calls_the_partner_api(
    stack: Stack, stub: Any, orgs: dict[str, Any]
) -> None:
    alpha = orgs["alpha"]
    one = pb.PostShiftsRequest(shifts=[_draft(alpha["facility"], _day(5))])
    posted = await stub.PostShifts(one, metadata=_key(alpha["key"]))
    shift_id = posted.results[0].shift.shift_id

    async def grpcurl(*args: str) -> str:
        run = await asyncio.create_subprocess_exec(
            _grpcurl(), "-plaintext", *args, stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )  # fmt: skip
        out, err = await run.communicate()
        assert run.returncode == 0, err.decode()
        return out.decode()

    listed = await grpcurl(stack.partner_addr, "list")
    assert "vsm.partner.v1.PartnerService" in listed and "grpc.health.v1.Health" in listed
    methods = await grpcurl(stack.partner_addr, "list", "vsm.partner.v1.PartnerService")
    assert "vsm.partner.v1.PartnerService.Subscribe" in methods
    answer = await grpcurl("-H", f"x-api-key: {alpha['key']}", "-d",
                           json.dumps({"shift_id": shift_id}), stack.partner_addr,
                           "vsm.partner.v1.PartnerService/GetShift")  # fmt: skip
    shown = json.loads(answer)["shift"]
    assert shown.get("shift_id", shown.get("shiftId")) == shift_id
    health = await grpcurl(stack.partner_addr, "grpc.health.v1.Health/Check")
    assert "SERVING" in health


async def test_bad_input_is_refused_naming_the_field(
    stack: Stack, stub: Any, orgs: dict[str, Any]
) -> None:
    key = _key(orgs["alpha"]["key"])
    absurd = await stub.UpsertClinicians(pb.UpsertCliniciansRequest(clinicians=[
        pb.ClinicianUpsert(profile=spb.WorkProfile(
            clinician_id=f"z-{uuid.uuid4().hex[:6]}", profession="RN", zone="Mars/Olympus",
            rate_cents_per_hour=5000))]), metadata=key)  # fmt: skip
    error = absurd.results[0].error
    assert (error.code, error.field) == ("INVALID_ARGUMENT", "clinicians[0].profile.zone")
    long_ago = await stub.PostShifts(pb.PostShiftsRequest(shifts=[
        _draft(orgs["alpha"]["facility"], "0001-01-01")]), metadata=key)  # fmt: skip
    assert long_ago.results[0].error.field.startswith("shifts[0].")
    for call, request, field in (
        (stub.GetShift, pb.GetShiftRequest(), "shift_id"),
        (stub.GetShift, pb.GetShiftRequest(shift_id="no-such-shift"), "shift_id"),
        (stub.GetRoster, pb.GetRosterRequest(facility_id=""), "facility_id"),
        (stub.Solve, pb.SolveRequest(instance_json="{not json", time_limit_seconds=1), ""),
        (stub.Solve, pb.SolveRequest(instance_json="{}", time_limit_seconds=1e9),
         "time_limit_seconds"),
    ):  # fmt: skip
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            await call(request, metadata=key)
        assert refused.value.code() in (grpc.StatusCode.INVALID_ARGUMENT,
                                        grpc.StatusCode.NOT_FOUND), request  # fmt: skip
        assert (refused.value.details() or "").startswith(field), refused.value.details()
    async with channel(stack.partner_addr) as opened:
        raw: Any = opened.unary_unary("/vsm.partner.v1.PartnerService/PostShifts")
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            await raw(b"\x0a\xff\xff\xff\xff\x0f garbage", metadata=key)
        assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT


async def test_a_partners_verification_counts_for_its_own_organisation_only(
    stub: Any, orgs: dict[str, Any]
) -> None:
    alpha, beta = orgs["alpha"], orgs["beta"]
    await _nurses(stub, alpha["key"], 2)  # vouched for by alpha's credentialing system only
    day = _day(25)  # clear of the thousand shifts above (days 30 to 89), so no clash
    ours = await stub.PostShifts(pb.PostShiftsRequest(shifts=[_draft(alpha["facility"], day, 11)]),
                                 metadata=_key(alpha["key"]))  # fmt: skip
    theirs = await stub.PostShifts(pb.PostShiftsRequest(shifts=[_draft(beta["facility"], day, 11)]),
                                   metadata=_key(beta["key"]))  # fmt: skip
    ours_id, theirs_id = ours.results[0].shift.shift_id, theirs.results[0].shift.shift_id

    async def offers_out(key: str, shift_id: str) -> int:
        """Offers out on the shift; -1 while the matching service has not seen it yet."""
        try:
            found = await stub.GetShiftStatus(pb.GetShiftStatusRequest(shift_id=shift_id),
                                              metadata=_key(key))  # fmt: skip
        except grpc.aio.AioRpcError as error:
            if error.code() == grpc.StatusCode.NOT_FOUND:
                return -1
            raise
        out: int = found.status.offers_out
        return out

    for _ in range(300):
        if (
            await offers_out(alpha["key"], ours_id) >= 1
            and await offers_out(beta["key"], theirs_id) >= 0
        ):
            break
        await asyncio.sleep(0.2)
    assert await offers_out(alpha["key"], ours_id) >= 1  # alpha's nurses for alpha's shift
    await asyncio.sleep(2)
    assert await offers_out(beta["key"], theirs_id) == 0  # but not for beta's, same hour, place
