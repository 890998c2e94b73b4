"""The matching contract over gRPC: a clinician's (or a shift's) offers, accept, decline, and a
shift's status. Requests become domain values here (a bad field is INVALID_ARGUMENT naming
it); the matcher does the rest."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import grpc
from vsm.matching.v1 import matching_service_pb2 as pb
from vsm.matching.v1 import matching_service_pb2_grpc as pb_grpc
from vsm_platform.actor import Actor
from vsm_rules.errors import InvalidArgument, NotFound

from matching.matcher import Matcher
from matching.offer_store import OfferStore

SERVICE_NAME = "vsm.matching.v1.MatchingService"


def _offer_id(request: Any) -> str:
    if not request.offer_id:
        raise InvalidArgument("offer_id", "must not be empty")
    return str(request.offer_id)


class MatchingApi(pb_grpc.MatchingServiceServicer):
    def __init__(self, matcher: Matcher, store: OfferStore) -> None:
        self._matcher = matcher
        self._store = store

    async def ListOffers(self, request: Any, context: Any) -> Any:
        if bool(request.clinician_id) == bool(request.shift_id):
            raise InvalidArgument("clinician_id", "give a clinician or a shift, not both")
        if request.clinician_id:
            kept = await self._store.of_clinician(request.clinician_id)
        else:
            kept = await self._store.of_shift(request.shift_id)
        newest_first = sorted(kept, key=lambda k: (k.offer.made_at, k.offer.id), reverse=True)
        return pb.ListOffersResponse(offers=[k.to_proto() for k in newest_first])

    async def AcceptOffer(self, request: Any, context: Any) -> Any:
        kept = await self._matcher.accept(Actor.from_proto(request.actor), _offer_id(request))
        return pb.AcceptOfferResponse(offer=kept.to_proto())

    async def DeclineOffer(self, request: Any, context: Any) -> Any:
        kept = await self._matcher.decline(
            Actor.from_proto(request.actor), _offer_id(request), request.reason
        )
        return pb.DeclineOfferResponse(offer=kept.to_proto())

    async def GetShiftStatus(self, request: Any, context: Any) -> Any:
        if not request.shift_id:
            raise InvalidArgument("shift_id", "must not be empty")
        shift = self._matcher.view.shifts.get(request.shift_id)
        if shift is None:
            raise NotFound(f"no shift {request.shift_id!r} (yet)")
        booked = sorted(b.clinician_id for b in self._matcher.view.booked_on(shift.id))
        offers = await self._store.of_shift(shift.id)
        return pb.GetShiftStatusResponse(status=pb.ShiftStatus(
            shift_id=shift.id, positions=shift.positions, booked=len(booked),
            offers_out=sum(1 for k in offers if k.outcome is None), booked_clinicians=booked,
        ))  # fmt: skip


def register(matcher: Matcher, store: OfferStore) -> Callable[[grpc.aio.Server], None]:
    api = MatchingApi(matcher, store)

    def add(server: grpc.aio.Server) -> None:
        pb_grpc.add_MatchingServiceServicer_to_server(api, server)  # type: ignore[no-untyped-call]

    return add
