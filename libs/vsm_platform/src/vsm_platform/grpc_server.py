"""One way to serve gRPC: health checking, reflection, telemetry, typed errors mapped to status
codes, message limits for large batches, and a graceful stop on SIGTERM."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import Any

import grpc
from google.protobuf.message import Message
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection
from opentelemetry import trace
from opentelemetry.instrumentation.grpc import aio_client_interceptors, aio_server_interceptor
from pymongo.errors import ConnectionFailure, DocumentTooLarge
from vsm_rules.errors import (
    Conflict,
    DomainError,
    FailedPrecondition,
    InvalidArgument,
    NotFound,
    PermissionDenied,
)

from vsm_platform.settings import GRPC_OPTIONS
from vsm_platform.values import MAX_ID_LENGTH, long_id_field

logger = logging.getLogger(__name__)

Register = Callable[[grpc.aio.Server], None]

_CODES: tuple[tuple[type[DomainError], grpc.StatusCode], ...] = (
    (InvalidArgument, grpc.StatusCode.INVALID_ARGUMENT),
    (NotFound, grpc.StatusCode.NOT_FOUND),
    (Conflict, grpc.StatusCode.ABORTED),
    (FailedPrecondition, grpc.StatusCode.FAILED_PRECONDITION),
    (PermissionDenied, grpc.StatusCode.PERMISSION_DENIED),
)


def status_code_for(error: DomainError) -> grpc.StatusCode:
    for kind, code in _CODES:
        if isinstance(error, kind):
            return code
    return grpc.StatusCode.FAILED_PRECONDITION


_PASSED_ON = frozenset({
    grpc.StatusCode.INVALID_ARGUMENT, grpc.StatusCode.NOT_FOUND, grpc.StatusCode.ABORTED,
    grpc.StatusCode.FAILED_PRECONDITION, grpc.StatusCode.PERMISSION_DENIED,
    grpc.StatusCode.OUT_OF_RANGE, grpc.StatusCode.ALREADY_EXISTS,
    grpc.StatusCode.RESOURCE_EXHAUSTED, grpc.StatusCode.UNAVAILABLE,
    grpc.StatusCode.DEADLINE_EXCEEDED,
})  # fmt: skip


# The status message travels in a header: one echoing a huge request value would be dropped on
# the way (the caller seeing RESOURCE_EXHAUSTED "metadata size exceeds" instead of the status).
MAX_DETAILS = 1000


def shortened(details: str) -> str:
    """The status message cut to MAX_DETAILS characters (the field name comes first)."""
    return details if len(details) <= MAX_DETAILS else details[: MAX_DETAILS - 1] + "…"


async def _abort_for(error: Exception, context: grpc.aio.ServicerContext[Any, Any]) -> None:
    if isinstance(error, DomainError):
        await context.abort(status_code_for(error), shortened(error.message))
    if isinstance(error, DocumentTooLarge):  # refused by the driver before anything was stored
        await context.abort(
            grpc.StatusCode.INVALID_ARGUMENT,
            "request: too large to store (a record holds at most 16 MB); send less at once",
        )
    if isinstance(error, ConnectionFailure):
        # the database is down or restarting: nothing was acknowledged, the caller may retry
        logger.warning("the database did not answer: %s", error)
        await context.abort(grpc.StatusCode.UNAVAILABLE, "the database is unreachable; try again")
    if isinstance(error, grpc.aio.AioRpcError) and error.code() in _PASSED_ON:
        # a service called on the way refused the request: the caller gets its answer
        await context.abort(error.code(), shortened(error.details() or error.code().name.lower()))
    trace_id = trace.get_current_span().get_span_context().trace_id
    logger.exception("unexpected error in a gRPC handler")
    await context.abort(grpc.StatusCode.INTERNAL, f"internal error (trace {trace_id:032x})")


class DomainErrorInterceptor(grpc.aio.ServerInterceptor):
    """Turns typed domain errors into status codes; hides anything else behind INTERNAL."""

    async def intercept_service(
        self,
        continuation: Callable[
            [grpc.HandlerCallDetails], Awaitable[grpc.RpcMethodHandler[Any, Any] | None]
        ],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler[Any, Any] | None:
        handler = await continuation(handler_call_details)
        if handler is None:
            return handler
        if handler.unary_unary is not None:
            return grpc.unary_unary_rpc_method_handler(
                _wrap_unary(handler.unary_unary),
                request_deserializer=_tolerant(handler.request_deserializer),
                response_serializer=handler.response_serializer,
            )
        if handler.unary_stream is not None:
            return grpc.unary_stream_rpc_method_handler(
                _wrap_stream(handler.unary_stream),
                request_deserializer=_tolerant(handler.request_deserializer),
                response_serializer=handler.response_serializer,
            )
        return handler


@dataclass(frozen=True, slots=True)
class _Malformed:
    """A request whose bytes are not the method's message."""

    problem: str


def _tolerant(deserialize: Callable[[bytes], Any] | None) -> Callable[[bytes], Any] | None:
    """The method's deserializer, answering malformed bytes with a marker (the handler then
    refuses it as INVALID_ARGUMENT) instead of failing inside the framework as INTERNAL."""
    if deserialize is None:
        return None

    def tolerant(data: bytes) -> Any:
        try:
            return deserialize(data)
        except Exception as error:
            return _Malformed(type(error).__name__)

    return tolerant


async def _refuse_malformed(request: Any, context: grpc.aio.ServicerContext[Any, Any]) -> None:
    if isinstance(request, _Malformed):
        await context.abort(
            grpc.StatusCode.INVALID_ARGUMENT,
            f"request: not a valid message for this method ({request.problem})",
        )
    too_long = long_id_field(request) if isinstance(request, Message) else None
    if too_long is not None:  # an id is a key of the stores: bounded, like every key
        await context.abort(
            grpc.StatusCode.INVALID_ARGUMENT, f"{too_long}: at most {MAX_ID_LENGTH} characters"
        )


def _wrap_unary(inner: Any) -> Any:
    async def unary(request: Any, context: grpc.aio.ServicerContext[Any, Any]) -> Any:
        await _refuse_malformed(request, context)
        try:
            return await inner(request, context)
        except grpc.aio.AbortError:
            raise
        except Exception as error:
            await _abort_for(error, context)

    return unary


def _wrap_stream(inner: Any) -> Any:
    async def stream(
        request: Any, context: grpc.aio.ServicerContext[Any, Any]
    ) -> AsyncIterator[Any]:
        await _refuse_malformed(request, context)
        try:
            async for response in inner(request, context):
                yield response
        except grpc.aio.AbortError:
            raise
        except Exception as error:
            await _abort_for(error, context)

    return stream


@dataclass(slots=True)
class RunningServer:
    """A started gRPC server, the port it bound and its health servicer."""

    server: grpc.aio.Server
    port: int
    health: health.aio.HealthServicer
    service_names: tuple[str, ...]

    async def stop(self, grace: float = 5.0) -> None:
        """Reports NOT_SERVING, lets calls in flight finish within `grace`, then stops."""
        for name in ("", *self.service_names):
            await self.health.set(name, health_pb2.HealthCheckResponse.NOT_SERVING)
        await self.server.stop(grace)


async def start_server(
    address: str,
    register: Iterable[Register],
    service_names: Iterable[str],
    credentials: grpc.ServerCredentials | None = None,
) -> RunningServer:
    """Starts a server on `address` (port 0 picks a free one) with every servicer registered;
    over TLS when `credentials` are given."""
    server = grpc.aio.server(
        interceptors=[aio_server_interceptor(), DomainErrorInterceptor()],  # type: ignore[no-untyped-call]
        options=list(GRPC_OPTIONS),
    )
    for add in register:
        add(server)
    names = tuple(service_names)
    health_servicer = health.aio.HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(health_servicer, server)
    reflection.enable_server_reflection(
        (
            *names,
            health_pb2.DESCRIPTOR.services_by_name["Health"].full_name,
            reflection.SERVICE_NAME,
        ),
        server,
    )
    port = (
        server.add_secure_port(address, credentials)
        if credentials is not None
        else server.add_insecure_port(address)
    )
    if port == 0:
        raise OSError(f"could not bind gRPC server to {address}")
    await server.start()
    for name in ("", *names):
        await health_servicer.set(name, health_pb2.HealthCheckResponse.SERVING)
    logger.info("gRPC serving on %s (port %d): %s", address, port, ", ".join(names))
    return RunningServer(server, port, health_servicer, names)


async def serve(
    address: str,
    register: Iterable[Register],
    service_names: Iterable[str],
    grace: float = 5.0,
    stop: asyncio.Event | None = None,
) -> None:
    """Serves until SIGTERM or SIGINT (or `stop` is set), then stops gracefully."""
    running = await start_server(address, register, service_names)
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(signum, stop.set)
    try:
        await stop.wait()
    finally:
        logger.info("gRPC server on port %d stopping", running.port)
        await running.stop(grace)


def channel(address: str) -> grpc.aio.Channel:
    """A client channel with the same message limits and trace propagation."""
    return grpc.aio.insecure_channel(
        address,
        options=list(GRPC_OPTIONS),
        interceptors=aio_client_interceptors(),  # type: ignore[no-untyped-call]
    )


async def wait_serving(address: str, wait: float = 60.0) -> bool:
    """Whether the server at `address` reports SERVING within `wait` seconds (health checking),
    asking every 0.2 s: for a caller that has just started the process."""
    async with channel(address) as client:
        stub = health_pb2_grpc.HealthStub(client)
        deadline = asyncio.get_running_loop().time() + wait
        while asyncio.get_running_loop().time() < deadline:
            try:
                answer = await stub.Check(health_pb2.HealthCheckRequest(), timeout=2)
                if answer.status == health_pb2.HealthCheckResponse.SERVING:
                    return True
            except grpc.aio.AioRpcError:
                pass
            await asyncio.sleep(0.2)
    return False
