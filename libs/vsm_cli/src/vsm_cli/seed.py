"""`vsm seed INSTANCE.json`: loads a `vsm-match/1` instance into the running services through
their gRPC APIs, the one path demo data and benchmarks share.

What the instance holds becomes what the marketplace holds:
- one organisation (named after the instance) owning every facility, each in its zone with its
  do-not-return list;
- each clinician's work profile (profession, skills, zone, rate, weekly availability, weekly cap,
  rest) and licensing record (residence = home; each licence with its exact expiry instant and
  compacts), entered by the seeding operator, so verified;
- each shift posted in its facility's wall time (the instant's reading named where the wall time
  happens twice), paying the shift's value per hour;
- each existing booking as a booked shift of a facility standing for work agreed elsewhere,
  recorded by the operator before any shift is posted (a live market offers at once);
- with `--instance-compacts`, the instance's compacts in place of the real tables of the same
  names (a multistate licence keyed on residence, each member from its one date), so that
  eligibility means what the instance means.

Seeding again is harmless: what exists is kept (a shift is posted once per instance and id).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

import grpc
from vsm.common.v1 import common_pb2
from vsm.licensing.v1 import licensing_service_pb2 as lpb
from vsm.licensing.v1 import licensing_service_pb2_grpc as lgrpc
from vsm.scheduling.v1 import scheduling_service_pb2 as spb
from vsm.scheduling.v1 import scheduling_service_pb2_grpc as sgrpc
from vsm_platform.grpc_server import channel
from vsm_platform.settings import PlatformSettings
from vsm_rules.errors import InvalidArgument
from vsm_rules.match_instance import MatchInstance, load_instance, parse_instant
from vsm_rules.records import UNLICENSED_PROFESSIONS

SEEDER = common_pb2.Actor(kind=common_pb2.ACTOR_KIND_USER, id="vsm-seed", role="operator")
ELSEWHERE = "elsewhere"  # the facility standing for work agreed before the marketplace
STATUS = {"active": lpb.STATUS_ACTIVE, "expired": lpb.STATUS_EXPIRED,
          "suspended": lpb.STATUS_SUSPENDED, "probation": lpb.STATUS_PROBATION,
          "revoked": lpb.STATUS_REVOKED, "inactive": lpb.STATUS_INACTIVE}  # fmt: skip
T = TypeVar("T")


class SeedError(Exception):
    """A record the services refused, named by its place in the instance."""


@dataclass
class Seeded:
    """What a seed did, counted (records it added; shifts posted or found, since posting is
    idempotent), and the instance's shift ids mapped to the services' ones."""

    counts: Counter[str] = field(default_factory=Counter)
    shift_ids: dict[str, str] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)


def pay_per_hour(value_cents: int, minutes: float) -> int:
    """The most per hour a shift pays so that filling it is worth its value (to the cent)."""
    return max(1, round(value_cents * 60 / minutes))


def compact_table(compact: Mapping[str, Any]) -> dict[str, Any]:
    """An instance compact as a table of the repo's schema: a multistate licence keyed on
    residence, each member honouring others and licensing its residents from its one date."""
    return {
        "id": compact["id"], "name": compact["id"], "model": "multistate-licence",
        "professions": list(compact["professions"]), "operational": True,
        "home_state": "residence",
        "members": {j: {"status": "implemented", "honours_from": day, "residents_from": day,
                        "precision": "exact"} for j, day in compact["members"].items()},
    }  # fmt: skip


def check_professions(instance: MatchInstance) -> None:
    """The instance must license the professions the marketplace licenses, and no others."""
    for profession, spec in (instance.document.get("professions") or {}).items():
        licensed = bool(spec.get("licensed", True))
        if licensed == (profession in UNLICENSED_PROFESSIONS):
            said = "licensed" if licensed else "unlicensed"
            raise InvalidArgument(
                f"professions.{profession}",
                f"the instance calls it {said}; the marketplace does not",
            )


def local_posting(instant: datetime, zone: str) -> tuple[str, spb.WallTimeReading]:
    """An instant as the facility's wall time and the reading that names it."""
    local = instant.astimezone(ZoneInfo(zone))
    reading = spb.WALL_TIME_READING_LATER if local.fold else spb.WALL_TIME_READING_EARLIER
    return local.strftime("%Y-%m-%dT%H:%M"), reading


def _posting(
    key: str, facility_id: str, zone: str, fields: Mapping[str, Any], start: datetime,
    end: datetime,
) -> spb.PostShiftRequest:  # fmt: skip
    shift = spb.Shift(facility_id=facility_id, **fields)
    shift.local_start.local, start_reading = local_posting(start, zone)
    shift.local_end.local, end_reading = local_posting(end, zone)
    return spb.PostShiftRequest(
        actor=SEEDER, shift=shift, idempotency_key=key,
        start_reading=start_reading, end_reading=end_reading,
    )  # fmt: skip


def shift_posting(instance: MatchInstance, shift_id: str, key: str) -> spb.PostShiftRequest:
    """The request posting the instance's shift `shift_id` in its facility's wall time, paying
    its value per hour, under the idempotency key `key`."""
    shift = instance.shifts[shift_id]
    fields = {
        "profession": shift.profession, "skills": sorted(shift.skills),
        "patient_jurisdictions": list(shift.patient_jurisdictions),
        "positions": shift.positions,
        "pay_cents_per_hour": pay_per_hour(shift.value_cents, shift.minutes),
        "scope_of_work": f"Seeded from {instance.document.get('name') or 'instance'}, "
                         f"shift {shift.id}.",
    }  # fmt: skip
    zone = instance.facilities[shift.facility].zone
    return _posting(key, shift.facility, zone, fields, shift.start, shift.end)


class Seeder:
    def __init__(
        self, licensing: Any, scheduling: Any, instance: MatchInstance, concurrency: int
    ) -> None:
        self._licensing = licensing
        self._scheduling = scheduling
        self._instance = instance
        self._gate = asyncio.Semaphore(concurrency)
        self._name = str(instance.document.get("name") or "instance")
        self.organization = f"org-{self._name}"
        self.seeded = Seeded()

    async def run(self, instance_compacts: bool) -> Seeded:
        doc = self._instance.document
        if instance_compacts:
            await self._phase("compacts", [self._compact(c) for c in doc.get("compacts", [])])
        await self._phase("organisation", [self._organisation()])
        facilities = [self._facility(f) for f in doc.get("facilities", [])]
        if any(c.get("booked") for c in doc.get("clinicians", [])):
            facilities.append(self._elsewhere())  # only to hold bookings agreed elsewhere
        await self._phase("facilities", facilities)
        await self._phase("clinicians", [self._clinician(c) for c in doc.get("clinicians", [])])
        # before any shift: a live market offers the first shifts at once, and what a clinician
        # agreed elsewhere must already stand when they accept (its booking checks no rule)
        await self._phase("bookings", [self._bookings(c) for c in doc.get("clinicians", [])])
        await self._phase("shifts", [self._shift(i, s) for i, s in enumerate(doc["shifts"])])
        return self.seeded

    async def _phase(self, name: str, steps: Iterable[Awaitable[None]]) -> None:
        began = time.perf_counter()

        async def gated(step: Awaitable[None]) -> None:
            async with self._gate:
                await step

        await asyncio.gather(*(gated(step) for step in steps))
        self.seeded.seconds[name] = time.perf_counter() - began

    async def _call(self, where: str, rpc: Callable[..., Awaitable[T]], request: Any) -> T:
        """One call, retried while a service is starting (UNAVAILABLE) or the clinician's
        bookings are being changed elsewhere at that moment (ABORTED on the ledger's lock: a
        live market books too); a refusal becomes SeedError naming the record."""
        for attempt in range(200):
            try:
                return await rpc(request, timeout=30)
            except grpc.aio.AioRpcError as error:
                if error.code() == grpc.StatusCode.UNAVAILABLE and attempt < 5:
                    await asyncio.sleep(0.5)
                    continue
                if error.code() == grpc.StatusCode.ABORTED and "being changed" in (
                    error.details() or ""
                ):
                    await asyncio.sleep(0.05)
                    continue
                raise SeedError(f"{where}: {error.code().name}: {error.details()}") from None
        raise SeedError(f"{where}: still busy after 200 tries")

    async def _exists(self, rpc: Callable[..., Awaitable[Any]], request: Any) -> bool:
        try:
            await rpc(request, timeout=30)
        except grpc.aio.AioRpcError as error:
            if error.code() == grpc.StatusCode.NOT_FOUND:
                return False
            raise
        return True

    async def _compact(self, compact: Mapping[str, Any]) -> None:
        request = lpb.ChangeCompactTableRequest(
            actor=SEEDER, table_json=json.dumps(compact_table(compact)),
            source=f"vsm-match/1 instance {self._name}",
        )  # fmt: skip
        await self._call(f"compacts.{compact['id']}", self._licensing.ChangeCompactTable, request)
        self.seeded.counts["compacts"] += 1

    async def _organisation(self) -> None:
        get = spb.GetOrganizationRequest(organization_id=self.organization)
        if await self._exists(self._scheduling.GetOrganization, get):
            return
        organization = spb.Organization(organization_id=self.organization, name=self._name)
        request = spb.SaveOrganizationRequest(actor=SEEDER, organization=organization)
        await self._call("organisation", self._scheduling.SaveOrganization, request)
        self.seeded.counts["organisations"] += 1

    async def _save_facility(self, facility: spb.Facility) -> None:
        get = spb.GetFacilityRequest(facility_id=facility.facility_id)
        if await self._exists(self._scheduling.GetFacility, get):
            return
        request = spb.SaveFacilityRequest(actor=SEEDER, facility=facility)
        await self._call(f"facilities.{facility.facility_id}", self._scheduling.SaveFacility,
                         request)  # fmt: skip
        self.seeded.counts["facilities"] += 1

    async def _facility(self, raw: Mapping[str, Any]) -> None:
        seen = Counter(j for s in self._instance.shifts.values() if s.facility == raw["id"]
                       for j in s.patient_jurisdictions)  # fmt: skip
        await self._save_facility(spb.Facility(
            facility_id=raw["id"], organization_id=self.organization, name=f"Facility {raw['id']}",
            zone=raw.get("tz", "UTC"), jurisdictions=[j for j, _ in seen.most_common()],
            do_not_return=list(raw.get("do_not_return", [])),
        ))  # fmt: skip

    async def _elsewhere(self) -> None:
        await self._save_facility(spb.Facility(
            facility_id=f"{ELSEWHERE}-{self._name}", organization_id=self.organization,
            name="Work agreed before the marketplace", zone="UTC",
        ))  # fmt: skip

    async def _clinician(self, raw: Mapping[str, Any]) -> None:
        where = f"clinicians.{raw['id']}"
        profile = spb.WorkProfile(
            clinician_id=raw["id"], profession=raw["profession"], skills=list(raw["skills"]),
            zone=raw["tz"], rate_cents_per_hour=int(raw["rate_cents_per_hour"]),
            availability=[spb.AvailabilityWindow(day=w["day"], start=w["start"], end=w["end"])
                          for w in raw.get("availability", [])],
            max_minutes_per_week=int(raw["max_minutes_per_week"]),
            min_rest_minutes=int(raw["min_rest_minutes"]),
        )  # fmt: skip
        get = spb.GetProfileRequest(clinician_id=raw["id"])
        if not await self._exists(self._scheduling.GetProfile, get):
            await self._call(where, self._scheduling.SaveProfile,
                             spb.SaveProfileRequest(actor=SEEDER, profile=profile))  # fmt: skip
            self.seeded.counts["clinicians"] += 1
        if raw["profession"] in UNLICENSED_PROFESSIONS:
            return
        read = lpb.GetLicensingRecordRequest(clinician_id=raw["id"])
        held = await self._call(where, self._licensing.GetLicensingRecord, read)
        if held.record.version:
            return  # seeded before (a record never seen reads as version 0)
        if raw.get("home"):
            await self._call(f"{where}.home", self._licensing.SetResidence, lpb.SetResidenceRequest(
                actor=SEEDER, clinician_id=raw["id"], residence=raw["home"]
            ))  # fmt: skip
        for i, lic in enumerate(raw.get("licences", [])):
            expires = parse_instant(lic["expires"], f"{where}.licences[{i}].expires")
            licence = lpb.Licence(
                jurisdiction=lic["jurisdiction"], profession=raw["profession"],
                status=STATUS.get(lic["status"], lpb.STATUS_UNSPECIFIED),
                expires=expires.date().isoformat(),
                expires_at=expires.strftime("%Y-%m-%dT%H:%M:%SZ"),
                multistate=bool(lic.get("compacts")), compacts=list(lic.get("compacts", [])),
            )  # fmt: skip
            await self._call(f"{where}.licences[{i}]", self._licensing.AddLicence,
                             lpb.AddLicenceRequest(actor=SEEDER, clinician_id=raw["id"],
                                                   licence=licence))  # fmt: skip
            self.seeded.counts["licences"] += 1

    async def _post(self, where: str, request: spb.PostShiftRequest) -> str:
        posted = await self._call(where, self._scheduling.PostShift, request)
        return str(posted.shift.shift_id)

    async def _shift(self, index: int, raw: Mapping[str, Any]) -> None:
        request = shift_posting(self._instance, raw["id"], f"seed:{self._name}:{raw['id']}")
        self.seeded.shift_ids[raw["id"]] = await self._post(f"shifts[{index}]", request)
        self.seeded.counts["shifts"] += 1

    async def _bookings(self, raw: Mapping[str, Any]) -> None:
        licensed = raw["profession"] not in UNLICENSED_PROFESSIONS
        for i, booked in enumerate(raw.get("booked", [])):
            where = f"clinicians.{raw['id']}.booked[{i}]"
            start = parse_instant(booked["start"], f"{where}.start")
            end = parse_instant(booked["end"], f"{where}.end")
            fields = {
                "profession": raw["profession"], "positions": 1,
                "patient_jurisdictions": [raw["home"]] if licensed and raw.get("home") else [],
                "pay_cents_per_hour": int(raw["rate_cents_per_hour"]),
                "scope_of_work": "Work agreed before the marketplace.",
            }  # fmt: skip
            key = f"seed:{self._name}:{raw['id']}:booked:{i}"
            posting = _posting(key, f"{ELSEWHERE}-{self._name}", "UTC", fields, start, end)
            shift_id = await self._post(where, posting)
            request = spb.BookRequest(actor=SEEDER, shift_id=shift_id, clinician_id=raw["id"],
                                      agreed_elsewhere=True)  # fmt: skip
            try:
                await self._call(where, self._scheduling.Book, request)
            except SeedError as error:
                if "already booked" not in str(error):
                    raise
                continue
            self.seeded.counts["bookings"] += 1


async def seed(
    document: Mapping[str, Any], licensing_addr: str, scheduling_addr: str,
    instance_compacts: bool = False, concurrency: int = 16,
) -> Seeded:  # fmt: skip
    """Seeds `document` into the services at these addresses; SeedError names a refused record,
    InvalidArgument a bad instance."""
    instance = load_instance(document)
    check_professions(instance)
    licensing_channel, scheduling_channel = channel(licensing_addr), channel(scheduling_addr)
    try:
        seeder = Seeder(
            lgrpc.LicensingServiceStub(licensing_channel),  # type: ignore[no-untyped-call]
            sgrpc.SchedulingServiceStub(scheduling_channel),  # type: ignore[no-untyped-call]
            instance, concurrency,
        )  # fmt: skip
        return await seeder.run(instance_compacts)
    finally:
        await licensing_channel.close()
        await scheduling_channel.close()


def add_parser(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "seed",
        help="load a vsm-match/1 instance into the running services",
        description=__doc__.split("\n\n")[0] if __doc__ else None,
    )
    parser.add_argument("instance", type=Path, help="the vsm-match/1 JSON file")
    parser.add_argument("--instance-compacts", action="store_true",
                        help="use the instance's compacts in place of the real tables")  # fmt: skip
    parser.add_argument("--concurrency", type=int, default=16, help="calls in flight (16)")
    parser.add_argument("--map", type=Path, help="write the instance's shift ids → the services'")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    settings = PlatformSettings()
    try:
        document = json.loads(args.instance.read_text("utf-8"))
    except (OSError, json.JSONDecodeError) as error:
        print(f"vsm seed: cannot read {args.instance}: {error}", file=sys.stderr)
        return 2
    began = time.perf_counter()
    try:
        seeded = asyncio.run(seed(
            document, settings.licensing_addr, settings.scheduling_addr,
            args.instance_compacts, max(1, args.concurrency),
        ))  # fmt: skip
    except (SeedError, InvalidArgument) as error:
        print(f"vsm seed: {error}", file=sys.stderr)
        return 1
    if args.map:
        args.map.write_text(json.dumps({"shifts": seeded.shift_ids}, indent=1), "utf-8")
    done = ", ".join(f"{n} {what}" for what, n in seeded.counts.items()) or "nothing new"
    phases = ", ".join(f"{name} {s:.1f} s" for name, s in seeded.seconds.items())
    print(f"seeded {document.get('name', args.instance.name)}: {done} "
          f"in {time.perf_counter() - began:.1f} s ({phases})")  # fmt: skip
    return 0
