"""The live market over fakes (in-memory rows, a fake ledger, a manual clock): offers go only to
eligible clinicians on trusted licences, two per open position, the engine's pick first; a
decline makes room for the next; an accept books at the offer's rate and the fill withdraws the
rest; unanswered offers expire."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from matching.matcher import Matcher
from matching.offers import Outcome
from matching.read_model import MarketView
from vsm.common.v1 import common_pb2
from vsm.licensing.v1 import events_pb2 as lev
from vsm.licensing.v1 import licensing_service_pb2 as lpb
from vsm.scheduling.v1 import events_pb2 as sev
from vsm.scheduling.v1 import scheduling_service_pb2 as spb
from vsm_platform.actor import Actor, ActorKind
from vsm_platform.clock import ManualClock
from vsm_rules.errors import FailedPrecondition, PermissionDenied

NOW = datetime(2027, 3, 9, 17, 0, tzinfo=UTC)  # a Tuesday, 12:00 in New York


Market = tuple[Matcher, MarketView, Any, ManualClock]


def _user(clinician: str) -> Actor:
    return Actor(ActorKind.USER, clinician, role="clinician")


async def test_offers_go_to_eligible_clinicians_two_per_position_best_first(market: Market) -> None:
    matcher, _, _, _ = market
    made = await matcher.rematch("RN")
    assert [k.offer.clinician_id for k in made] == ["c-cheap", "c-mid"]
    assert made[0].offer.rate_cents_per_hour == 6000
    assert made[0].offer.expires_at == NOW + timedelta(minutes=15)
    assert await matcher.rematch("RN") == []  # nothing changed: nothing new


async def test_a_decline_makes_room_for_the_next_and_an_accept_books_at_the_offers_rate(
    market: Market,
) -> None:
    matcher, view, ledger, _ = market
    cheap, mid = await matcher.rematch("RN")
    with pytest.raises(PermissionDenied):
        await matcher.decline(_user("c-dear"), cheap.offer.id, "")
    declined = await matcher.decline(_user("c-cheap"), cheap.offer.id, "busy that day")
    assert declined.outcome == Outcome.DECLINED
    (dear,) = await matcher.rematch("RN")
    assert dear.offer.clinician_id == "c-dear"
    view.apply(sev.ClinicianProfileChanged(profile=spb.WorkProfile(
        clinician_id="c-mid", profession="RN", zone="America/New_York",
        rate_cents_per_hour=9900, max_minutes_per_week=2400, min_rest_minutes=600, version=2,
        availability=[spb.AvailabilityWindow(day="wed", start="07:00", end="23:00")],
    )))  # the clinician asks more after the offer was made  # fmt: skip
    accepted = await matcher.accept(_user("c-mid"), mid.offer.id)
    assert accepted.outcome == Outcome.ACCEPTED
    assert ledger.booked == [("s1", "c-mid", 7000)]  # the offer's rate, fixed when made
    again = await matcher.accept(_user("c-mid"), mid.offer.id)  # a retry: the same answer
    assert again.outcome == Outcome.ACCEPTED and len(ledger.booked) == 1
    with pytest.raises(PermissionDenied):
        await matcher.accept(_user("c-dear"), mid.offer.id)
    booking = spb.Booking(shift_id="s1", clinician_id="c-mid", rate_cents_per_hour=7000)
    view.apply(sev.BookingConfirmed(booking=booking))
    assert await matcher.rematch("RN") == []
    offers = await matcher.offers_of("s1")
    assert offers[dear.offer.id].outcome == Outcome.WITHDRAWN  # filled: the rest withdrawn
    view.apply(sev.BookingReleased(booking=booking))  # open again: the withdrawn may be asked
    (again,) = await matcher.rematch("RN")  # c-cheap declined and is not asked again
    assert (again.offer.clinician_id, again.offer.id) == ("c-dear", "s1.1.c-dear.1")


async def test_an_accept_whose_booking_was_made_by_an_earlier_try_is_accepted(
    market: Market,
) -> None:
    """The first try booked the clinician and died before recording the offer accepted: the
    retry finds the clinician already booked on the shift and records the acceptance."""
    matcher, _, ledger, _ = market
    cheap, _ = await matcher.rematch("RN")

    async def booked_already(*_: object) -> None:
        raise FailedPrecondition("c-cheap is already booked on s1")

    ledger.book = booked_already  # type: ignore[method-assign]
    accepted = await matcher.accept(_user("c-cheap"), cheap.offer.id)
    assert accepted.outcome == Outcome.ACCEPTED


async def test_unanswered_offers_expire_and_the_next_clinician_gets_one(market: Market) -> None:
    matcher, _, _, clock = market
    first = await matcher.rematch("RN")
    await clock.advance(timedelta(minutes=16))
    assert await matcher.due_expiries() == {"RN"}
    assert {k.outcome for k in (await matcher.offers_of("s1")).values()} == {Outcome.EXPIRED}
    with pytest.raises(FailedPrecondition, match="expired"):
        await matcher.accept(_user("c-cheap"), first[0].offer.id)
    (dear,) = await matcher.rematch("RN")  # the two who let it expire are not asked again
    assert dear.offer.clinician_id == "c-dear"


async def test_an_offer_waits_for_the_end_of_quiet_hours(
    market: Market, add_clinician: Any
) -> None:
    matcher, view, _, clock = market
    add_clinician(view, "c-cheap", 6000, quiet=("11:00", "13:00"), version=2)  # it is 12:00 in NY
    made = await matcher.rematch("RN")
    cheap = next(k for k in made if k.offer.clinician_id == "c-cheap")
    assert cheap.offer.deliver_at == datetime(2027, 3, 9, 18, 0, tzinfo=UTC)  # 13:00 NY
    assert cheap.offer.expires_at == cheap.offer.deliver_at + timedelta(minutes=15)
    assert clock.now() == NOW


async def test_a_revoked_licence_releases_the_bookings_that_rested_on_it(market: Market) -> None:
    matcher, view, ledger, _ = market
    booking = spb.Booking(shift_id="s1", clinician_id="c-mid", rate_cents_per_hour=7000)
    booking.interval.start.FromDatetime(datetime(2027, 3, 10, 14, tzinfo=UTC))
    booking.interval.end.FromDatetime(datetime(2027, 3, 10, 22, tzinfo=UTC))
    view.apply(sev.BookingConfirmed(booking=booking))
    assert await matcher.release_unlicensed("c-mid") == []  # still licensed: nothing to do
    revoked = lpb.Licence(jurisdiction="US-KS", profession="RN", status=lpb.STATUS_REVOKED,
                          expires="2028-01-31", verification=lpb.VerificationState(
                              verification=lpb.VERIFICATION_OPERATOR))  # fmt: skip
    view.apply(lev.LicensingRecordChanged(record=lpb.LicensingRecord(
        clinician_id="c-mid", residence="US-KS", version=2, licences=[revoked])))  # fmt: skip
    assert await matcher.release_unlicensed("c-mid") == ["s1"]
    ((shift_id, clinician_id, reason),) = ledger.released
    assert (shift_id, clinician_id) == ("s1", "c-mid") and "US-KS" in reason


async def test_a_booking_agreed_elsewhere_is_never_released_for_a_licence(market: Market) -> None:
    matcher, view, ledger, _ = market
    booking = spb.Booking(shift_id="s1", clinician_id="c-mid", rate_cents_per_hour=7000,
                          agreed_elsewhere=True)  # fmt: skip
    booking.interval.start.FromDatetime(datetime(2027, 3, 10, 14, tzinfo=UTC))
    booking.interval.end.FromDatetime(datetime(2027, 3, 10, 22, tzinfo=UTC))
    view.apply(sev.BookingConfirmed(booking=booking))
    revoked = lpb.Licence(jurisdiction="US-KS", profession="RN", status=lpb.STATUS_REVOKED,
                          expires="2028-01-31", verification=lpb.VerificationState(
                              verification=lpb.VERIFICATION_OPERATOR))  # fmt: skip
    view.apply(lev.LicensingRecordChanged(record=lpb.LicensingRecord(
        clinician_id="c-mid", residence="US-KS", version=2, licences=[revoked])))  # fmt: skip
    assert await matcher.release_unlicensed("c-mid") == []
    assert ledger.released == []


async def test_a_new_shift_is_placed_into_the_last_answer_without_a_full_rematch(
    market: Market,
) -> None:
    matcher, view, _, _ = market
    shift = spb.Shift(shift_id="s2", facility_id="f1", profession="RN", positions=1, version=1,
                      patient_jurisdictions=["US-KS"], pay_cents_per_hour=9000)  # fmt: skip
    shift.interval.start.FromDatetime(datetime(2027, 3, 17, 14, tzinfo=UTC))  # a Wednesday
    shift.interval.end.FromDatetime(datetime(2027, 3, 17, 22, tzinfo=UTC))
    view.apply(sev.ShiftPosted(shift=shift))
    assert await matcher.place("s2") is None  # nothing solved yet: a full re-match is due
    await matcher.rematch("RN")
    later = spb.Shift()
    later.CopyFrom(shift)
    later.shift_id = "s3"
    later.interval.start.FromDatetime(datetime(2027, 3, 24, 14, tzinfo=UTC))
    later.interval.end.FromDatetime(datetime(2027, 3, 24, 22, tzinfo=UTC))
    view.apply(sev.ShiftPosted(shift=later))
    placed = await matcher.place("s3")
    assert placed is not None
    assert [k.offer.clinician_id for k in placed] == ["c-cheap", "c-mid"]
    assert await matcher.place("s3") == []  # placed once: nothing more to offer


async def test_no_clinician_is_offered_two_shifts_they_could_not_both_work(
    market: Market,
) -> None:
    matcher, view, _, _ = market
    overlapping = spb.Shift(shift_id="s-over", facility_id="f1", profession="RN", positions=1,
                            version=1, patient_jurisdictions=["US-KS"],
                            pay_cents_per_hour=9000)  # fmt: skip
    overlapping.interval.start.FromDatetime(datetime(2027, 3, 10, 16, tzinfo=UTC))
    overlapping.interval.end.FromDatetime(datetime(2027, 3, 10, 20, tzinfo=UTC))
    view.apply(sev.ShiftPosted(shift=overlapping))
    made = await matcher.rematch("RN")
    offered: dict[str, set[str]] = {}
    for kept in made:
        offered.setdefault(kept.offer.clinician_id, set()).add(kept.offer.shift_id)
    assert all(len(shifts) == 1 for shifts in offered.values()), offered
    assert {"s1", "s-over"} == {s for shifts in offered.values() for s in shifts}


def _vouched_by(view: MarketView, clinician: str, organization: str, rate: int) -> None:
    """A nurse whose only licence a credentialing partner of `organization` verified."""
    view.apply(sev.ClinicianProfileChanged(profile=spb.WorkProfile(
        clinician_id=clinician, profession="RN", zone="America/New_York",
        rate_cents_per_hour=rate, max_minutes_per_week=2400, min_rest_minutes=600,
        availability=[spb.AvailabilityWindow(day="wed", start="07:00", end="23:00")], version=1,
    )))  # fmt: skip
    partner = lpb.VerificationState(
        verification=lpb.VERIFICATION_PARTNER,
        verified_by=common_pb2.Actor(kind=common_pb2.ACTOR_KIND_PARTNER, id="vms",
                                     organization_id=organization),
    )  # fmt: skip
    view.apply(lev.LicensingRecordChanged(record=lpb.LicensingRecord(
        clinician_id=clinician, residence="US-KS", version=1,
        licences=[lpb.Licence(jurisdiction="US-KS", profession="RN", status=lpb.STATUS_ACTIVE,
                              expires="2028-01-31", verification=partner)],
    )))  # fmt: skip


async def test_a_partners_verification_counts_at_its_own_organisations_facilities_only(
    market: Market,
) -> None:
    matcher, view, _, _ = market  # the shift s1 is at facility f1 of organisation o1
    _vouched_by(view, "c-theirs", "o2", 1000)  # cheapest of all, vouched for by o2's partner
    _vouched_by(view, "c-ours", "o1", 1500)
    shift = view.shifts["s1"]
    assert not view.licensed_here("c-theirs", shift) and view.licensed_here("c-ours", shift)
    made = await matcher.rematch("RN")
    assert [k.offer.clinician_id for k in made] == ["c-ours", "c-cheap"]


async def test_a_fill_seen_before_its_accept_is_recorded_accepts_it_and_withdraws_the_others(
    market: Market,
) -> None:
    """Another process booked c-cheap on accepting its offer (and may have died before
    recording it); this one sees the booking first: that offer is accepted, the other is
    withdrawn."""
    matcher, view, _, _ = market
    cheap, mid = await matcher.rematch("RN")
    booking = spb.Booking(shift_id="s1", clinician_id="c-cheap", rate_cents_per_hour=6000)
    view.apply(sev.BookingConfirmed(booking=booking))
    assert await matcher.rematch("RN") == []
    offers = await matcher.offers_of("s1")
    assert offers[cheap.offer.id].outcome == Outcome.ACCEPTED  # the booking is what counts
    assert offers[mid.offer.id].outcome == Outcome.WITHDRAWN
