"""The market loop checks booked clinicians against their licences when it starts, and again for
the professions it comes to own later: a check skipped because another instance owned the
profession (or none did yet) is not lost."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace

from matching.market_loop import MarketLoop


class FakeMatcher:
    def __init__(self) -> None:
        nurse = SimpleNamespace(profession="RN")
        self.view = SimpleNamespace(bookings={("s1", "c1"): object()}, profiles={"c1": nurse})
        self.checked: list[str] = []

    async def release_unlicensed(self, clinician_id: str) -> list[str]:
        self.checked.append(clinician_id)
        return []


async def test_bookings_are_checked_once_their_profession_is_owned() -> None:
    matcher = FakeMatcher()
    owned: set[str] = set()
    loop = MarketLoop(matcher, lambda profession: profession in owned)  # type: ignore[arg-type]
    checking = asyncio.create_task(loop.check_licences())
    try:
        loop.ready.set()
        await asyncio.sleep(0.05)
        assert matcher.checked == []  # RN is no one's yet: nothing may be released here
        owned.add("RN")
        loop.taken_over(["RN"])
        await asyncio.sleep(0.05)
        assert matcher.checked == ["c1"]
    finally:
        checking.cancel()
