"""The matching service's read model: each event changes the professions it touches, an older
version never replaces a newer one, and the engine's problem holds what is open and trusted."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from matching.read_model import MarketView
from vsm.licensing.v1 import events_pb2 as lev
from vsm.licensing.v1 import licensing_service_pb2 as lpb
from vsm.scheduling.v1 import events_pb2 as sev
from vsm.scheduling.v1 import scheduling_service_pb2 as spb

NOW = datetime(2027, 3, 5, tzinfo=UTC)


def _shift(shift_id: str, version: int = 1, positions: int = 2, day: int = 10,
           state: spb.ShiftState = spb.SHIFT_STATE_OPEN) -> spb.Shift:  # fmt: skip
    shift = spb.Shift(shift_id=shift_id, facility_id="f1", profession="RN",
                      patient_jurisdictions=["US-KS"], positions=positions,
                      pay_cents_per_hour=9000, version=version, state=state)  # fmt: skip
    shift.interval.start.FromDatetime(datetime(2027, 3, day, 14, tzinfo=UTC))
    shift.interval.end.FromDatetime(datetime(2027, 3, day, 22, tzinfo=UTC))
    return shift


def _profile(clinician: str, version: int = 1) -> spb.WorkProfile:
    return spb.WorkProfile(
        clinician_id=clinician, profession="RN", zone="America/New_York",
        rate_cents_per_hour=8000, max_minutes_per_week=2400, min_rest_minutes=600,
        availability=[spb.AvailabilityWindow(day="wed", start="07:00", end="23:00")],
        version=version,
    )  # fmt: skip


def _market() -> MarketView:
    view = MarketView()
    view.apply(sev.FacilityChanged(facility=spb.Facility(
        facility_id="f1", organization_id="o1", name="Prairie", zone="America/Chicago",
        do_not_return=["c-barred"], favourites=["c2"],
    )))  # fmt: skip
    return view


def test_events_touch_their_professions_and_old_versions_are_ignored() -> None:
    view = _market()
    assert view.apply(sev.ShiftPosted(shift=_shift("s1"))) == {"RN"}
    assert view.apply(sev.ShiftUpdated(shift=_shift("s1", version=3, positions=3))) == {"RN"}
    assert view.apply(sev.ShiftUpdated(shift=_shift("s1", version=2, positions=1))) == set()
    assert view.shifts["s1"].positions == 3 and view.shifts["s1"].value_cents == 72000
    assert view.apply(sev.ClinicianProfileChanged(profile=_profile("c1"))) == {"RN"}
    later = sev.AvailabilityChanged(clinician_id="c1", zone="America/New_York", version=2,
                                    quiet_hours_start="22:00", quiet_hours_end="07:00")  # fmt: skip
    assert view.apply(later) == {"RN"}
    assert view.profiles["c1"].availability == () and view.profiles["c1"].quiet_hours
    assert view.apply(sev.ClinicianProfileChanged(profile=_profile("c1", version=1))) == set()
    off = sev.TimeOffChanged(clinician_id="c1", zone="America/New_York", version=3,
                             time_off=["2027-03-10"])  # fmt: skip
    view.apply(off)
    assert [d.isoformat() for d in view.profiles["c1"].time_off] == ["2027-03-10"]
    assert view.apply(spb.Shift()) == set()  # not an event it reads


def test_the_problem_holds_open_positions_trusted_records_and_bookings() -> None:
    view = _market()
    view.apply(sev.ShiftPosted(shift=_shift("s1")))
    view.apply(sev.ShiftPosted(shift=_shift("s-cancelled", state=spb.SHIFT_STATE_CANCELLED)))
    view.apply(sev.ShiftPosted(shift=_shift("s-past", day=1)))
    for clinician in ("c1", "c2"):
        view.apply(sev.ClinicianProfileChanged(profile=_profile(clinician)))
    booking = spb.Booking(shift_id="s1", clinician_id="c2", rate_cents_per_hour=7000)
    booking.interval.CopyFrom(_shift("s1").interval)
    view.apply(sev.BookingConfirmed(booking=booking))
    record = lpb.LicensingRecord(clinician_id="c1", residence="US-KS", version=2, licences=[
        lpb.Licence(jurisdiction="US-KS", profession="RN", status=lpb.STATUS_ACTIVE,
                    expires="2028-01-31",
                    verification=lpb.VerificationState(verification=lpb.VERIFICATION_OPERATOR)),
        lpb.Licence(jurisdiction="US-MO", profession="RN", status=lpb.STATUS_ACTIVE,
                    expires="2028-01-31"),  # self-declared: not trusted
    ])  # fmt: skip
    assert view.apply(lev.LicensingRecordChanged(record=record)) == {"RN"}

    problem = view.problem("RN", NOW)
    assert list(problem.shifts) == ["s1"] and problem.shifts["s1"].positions == 1
    assert [lic.jurisdiction for lic in problem.clinicians["c1"].licensing.licences] == ["US-KS"]
    day = (datetime(2027, 3, 10, 14, tzinfo=UTC), datetime(2027, 3, 10, 22, tzinfo=UTC))
    assert problem.clinicians["c2"].booked == (day,)
    assert problem.do_not_return["f1"] == frozenset({"c-barred"})
    assert view.open_positions("s1") == 1
    view.apply(sev.BookingReleased(booking=booking))
    assert view.open_positions("s1") == 2 and view.problem("LPN", NOW).shifts == {}


def test_a_compact_table_change_replaces_that_compact() -> None:
    view = MarketView()
    nlc = next(t for t in view.compacts["compacts"] if t["id"] == "NLC")
    changed = {**nlc, "members": {"US-KS": {"status": "implemented", "honours_from": "2020-01-01",
                                            "residents_from": "2020-01-01"}}}  # fmt: skip
    touched = view.apply(lev.CompactTableChanged(compact="NLC", table_json=json.dumps(changed)))
    assert touched == {"RN", "LPN"}
    compact = view.tables.compact("NLC")
    assert compact is not None and set(compact.members) == {"US-KS"}
