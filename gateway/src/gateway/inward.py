"""The gateway's channels to the services behind it, and the one translation of their status
codes into HTTP answers."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import grpc
from vsm.licensing.v1 import licensing_service_pb2_grpc as lgrpc
from vsm.matching.v1 import matching_service_pb2_grpc as mgrpc
from vsm.scheduling.v1 import scheduling_service_pb2 as spb
from vsm.scheduling.v1 import scheduling_service_pb2_grpc as sgrpc
from vsm_platform.grpc_server import channel

HTTP_STATUS = {
    grpc.StatusCode.INVALID_ARGUMENT: 422,
    grpc.StatusCode.OUT_OF_RANGE: 422,
    grpc.StatusCode.NOT_FOUND: 404,
    grpc.StatusCode.ALREADY_EXISTS: 409,
    grpc.StatusCode.ABORTED: 409,
    grpc.StatusCode.FAILED_PRECONDITION: 409,
    grpc.StatusCode.PERMISSION_DENIED: 403,
    grpc.StatusCode.UNAUTHENTICATED: 401,
    grpc.StatusCode.RESOURCE_EXHAUSTED: 429,
    grpc.StatusCode.UNAVAILABLE: 503,
    grpc.StatusCode.DEADLINE_EXCEEDED: 504,
}
CALL_SECONDS = 30.0


@dataclass(frozen=True, slots=True)
class Services:
    """Stubs of the three services, over channels opened in main()."""

    licensing: lgrpc.LicensingServiceStub
    scheduling: sgrpc.SchedulingServiceStub
    matching: mgrpc.MatchingServiceStub
    channels: tuple[grpc.aio.Channel, ...]

    @classmethod
    def connect(cls, licensing: str, scheduling: str, matching: str) -> Services:
        channels = (channel(licensing), channel(scheduling), channel(matching))
        return cls(
            lgrpc.LicensingServiceStub(channels[0]),  # type: ignore[no-untyped-call]
            sgrpc.SchedulingServiceStub(channels[1]),  # type: ignore[no-untyped-call]
            mgrpc.MatchingServiceStub(channels[2]),  # type: ignore[no-untyped-call]
            channels,
        )

    async def close(self) -> None:
        for opened in self.channels:
            await opened.close()


async def work_profile(scheduling: Any, clinician_id: str) -> spb.WorkProfile | None:
    """The clinician's work profile from the scheduling service; None when they have none."""
    try:
        found = await scheduling.GetProfile(spb.GetProfileRequest(clinician_id=clinician_id))
    except grpc.aio.AioRpcError as error:
        if error.code() == grpc.StatusCode.NOT_FOUND:
            return None
        raise
    profile: spb.WorkProfile = found.profile
    return profile


def http_status(code: grpc.StatusCode) -> int:
    """The HTTP answer for a service's status; anything unexpected is a 502 (the gateway is
    fine, what is behind it failed), never a stack trace."""
    return HTTP_STATUS.get(code, 502)


def split_field(message: str) -> tuple[str, str]:
    """A service's INVALID_ARGUMENT reads "field: message"; the field and the message."""
    field, sep, rest = message.partition(": ")
    if sep and field and " " not in field:
        return field, rest
    return "", message
