"""The matching contract over a real local gRPC server (the market of conftest.py): offers, why
a shift is unfilled said in aggregate and never naming a clinician, why a clinician was not
offered it with the facility's do-not-return list kept private, supply for the heat map, and a
batch Solve held to the yardstick; bad fields named."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import grpc
import pytest
import pytest_asyncio
from matching.grpc_api import SERVICE_NAME, register
from vsm.common.v1 import common_pb2
from vsm.matching.v1 import matching_service_pb2 as pb
from vsm.matching.v1 import matching_service_pb2_grpc as pb_grpc
from vsm.scheduling.v1 import events_pb2 as sev
from vsm.scheduling.v1 import scheduling_service_pb2 as spb
from vsm_infra.testing import load_yardstick
from vsm_platform.grpc_server import channel, start_server


def _clinician(who: str) -> common_pb2.Actor:
    return common_pb2.Actor(kind=common_pb2.ACTOR_KIND_USER, id=who, role="clinician")


@pytest_asyncio.fixture
async def api(market: Any) -> AsyncIterator[tuple[Any, Any]]:
    matcher = market[0]
    server = await start_server("127.0.0.1:0", [register(matcher, matcher.store)], [SERVICE_NAME])
    client = channel(f"127.0.0.1:{server.port}")
    try:
        yield pb_grpc.MatchingServiceStub(client), market
    finally:
        await client.close()
        await server.stop(0)


def _shift(view: Any, shift_id: str, day: int, jurisdiction: str) -> None:
    shift = spb.Shift(shift_id=shift_id, facility_id="f1", profession="RN", positions=1,
                      version=1, patient_jurisdictions=[jurisdiction],
                      pay_cents_per_hour=9000)  # fmt: skip
    shift.interval.start.FromDatetime(datetime(2027, 3, day, 14, tzinfo=UTC))
    shift.interval.end.FromDatetime(datetime(2027, 3, day, 22, tzinfo=UTC))
    view.apply(sev.ShiftPosted(shift=shift))


async def test_why_a_shift_is_unfilled_is_said_in_aggregate(api: Any) -> None:
    stub, (matcher, view, _, _) = api
    await matcher.rematch("RN")
    open_one = await stub.ExplainUnfilled(pb.ExplainUnfilledRequest(shift_id="s1"))
    assert open_one.clinicians_fit == 3
    assert "2 offers are awaiting an answer" in open_one.reasons
    _shift(view, "s-nj", 10, "US-NJ")
    _shift(view, "s-thu", 11, "US-KS")  # everyone declared Wednesdays only
    nj = await stub.ExplainUnfilled(pb.ExplainUnfilledRequest(shift_id="s-nj"))
    assert nj.reasons == ["no RN clinician with the skills is licensed for US-NJ"]
    thursday = await stub.ExplainUnfilled(pb.ExplainUnfilledRequest(shift_id="s-thu"))
    assert thursday.reasons == ["no RN licensed for US-KS is available 08:00-16:00 CST"]
    said = " ".join([*open_one.reasons, *nj.reasons, *thursday.reasons])
    assert "c-" not in said  # no clinician is named
    with pytest.raises(grpc.aio.AioRpcError) as missing:
        await stub.ExplainUnfilled(pb.ExplainUnfilledRequest(shift_id="nope"))
    assert missing.value.code() == grpc.StatusCode.NOT_FOUND


async def test_a_clinician_learns_why_without_the_facilitys_private_list(api: Any) -> None:
    stub, _ = api

    async def why(clinician: str, asker: str | None = None) -> Any:
        request = pb.WhyNotOfferedRequest(actor=_clinician(asker or clinician), shift_id="s1",
                                          clinician_id=clinician)  # fmt: skip
        return await stub.WhyNotOffered(request)

    barred = await why("c-barred")
    assert (barred.fits, list(barred.reasons)) == (False, ["not available for this facility"])
    unlicensed = await why("c-unlicensed")
    assert not unlicensed.fits and unlicensed.reasons[0].startswith("licensing: refused")
    assert (await why("c-cheap")).fits
    with pytest.raises(grpc.aio.AioRpcError) as nosy:
        await why("c-cheap", asker="c-dear")
    assert nosy.value.code() == grpc.StatusCode.PERMISSION_DENIED


async def test_supply_by_jurisdiction_and_hour(api: Any) -> None:
    stub, _ = api
    request = pb.GetSupplyRequest(profession="RN", jurisdictions=["US-KS", "US-NJ"])
    request.window.start.FromDatetime(datetime(2027, 3, 10, 11, 30, tzinfo=UTC))  # 06:30 NY
    request.window.end.FromDatetime(datetime(2027, 3, 10, 13, 0, tzinfo=UTC))
    cells = (await stub.GetSupply(request)).cells
    # from 07:00 in New York (12:00 UTC) the four on trusted Kansas licences; nobody in NJ
    assert [(c.jurisdiction, c.hour, c.clinicians) for c in cells] == [
        ("US-KS", "2027-03-10T12:00:00Z", 4)
    ]
    request.profession = "XX"
    with pytest.raises(grpc.aio.AioRpcError) as bad:
        await stub.GetSupply(request)
    assert (bad.value.details() or "").startswith("profession")


async def test_solve_answers_an_instance_the_yardstick_accepts(api: Any) -> None:
    stub, _ = api
    yardstick = load_yardstick()
    document = yardstick.generate(3, 60, 30, "2027-03-08T00:00:00Z", 7)
    answer = await stub.Solve(pb.SolveRequest(instance_json=json.dumps(document),
                                              time_limit_seconds=2))  # fmt: skip
    errors, score, _ = yardstick.validate(
        yardstick.Instance(document), json.loads(answer.answer_json)
    )
    assert errors == [] and answer.filled > 0
    assert abs(score - answer.score) < 1 and answer.bound >= answer.score - 1
    for request, field in [(pb.SolveRequest(instance_json="{"), "instance_json"),
                           (pb.SolveRequest(instance_json="{}"), "format"),
                           (pb.SolveRequest(instance_json="{}", time_limit_seconds=99),
                            "time_limit_seconds")]:  # fmt: skip
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            await stub.Solve(request)
        assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert (refused.value.details() or "").startswith(field)


def _instance(**clinician: Any) -> dict[str, Any]:
    return {
        "format": "vsm-match/1", "horizon": {"start": "2027-03-08T00:00:00Z",
                                             "end": "2027-03-15T00:00:00Z"},
        "facilities": [{"id": "f1", "tz": "America/New_York"}],
        "clinicians": [{"id": "c1", "profession": "RN", "tz": "UTC", "home": "US-TX",
                        "licences": [], "availability": [], **clinician}],
        "shifts": [{"id": "s1", "facility": "f1", "profession": "RN", "positions": 1,
                    "start": "2027-03-09T13:00:00Z", "end": "2027-03-09T21:00:00Z",
                    "value_cents": 120000}],
    }  # fmt: skip


async def test_solve_refuses_an_instance_of_absurd_shape_or_numbers_naming_the_field(
    api: Any,
) -> None:
    """Each was INTERNAL: a RecursionError from the JSON parser, an AttributeError on a part
    of the wrong kind, and an overflow of the engine's 64-bit arithmetic on a huge rate."""
    stub, _ = api
    wrong_kind = {**_instance(), "clinicians": [None]}
    for document, field in (
        ("[" * 100_000, "instance_json: nested too deeply"),
        (json.dumps(wrong_kind), "instance_json: not a vsm-match/1 instance"),
        (json.dumps(_instance(rate_cents_per_hour=2**70)), "clinicians[0].rate_cents_per_hour"),
        (json.dumps(_instance(rate_cents_per_hour=2**62)), "clinicians[0].rate_cents_per_hour"),
        (json.dumps(_instance(min_rest_minutes=float("inf"))), "clinicians[0].min_rest_minutes"),
        (json.dumps({**_instance(), "shifts": [{**_instance()["shifts"][0], "value_cents": -1}]}),
         "shifts[0].value_cents"),
    ):  # fmt: skip
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            await stub.Solve(pb.SolveRequest(instance_json=document, time_limit_seconds=1))
        assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert (refused.value.details() or "").startswith(field), refused.value.details()
    answer = await stub.Solve(pb.SolveRequest(instance_json=json.dumps(_instance(
        rate_cents_per_hour=5000)), time_limit_seconds=1))  # fmt: skip
    assert answer.positions == 1
