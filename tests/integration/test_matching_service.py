"""The live market end to end, each service its own process on the real servers: a shift is
posted, offers go only to eligible clinicians (two per open position, the cheapest first), a
decline brings the next offer, an accept books through the scheduling ledger at the offer's
rate, the fill withdraws the offers left, and a licence revoked after booking releases the
booking, which is offered again."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

import grpc
import pytest
from vsm.common.v1 import common_pb2
from vsm.licensing.v1 import licensing_service_pb2 as lpb
from vsm.licensing.v1 import licensing_service_pb2_grpc as lgrpc
from vsm.matching.v1 import matching_service_pb2 as mpb
from vsm.matching.v1 import matching_service_pb2_grpc as mgrpc
from vsm.scheduling.v1 import scheduling_service_pb2 as spb
from vsm.scheduling.v1 import scheduling_service_pb2_grpc as sgrpc
from vsm_cli.seed import seed
from vsm_infra.testing import ServiceProcesses
from vsm_platform.grpc_server import channel
from vsm_rules.records import UNLICENSED_PROFESSIONS, Profession

pytestmark = pytest.mark.integration
PROFESSIONS = [p.value for p in Profession]
OPERATOR = common_pb2.Actor(kind=common_pb2.ACTOR_KIND_USER, id="u-op", role="operator")
T = TypeVar("T")
EVERY_DAY = [{"day": d, "start": "00:00", "end": "00:00"}
             for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")]  # fmt: skip


def _nurse(name: str, clinician: str, rate: int, home: str = "US-KS") -> dict[str, Any]:
    """A nurse of this run only: her id and a skill carry the run's name, so the clinicians that
    other tests left on the shared topics neither collide with her nor fit this run's shift."""
    return {
        "id": f"{name}-{clinician}", "profession": "RN", "tz": "America/New_York", "home": home,
        "skills": [name], "rate_cents_per_hour": rate, "availability": EVERY_DAY,
        "licences": [{"jurisdiction": home, "status": "active",
                      "expires": "2030-01-01T00:00:00Z", "compacts": []}],
        "max_minutes_per_week": 2400, "min_rest_minutes": 480, "booked": [],
    }  # fmt: skip


def _market(name: str) -> dict[str, Any]:
    return {
        "format": "vsm-match/1", "name": name,
        "horizon": {"start": "2026-01-01T00:00:00Z", "end": "2030-01-01T00:00:00Z"},
        "compacts": [], "professions": {"RN": {"licensed": True}},
        "facilities": [{"id": f"f-{name}", "tz": "America/Chicago",
                        "do_not_return": [f"{name}-c-barred"]}],
        "clinicians": [_nurse(name, "c1", 6000), _nurse(name, "c2", 6500),
                       _nurse(name, "c3", 7000), _nurse(name, "c-barred", 5000),
                       _nurse(name, "c-elsewhere", 5000, home="US-CA")],
        "shifts": [],
    }  # fmt: skip


async def _until(what: str, probe: Callable[[], Awaitable[T | None]], seconds: float = 45) -> T:
    deadline = asyncio.get_running_loop().time() + seconds
    while asyncio.get_running_loop().time() < deadline:
        found = await probe()
        if found:
            return found
        await asyncio.sleep(0.2)
    pytest.fail(f"waited {seconds} s for {what}")


async def _market_up(services: ServiceProcesses, *matchers: str) -> str:
    """This run's topics, the licensing and scheduling services and the matching processes
    named (one group); returns the run's name, which its records carry."""
    await services.ensure_topics()
    name = f"m{uuid.uuid4().hex[:6]}"
    services.start("licensing", "licensing.main")
    services.start("scheduling", "scheduling.main")
    for process in matchers:
        services.start(process, "matching.main", **_matcher_env(name))
    await services.serving("licensing", "scheduling", *matchers)
    return name


def _matcher_env(name: str) -> dict[str, str]:
    return {"MATCHING_GROUP": f"test-{name}", "MATCHING_SOLVE_SECONDS": "0.3"}


def _staff(name: str) -> common_pb2.Actor:
    return common_pb2.Actor(kind=common_pb2.ACTOR_KIND_USER, id="u-staff",
                            role="facility_staff", organization_id=f"org-{name}")  # fmt: skip


async def test_post_offer_decline_accept_and_fill(
    services: ServiceProcesses, kafka_bootstrap: str
) -> None:
    name = await _market_up(services, "matching")
    licensing_addr, scheduling_addr = services.address["licensing"], services.address["scheduling"]
    await seed(_market(name), licensing_addr, scheduling_addr)
    scheduling_channel = channel(scheduling_addr)
    matching_channel = channel(services.address["matching"])
    licensing_channel = channel(licensing_addr)
    try:
        scheduling = sgrpc.SchedulingServiceStub(scheduling_channel)
        matching = mgrpc.MatchingServiceStub(matching_channel)
        await _until("the matcher to read every licence", lambda: _licensed_in_kansas(matching, 4))
        posted = await _post(scheduling, _staff(name), name, positions=1)

        async def offers() -> list[Any]:
            listed = await matching.ListOffers(mpb.ListOffersRequest(shift_id=posted.shift_id))
            return sorted(listed.offers, key=lambda o: o.clinician_id)

        def ids(found: list[Any]) -> list[str]:
            return [o.clinician_id.removeprefix(f"{name}-") for o in found]

        async def open_offers(count: int) -> list[Any] | None:
            found = [o for o in await offers() if o.state == mpb.OFFER_STATE_OPEN]
            return found if len(found) == count else None

        first = await _until("two offers", lambda: open_offers(2))
        assert ids(first) == ["c1", "c2"]  # the cheapest eligible two
        assert first[0].rate_cents_per_hour == 6000

        def clinician(who: str) -> common_pb2.Actor:
            return common_pb2.Actor(kind=common_pb2.ACTOR_KIND_USER, id=f"{name}-{who}",
                                    role="clinician")  # fmt: skip

        with pytest.raises(grpc.aio.AioRpcError) as wrong:
            await matching.DeclineOffer(mpb.DeclineOfferRequest(
                actor=clinician("c2"), offer_id=first[0].offer_id))  # fmt: skip
        assert wrong.value.code() == grpc.StatusCode.PERMISSION_DENIED
        await matching.DeclineOffer(mpb.DeclineOfferRequest(
            actor=clinician("c1"), offer_id=first[0].offer_id, reason="busy"))  # fmt: skip
        second = await _until("the next offer", lambda: open_offers(2))
        assert ids(second) == ["c2", "c3"]  # never the barred or the unlicensed

        accepted = await matching.AcceptOffer(mpb.AcceptOfferRequest(
            actor=clinician("c3"), offer_id=second[1].offer_id))  # fmt: skip
        assert accepted.offer.state == mpb.OFFER_STATE_ACCEPTED
        roster = await scheduling.GetRoster(spb.GetRosterRequest(facility_id=f"f-{name}"))
        (entry,) = roster.entries
        assert [(b.clinician_id, b.rate_cents_per_hour) for b in entry.bookings] == [
            (f"{name}-c3", 7000)
        ]

        async def settled() -> list[Any] | None:
            states = {o.clinician_id: o.state for o in await offers()}
            withdrawn = states.get(f"{name}-c2") == mpb.OFFER_STATE_WITHDRAWN
            return list(states.items()) if withdrawn else None

        await _until("the offer left withdrawn", settled)
        status = (await matching.GetShiftStatus(
            mpb.GetShiftStatusRequest(shift_id=posted.shift_id))).status  # fmt: skip
        assert (status.booked, list(status.booked_clinicians), status.offers_out) == (
            1, [f"{name}-c3"], 0
        )  # fmt: skip

        # the board revokes c3's licence: the booking is released, saying why, and re-offered
        licensing = lgrpc.LicensingServiceStub(licensing_channel)
        record = (await licensing.GetLicensingRecord(lpb.GetLicensingRecordRequest(
            clinician_id=f"{name}-c3"))).record  # fmt: skip
        revoke = lpb.EntryRequest(actor=OPERATOR, clinician_id=f"{name}-c3",
                                  entry_id=record.licences[0].licence_id)  # fmt: skip
        await licensing.RevokeLicence(revoke)

        async def released() -> Any:
            roster = await scheduling.GetRoster(spb.GetRosterRequest(facility_id=f"f-{name}"))
            return roster if not roster.entries[0].bookings else None

        await _until("the booking released", released)
        again = await _until("the shift offered again", lambda: open_offers(1))
        assert ids(again) == ["c2"]  # c1 declined; c3 is no longer licensed
    finally:
        await scheduling_channel.close()
        await matching_channel.close()
        await licensing_channel.close()


async def test_two_hundred_accepts_across_two_processes_book_two_and_a_replay_changes_nothing(
    services: ServiceProcesses, kafka_bootstrap: str
) -> None:
    name = await _market_up(services, "matching", "matching-2")
    licensing_addr, scheduling_addr = services.address["licensing"], services.address["scheduling"]
    matching = {p: services.address[p] for p in ("matching", "matching-2")}
    market = _market(name)
    market["clinicians"] += [_nurse(name, f"c{i}", 7000 + 100 * i) for i in range(4, 8)]
    await seed(market, licensing_addr, scheduling_addr)
    staff = _staff(name)
    channels = [channel(scheduling_addr), *(channel(a) for a in matching.values())]
    try:
        scheduling = sgrpc.SchedulingServiceStub(channels[0])
        stubs = [mgrpc.MatchingServiceStub(c) for c in channels[1:]]
        posted = await _post(scheduling, staff, name, positions=2)

        async def open_offers(count: int) -> list[Any] | None:
            listed = await stubs[0].ListOffers(mpb.ListOffersRequest(shift_id=posted.shift_id))
            found = [o for o in listed.offers if o.state == mpb.OFFER_STATE_OPEN]
            return found if len(found) == count else None

        offers = await _until("four offers", lambda: open_offers(4))

        async def accept(n: int) -> str:
            offer = offers[n % len(offers)]
            actor = common_pb2.Actor(kind=common_pb2.ACTOR_KIND_USER, id=offer.clinician_id,
                                     role="clinician")  # fmt: skip
            try:
                await stubs[n % 2].AcceptOffer(
                    mpb.AcceptOfferRequest(actor=actor, offer_id=offer.offer_id)
                )
                return str(offer.offer_id)
            except grpc.aio.AioRpcError as error:
                assert error.code() == grpc.StatusCode.FAILED_PRECONDITION, error.details()
                return "refused"

        answers = await asyncio.gather(*(accept(n) for n in range(200)))
        # two offers win; an accept of a won offer again (a retry) answers the same, so the
        # yeses name exactly those two offers, and every other answer is a refusal
        won = {answer for answer in answers if answer != "refused"}
        assert len(won) == 2, answers
        roster = await scheduling.GetRoster(spb.GetRosterRequest(facility_id=f"f-{name}"))
        assert len(roster.entries[0].bookings) == 2

        async def settled() -> list[tuple[str, int]] | None:
            listed = await stubs[0].ListOffers(mpb.ListOffersRequest(shift_id=posted.shift_id))
            states = sorted((o.offer_id, o.state) for o in listed.offers)
            return states if all(s != mpb.OFFER_STATE_OPEN for _, s in states) else None

        before = await _until("every offer settled", settled)
        assert [s for _, s in before].count(mpb.OFFER_STATE_ACCEPTED) == 2

        # a replay: both matching processes go, one comes back and reads every topic again
        services.kill("matching-2")
        services.stop("matching")
        services.start("matching", "matching.main", **_matcher_env(name))
        await services.serving("matching")
        await channels[1].close()
        channels[1] = channel(services.address["matching"])
        stubs[0] = mgrpc.MatchingServiceStub(channels[1])
        later = await _post(scheduling, staff, name, positions=1)  # it is alive and matching

        async def offered_later() -> Any:
            listed = await stubs[0].ListOffers(mpb.ListOffersRequest(shift_id=later.shift_id))
            return listed.offers or None

        await _until("offers of a shift posted after the restart", offered_later)
        after = await settled()
        assert after == before  # no offer made twice, none lost, none changed
    finally:
        for open_channel in channels:
            await open_channel.close()


async def _licensed_in_kansas(matching: Any, count: int) -> bool:
    """Whether the matcher's read model has `count` nurses licensed for Kansas (the heat map
    answers it): events of the licensing and scheduling topics arrive each at their own pace."""
    request = mpb.GetSupplyRequest(profession="RN", jurisdictions=["US-KS"])
    hour = (datetime.now(UTC) + timedelta(days=3)).replace(minute=0, second=0, microsecond=0)
    request.window.start.FromDatetime(hour)
    request.window.end.FromDatetime(hour + timedelta(hours=1))
    cells = (await matching.GetSupply(request)).cells
    return bool(sum(c.clinicians for c in cells) == count)


async def _post(
    scheduling: Any, staff: Any, name: str, positions: int, profession: str = "RN"
) -> Any:
    start = (datetime.now(UTC) + timedelta(days=3)).replace(minute=0, second=0, microsecond=0)
    shift = spb.Shift(facility_id=f"f-{name}", profession=profession, positions=positions,
                      skills=[name], pay_cents_per_hour=9000,
                      patient_jurisdictions=[] if profession in UNLICENSED_PROFESSIONS
                      else ["US-KS"])  # fmt: skip
    chicago = start.astimezone(ZoneInfo("America/Chicago"))
    shift.local_start.local = chicago.strftime("%Y-%m-%dT%H:%M")
    shift.local_end.local = (chicago + timedelta(hours=4)).strftime("%Y-%m-%dT%H:%M")
    return (await scheduling.PostShift(spb.PostShiftRequest(
        actor=staff, shift=shift, start_reading=spb.WALL_TIME_READING_EARLIER,
        end_reading=spb.WALL_TIME_READING_EARLIER,
    ))).shift  # fmt: skip


async def test_two_instances_split_the_professions_without_duplicate_offers(
    services: ServiceProcesses, kafka_bootstrap: str
) -> None:
    name = await _market_up(services, "matching", "matching-2")
    licensing_addr, scheduling_addr = services.address["licensing"], services.address["scheduling"]
    channels = [channel(services.address[p]) for p in ("scheduling", "matching", "matching-2")]
    try:
        scheduling = sgrpc.SchedulingServiceStub(channels[0])
        stubs = [mgrpc.MatchingServiceStub(c) for c in channels[1:]]

        async def split() -> list[list[str]] | None:
            owned = [list((await s.GetInstanceStatus(mpb.GetInstanceStatusRequest())).professions)
                     for s in stubs]  # fmt: skip
            everyone = sorted(owned[0] + owned[1])
            return owned if all(owned) and everyone == sorted(set(everyone)) else None

        owned = await _until("the professions split between the two", split)
        assert sorted(owned[0] + owned[1]) == sorted(PROFESSIONS)
        other = owned[1] if "RN" in owned[0] else owned[0]  # matched by the instance without RN
        second = other[0]
        licensed = second not in UNLICENSED_PROFESSIONS
        market = _market(name)
        market["professions"] = {"RN": {"licensed": True}, second: {"licensed": licensed}}
        for i in range(5):
            clinician = {**_nurse(name, f"p{i}", 2000 + 100 * i), "profession": second}
            if not licensed:
                clinician["licences"] = []
            market["clinicians"].append(clinician)
        await seed(market, licensing_addr, scheduling_addr)
        nurses = await _post(scheduling, _staff(name), name, positions=1)
        scribing = await _post(scheduling, _staff(name), name, positions=2, profession=second)

        async def offers_of(shift_id: str, count: int) -> list[Any] | None:
            listed = await stubs[0].ListOffers(mpb.ListOffersRequest(shift_id=shift_id))
            return list(listed.offers) if len(listed.offers) >= count else None

        await _until("the nurses' offers", lambda: offers_of(nurses.shift_id, 2))
        await _until(f"the {second} offers", lambda: offers_of(scribing.shift_id, 4))
        await asyncio.sleep(3)  # room for a duplicate, were there one
        assert len(await offers_of(nurses.shift_id, 0) or []) == 2
        assert len(await offers_of(scribing.shift_id, 0) or []) == 4
        worked = [(await s.GetInstanceStatus(mpb.GetInstanceStatusRequest())) for s in stubs]
        assert all(w.ready and (w.rematches + w.placed) > 0 for w in worked)
    finally:
        for open_channel in channels:
            await open_channel.close()
