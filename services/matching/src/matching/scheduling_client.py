"""Booking through the scheduling service's ledger over gRPC, at an accepted offer's rate, and
releasing a booking a licence no longer allows: a refusal comes back as FailedPrecondition with
the ledger's reasons; a clinician whose bookings are being changed elsewhere at that moment
(ABORTED) is tried again shortly."""

from __future__ import annotations

import asyncio

import grpc
from vsm.scheduling.v1 import scheduling_service_pb2 as spb
from vsm.scheduling.v1 import scheduling_service_pb2_grpc as sgrpc
from vsm_platform.actor import Actor
from vsm_rules.errors import FailedPrecondition

ATTEMPTS = 100  # 20 ms apart: about two seconds of a busy lock


class SchedulingOverGrpc:
    def __init__(self, channel: grpc.aio.Channel) -> None:
        self._stub = sgrpc.SchedulingServiceStub(channel)  # type: ignore[no-untyped-call]

    async def book(self, actor: Actor, shift_id: str, clinician_id: str, rate: int) -> None:
        request = spb.BookRequest(
            actor=actor.to_proto(), shift_id=shift_id, clinician_id=clinician_id,
            offered_rate_cents_per_hour=rate,
        )  # fmt: skip
        for _ in range(ATTEMPTS):
            try:
                await self._stub.Book(request, timeout=10)
                return
            except grpc.aio.AioRpcError as error:
                if error.code() == grpc.StatusCode.ABORTED:
                    await asyncio.sleep(0.02)
                    continue
                if error.code() == grpc.StatusCode.FAILED_PRECONDITION:
                    raise FailedPrecondition(error.details() or "refused by the ledger") from None
                raise
        raise FailedPrecondition(f"{clinician_id}'s bookings stayed busy; try again")

    async def release(self, actor: Actor, shift_id: str, clinician_id: str, reason: str) -> bool:
        request = spb.ReleaseRequest(actor=actor.to_proto(), shift_id=shift_id,
                                     clinician_id=clinician_id, reason=reason)  # fmt: skip
        for _ in range(ATTEMPTS):
            try:
                await self._stub.Release(request, timeout=10)
                return True
            except grpc.aio.AioRpcError as error:
                if error.code() == grpc.StatusCode.ABORTED:
                    await asyncio.sleep(0.02)
                    continue
                if error.code() == grpc.StatusCode.FAILED_PRECONDITION:
                    return False  # not booked on it (any more)
                raise
        return False
