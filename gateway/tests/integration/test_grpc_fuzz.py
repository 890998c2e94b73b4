"""A fuzzer over the gRPC messages, on the whole stack: every RPC of licensing, scheduling and
matching (called directly) and of the partner API (with a live key) gets generated requests
(malformed, oversized, absurd times and zones, unknown ids; protobuf_strategies) and answers
each without a server error; bytes that are not a message are refused; a request beyond the
servers' size limit is refused; afterwards every process still serves, an organisation made
before the fuzzing reads back unchanged, whatever the fuzzing stored reads back, and no service
logged an error.

The checks after the fuzzing read what the tests before them left (pytest runs a module's tests
in order). VSM_FUZZ_EXAMPLES=200 VSM_FUZZ_RANDOM=1 for a longer, different run each time. A
failing example names the method and gives the request in text format, to replay with a stub."""

from __future__ import annotations

import asyncio
import itertools
import json
import os
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import grpc
import pytest
import pytest_asyncio
from absurd_values import Hints
from gateway.testing import Stack
from google.protobuf import text_format
from google.protobuf.descriptor import FieldDescriptor, MethodDescriptor, ServiceDescriptor
from google.protobuf.message import Message
from google.protobuf.message_factory import GetMessageClass
from grpc_fuzz_world import (
    Organisation,
    compact_table,
    hints,
    key_metadata,
    organisation,
    snapshot,
    templates,
)
from hypothesis import HealthCheck, given, note, settings
from protobuf_strategies import length_delimited, malformed, messages
from vsm.licensing.v1 import licensing_service_pb2 as lpb
from vsm.matching.v1 import matching_service_pb2 as mpb
from vsm.partner.v1 import partner_service_pb2 as ppb
from vsm.scheduling.v1 import scheduling_service_pb2 as spb
from vsm_platform.grpc_server import wait_serving
from vsm_platform.settings import GRPC_OPTIONS, MAX_GRPC_MESSAGE_BYTES

pytestmark = pytest.mark.integration
EXAMPLES = int(os.environ.get("VSM_FUZZ_EXAMPLES", "25"))
RANDOM = os.environ.get("VSM_FUZZ_RANDOM") == "1"
Code = grpc.StatusCode
ALLOWED = frozenset({Code.OK, Code.INVALID_ARGUMENT, Code.NOT_FOUND, Code.FAILED_PRECONDITION,
                     Code.ALREADY_EXISTS, Code.PERMISSION_DENIED, Code.UNAUTHENTICATED,
                     Code.ABORTED, Code.OUT_OF_RANGE, Code.RESOURCE_EXHAUSTED})  # fmt: skip
STREAM_ALLOWED = ALLOWED | {Code.DEADLINE_EXCEEDED}  # a stream with nothing to say yet
UNARY_SECONDS, STREAM_SECONDS, STREAM_MESSAGES = 60.0, 1.0, 3
SERVICES: dict[str, ServiceDescriptor] = {
    "licensing": lpb.DESCRIPTOR.services_by_name["LicensingService"],
    "scheduling": spb.DESCRIPTOR.services_by_name["SchedulingService"],
    "matching": mpb.DESCRIPTOR.services_by_name["MatchingService"],
    "partner": ppb.DESCRIPTOR.services_by_name["PartnerService"],
}
Metadata = tuple[tuple[str, str], ...]
METHODS = [f"{target}.{m.name}" for target, s in SERVICES.items() for m in s.methods]
# What stored things are named by, in answers: each is read back after the fuzzing.
STORED = ("shift_id", "clinician_id", "facility_id", "organization_id", "code")


@dataclass
class World:
    baseline: Organisation  # made before the fuzzing, never named to it: must read back unchanged
    before: list[Message]
    fuzzed: Organisation  # the fuzzer's own: its ids and valid requests on it are mutated
    hints: Hints
    templates: dict[str, Message]
    stored: dict[str, set[str]]  # ids named in answers, by field name


@pytest_asyncio.fixture(scope="module")
async def world(stack: Stack) -> World:
    baseline, fuzzed = await asyncio.gather(
        organisation(stack, "kept"), organisation(stack, "fuzz")
    )
    table = await compact_table(stack)
    return World(baseline, await snapshot(stack, baseline), fuzzed,
                 hints(fuzzed, stack.processes.topic_prefix, table), templates(fuzzed, table),
                 defaultdict(set))  # fmt: skip


def _settings(examples: int) -> Callable[[Any], Any]:
    return settings(max_examples=examples, deadline=None, database=None, derandomize=not RANDOM,
                    suppress_health_check=list(HealthCheck), print_blob=RANDOM)  # fmt: skip


def _where(stack: Stack, world: World, target: str) -> tuple[str, Metadata]:
    """The address of the target's server and the metadata its calls carry."""
    if target == "partner":
        return stack.partner_addr, tuple(key_metadata(world.fuzzed.key))
    return stack.processes.address[target], ()


@dataclass(frozen=True)
class Answer:
    code: grpc.StatusCode
    details: str
    responses: list[Any]


def _serialized(message: Message) -> bytes:
    return message.SerializeToString()


def invoke(
    opened: grpc.Channel, method: MethodDescriptor, request: Message | bytes, metadata: Metadata
) -> Answer:
    """Calls the method (raw bytes go as they are); reads at most a few messages of a stream."""
    path = f"/{method.containing_service.full_name}/{method.name}"
    raw = isinstance(request, bytes)
    serialize = None if raw else _serialized
    deserialize = None if raw else GetMessageClass(method.output_type).FromString
    try:
        if not method.server_streaming:
            unary: Any = opened.unary_unary(path, request_serializer=serialize,
                                            response_deserializer=deserialize)  # fmt: skip
            return Answer(Code.OK, "", [unary(request, timeout=UNARY_SECONDS, metadata=metadata)])
        stream: Any = opened.unary_stream(path, request_serializer=serialize,
                                          response_deserializer=deserialize)  # fmt: skip
        call = stream(request, timeout=STREAM_SECONDS, metadata=metadata)
        try:
            return Answer(Code.OK, "", list(itertools.islice(call, STREAM_MESSAGES)))
        finally:
            call.cancel()
    except grpc.RpcError as error:
        assert isinstance(error, grpc.Call)
        return Answer(error.code(), error.details() or "", [])


def shown(request: Message | bytes, limit: int = 20_000) -> str:
    """The request in text format (bytes as a literal), cut at `limit` characters."""
    text = repr(request) if isinstance(request, bytes) else text_format.MessageToString(
        request, as_utf8=True)  # fmt: skip
    return text if len(text) <= limit else f"{text[:limit]}... ({len(text)} characters)"


def _lost(answer: Answer) -> bool:
    """Whether the server's status was lost on the way: its message was too large a header."""
    return answer.code == Code.RESOURCE_EXHAUSTED and "metadata size" in answer.details


def _allowed(
    method: MethodDescriptor, answer: Answer, request: Message | bytes, where: str
) -> None:
    allowed = STREAM_ALLOWED if method.server_streaming else ALLOWED
    assert answer.code in allowed and not _lost(answer), (
        f"{where}.{method.name} answered {answer.code.name}: {answer.details}\n"
        f"to the request:\n{shown(request)}"
    )


def _stored_ids(message: Message) -> Iterator[tuple[str, str]]:
    for field, value in message.ListFields():
        values = value if field.is_repeated else [value]
        if field.type == FieldDescriptor.TYPE_MESSAGE:
            for item in values:
                yield from _stored_ids(item)
        elif field.name in STORED and field.type == FieldDescriptor.TYPE_STRING:
            yield from ((field.name, v) for v in values if v)


def _method(name: str) -> tuple[str, MethodDescriptor]:
    target, method = name.split(".")
    return target, SERVICES[target].methods_by_name[method]


@pytest.mark.parametrize("name", METHODS)
def test_generated_requests_get_no_server_error(stack: Stack, world: World, name: str) -> None:
    target, method = _method(name)
    address, metadata = _where(stack, world, target)
    strategy = messages(method.input_type, world.hints, world.templates.get(name))
    with grpc.insecure_channel(address, options=list(GRPC_OPTIONS)) as opened:

        @given(request=strategy)
        @_settings(EXAMPLES)
        def answered(request: Message) -> None:
            note(f"{name} request:\n{shown(request)}")
            answer = invoke(opened, method, request, metadata)
            _allowed(method, answer, request, target)
            for response in answer.responses:
                for field, value in _stored_ids(response):
                    world.stored[field].add(value)

        answered()


@pytest.mark.parametrize("target", SERVICES)
def test_bytes_that_are_no_message_are_refused(stack: Stack, world: World, target: str) -> None:
    address, metadata = _where(stack, world, target)
    with grpc.insecure_channel(address, options=list(GRPC_OPTIONS)) as opened:
        for method in SERVICES[target].methods:
            _refuses_malformed_bytes(opened, method, metadata, world.hints, target)


def _refuses_malformed_bytes(
    opened: grpc.Channel, method: MethodDescriptor, metadata: Metadata, hints: Hints, target: str
) -> None:
    @given(data=malformed(method.input_type, hints))
    @_settings(max(3, EXAMPLES // 2))
    def refused(data: bytes) -> None:
        _allowed(method, invoke(opened, method, data, metadata), data, target)

    refused()


OVERSIZE = {"licensing": "GetLicensingRecord", "scheduling": "GetShift",
            "matching": "GetShiftStatus", "partner": "GetShift"}  # fmt: skip


@pytest.mark.parametrize("target", SERVICES)
def test_a_request_over_the_size_limit_is_refused(stack: Stack, world: World, target: str) -> None:
    address, metadata = _where(stack, world, target)
    method = SERVICES[target].methods_by_name[OVERSIZE[target]]
    unlimited = [("grpc.max_send_message_length", -1), ("grpc.max_receive_message_length", -1)]
    with grpc.insecure_channel(address, options=unlimited) as opened:
        over = invoke(opened, method, length_delimited(1, MAX_GRPC_MESSAGE_BYTES + 1), metadata)
        assert over.code in (Code.RESOURCE_EXHAUSTED, Code.INVALID_ARGUMENT), over
        # just under the limit: past the transport, a 20 MB id is the handler's to refuse
        under = length_delimited(1, 20 * 1024 * 1024)
        answer = invoke(opened, method, under, metadata)
        assert answer.code in ALLOWED and not _lost(answer), (answer.code, answer.details[:500])


async def test_every_service_still_serves(stack: Stack) -> None:
    for name, process in stack.processes.running.items():
        assert process.poll() is None, f"{name} ended; see {stack.processes.logs}/{name}.log"
    for address in (*stack.processes.address.values(), stack.partner_addr):
        if address != stack.processes.address.get("gateway"):
            assert await wait_serving(address, wait=10), address


async def test_what_was_there_before_the_fuzzing_is_unchanged(stack: Stack, world: World) -> None:
    after = await snapshot(stack, world.baseline)
    for before, now in zip(world.before, after, strict=True):
        assert now == before, f"{type(before).__name__} changed:\n{before}\n---\n{now}"


def _reads(field: str, value: str) -> list[tuple[str, str, Message]]:
    """The read RPCs of a stored thing, as (target, method, request)."""
    reads: dict[str, list[tuple[str, str, Message]]] = {
        "shift_id": [("scheduling", "GetShift", spb.GetShiftRequest(shift_id=value)),
                     ("scheduling", "PreviewCancellation",
                      spb.PreviewCancellationRequest(shift_id=value)),
                     ("matching", "GetShiftStatus", mpb.GetShiftStatusRequest(shift_id=value)),
                     ("matching", "ExplainUnfilled", mpb.ExplainUnfilledRequest(shift_id=value)),
                     ("matching", "ListOffers", mpb.ListOffersRequest(shift_id=value))],
        "clinician_id": [("scheduling", "GetProfile", spb.GetProfileRequest(clinician_id=value)),
                         ("scheduling", "GetSchedule", spb.GetScheduleRequest(clinician_id=value)),
                         ("scheduling", "GetCalendar", spb.GetCalendarRequest(clinician_id=value)),
                         ("licensing", "GetLicensingRecord",
                          lpb.GetLicensingRecordRequest(clinician_id=value)),
                         ("matching", "ListOffers", mpb.ListOffersRequest(clinician_id=value))],
        "facility_id": [("scheduling", "GetFacility", spb.GetFacilityRequest(facility_id=value)),
                        ("scheduling", "GetRoster", spb.GetRosterRequest(facility_id=value))],
        "organization_id": [("scheduling", "GetOrganization",
                             spb.GetOrganizationRequest(organization_id=value))],
        "code": [("licensing", "GetCompactHistory", lpb.GetCompactHistoryRequest(code=value))],
    }  # fmt: skip
    return reads[field]


def test_what_the_fuzzing_stored_reads_back(stack: Stack, world: World) -> None:
    """Every shift, clinician, facility, organisation and compact an answer named (at most 200
    of each) is read through the normal read RPCs: stored documents stay readable."""
    assert world.stored, "the fuzzing stored nothing: run the whole module"
    channels = {t: grpc.insecure_channel(stack.processes.address[t], options=list(GRPC_OPTIONS))
                for t in ("licensing", "scheduling", "matching")}  # fmt: skip
    try:
        for field, values in sorted(world.stored.items()):
            for value in sorted(values)[:200]:
                for target, name, request in _reads(field, value):
                    method = SERVICES[target].methods_by_name[name]
                    answer = invoke(channels[target], method, request, ())
                    assert answer.code in (Code.OK, Code.NOT_FOUND), (
                        f"{target}.{name} of a stored {field} answered {answer.code.name}: "
                        f"{answer.details[:2000]}\n{shown(request, 2000)}"
                    )
    finally:
        for opened in channels.values():
            opened.close()


# Their own troubles, not ours: the Kafka client's group coordination when 2 cores are busy, and
# OpenTelemetry's "Failed to detach context" when a client cancels a stream it was reading.
THIRD_PARTY = ("aiokafka", "opentelemetry")


def test_no_service_logged_an_error(stack: Stack) -> None:
    """Background work (projections, the market loop, consumers) met nothing it could not
    handle in what the fuzzing stored, and no handler failed unexpectedly."""
    errors: Counter[str] = Counter()
    for log in sorted(stack.processes.logs.glob("*.log")):
        for line in log.read_text(errors="replace").splitlines():
            try:
                entry = json.loads(line)
            except ValueError:
                continue
            if (
                isinstance(entry, dict)
                and entry.get("level") in ("ERROR", "CRITICAL")
                and not str(entry.get("logger")).startswith(THIRD_PARTY)
            ):
                raised = [
                    text
                    for text in (entry.get("exception") or "").splitlines()
                    if ("Error" in text or "Exception" in text) and text[:1].isalpha()
                ]
                errors[f"{log.name}: {entry.get('message')}: {raised[-1:]}"] += 1
    assert not errors, f"in {stack.processes.logs}:\n" + "\n".join(
        f"{count} x {error}" for error, count in errors.most_common()
    )
