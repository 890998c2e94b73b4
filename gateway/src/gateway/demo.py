"""Demo data for `make up`: four organisations with facilities in several states and zones, 60
clinicians of the roles we serve, a week of shifts; loaded with `vsm seed` (one vsm-match/1
instance per organisation, the clinicians in the first), then what an instance cannot say:
facility names, PSYPACT authorities, and sign-ins for the pages. Prints the web address, then
the demo sign-ins. Run again, it finds the demo there and only prints.

    python -m gateway.demo   (the services and the gateway running; make up does this)
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import sys
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from vsm.common.v1 import common_pb2
from vsm.licensing.v1 import licensing_service_pb2 as lpb
from vsm.licensing.v1 import licensing_service_pb2_grpc as lgrpc
from vsm.scheduling.v1 import scheduling_service_pb2 as spb
from vsm.scheduling.v1 import scheduling_service_pb2_grpc as sgrpc
from vsm_cli.seed import seed
from vsm_platform.actor import Actor
from vsm_platform.changes import ChangeLog
from vsm_platform.clock import SystemClock
from vsm_platform.grpc_server import channel
from vsm_platform.mongo import connect
from vsm_rules.errors import Conflict

from gateway.account_store import AccountStore
from gateway.accounts import Account, Person, Role
from gateway.config import Settings
from gateway.passwords import Passwords

PASSWORD = "demo-password-2026"
OPERATOR = common_pb2.Actor(kind=common_pb2.ACTOR_KIND_USER, id="vsm-demo", role="operator")
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
FIRST = [
    "Ava",
    "Noah",
    "Mia",
    "Liam",
    "Zoe",
    "Ethan",
    "Ivy",
    "Omar",
    "Lena",
    "Raj",
    "Nia",
    "Theo",
    "Sofia",
    "Kai",
    "Maya",
    "Leo",
    "Aisha",
    "Finn",
    "Priya",
    "Jonah",
    "Elena",
    "Mateo",
    "Grace",
    "Yusuf",
    "Hana",
    "Diego",
    "Clara",
    "Amir",
    "Rosa",
    "Felix",
]
LAST = [
    "Khan",
    "Okafor",
    "Rivera",
    "Chen",
    "Novak",
    "Haddad",
    "Silva",
    "Murphy",
    "Tanaka",
    "Larsen",
    "Adeyemi",
    "Moreau",
    "Patel",
    "Kowalski",
    "Reyes",
    "Lindqvist",
    "Mensah",
    "Duarte",
    "Schultz",
    "Nakamura",
]


@dataclass(frozen=True)
class Organisation:
    slug: str
    name: str
    facilities: tuple[tuple[str, str, str, str], ...]  # id, name, zone, state


ORGANISATIONS = (
    Organisation("prairie-health", "Prairie Health Network", (
        ("prairie-wichita", "Wichita Telehealth Hub", "America/Chicago", "US-KS"),
        ("prairie-omaha", "Omaha Virtual Clinic", "America/Chicago", "US-NE"))),
    Organisation("mountain-telehealth", "Mountain Telehealth", (
        ("mountain-denver", "Denver Remote Care", "America/Denver", "US-CO"),
        ("mountain-slc", "Salt Lake Virtual Ward", "America/Denver", "US-UT"))),
    Organisation("coastal-care", "Coastal Care Partners", (
        ("coastal-sacramento", "Sacramento Valley Clinic", "America/Los_Angeles", "US-CA"),
        ("coastal-spokane", "Spokane Rural Health", "America/Los_Angeles", "US-WA"))),
    Organisation("atlantic-behavioral", "Atlantic Behavioral Health", (
        ("atlantic-albany", "Albany Behavioral Telehealth", "America/New_York", "US-NY"),
        ("atlantic-miami", "Miami Virtual Psychiatry", "America/New_York", "US-FL"))),
)  # fmt: skip
PROFESSIONS = {"RN": True, "MD": True, "PSY": True, "LPC": True, "SCRIBE": False, "VMA": False}
# (profession, skills, how many, homes and zones, licences beyond home, multistate compacts)
KINDS: tuple[tuple[str, str, list[str], int, list[tuple[str, str]], int, list[str]], ...] = (
    ("RN with a multistate licence", "RN", ["triage"], 10,
     [("US-KS", "America/Chicago"), ("US-TX", "America/Chicago"), ("US-CO", "America/Denver"),
      ("US-FL", "America/New_York"), ("US-UT", "America/Denver"), ("US-MO", "America/Chicago")],
     0, ["NLC"]),
    ("RN with a single-state licence", "RN", ["triage"], 6,
     [("US-CA", "America/Los_Angeles"), ("US-NY", "America/New_York"),
      ("US-NV", "America/Los_Angeles")], 1, []),
    ("psychiatrist", "MD", ["psychiatry"], 6,
     [("US-NY", "America/New_York"), ("US-IL", "America/Chicago"),
      ("US-CA", "America/Los_Angeles")], 4, []),
    ("psychologist with PSYPACT authority", "PSY", ["therapy"], 8,
     [("US-CO", "America/Denver"), ("US-TX", "America/Chicago"), ("US-FL", "America/New_York"),
      ("US-WA", "America/Los_Angeles")], 0, []),
    ("counsellor", "LPC", ["therapy"], 8,
     [("US-KS", "America/Chicago"), ("US-NE", "America/Chicago"), ("US-UT", "America/Denver"),
      ("US-CA", "America/Los_Angeles")], 1, []),
    ("teleradiologist", "MD", ["radiology"], 6,
     [("US-TX", "Australia/Sydney"), ("US-CO", "Europe/London"), ("US-NY", "America/New_York")],
     7, []),
    ("virtual scribe abroad", "SCRIBE", ["ehr"], 8,
     [("IE", "Asia/Manila"), ("GB-ENG", "Asia/Kolkata"), ("IE", "Europe/Dublin")], 0, []),
    ("virtual medical assistant abroad", "VMA", ["scheduling"], 8,
     [("IE", "Asia/Manila"), ("AU-NSW", "Australia/Sydney"), ("GB-ENG", "Europe/London")], 0, []),
)  # fmt: skip
PATTERNS = (  # weekly availability in the clinician's own wall time
    [(d, "07:00", "19:00") for d in DAYS[:5]],
    [(d, "12:00", "00:00") for d in DAYS],
    [(d, "00:00", "00:00") for d in DAYS],
    [(d, "18:00", "08:00") for d in DAYS[:5]],
    [(d, "06:00", "18:00") for d in DAYS],
)
OFFSETS = {
    "America/New_York": 5,
    "America/Chicago": 6,
    "America/Denver": 7,
    "America/Los_Angeles": 8,
}  # winter hours behind UTC: shifts start in the morning
RATES = {  # what clinicians ask, dollars an hour, by profession and skill
    ("RN", "triage"): (45, 80),
    ("MD", "psychiatry"): (150, 240),
    ("MD", "radiology"): (180, 280),
    ("PSY", "therapy"): (80, 140),
    ("LPC", "therapy"): (55, 95),
    ("SCRIBE", "ehr"): (20, 40),
    ("VMA", "scheduling"): (18, 35),
}
STATES = ["US-KS", "US-NE", "US-CO", "US-UT", "US-CA", "US-WA", "US-NY", "US-FL", "US-TX", "US-MO"]


def _stamp(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def clinicians(rng: random.Random) -> list[dict[str, Any]]:
    """Sixty clinicians, each with a name kept apart (`_name`, `_kind`) for their sign-in."""
    made: list[dict[str, Any]] = []
    for kind, profession, skills, count, homes, extra, compacts in KINDS:
        for i in range(count):
            home, zone = homes[i % len(homes)]
            licensed = PROFESSIONS[profession]
            places = (
                [home, *rng.sample([s for s in STATES if s != home], extra)] if licensed else []
            )
            pattern = PATTERNS[(len(made) + i) % len(PATTERNS)]
            made.append({
                "id": f"demo-{len(made) + 1:02d}", "profession": profession, "tz": zone,
                "home": home, "skills": skills,
                "rate_cents_per_hour": rng.randrange(*RATES[profession, skills[0]]) * 100,
                "licences": [{"jurisdiction": p, "status": "active",
                              "expires": "2029-12-31T23:59:59Z",
                              "compacts": compacts if p == home else []} for p in places],
                "availability": [{"day": d, "start": s, "end": e} for d, s, e in pattern],
                "max_minutes_per_week": 2400, "min_rest_minutes": 480, "booked": [],
                "_name": f"{FIRST[len(made) % len(FIRST)]} {LAST[(len(made) * 7) % len(LAST)]}",
                "_kind": kind,
            })  # fmt: skip
    return made


def instance(
    organisation: Organisation, staff: list[dict[str, Any]], now: datetime, rng: random.Random
) -> dict[str, Any]:
    """One organisation's vsm-match/1 instance: its facilities and a week of its shifts."""
    shifts = []
    menu = [("RN", ["triage"], 2, 9000, 8), ("MD", ["psychiatry"], 1, 26000, 4),
            ("PSY", ["therapy"], 1, 16000, 4), ("LPC", ["therapy"], 1, 11000, 4),
            ("MD", ["radiology"], 1, 30000, 8), ("SCRIBE", ["ehr"], 1, 4500, 8),
            ("VMA", ["scheduling"], 1, 4000, 6), ("RN", ["triage"], 3, 8500, 12)]  # fmt: skip
    day0 = now.replace(hour=0, minute=0, second=0, microsecond=0) + timedelta(days=1)
    for facility_id, _, zone, state in organisation.facilities:
        for n, (profession, skills, positions, pay, hours) in enumerate(rng.sample(menu, 7)):
            local = (day0 + timedelta(days=rng.randrange(0, 7))).astimezone(UTC)
            start_hour = rng.choice([7, 8, 9, 10, 13, 14]) + OFFSETS[zone]
            start = local.replace(hour=start_hour % 24)
            jurisdictions = [state] if PROFESSIONS[profession] else []
            shifts.append({
                "id": f"{facility_id}-{n}", "facility": facility_id, "profession": profession,
                "skills": skills, "patient_jurisdictions": jurisdictions,
                "start": _stamp(start), "end": _stamp(start + timedelta(hours=hours)),
                "positions": positions, "value_cents": pay * hours,
            })  # fmt: skip
    return {
        "format": "vsm-match/1", "name": organisation.slug,
        "horizon": {"start": _stamp(now - timedelta(days=1)),
                    "end": _stamp(now + timedelta(days=21))},
        "compacts": [], "professions": {p: {"licensed": v} for p, v in PROFESSIONS.items()},
        "facilities": [{"id": f, "tz": z, "do_not_return": []}
                       for f, _, z, _ in organisation.facilities],
        "clinicians": [{k: v for k, v in c.items() if not k.startswith("_")} for c in staff],
        "shifts": shifts,
    }  # fmt: skip


async def _touch_up(settings: Settings, staff: list[dict[str, Any]]) -> None:
    """Facility names, and PSYPACT's E.Passport and APIT for the psychologists."""
    licensing_channel, scheduling_channel = (channel(settings.licensing_addr),
                                             channel(settings.scheduling_addr))  # fmt: skip
    try:
        scheduling = sgrpc.SchedulingServiceStub(scheduling_channel)  # type: ignore[no-untyped-call]
        licensing = lgrpc.LicensingServiceStub(licensing_channel)  # type: ignore[no-untyped-call]
        for organisation in ORGANISATIONS:
            for facility_id, name, _, _ in organisation.facilities:
                found = await scheduling.GetFacility(
                    spb.GetFacilityRequest(facility_id=facility_id)
                )
                if found.facility.name != name:
                    facility = spb.Facility()
                    facility.CopyFrom(found.facility)
                    facility.name = name
                    request = spb.SaveFacilityRequest(
                        actor=OPERATOR, facility=facility, expected_version=facility.version
                    )
                    await scheduling.SaveFacility(request)
        for clinician in (c for c in staff if c["profession"] == "PSY"):
            for kind in (lpb.AUTHORITY_KIND_E_PASSPORT, lpb.AUTHORITY_KIND_APIT):
                await licensing.AddAuthority(lpb.AuthorityRequest(
                    actor=OPERATOR, clinician_id=clinician["id"],
                    authority=lpb.Authority(
                        authority_id=f"psypact-{lpb.AuthorityKind.Name(kind)[15:].lower()}",
                        kind=kind, status=lpb.STATUS_ACTIVE, compact="PSYPACT", profession="PSY",
                        issued="2024-01-01", expires="2029-12-31"),
                ))  # fmt: skip
    finally:
        await licensing_channel.close()
        await scheduling_channel.close()


async def _accounts(settings: Settings, staff: list[dict[str, Any]]) -> list[tuple[str, str]]:
    """Sign-ins for the operator, each organisation's admin and every clinician."""
    clock = SystemClock()
    client = connect(settings.mongodb_uri)
    passwords = Passwords()
    hashed = await passwords.hash(PASSWORD)
    made: list[tuple[str, str]] = []
    try:
        db = client[settings.database]
        store = AccountStore(ChangeLog(db["changes"], source="gateway", clock=clock),
                             db["people"], db["rows"], clock)  # fmt: skip
        people = [(Account("op-demo", Role.OPERATOR), "operator@demo.vsm", "Olive Operator",
                   "operator")]  # fmt: skip
        for organisation in ORGANISATIONS:
            people.append((
                Account(f"u-{organisation.slug}", Role.FACILITY_ADMIN, f"org-{organisation.slug}"),
                f"admin@{organisation.slug}.demo", f"{organisation.name} admin",
                f"facility admin, {organisation.name} ({organisation.facilities[0][2]})",
            ))  # fmt: skip
        for c in staff:
            email = f"{c['_name'].lower().replace(' ', '.')}.{c['id'][-2:]}@demo.vsm"
            people.append((Account(c["id"], Role.CLINICIAN), email, c["_name"],
                           f"{c['_kind']} ({c['tz']})"))  # fmt: skip
        for account, email, name, what in people:
            with contextlib.suppress(Conflict):  # there already
                await store.create(account, Person(email, name, hashed), Actor.service("vsm-demo"))
            made.append((what, email))
    finally:
        await client.close()
    return made


async def load(settings: Settings) -> list[tuple[str, str]]:
    rng = random.Random(2026)
    now = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    staff = clinicians(rng)
    already = await _seeded(settings)
    if not already:
        for n, organisation in enumerate(ORGANISATIONS):
            document = instance(organisation, staff if n == 0 else [], now, rng)
            seeded = await seed(document, settings.licensing_addr, settings.scheduling_addr)
            print(f"seeded {organisation.name}: "
                  + ", ".join(f"{v} {k}" for k, v in seeded.counts.items()))  # fmt: skip
        await _touch_up(settings, staff)
    return await _accounts(settings, staff)


async def _seeded(settings: Settings) -> bool:
    async with channel(settings.scheduling_addr) as opened:
        scheduling = sgrpc.SchedulingServiceStub(opened)  # type: ignore[no-untyped-call]
        try:
            await scheduling.GetFacility(spb.GetFacilityRequest(facility_id="atlantic-miami"))
        except Exception:
            return False
    return True


def main() -> int:
    settings = Settings()
    sign_ins = asyncio.run(load(settings))
    print(f"\nweb: {settings.public_url}")
    print(f"demo sign-ins (password for every one: {PASSWORD}):")
    shown: dict[str, int] = {}
    for what, email in sign_ins:
        kind = what.split(" (")[0]
        shown[kind] = shown.get(kind, 0) + 1
        if shown[kind] <= 2 or "--all" in sys.argv:
            print(f"  {email:<42} {what}")
    hidden = len(sign_ins) - sum(min(n, 2) for n in shown.values())
    if hidden and "--all" not in sys.argv:
        print(f"  ... and {hidden} more clinicians: python -m gateway.demo --all")
    return 0


if __name__ == "__main__":
    sys.exit(main())
