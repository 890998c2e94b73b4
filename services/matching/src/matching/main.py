"""The matching process: its one composition root. Settings from the environment, MongoDB and
the change log with its relay (offers and their events), the read model fed from the scheduling,
licensing and matching topics, the professions this instance owns, the market loop, a channel to
the scheduling service, and the gRPC server. `python -m matching.main`."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

from vsm.licensing.v1 import events_pb2 as licensing_events
from vsm.matching.v1 import events_pb2 as matching_events
from vsm.matching.v1 import matching_service_pb2 as mpb
from vsm.scheduling.v1 import events_pb2 as scheduling_events
from vsm_platform.clock import Clock, SystemClock
from vsm_platform.consumers import Projection
from vsm_platform.envelope import Envelope
from vsm_platform.grpc_server import channel, serve
from vsm_platform.runtime import background, run_service, storage
from vsm_platform.topics import LICENSING_EVENTS, MATCHING_EVENTS, SCHEDULING_EVENTS

from matching.config import Settings
from matching.grpc_api import SERVICE_NAME, register
from matching.market_loop import MarketLoop
from matching.matcher import Matcher
from matching.offer_store import OfferStore, kept_from_proto
from matching.offers import Outcome
from matching.ownership import ProfessionOwnership
from matching.read_model import MarketView
from matching.scheduling_client import SchedulingOverGrpc

logger = logging.getLogger(__name__)
OFFER_EVENTS = (matching_events.OfferMade, matching_events.OfferAccepted,
                matching_events.OfferDeclined, matching_events.OfferExpired,
                matching_events.OfferWithdrawn)  # fmt: skip


def on_event(
    view: MarketView, matcher: Matcher, loop: MarketLoop
) -> Callable[[Envelope], Awaitable[None]]:
    """The projection's handler: events change the read model (and the offers known), and
    mark the professions whose market they changed."""

    async def handle(envelope: Envelope) -> None:
        message = envelope.message()
        if isinstance(message, OFFER_EVENTS):
            kept = kept_from_proto(message.offer)
            matcher.note(kept)
            shift = view.shifts.get(kept.offer.shift_id)
            if shift is not None and kept.outcome not in (None, Outcome.ACCEPTED):
                loop.touched([shift.profession])  # room for the next offer
            return
        touched = view.apply(message)
        if isinstance(message, scheduling_events.ShiftPosted) and touched:
            loop.posted(message.shift.shift_id, message.shift.profession)
        else:
            loop.touched(touched)
        if isinstance(message, licensing_events.LicensingRecordChanged):
            loop.licences_changed([message.record.clinician_id])
        elif isinstance(message, licensing_events.EntryLapse):
            loop.licences_changed([message.clinician_id])
        elif isinstance(message, licensing_events.CompactTableChanged):
            loop.licences_changed({c for _, c in view.bookings})

    return handle


async def run(settings: Settings, clock: Clock | None = None) -> None:
    clock = clock or SystemClock()
    async with storage("matching", settings, settings.database, clock) as stored:
        view = MarketView()
        store = OfferStore(stored.changes, stored.database["offers"])
        scheduling_channel = channel(settings.scheduling_addr)
        matcher = Matcher(view, store, SchedulingOverGrpc(scheduling_channel), clock,
                          settings.solve_seconds, settings.offer_minutes)  # fmt: skip
        ownership: ProfessionOwnership
        loop = MarketLoop(matcher, lambda p: ownership.owns(p), settings.window_seconds,
                          settings.expiry_seconds, settings.reoptimise_seconds)  # fmt: skip
        ownership = ProfessionOwnership(settings.kafka_bootstrap, settings.group, loop.taken_over,
                                        matcher.hand_over)  # fmt: skip
        topics = [SCHEDULING_EVENTS.name, LICENSING_EVENTS.name, MATCHING_EVENTS.name]
        projection = Projection(settings.kafka_bootstrap, topics, on_event(view, matcher, loop))

        async def when_caught_up() -> None:
            await projection.ready.wait()
            logger.info("read model caught up (%d events)", projection.applied)
            loop.ready.set()

        tasks = background({
            "read model": projection.run, "caught up": when_caught_up,
            "ownership": ownership.run, "market loop": loop.run,
            "expiries": loop.sweep_expiries, "re-optimisation": loop.reoptimise,
            "licence checks": loop.check_licences,
        })  # fmt: skip

        def status() -> mpb.GetInstanceStatusResponse:
            return mpb.GetInstanceStatusResponse(
                professions=ownership.owned(), ready=loop.ready.is_set(),
                events_applied=projection.applied, rematches=loop.rematches, placed=loop.placed,
            )  # fmt: skip

        try:
            await serve(settings.listen_addr, [register(matcher, store, status)], [SERVICE_NAME])
        finally:
            for task in tasks:
                task.cancel()
            for task in tasks:
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            await scheduling_channel.close()


def main() -> None:
    settings = Settings()
    run_service("matching", settings, lambda: run(settings))


if __name__ == "__main__":
    main()
