"""What the gRPC fuzzer works on: an organisation made through the public APIs (a facility,
shifts, a clinician with licences and an authority, an API key), its state read back as a
snapshot, and one valid request per RPC for the fuzzer to mutate."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from absurd_values import Hints
from gateway.partner_stream import encode_cursor
from gateway.testing import Stack
from google.protobuf.message import Message
from vsm.common.v1 import common_pb2 as cpb
from vsm.licensing.v1 import licensing_service_pb2 as lpb
from vsm.licensing.v1 import licensing_service_pb2_grpc as lpb_grpc
from vsm.matching.v1 import matching_service_pb2 as mpb
from vsm.partner.v1 import events_pb2 as epb
from vsm.partner.v1 import partner_service_pb2 as ppb
from vsm.partner.v1 import partner_service_pb2_grpc as ppb_grpc
from vsm.scheduling.v1 import scheduling_service_pb2 as spb
from vsm.scheduling.v1 import scheduling_service_pb2_grpc as spb_grpc
from vsm_platform.grpc_server import channel

OPERATOR = cpb.Actor(kind=cpb.ACTOR_KIND_USER, id="u-fuzz-operator", role="operator")
ZONE = "America/Chicago"
EVERY_DAY = [spb.AvailabilityWindow(day=d, start="00:00", end="00:00")
             for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")]  # fmt: skip


@dataclass
class Organisation:
    """One organisation's things, all made through the partner API with its key."""

    organization_id: str
    facility_id: str
    key: str
    shifts: list[str]
    clinician_id: str


def day(offset: int) -> str:
    return (date.today() + timedelta(days=offset)).isoformat()


def key_metadata(key: str) -> list[tuple[str, str]]:
    return [("x-api-key", key)]


def _draft(facility: str, offset: int, hour: int = 9) -> ppb.ShiftDraft:
    return ppb.ShiftDraft(
        facility_id=facility, profession="RN", patient_jurisdictions=["US-KS"],
        local_start=f"{day(offset)}T{hour:02d}:00", local_end=f"{day(offset)}T{hour + 4:02d}:00",
        positions=1, pay_cents_per_hour=9000, scope_of_work="telehealth triage",
    )  # fmt: skip


def _profile(clinician_id: str) -> spb.WorkProfile:
    return spb.WorkProfile(
        clinician_id=clinician_id, profession="RN", zone=ZONE, rate_cents_per_hour=5000,
        availability=EVERY_DAY, max_minutes_per_week=6000, min_rest_minutes=60,
        skills=["triage"], time_off=[day(200)], quiet_hours_start="22:00", quiet_hours_end="06:00",
    )  # fmt: skip


def _licence(licence_id: str, jurisdiction: str, number: str) -> lpb.Licence:
    return lpb.Licence(licence_id=licence_id, jurisdiction=jurisdiction, profession="RN",
                       number=number, status=lpb.STATUS_ACTIVE, issued="2020-01-01",
                       expires="2030-01-01")  # fmt: skip


def _registration() -> lpb.Authority:
    return lpb.Authority(authority_id="reg", kind=lpb.AUTHORITY_KIND_TELEHEALTH_REGISTRATION,
                         status=lpb.STATUS_ACTIVE, jurisdiction="US-FL", profession="RN",
                         issued="2021-01-01", expires="2029-01-01")  # fmt: skip


async def organisation(stack: Stack, name: str) -> Organisation:
    """An organisation with a facility, four shifts and a clinician with two licences and a
    telehealth registration."""
    signed = await stack.sign_up_organization(name)
    org = signed["organization_id"]
    facility, clinician = f"{name}-{uuid.uuid4().hex[:6]}", f"{name}-n-{uuid.uuid4().hex[:6]}"
    async with await stack.as_user(signed["email"]) as admin:
        saved = await admin.put(f"/v1/facilities/{facility}", json={
            "facility_id": facility, "name": f"{name} clinic", "zone": ZONE,
            "jurisdictions": ["US-KS"]})  # fmt: skip
        assert saved.status_code == 200, saved.text
        issued = await admin.post(f"/v1/organizations/{org}/api-keys", json={"name": "fuzz"})
        assert issued.status_code == 201, issued.text
    key = issued.json()["key"]
    metadata = key_metadata(key)
    async with channel(stack.partner_addr) as opened:
        partner = ppb_grpc.PartnerServiceStub(opened)  # type: ignore[no-untyped-call]
        drafts = [_draft(facility, 10 + n) for n in range(4)]
        posted = await partner.PostShifts(ppb.PostShiftsRequest(shifts=drafts), metadata=metadata)
        assert posted.posted == 4, posted
        entered = await partner.UpsertClinicians(ppb.UpsertCliniciansRequest(clinicians=[
            ppb.ClinicianUpsert(profile=_profile(clinician), residence="US-KS")]),
            metadata=metadata)  # fmt: skip
        assert not entered.results[0].HasField("error"), entered
        for licence in (_licence("ks", "US-KS", f"RN-{clinician}"),
                        _licence("tx", "US-TX", f"TX-{clinician}")):  # fmt: skip
            # one call each: the items of one call run side by side, and two changes of one
            # record at once have the second refused (ABORTED)
            added = await partner.UpsertLicences(ppb.UpsertLicencesRequest(
                licences=[ppb.LicenceUpsert(clinician_id=clinician, licence=licence)]),
                metadata=metadata)  # fmt: skip
            assert not added.results[0].HasField("error"), added
        authority = ppb.AuthorityUpsert(clinician_id=clinician, authority=_registration())
        held = await partner.UpsertAuthorities(
            ppb.UpsertAuthoritiesRequest(authorities=[authority]), metadata=metadata
        )
        assert not held.results[0].HasField("error"), held
    return Organisation(org, facility, key, [r.shift.shift_id for r in posted.results], clinician)


async def snapshot(stack: Stack, of: Organisation) -> list[Message]:
    """Everything stored about the organisation's things, as the read RPCs answer it."""
    found: list[Message] = []
    async with (
        channel(stack.processes.address["scheduling"]) as to_scheduling,
        channel(stack.processes.address["licensing"]) as to_licensing,
        channel(stack.partner_addr) as to_partner,
    ):
        scheduling = spb_grpc.SchedulingServiceStub(to_scheduling)  # type: ignore[no-untyped-call]
        licensing = lpb_grpc.LicensingServiceStub(to_licensing)  # type: ignore[no-untyped-call]
        partner = ppb_grpc.PartnerServiceStub(to_partner)  # type: ignore[no-untyped-call]
        for shift_id in of.shifts:
            found.append(await scheduling.GetShift(spb.GetShiftRequest(shift_id=shift_id)))
        found += [
            await scheduling.GetFacility(spb.GetFacilityRequest(facility_id=of.facility_id)),
            await scheduling.GetOrganization(
                spb.GetOrganizationRequest(organization_id=of.organization_id)
            ),
            await scheduling.GetProfile(spb.GetProfileRequest(clinician_id=of.clinician_id)),
            await scheduling.GetSchedule(spb.GetScheduleRequest(clinician_id=of.clinician_id)),
            await licensing.GetLicensingRecord(
                lpb.GetLicensingRecordRequest(clinician_id=of.clinician_id)
            ),
            await partner.GetRoster(
                ppb.GetRosterRequest(facility_id=of.facility_id), metadata=key_metadata(of.key)
            ),
        ]
    return found


async def compact_table(stack: Stack, code: str = "NLC") -> Any:
    """The compact's table as stored (the document ChangeCompactTable takes)."""
    async with channel(stack.processes.address["licensing"]) as opened:
        licensing = lpb_grpc.LicensingServiceStub(opened)  # type: ignore[no-untyped-call]
        history = await licensing.GetCompactHistory(lpb.GetCompactHistoryRequest(code=code))
    return json.loads(history.versions[-1].table_json)


def match_instance() -> dict[str, Any]:
    """A small vsm-match/1 instance (the shape of FORMAT.md's example)."""
    start = datetime.combine(date.today() + timedelta(days=7), datetime.min.time(), UTC)

    def at(hours: int) -> str:
        return (start + timedelta(hours=hours)).strftime("%Y-%m-%dT%H:%M:%SZ")

    return {
        "format": "vsm-match/1", "name": "fuzz", "horizon": {"start": at(0), "end": at(24 * 7)},
        "compacts": [{"id": "NLC", "professions": ["RN"], "members": {"US-TX": "2000-01-01",
                                                                      "US-FL": "2018-01-19"}}],
        "professions": {"RN": {"licensed": True}},
        "facilities": [{"id": "f1", "tz": "America/New_York", "do_not_return": ["c9"]}],
        "clinicians": [{
            "id": "c1", "profession": "RN", "tz": "Asia/Manila", "home": "US-TX",
            "skills": ["triage"], "rate_cents_per_hour": 6500,
            "licences": [{"jurisdiction": "US-TX", "status": "active", "expires": at(24 * 300),
                          "compacts": ["NLC"]}],
            "availability": [{"day": "mon", "start": "20:00", "end": "04:00"}],
            "max_minutes_per_week": 2400, "min_rest_minutes": 600,
            "booked": [{"start": at(1), "end": at(5)}]}],
        "shifts": [{"id": "s1", "facility": "f1", "profession": "RN", "skills": ["triage"],
                    "patient_jurisdictions": ["US-FL"], "start": at(13), "end": at(21),
                    "positions": 2, "value_cents": 120000}],
    }  # fmt: skip


def hints(world: Organisation, topic_prefix: str, table: Any) -> Hints:
    """The organisation's ids (so generated requests reach its things), stream cursors from a
    real one to absurd ones, and the JSON documents to mutate."""
    topic = f"{topic_prefix}vsm.matching.events.v1:0"
    cursors = [encode_cursor({topic: n}) for n in (0, 1, 2**31, 2**63 - 1, 2**63, 10**30)]
    cursors += [encode_cursor({"no-such-topic:0": 3, topic: 0}), encode_cursor({}), "e30", "W10",
                "eyJhIjogLTF9", "not-a-cursor!", "====", "%%%"]  # fmt: skip
    return Hints(
        values={
            "facility_id": [world.facility_id], "shift_id": world.shifts,
            "clinician_id": [world.clinician_id], "organization_id": [world.organization_id],
            "entry_id": ["ks", "tx", "reg"], "licence_id": ["ks", "tx"], "authority_id": ["reg"],
            "position": cursors,
        },
        documents={"instance_json": match_instance(), "table_json": table},
    )  # fmt: skip


def templates(world: Organisation, table: Any) -> dict[str, Message]:
    """A valid request for each RPC, by "<target>.<method>", on the organisation's things."""
    c, f, (booked, updated, cancelled, partner_cancelled) = (
        world.clinician_id,
        world.facility_id,
        world.shifts,
    )
    o = world.organization_id
    entry = lpb.EntryRequest(actor=OPERATOR, clinician_id=c, entry_id="tx")
    authority = lpb.AuthorityRequest(actor=OPERATOR, clinician_id=c, authority=_registration())
    start = datetime.now(UTC).replace(microsecond=0)
    window = cpb.Interval()
    window.start.FromDatetime(start)
    window.end.FromDatetime(start + timedelta(days=2))
    check = lpb.CheckEligibilityRequest(clinician_id=c, profession="RN", interval=window,
                                        patient_jurisdictions=["US-KS"], date=day(0),
                                        organization_id=o)  # fmt: skip
    shift = spb.Shift(shift_id=updated, facility_id=f, profession="RN", positions=2,
                      patient_jurisdictions=["US-KS"], pay_cents_per_hour=9000, skills=["triage"],
                      scope_of_work="telehealth triage",
                      local_start=cpb.WallTime(local=f"{day(20)}T10:00", zone=ZONE),
                      local_end=cpb.WallTime(local=f"{day(20)}T14:00", zone=ZONE))  # fmt: skip
    solve = json.dumps(match_instance())
    inline = lpb.CheckEligibilityRequest(
        profession="RN",
        patient_jurisdictions=["US-TX"],
        date=day(3),
        record=lpb.LicensingRecord(residence="US-TX", licences=[_licence("a", "US-TX", "1")]),
    )
    return {
        "licensing.GetLicensingRecord": lpb.GetLicensingRecordRequest(clinician_id=c),
        "licensing.AddLicence": lpb.AddLicenceRequest(
            actor=OPERATOR, clinician_id=c, licence=_licence("", "US-MO", "MO-1")),
        "licensing.ChangeLicence": lpb.ChangeLicenceRequest(
            actor=OPERATOR, clinician_id=c, licence=_licence("ks", "US-KS", f"RN-{c}")),
        "licensing.VerifyLicence": entry, "licensing.RevokeLicence": entry,
        "licensing.AddAuthority": authority, "licensing.ChangeAuthority": authority,
        "licensing.VerifyAuthority": lpb.EntryRequest(actor=OPERATOR, clinician_id=c,
                                                      entry_id="reg"),
        "licensing.RevokeAuthority": lpb.EntryRequest(actor=OPERATOR, clinician_id=c,
                                                      entry_id="reg"),
        "licensing.SetResidence": lpb.SetResidenceRequest(actor=OPERATOR, clinician_id=c,
                                                          residence="US-KS"),
        "licensing.AllowUnverified": lpb.AllowUnverifiedRequest(actor=OPERATOR, clinician_id=c,
                                                                allowed=True),
        "licensing.CheckEligibility": check,
        "licensing.CheckEligibilityBatch": lpb.CheckEligibilityBatchRequest(checks=[check, inline]),
        "licensing.GetCompactHistory": lpb.GetCompactHistoryRequest(code="NLC"),
        "licensing.GetJurisdictionStanding": lpb.GetJurisdictionStandingRequest(
            jurisdiction="US-KS"),
        "licensing.ChangeCompactTable": lpb.ChangeCompactTableRequest(
            actor=OPERATOR, table_json=json.dumps(table), source="fuzz"),
        "scheduling.Book": spb.BookRequest(actor=OPERATOR, shift_id=booked, clinician_id=c),
        "scheduling.Release": spb.ReleaseRequest(actor=OPERATOR, shift_id=booked, clinician_id=c,
                                                 reason="fuzz"),
        "scheduling.UpdateShift": spb.UpdateShiftRequest(actor=OPERATOR, shift=shift),
        "scheduling.CancelShift": spb.CancelShiftRequest(actor=OPERATOR, shift_id=cancelled,
                                                         reason="fuzz"),
        "scheduling.PreviewCancellation": spb.PreviewCancellationRequest(shift_id=booked),
        "scheduling.GetSchedule": spb.GetScheduleRequest(clinician_id=c, zone="Asia/Kathmandu"),
        "scheduling.GetCalendar": spb.GetCalendarRequest(clinician_id=c),
        "scheduling.SaveProfile": spb.SaveProfileRequest(actor=OPERATOR, profile=_profile(c)),
        "scheduling.GetProfile": spb.GetProfileRequest(clinician_id=c),
        "scheduling.SaveFacility": spb.SaveFacilityRequest(actor=OPERATOR, facility=spb.Facility(
            facility_id=f"{f}-2", organization_id=o, name="fuzz", zone=ZONE,
            jurisdictions=["US-KS"], do_not_return=["c1"], favourites=[c])),
        "scheduling.GetFacility": spb.GetFacilityRequest(facility_id=f),
        "scheduling.PostShift": spb.PostShiftRequest(actor=OPERATOR, shift=shift),
        "scheduling.PostShiftSeries": spb.PostShiftSeriesRequest(
            actor=OPERATOR, shift=shift, recurrence=spb.Recurrence(every_days=7, occurrences=3)),
        "scheduling.GetRoster": spb.GetRosterRequest(facility_id=f, window=window, zone="UTC"),
        "scheduling.SaveOrganization": spb.SaveOrganizationRequest(
            actor=OPERATOR, organization=spb.Organization(organization_id=f"{o}-2", name="Fuzz")),
        "scheduling.GetOrganization": spb.GetOrganizationRequest(organization_id=o),
        "scheduling.GetShift": spb.GetShiftRequest(shift_id=booked),
        "matching.ListOffers": mpb.ListOffersRequest(clinician_id=c),
        "matching.AcceptOffer": mpb.AcceptOfferRequest(actor=OPERATOR, offer_id="o-1"),
        "matching.DeclineOffer": mpb.DeclineOfferRequest(actor=OPERATOR, offer_id="o-1"),
        "matching.GetShiftStatus": mpb.GetShiftStatusRequest(shift_id=booked),
        "matching.ExplainUnfilled": mpb.ExplainUnfilledRequest(shift_id=booked),
        "matching.WhyNotOffered": mpb.WhyNotOfferedRequest(actor=OPERATOR, shift_id=booked,
                                                           clinician_id=c),
        "matching.GetSupply": mpb.GetSupplyRequest(profession="RN", window=window,
                                                   jurisdictions=["US-KS"]),
        "matching.Solve": mpb.SolveRequest(instance_json=solve, time_limit_seconds=1),
        "partner.PostShifts": ppb.PostShiftsRequest(shifts=[_draft(f, 30)]),
        "partner.CancelShifts": ppb.CancelShiftsRequest(cancellations=[
            ppb.ShiftCancellation(shift_id=partner_cancelled, reason="fuzz")]),
        "partner.GetShift": ppb.GetShiftRequest(shift_id=booked),
        "partner.GetShiftStatus": ppb.GetShiftStatusRequest(shift_id=booked),
        "partner.GetRoster": ppb.GetRosterRequest(facility_id=f, window=window, zone="UTC"),
        "partner.UpsertClinicians": ppb.UpsertCliniciansRequest(clinicians=[
            ppb.ClinicianUpsert(profile=_profile(c), residence="US-KS")]),
        "partner.UpsertLicences": ppb.UpsertLicencesRequest(licences=[
            ppb.LicenceUpsert(clinician_id=c, licence=_licence("ks", "US-KS", f"RN-{c}"))]),
        "partner.UpsertAuthorities": ppb.UpsertAuthoritiesRequest(authorities=[
            ppb.AuthorityUpsert(clinician_id=c, authority=_registration())]),
        "partner.GetClinicianSchedule": ppb.GetClinicianScheduleRequest(clinician_id=c,
                                                                        zone="Pacific/Chatham"),
        "partner.Solve": ppb.SolveRequest(instance_json=solve, time_limit_seconds=1),
        "partner.Subscribe": ppb.SubscribeRequest(cursor=epb.StreamCursor(),
                                                  kinds=[epb.EVENT_KIND_OFFER]),
    }  # fmt: skip
