"""serve(): health, reflection, typed errors as status codes, graceful stop — on a real channel."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import grpc
import pytest
import pytest_asyncio
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc
from pymongo.errors import DocumentTooLarge, ServerSelectionTimeoutError
from vsm.licensing.v1 import licensing_service_pb2 as pb
from vsm.licensing.v1 import licensing_service_pb2_grpc as pb_grpc
from vsm_platform.grpc_server import MAX_DETAILS, RunningServer, channel, start_server
from vsm_platform.values import MAX_ID_LENGTH
from vsm_rules.errors import Conflict, InvalidArgument, NotFound

SERVICE = pb.DESCRIPTOR.services_by_name["LicensingService"].full_name


class Licensing(pb_grpc.LicensingServiceServicer):  # type: ignore[misc]
    async def GetLicensingRecord(self, request, context):
        if request.clinician_id == "missing":
            raise NotFound("clinician missing has no licensing record")
        if request.clinician_id == "boom":
            raise RuntimeError("secret internals")
        if request.clinician_id == "too-large":
            raise DocumentTooLarge("BSON document too large (20000000 bytes)")
        if request.clinician_id == "database-down":
            raise ServerSelectionTimeoutError("127.0.0.1:27017: connection refused")
        if request.clinician_id.startswith("huge-"):
            raise NotFound(f"no licensing record for {'x' * 100_000!r}")
        return pb.GetLicensingRecordResponse(
            record=pb.LicensingRecord(clinician_id=request.clinician_id)
        )

    async def GetCompactHistory(self, request, context):
        return pb.GetCompactHistoryResponse(versions=[pb.CompactVersion(table_json=request.code)])

    async def AddLicence(self, request, context):
        if not request.licence.jurisdiction:
            raise InvalidArgument("licence.jurisdiction", "must be ISO 3166-2, e.g. US-TX")
        raise Conflict("record changed")


@pytest_asyncio.fixture
async def server() -> AsyncIterator[RunningServer]:
    running = await start_server(
        "127.0.0.1:0",
        [lambda s: pb_grpc.add_LicensingServiceServicer_to_server(Licensing(), s)],
        [SERVICE],
    )
    try:
        yield running
    finally:
        await running.stop(0)


async def test_health_reports_serving_for_the_server_and_each_service(server) -> None:
    async with channel(f"127.0.0.1:{server.port}") as chan:
        health = health_pb2_grpc.HealthStub(chan)
        for name in ("", SERVICE):
            reply = await health.Check(health_pb2.HealthCheckRequest(service=name))
            assert reply.status == health_pb2.HealthCheckResponse.SERVING


async def test_reflection_lists_the_services(server) -> None:
    async with channel(f"127.0.0.1:{server.port}") as chan:
        stub = reflection_pb2_grpc.ServerReflectionStub(chan)
        request = reflection_pb2.ServerReflectionRequest(list_services="")
        async for reply in stub.ServerReflectionInfo(iter([request])):
            names = {service.name for service in reply.list_services_response.service}
            assert SERVICE in names
            assert "grpc.health.v1.Health" in names
            break


async def test_domain_errors_become_status_codes_naming_the_field(server) -> None:
    async with channel(f"127.0.0.1:{server.port}") as chan:
        stub = pb_grpc.LicensingServiceStub(chan)
        with pytest.raises(grpc.aio.AioRpcError) as invalid:
            await stub.AddLicence(pb.AddLicenceRequest(licence=pb.Licence()))
        assert invalid.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert invalid.value.details().startswith("licence.jurisdiction:")
        with pytest.raises(grpc.aio.AioRpcError) as conflict:
            await stub.AddLicence(pb.AddLicenceRequest(licence=pb.Licence(jurisdiction="US-TX")))
        assert conflict.value.code() == grpc.StatusCode.ABORTED
        with pytest.raises(grpc.aio.AioRpcError) as missing:
            await stub.GetLicensingRecord(pb.GetLicensingRecordRequest(clinician_id="missing"))
        assert missing.value.code() == grpc.StatusCode.NOT_FOUND


async def test_malformed_request_bytes_are_invalid_argument_not_internal(server) -> None:
    async with channel(f"127.0.0.1:{server.port}") as chan:
        raw: Any = chan.unary_unary(f"/{SERVICE}/GetLicensingRecord")  # bytes in and out
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            await raw(b"\xff\xff\xff\xff not a protobuf message")
        assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert refused.value.details().startswith("request: not a valid message")
        stub = pb_grpc.LicensingServiceStub(chan)  # and the server serves on
        answer = await stub.GetLicensingRecord(pb.GetLicensingRecordRequest(clinician_id="c1"))
        assert answer.record.clinician_id == "c1"


async def test_an_unexpected_error_is_internal_without_leaking_its_message(server) -> None:
    async with channel(f"127.0.0.1:{server.port}") as chan:
        stub = pb_grpc.LicensingServiceStub(chan)
        with pytest.raises(grpc.aio.AioRpcError) as error:
            await stub.GetLicensingRecord(pb.GetLicensingRecordRequest(clinician_id="boom"))
        assert error.value.code() == grpc.StatusCode.INTERNAL
        assert "secret" not in error.value.details()
        assert "Traceback" not in error.value.details()


async def test_a_record_too_large_to_store_is_invalid_argument(server) -> None:
    async with channel(f"127.0.0.1:{server.port}") as chan:
        stub = pb_grpc.LicensingServiceStub(chan)
        with pytest.raises(grpc.aio.AioRpcError) as error:
            await stub.GetLicensingRecord(pb.GetLicensingRecordRequest(clinician_id="too-large"))
        assert error.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert (error.value.details() or "").startswith("request: too large to store")


async def test_an_unreachable_database_is_unavailable_so_the_caller_may_retry(server) -> None:
    async with channel(f"127.0.0.1:{server.port}") as chan:
        stub = pb_grpc.LicensingServiceStub(chan)
        with pytest.raises(grpc.aio.AioRpcError) as error:
            await stub.GetLicensingRecord(
                pb.GetLicensingRecordRequest(clinician_id="database-down")
            )
        assert error.value.code() == grpc.StatusCode.UNAVAILABLE
        assert error.value.details() == "the database is unreachable; try again"


async def test_a_message_of_20_mb_passes_both_ways(server) -> None:
    big = "x" * (20 * 1024 * 1024)
    async with channel(f"127.0.0.1:{server.port}") as chan:
        stub = pb_grpc.LicensingServiceStub(chan)
        reply = await stub.GetCompactHistory(pb.GetCompactHistoryRequest(code=big))
        assert len(reply.versions[0].table_json) == len(big)


async def test_an_id_too_long_to_be_a_key_is_invalid_argument_naming_it(server) -> None:
    async with channel(f"127.0.0.1:{server.port}") as chan:
        stub = pb_grpc.LicensingServiceStub(chan)
        long_id = "c" * (MAX_ID_LENGTH + 1)
        for call, request, field in (
            (stub.GetLicensingRecord, pb.GetLicensingRecordRequest(clinician_id=long_id),
             "clinician_id"),
            (stub.AddLicence, pb.AddLicenceRequest(licence=pb.Licence(licence_id=long_id)),
             "licence.licence_id"),
        ):  # fmt: skip
            with pytest.raises(grpc.aio.AioRpcError) as refused:
                await call(request)
            assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT
            assert refused.value.details() == f"{field}: at most {MAX_ID_LENGTH} characters"
        at_most = "c" * MAX_ID_LENGTH
        answer = await stub.GetLicensingRecord(pb.GetLicensingRecordRequest(clinician_id=at_most))
        assert answer.record.clinician_id == at_most


async def test_a_refusal_quoting_a_huge_value_keeps_its_code(server) -> None:
    """The status message travels in a header of at most 16 KB: a longer one was dropped on the
    way and the caller saw RESOURCE_EXHAUSTED instead of NOT_FOUND."""
    async with channel(f"127.0.0.1:{server.port}") as chan:
        stub = pb_grpc.LicensingServiceStub(chan)
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            await stub.GetLicensingRecord(pb.GetLicensingRecordRequest(clinician_id="huge-1"))
        details = refused.value.details() or ""
        assert refused.value.code() == grpc.StatusCode.NOT_FOUND
        assert details.startswith("no licensing record for 'xxx") and len(details) == MAX_DETAILS


async def test_stopping_reports_not_serving_first() -> None:
    running = await start_server("127.0.0.1:0", [], [SERVICE])
    await running.stop(0)
    reply = await running.health.Check(health_pb2.HealthCheckRequest(service=SERVICE), None)
    assert reply.status == health_pb2.HealthCheckResponse.NOT_SERVING


SERVE_SCRIPT = """
import asyncio, sys
from vsm_platform.grpc_server import serve
asyncio.run(serve(sys.argv[1], [], ["vsm.test.v1.Nothing"], grace=1.0))
print("stopped cleanly", flush=True)
"""


async def test_serve_stops_gracefully_on_sigterm() -> None:
    import asyncio
    import signal
    import sys

    from vsm_infra.testing import free_port

    address = f"127.0.0.1:{free_port()}"
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-c", SERVE_SCRIPT, address, stdout=asyncio.subprocess.PIPE
    )
    try:
        async with channel(address) as chan:
            health = health_pb2_grpc.HealthStub(chan)
            reply = await health.Check(
                health_pb2.HealthCheckRequest(), wait_for_ready=True, timeout=20
            )
            assert reply.status == health_pb2.HealthCheckResponse.SERVING
        process.send_signal(signal.SIGTERM)
        out, _ = await asyncio.wait_for(process.communicate(), 15)
    finally:
        if process.returncode is None:
            process.kill()
    assert process.returncode == 0
    assert b"stopped cleanly" in out
