"""Fixtures of the matching unit tests: a small market over fakes (in-memory rows, a fake
ledger, a manual clock): one 1-position RN shift in Kansas on Wednesday 2027-03-10, and nurses
at three rates, one barred by the facility, one on a self-declared licence, one unlicensed."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import pytest
from matching.matcher import Matcher
from matching.offer_store import OfferStore
from matching.read_model import MarketView
from vsm.licensing.v1 import events_pb2 as lev
from vsm.licensing.v1 import licensing_service_pb2 as lpb
from vsm.scheduling.v1 import events_pb2 as sev
from vsm.scheduling.v1 import scheduling_service_pb2 as spb
from vsm_platform.actor import Actor
from vsm_platform.changes import ChangeLog
from vsm_platform.clock import ManualClock
from vsm_platform.testing import MemoryCollection
from vsm_rules.errors import FailedPrecondition

NOW = datetime(2027, 3, 9, 17, 0, tzinfo=UTC)  # a Tuesday, 12:00 in New York


class FakeLedger:
    def __init__(self, view: MarketView) -> None:
        self.view = view
        self.booked: list[tuple[str, str, int]] = []
        self.released: list[tuple[str, str, str]] = []

    async def book(self, actor: Actor, shift_id: str, clinician_id: str, rate: int) -> None:
        if self.view.open_positions(shift_id) - len(self.booked) <= 0:
            raise FailedPrecondition(f"shift {shift_id} has no free position")
        self.booked.append((shift_id, clinician_id, rate))

    async def release(self, actor: Actor, shift_id: str, clinician_id: str, reason: str) -> bool:
        self.released.append((shift_id, clinician_id, reason))
        return True


def _add_clinician(view: MarketView, clinician: str, rate: int, verified: bool = True,
               licensed: bool = True, quiet: tuple[str, str] = ("", ""),
               version: int = 1) -> None:  # fmt: skip
    view.apply(sev.ClinicianProfileChanged(profile=spb.WorkProfile(
        clinician_id=clinician, profession="RN", zone="America/New_York",
        rate_cents_per_hour=rate, max_minutes_per_week=2400, min_rest_minutes=600,
        availability=[spb.AvailabilityWindow(day="wed", start="07:00", end="23:00")],
        quiet_hours_start=quiet[0], quiet_hours_end=quiet[1], version=version,
    )))  # fmt: skip
    verification = lpb.VERIFICATION_OPERATOR if verified else lpb.VERIFICATION_SELF_DECLARED
    state = lpb.VerificationState(verification=verification)
    licences = [lpb.Licence(jurisdiction="US-KS", profession="RN", status=lpb.STATUS_ACTIVE,
                            expires="2028-01-31", verification=state)]  # fmt: skip
    view.apply(lev.LicensingRecordChanged(record=lpb.LicensingRecord(
        clinician_id=clinician, residence="US-KS", version=1,
        licences=licences if licensed else [],
    )))  # fmt: skip


def _build_market() -> tuple[Matcher, MarketView, FakeLedger, ManualClock]:
    clock = ManualClock(NOW)
    view = MarketView()
    view.apply(sev.FacilityChanged(facility=spb.Facility(
        facility_id="f1", organization_id="o1", name="Prairie", zone="America/Chicago",
        do_not_return=["c-barred"],
    )))  # fmt: skip
    shift = spb.Shift(shift_id="s1", facility_id="f1", profession="RN", positions=1, version=1,
                      patient_jurisdictions=["US-KS"], pay_cents_per_hour=9000)  # fmt: skip
    shift.interval.start.FromDatetime(datetime(2027, 3, 10, 14, tzinfo=UTC))  # Wed 09:00 NY
    shift.interval.end.FromDatetime(datetime(2027, 3, 10, 22, tzinfo=UTC))
    view.apply(sev.ShiftPosted(shift=shift))
    for clinician, rate in (("c-cheap", 6000), ("c-mid", 7000), ("c-dear", 8000)):
        _add_clinician(view, clinician, rate)
    _add_clinician(view, "c-barred", 5000)
    _add_clinician(view, "c-unverified", 5000, verified=False)
    _add_clinician(view, "c-unlicensed", 5000, licensed=False)
    changes = ChangeLog(MemoryCollection(), source="matching", clock=clock)  # type: ignore[arg-type]
    store = OfferStore(changes, MemoryCollection())  # type: ignore[arg-type]
    ledger = FakeLedger(view)
    return Matcher(view, store, ledger, clock, time_limit=0.3), view, ledger, clock


@pytest.fixture
def market() -> tuple[Matcher, MarketView, FakeLedger, ManualClock]:
    return _build_market()


@pytest.fixture
def add_clinician() -> Callable[..., None]:
    return _add_clinician
