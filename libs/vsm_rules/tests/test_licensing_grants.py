"""The bulk form of the licensing decision (`grants`) agrees with `decide` on random records,
professions, patient jurisdictions and intervals, under the real tables and an instance's.

Records are drawn around one profession and a few places, mostly active, so that every path
of the decision (direct licence, telehealth registration, multistate licence, APIT with an
E.Passport, issued privilege) is taken often, on both sides of every date it compares."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from functools import cache

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from vsm_rules.compacts import CompactTables
from vsm_rules.eligibility import decide
from vsm_rules.grants import allowed, grants, grants_by_jurisdiction
from vsm_rules.records import Authority, AuthorityKind, Licence, LicensingRecord, Status

PLACES = ["US-TX", "US-FL", "US-PA", "US-AZ", "US-VT", "US-MO", "US-NY", "US-CA", "CA-ON"]
PROFESSIONS = ["RN", "LPN", "PSY", "LPC", "PT", "MD", "NP", "SCRIBE"]
COMPACT_OF = {"RN": "NLC", "LPN": "NLC", "PSY": "PSYPACT", "LPC": "COUNSELING", "PT": "PT"}
COMPACT_IDS = ["NLC", "PSYPACT", "COUNSELING", "PT", "IMLC", None]
BASE = date(2026, 6, 1)
ACTIVE_MOSTLY = st.sampled_from([Status.ACTIVE.value] * 5 + [s.value for s in Status])


@cache
def real() -> CompactTables:
    return CompactTables.load()


@cache
def instance_tables() -> CompactTables:
    nlc = {"US-TX": "2000-01-01", "US-FL": "2026-06-10", "US-PA": "2026-06-20"}
    compacts = [
        {"id": "NLC", "professions": ["RN", "LPN"], "members": nlc | {"US-AZ": "2018-01-19"}},
        {"id": "PSYPACT", "professions": ["PSY"], "members": {"US-TX": "2020-01-01"}},
    ]
    licensed = {p: {"licensed": True} for p in ("RN", "LPN", "PSY")}
    return CompactTables.from_instance(compacts, licensed | {"SCRIBE": {"licensed": False}})


days = st.integers(-40, 40).map(lambda n: BASE + timedelta(days=n))
maybe_days = st.none() | days


@st.composite
def licences(draw: st.DrawFn, profession: str, places: list[str]) -> Licence:
    multistate = draw(st.booleans())
    expires = draw(days)
    exact = draw(st.booleans())
    compact = COMPACT_OF.get(profession, "NLC")
    compacts = draw(st.lists(st.sampled_from([compact, "PSYPACT"]), max_size=2, unique=True))
    return Licence(
        jurisdiction=draw(st.sampled_from(places)),
        profession=draw(st.sampled_from([profession] * 4 + PROFESSIONS[:-1])),
        status=draw(ACTIVE_MOSTLY),
        expires=expires,
        multistate=multistate,
        issued=draw(st.none() | st.integers(1, 60).map(lambda n: expires - timedelta(days=n))),
        expires_at=(
            datetime(expires.year, expires.month, expires.day, draw(st.integers(0, 23)), tzinfo=UTC)
            if exact
            else None
        ),
        compacts=tuple(compacts) if multistate else (),
    )


@st.composite
def authorities(draw: st.DrawFn, profession: str, places: list[str]) -> Authority:
    kind = draw(st.sampled_from([k.value for k in AuthorityKind] * 2 + ["e-passport", "apit"]))
    issued, expires = draw(maybe_days), draw(maybe_days)
    if issued is not None and expires is not None and expires < issued:
        issued, expires = expires, issued
    compact = draw(st.sampled_from([COMPACT_OF.get(profession), *COMPACT_IDS]))
    jurisdiction = draw(st.none() | st.sampled_from(places))
    if kind == AuthorityKind.COMPACT_PRIVILEGE:
        compact = compact or "COUNSELING"
        jurisdiction = jurisdiction or places[0]
    if kind == AuthorityKind.TELEHEALTH_REGISTRATION:
        jurisdiction = jurisdiction or "US-FL"
    return Authority(
        kind=kind,
        status=draw(ACTIVE_MOSTLY),
        compact=compact,
        jurisdiction=jurisdiction,
        profession=draw(st.sampled_from([None, profession, *PROFESSIONS[:-1]])),
        issued=issued,
        expires=expires,
    )


@st.composite
def records(draw: st.DrawFn, profession: str) -> LicensingRecord:
    places = draw(st.lists(st.sampled_from(PLACES), min_size=1, max_size=4, unique=True))
    held = draw(st.lists(licences(profession, places), max_size=4))
    homes = [lic.jurisdiction for lic in held] or places
    return LicensingRecord(
        residence=draw(st.sampled_from([*homes, *homes, None, "US-NY"])),
        licences=tuple(held),
        authorities=tuple(draw(st.lists(authorities(profession, places), max_size=4))),
    )


@st.composite
def licence_of(draw: st.DrawFn, jurisdiction: str, profession: str, *compacts: str) -> Licence:
    expires = draw(days)
    return Licence(
        jurisdiction, profession, draw(ACTIVE_MOSTLY), expires, multistate=bool(compacts),
        issued=draw(st.none() | st.integers(1, 60).map(lambda n: expires - timedelta(days=n))),
        compacts=compacts,
    )  # fmt: skip


@st.composite
def authority_of(draw: st.DrawFn, /, kind: str, **fields: str) -> Authority:
    issued, expires = draw(maybe_days), draw(maybe_days)
    if issued is not None and expires is not None and expires < issued:
        issued, expires = expires, issued
    return Authority(kind, draw(ACTIVE_MOSTLY), issued=issued, expires=expires, **fields)


@st.composite
def near_allowed(draw: st.DrawFn) -> tuple[LicensingRecord, str, list[str], CompactTables]:
    """Records one date or status away from each compact authority, so every comparison of
    the compact paths is exercised."""
    path = draw(st.sampled_from(["psypact", "nlc", "pt-privilege"]))
    if path == "psypact":  # real tables: APIT with an E.Passport, home licence from US-AZ
        record = LicensingRecord(
            residence="US-AZ",
            licences=(draw(licence_of("US-AZ", "PSY")),),
            authorities=(draw(authority_of("e-passport", compact="PSYPACT")),
                         draw(authority_of("apit", compact="PSYPACT"))),
        )  # fmt: skip
        return record, "PSY", ["US-AL"], real()
    if path == "nlc":  # instance tables: US-FL from 2026-06-10, US-PA from 2026-06-20
        record = LicensingRecord(
            residence="US-TX", licences=(draw(licence_of("US-TX", "RN", "NLC")),)
        )
        return record, "RN", [draw(st.sampled_from(["US-FL", "US-PA"]))], instance_tables()
    record = LicensingRecord(  # real tables: PT privileges issued between member states
        residence="US-MO",
        licences=(draw(licence_of("US-MO", "PT")),),
        authorities=(draw(authority_of("compact-privilege", compact="PT", jurisdiction="US-ND")),),
    )
    return record, "PT", ["US-ND"], real()


@st.composite
def cases(draw: st.DrawFn) -> tuple[LicensingRecord, str, list[str], CompactTables]:
    if draw(st.booleans()):
        return draw(near_allowed())
    real_tables = draw(st.booleans())
    profession = draw(st.sampled_from(PROFESSIONS if real_tables else ["RN", "LPN", "PSY"]))
    record = draw(records(profession))
    mentioned = [lic.jurisdiction for lic in record.licences] + [
        a.jurisdiction for a in record.authorities if a.jurisdiction
    ]
    patients = draw(st.lists(st.sampled_from(mentioned + PLACES), min_size=1, max_size=3))
    return record, profession, patients, real() if real_tables else instance_tables()


@st.composite
def intervals(draw: st.DrawFn) -> tuple[datetime, datetime]:
    start = datetime(BASE.year, BASE.month, BASE.day, tzinfo=UTC) + timedelta(
        minutes=30 * draw(st.integers(-40 * 48, 40 * 48))
    )
    return start, start + timedelta(minutes=30 * draw(st.integers(0, 30)))


@settings(max_examples=700, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cases(), intervals())
def test_grants_agree_with_decide(
    case: tuple[LicensingRecord, str, list[str], CompactTables],
    interval: tuple[datetime, datetime],
) -> None:
    record, profession, patients, tables = case
    expected = decide(record, profession, patients, tables, interval=interval).allowed
    bulk = all(allowed(grants(record, profession, j, tables), *interval) for j in patients)
    assert bulk == expected


@settings(max_examples=300, deadline=None)
@given(cases())
def test_grants_by_jurisdiction_are_each_jurisdictions_grants(
    case: tuple[LicensingRecord, str, list[str], CompactTables],
) -> None:
    record, profession, patients, tables = case
    every = sorted(set(patients) | set(PLACES) | {"US-OH", "US-WY", "US-NJ", "US-IL"})
    found = grants_by_jurisdiction(record, profession, every, tables)
    assert found == {j: grants(record, profession, j, tables) for j in every}
