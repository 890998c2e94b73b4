"""What clinicians do: their work profile, weekly availability with quiet hours, time off,
licences and authorities (self-declared until verified), offers (accept, decline), their
schedule in their zone, the iCal link, why a shift was not offered, and notifications."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

import grpc
from fastapi import APIRouter, Query, Response
from google.protobuf.timestamp_pb2 import Timestamp
from vsm.common.v1 import common_pb2
from vsm.licensing.v1 import licensing_service_pb2 as lpb
from vsm.matching.v1 import matching_service_pb2 as mpb
from vsm.scheduling.v1 import scheduling_service_pb2 as spb
from vsm_rules.errors import NotFound
from vsm_rules.jurisdictions import US_DISTRICT_AND_TERRITORIES, US_STATES

from gateway import access
from gateway.accounts import Account
from gateway.api.deps import Me, Parts
from gateway.api.schemas import (
    AuthorityIn,
    AvailabilityIn,
    DeclineIn,
    LicenceIn,
    ProfileIn,
    ResidenceIn,
    TimeOffIn,
    as_json,
)
from gateway.inward import work_profile
from gateway.words import licences_in_words

router = APIRouter(prefix="/v1", tags=["clinicians"])
AUTHORITY_KINDS = {
    "e_passport": lpb.AUTHORITY_KIND_E_PASSPORT, "apit": lpb.AUTHORITY_KIND_APIT,
    "compact_privilege": lpb.AUTHORITY_KIND_COMPACT_PRIVILEGE,
    "telehealth_registration": lpb.AUTHORITY_KIND_TELEHEALTH_REGISTRATION,
}  # fmt: skip


async def _profile(parts: Parts, me: Account) -> spb.WorkProfile | None:
    return await work_profile(parts.services.scheduling, me.id)


async def _save(
    parts: Parts, me: Account, profile: spb.WorkProfile, expected: int, release: bool = False
) -> dict[str, Any]:
    saved = await parts.services.scheduling.SaveProfile(spb.SaveProfileRequest(
        actor=me.actor.to_proto(), profile=profile, expected_version=expected,
        release_clashing_bookings=release,
    ))  # fmt: skip
    return as_json(saved)


async def _current(parts: Parts, me: Account) -> spb.WorkProfile:
    access.clinician_role(me)
    profile = await _profile(parts, me)
    if profile is None:
        raise NotFound("no work profile yet: PUT /v1/me/profile first")
    return profile


@router.get("/me/profile")
async def my_profile(parts: Parts, me: Me) -> dict[str, Any]:
    return as_json(await _current(parts, me))


@router.put("/me/profile")
async def save_my_profile(body: ProfileIn, parts: Parts, me: Me) -> dict[str, Any]:
    """Profession, skills, zone, rate, weekly cap and rest; availability and time off stay."""
    access.clinician_role(me)
    current = await _profile(parts, me) or spb.WorkProfile()
    profile = spb.WorkProfile()
    profile.CopyFrom(current)
    profile.clinician_id = me.id
    profile.profession = body.profession
    del profile.skills[:]
    profile.skills.extend(body.skills)
    profile.zone = body.zone
    profile.rate_cents_per_hour = body.rate_cents_per_hour
    profile.max_minutes_per_week = body.max_minutes_per_week
    profile.min_rest_minutes = body.min_rest_minutes
    return await _save(parts, me, profile, body.expected_version or current.version)


@router.put("/me/availability")
async def save_my_availability(body: AvailabilityIn, parts: Parts, me: Me) -> dict[str, Any]:
    """Weekly windows and quiet hours, in the clinician's own zone."""
    profile = await _current(parts, me)
    del profile.availability[:]
    profile.availability.extend(
        spb.AvailabilityWindow(day=w.day, start=w.start, end=w.end) for w in body.windows
    )
    profile.quiet_hours_start = body.quiet_hours_start
    profile.quiet_hours_end = body.quiet_hours_end
    return await _save(parts, me, profile, body.expected_version or profile.version)


@router.put("/me/time-off")
async def save_my_time_off(body: TimeOffIn, parts: Parts, me: Me) -> dict[str, Any]:
    """Dates off; with `release_clashing_bookings`, bookings on them are released (subject to
    the notice rule) and returned."""
    profile = await _current(parts, me)
    del profile.time_off[:]
    profile.time_off.extend(body.dates)
    return await _save(parts, me, profile, body.expected_version or profile.version,
                       body.release_clashing_bookings)  # fmt: skip


@router.get("/me/licensing")
async def my_licensing(parts: Parts, me: Me) -> dict[str, Any]:
    """Residence, licences and authorities, each with how far it is verified."""
    access.clinician_role(me)
    found = await parts.services.licensing.GetLicensingRecord(
        lpb.GetLicensingRecordRequest(clinician_id=me.id)
    )
    return as_json(found.record)


@router.put("/me/residence")
async def set_my_residence(body: ResidenceIn, parts: Parts, me: Me) -> dict[str, Any]:
    access.clinician_role(me)
    found = await parts.services.licensing.SetResidence(lpb.SetResidenceRequest(
        actor=me.actor.to_proto(), clinician_id=me.id, residence=body.residence,
        expected_version=body.expected_version,
    ))  # fmt: skip
    return as_json(found.record)


@router.post("/me/licences", status_code=201)
async def declare_licence(body: LicenceIn, parts: Parts, me: Me) -> dict[str, Any]:
    """Declares a licence; it counts once an operator or credentialing partner verifies it."""
    access.clinician_role(me)
    found = await parts.services.licensing.AddLicence(lpb.AddLicenceRequest(
        actor=me.actor.to_proto(), clinician_id=me.id, expected_version=body.expected_version,
        licence=lpb.Licence(
            licence_id=body.licence_id, jurisdiction=body.jurisdiction,
            profession=body.profession, number=body.number, status=lpb.STATUS_ACTIVE,
            issued=body.issued, expires=body.expires, multistate=body.multistate),
    ))  # fmt: skip
    return as_json(found.record)


@router.post("/me/authorities", status_code=201)
async def declare_authority(body: AuthorityIn, parts: Parts, me: Me) -> dict[str, Any]:
    """Declares an authority (a PSYPACT E.Passport or APIT, a compact privilege, a telehealth
    registration); it counts once verified."""
    access.clinician_role(me)
    found = await parts.services.licensing.AddAuthority(lpb.AuthorityRequest(
        actor=me.actor.to_proto(), clinician_id=me.id, expected_version=body.expected_version,
        authority=lpb.Authority(
            authority_id=body.authority_id, kind=AUTHORITY_KINDS[body.kind],
            status=lpb.STATUS_ACTIVE, compact=body.compact, jurisdiction=body.jurisdiction,
            profession=body.profession, issued=body.issued, expires=body.expires),
    ))  # fmt: skip
    return as_json(found.record)


@router.get("/me/offers")
async def my_offers(parts: Parts, me: Me) -> dict[str, Any]:
    """Offers delivered so far (one held back by quiet hours appears when they end), each with
    what the clinician needs to decide: the shift's times, scope of work and facility."""
    access.clinician_role(me)
    found = await parts.services.matching.ListOffers(mpb.ListOffersRequest(clinician_id=me.id))
    now = parts.clock.now()
    delivered = [o for o in found.offers
                 if not o.deliver_at or datetime.fromisoformat(o.deliver_at) <= now]  # fmt: skip
    facilities: dict[str, spb.Facility] = {}
    offers = []
    for offer in delivered:
        shown = as_json(offer)
        shown["shift"] = await _offered_shift(parts, offer.shift_id, facilities)
        offers.append(shown)
    return {"offers": offers}


async def _offered_shift(
    parts: Parts, shift_id: str, facilities: dict[str, spb.Facility]
) -> dict[str, Any]:
    """What an offer shows of its shift: not the facility's pay ceiling, not other offers."""
    try:
        shift = (await parts.services.scheduling.GetShift(
            spb.GetShiftRequest(shift_id=shift_id))).shift  # fmt: skip
        if shift.facility_id not in facilities:
            facilities[shift.facility_id] = (await parts.services.scheduling.GetFacility(
                spb.GetFacilityRequest(facility_id=shift.facility_id))).facility  # fmt: skip
    except grpc.aio.AioRpcError as error:
        if error.code() == grpc.StatusCode.NOT_FOUND:
            return {}
        raise
    facility = facilities[shift.facility_id]
    return {
        "profession": shift.profession, "skills": list(shift.skills),
        "patient_jurisdictions": list(shift.patient_jurisdictions),
        "start": shift.interval.start.ToDatetime(tzinfo=UTC).isoformat(),
        "end": shift.interval.end.ToDatetime(tzinfo=UTC).isoformat(),
        "local_start": as_json(shift.local_start), "local_end": as_json(shift.local_end),
        "scope_of_work": shift.scope_of_work, "facility_name": facility.name,
        "facility_zone": facility.zone,
    }  # fmt: skip


@router.get("/me/licensing/today")
async def my_licences_today(parts: Parts, me: Me) -> dict[str, Any]:
    """Where the clinician may see patients today, and on what basis, in words."""
    profile = await _current(parts, me)
    now = parts.clock.now()
    places = sorted(US_STATES | US_DISTRICT_AND_TERRITORIES)
    start, end = Timestamp(), Timestamp()
    start.FromDatetime(now)
    end.FromDatetime(now + timedelta(hours=1))
    decision = await parts.services.licensing.CheckEligibility(lpb.CheckEligibilityRequest(
        clinician_id=me.id, profession=profile.profession, patient_jurisdictions=places,
        date=now.date().isoformat(), interval=common_pb2.Interval(start=start, end=end),
    ))  # fmt: skip
    return {"profession": profile.profession, **licences_in_words(decision.verdicts)}


async def _answer(me: Account, call: Any, request: Any) -> dict[str, Any]:
    access.clinician_role(me)
    try:
        answered = await call(request)
    except grpc.aio.AioRpcError as error:
        if error.code() == grpc.StatusCode.PERMISSION_DENIED:  # another clinician's offer
            raise NotFound(f"no offer {request.offer_id!r}") from None
        raise
    return as_json(answered.offer)


@router.post("/offers/{offer_id}/accept")
async def accept_offer(offer_id: str, parts: Parts, me: Me) -> dict[str, Any]:
    """Accepts an offer: everything is checked again and the shift is booked at the offer's
    rate; if the last position went first, the answer says so (409)."""
    request = mpb.AcceptOfferRequest(actor=me.actor.to_proto(), offer_id=offer_id)
    return await _answer(me, parts.services.matching.AcceptOffer, request)


@router.post("/offers/{offer_id}/decline")
async def decline_offer(offer_id: str, body: DeclineIn, parts: Parts, me: Me) -> dict[str, Any]:
    return await _answer(me, parts.services.matching.DeclineOffer,
                         mpb.DeclineOfferRequest(actor=me.actor.to_proto(), offer_id=offer_id,
                                                 reason=body.reason))  # fmt: skip


@router.get("/me/shifts/{shift_id}/why-not")
async def why_not_offered(shift_id: str, parts: Parts, me: Me) -> dict[str, Any]:
    """Why this shift was not offered to me, in plain words."""
    access.clinician_role(me)
    found = await parts.services.matching.WhyNotOffered(mpb.WhyNotOfferedRequest(
        actor=me.actor.to_proto(), shift_id=shift_id, clinician_id=me.id))  # fmt: skip
    return as_json(found)


@router.get("/me/schedule")
async def my_schedule(
    parts: Parts, me: Me, zone: Annotated[str, Query(max_length=64)] = ""
) -> dict[str, Any]:
    """Bookings in my zone (or `zone`), each with its facility's wall time too."""
    access.clinician_role(me)
    found = await parts.services.scheduling.GetSchedule(
        spb.GetScheduleRequest(clinician_id=me.id, zone=zone)
    )
    return as_json(found)


@router.get("/me/calendar-link")
async def my_calendar_link(parts: Parts, me: Me) -> dict[str, str]:
    """A private iCal address for calendar apps; anyone with it can read the schedule."""
    access.clinician_role(me)
    token = await parts.store.calendar_token(me.id)
    return {"url": f"{parts.settings.public_url}/v1/calendar/{token}.ics"}


@router.get("/calendar/{token}.ics", response_class=Response)
async def calendar(token: str, parts: Parts) -> Response:
    clinician_id = await parts.store.calendar_owner(token)
    if clinician_id is None:
        raise NotFound("no such calendar")
    found = await parts.services.scheduling.GetCalendar(
        spb.GetCalendarRequest(clinician_id=clinician_id)
    )
    return Response(found.ical, media_type="text/calendar")


@router.get("/me/notifications")
async def my_notifications(parts: Parts, me: Me) -> dict[str, Any]:
    """What has been sent to me (and, for facility staff, to my organisation), newest first;
    a clinician's arrive only outside their quiet hours."""
    now = parts.clock.now()
    found = await parts.notifier.delivered(me.id, now)
    if me.role.is_facility:  # what the organisation is told: fills and releases
        found += await parts.notifier.delivered(f"org:{me.organization_id}", now)
        found.sort(key=lambda n: n.deliver_at, reverse=True)
    return {"notifications": [
        {"kind": n.kind, "text": n.text, "link": n.link, "at": n.deliver_at.isoformat()}
        for n in found
    ]}  # fmt: skip
