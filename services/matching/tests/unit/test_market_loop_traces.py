"""The market loop keeps the traces that caused its coming work, and no more: shifts of a
profession another instance owns leave nothing behind, and a re-match links at most
MAX_CAUSES causes."""

from __future__ import annotations

import asyncio

from matching.market_loop import MAX_CAUSES, MarketLoop
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider

tracer = TracerProvider().get_tracer(__name__)


async def test_shifts_of_a_profession_owned_elsewhere_leave_no_trace_behind() -> None:
    loop = MarketLoop(object(), lambda profession: False)  # type: ignore[arg-type]
    loop.ready.set()
    running = asyncio.create_task(loop.run())
    try:
        for n in range(100):
            with tracer.start_as_current_span("ShiftPosted process"):
                loop.posted(f"s{n}", "RN")
            await asyncio.sleep(0)
        await asyncio.sleep(0.05)
        assert loop._causes == {}
    finally:
        running.cancel()


def test_the_causes_of_one_re_match_are_bounded() -> None:
    loop = MarketLoop(object(), lambda profession: True)  # type: ignore[arg-type]
    for _ in range(3 * MAX_CAUSES):
        with tracer.start_as_current_span("LicensingRecordChanged process"):
            loop.touched(["RN"])
    assert len(loop._causes["RN"]) == MAX_CAUSES
    assert trace.get_current_span().get_span_context().is_valid is False
