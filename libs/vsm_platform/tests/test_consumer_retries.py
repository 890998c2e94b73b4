"""A consumer's handler that fails because a dependency is away is tried again until it is back;
any other failure is raised at once (to be retried a few times and dead-lettered)."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import grpc
import pytest
from pymongo.errors import AutoReconnect, ServerSelectionTimeoutError
from vsm_platform.consumers import transient, until_not_transient


def _rpc_error(code: grpc.StatusCode) -> grpc.aio.AioRpcError:
    return grpc.aio.AioRpcError(code, grpc.aio.Metadata(), grpc.aio.Metadata(), "details")


@pytest.mark.parametrize("error", [
    _rpc_error(grpc.StatusCode.UNAVAILABLE), _rpc_error(grpc.StatusCode.DEADLINE_EXCEEDED),
    ServerSelectionTimeoutError("no server"), AutoReconnect("connection reset"),
])  # fmt: skip
def test_an_absent_dependency_is_transient(error: Exception) -> None:
    assert transient(error)


@pytest.mark.parametrize("error", [
    _rpc_error(grpc.StatusCode.INVALID_ARGUMENT), _rpc_error(grpc.StatusCode.INTERNAL),
    ValueError("a bad event"), KeyError("field"),
])  # fmt: skip
def test_a_refusal_or_a_bug_is_not_transient(error: Exception) -> None:
    assert not transient(error)


async def test_a_handler_is_tried_until_the_service_it_calls_is_back() -> None:
    calls: list[str] = []

    async def handler(envelope: Any) -> None:
        calls.append(envelope.id)
        if len(calls) <= 6:  # more than a work consumer's attempts at a poison event
            raise _rpc_error(grpc.StatusCode.UNAVAILABLE)

    await until_not_transient(handler, SimpleNamespace(id="e1"), backoff=0.001)  # type: ignore[arg-type]
    assert calls == ["e1"] * 7


async def test_any_other_failure_is_raised_at_once() -> None:
    calls = 0

    async def handler(envelope: Any) -> None:
        nonlocal calls
        calls += 1
        raise ValueError("cannot handle this event")

    with pytest.raises(ValueError, match="cannot handle"):
        await until_not_transient(handler, SimpleNamespace(id="e1"), backoff=0.001)  # type: ignore[arg-type]
    assert calls == 1
