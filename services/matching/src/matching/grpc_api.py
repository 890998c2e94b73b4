"""The matching contract over gRPC: a clinician's (or a shift's) offers, accept, decline, a
shift's status, why it is unfilled (in aggregate) or was not offered to a clinician (as they may
read it), supply for the heat map, and a batch Solve of a vsm-match/1 instance. Requests become
domain values here (a bad field is INVALID_ARGUMENT naming it); the matcher does the rest."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from math import ceil
from typing import Any

import grpc
from vsm.matching.v1 import matching_service_pb2 as pb
from vsm.matching.v1 import matching_service_pb2_grpc as pb_grpc
from vsm_platform.actor import Actor
from vsm_platform.values import interval_from_proto
from vsm_rules.errors import InvalidArgument, NotFound, PermissionDenied
from vsm_rules.jurisdictions import US_STATES, check_jurisdiction

from matching.engine.loader import problem_from_instance
from matching.engine.solve import answer_document, solve
from matching.insight import for_clinician, funnel, pair_verdicts, supply, unfilled_reasons
from matching.matcher import Matcher
from matching.offer_store import OfferStore
from matching.ownership import PROFESSIONS
from matching.read_model import ShiftView

SERVICE_NAME = "vsm.matching.v1.MatchingService"
MAX_SUPPLY_HOURS = 14 * 24
MAX_SOLVE_SECONDS = 60.0


def _offer_id(request: Any) -> str:
    if not request.offer_id:
        raise InvalidArgument("offer_id", "must not be empty")
    return str(request.offer_id)


def no_status() -> pb.GetInstanceStatusResponse:
    return pb.GetInstanceStatusResponse()


class MatchingApi(pb_grpc.MatchingServiceServicer):
    def __init__(
        self, matcher: Matcher, store: OfferStore,
        status: Callable[[], pb.GetInstanceStatusResponse] = no_status,
    ) -> None:  # fmt: skip
        self._matcher = matcher
        self._store = store
        self._status = status

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
        shift = self._shift(request.shift_id)
        booked = sorted(b.clinician_id for b in self._matcher.view.booked_on(shift.id))
        offers = await self._store.of_shift(shift.id)
        return pb.GetShiftStatusResponse(status=pb.ShiftStatus(
            shift_id=shift.id, positions=shift.positions, booked=len(booked),
            offers_out=sum(1 for k in offers if k.outcome is None), booked_clinicians=booked,
        ))  # fmt: skip

    async def ExplainUnfilled(self, request: Any, context: Any) -> Any:
        shift = self._shift(request.shift_id)
        offers = await self._store.of_shift(shift.id)
        return pb.ExplainUnfilledResponse(
            reasons=unfilled_reasons(self._matcher.view, shift, offers),
            clinicians_fit=funnel(self._matcher.view, shift).affordable,
        )

    async def WhyNotOffered(self, request: Any, context: Any) -> Any:
        actor = Actor.from_proto(request.actor)
        shift = self._shift(request.shift_id)
        if not request.clinician_id:
            raise InvalidArgument("clinician_id", "must not be empty")
        if not actor.speaks_for(request.clinician_id):
            raise PermissionDenied("a clinician asks about themselves only")
        profile = self._matcher.view.profiles.get(request.clinician_id)
        if profile is None:
            raise NotFound(f"no work profile for {request.clinician_id!r} (yet)")
        said = for_clinician(pair_verdicts(self._matcher.view, shift, profile))
        return pb.WhyNotOfferedResponse(fits=not said, reasons=said)

    async def GetSupply(self, request: Any, context: Any) -> Any:
        if request.profession not in PROFESSIONS:
            raise InvalidArgument("profession", f"unknown profession {request.profession!r}")
        start, end = interval_from_proto(request.window, "window")
        start = start.replace(minute=0, second=0, microsecond=0)
        hours = ceil((end - start).total_seconds() / 3600)
        if hours > MAX_SUPPLY_HOURS:
            raise InvalidArgument("window", "at most 14 days")
        places = list(request.jurisdictions) or sorted(US_STATES)
        for i, place in enumerate(places):
            check_jurisdiction(place, f"jurisdictions[{i}]")
        counts = await asyncio.to_thread(
            supply, self._matcher.view, request.profession, start, hours, places
        )
        return pb.GetSupplyResponse(cells=[
            pb.SupplyCell(jurisdiction=j, hour=f"{hour:%Y-%m-%dT%H:%M:%SZ}", clinicians=n)
            for (j, hour), n in sorted(counts.items())
        ])  # fmt: skip

    async def Solve(self, request: Any, context: Any) -> Any:
        limit = request.time_limit_seconds or 10.0
        if not 0 < limit <= MAX_SOLVE_SECONDS:
            raise InvalidArgument("time_limit_seconds", f"from 0 to {MAX_SOLVE_SECONDS:g}")
        try:
            document = json.loads(request.instance_json)
        except json.JSONDecodeError as error:
            raise InvalidArgument("instance_json", f"not JSON: {error.msg}") from None
        except RecursionError:
            raise InvalidArgument("instance_json", "nested too deeply") from None
        if not isinstance(document, dict):
            raise InvalidArgument("instance_json", "a vsm-match/1 instance is a JSON object")
        try:
            problem = problem_from_instance(document)
        except (AttributeError, KeyError, OverflowError, TypeError, ValueError) as error:
            # a part of the wrong kind (a list for an object, a string for a number)
            raise InvalidArgument("instance_json", f"not a vsm-match/1 instance: {error}") from None
        answer = await asyncio.to_thread(solve, problem, limit, 0, 2)
        return pb.SolveResponse(
            answer_json=json.dumps(answer_document(answer)), score=answer.score,
            bound=answer.bound, positions=answer.positions, filled=len(answer.assignments),
        )  # fmt: skip

    async def GetInstanceStatus(self, request: Any, context: Any) -> Any:
        return self._status()

    def _shift(self, shift_id: str) -> ShiftView:
        if not shift_id:
            raise InvalidArgument("shift_id", "must not be empty")
        shift = self._matcher.view.shifts.get(shift_id)
        if shift is None:
            raise NotFound(f"no shift {shift_id!r} (yet)")
        return shift


def register(
    matcher: Matcher, store: OfferStore,
    status: Callable[[], pb.GetInstanceStatusResponse] = no_status,
) -> Callable[[grpc.aio.Server], None]:  # fmt: skip
    api = MatchingApi(matcher, store, status)

    def add(server: grpc.aio.Server) -> None:
        pb_grpc.add_MatchingServiceServicer_to_server(api, server)  # type: ignore[no-untyped-call]

    return add
