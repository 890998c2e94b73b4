"""The licensing decision in bulk form: for one clinician, profession and patient jurisdiction,
the set of work intervals the clinician may take, as a few boxes ("grants").

`eligibility.decide` judges one moment and explains itself; matching asks the same question for
millions of (clinician, shift) pairs and needs only yes or no. Every authority `decide` accepts
(a direct licence, a telehealth registration backed by a licence, a compact authority) holds on
an interval `[start, end)` exactly when the interval's UTC start date (`day`) is late enough,
the date of its last instant (`last_day`) early enough, and its end early enough; so each
authority is one `Grant`, and the clinician is allowed in the jurisdiction when any grant
covers the interval. The property tests hold this to `decide` on random records and intervals.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from vsm_rules.compacts import Compact, CompactModel, CompactTables, HomeState
from vsm_rules.records import Authority, AuthorityKind, Licence, LicensingRecord, Status

_ACTIVE = frozenset({Status.ACTIVE})


@dataclass(frozen=True, slots=True)
class Grant:
    """Work on `[start, end)` is allowed when `start`'s UTC date is on or after `first_day`,
    the UTC date of its last instant on or before `last_day`, and `end` no later than `until`."""

    first_day: date = date.min
    last_day: date = date.max
    until: datetime | None = None

    def covers(self, start: datetime, end: datetime) -> bool:
        day = start.date()
        last = max(day, (end - timedelta(microseconds=1)).date()) if end > start else day
        return (
            self.first_day <= day
            and last <= self.last_day
            and (self.until is None or end <= self.until)
        )

    def meet(self, other: Grant) -> Grant:
        """Both grants at once (an authority resting on a licence)."""
        untils = [u for u in (self.until, other.until) if u is not None]
        return Grant(
            max(self.first_day, other.first_day),
            min(self.last_day, other.last_day),
            min(untils) if untils else None,
        )


ALWAYS = Grant()


def grants(
    record: LicensingRecord, profession: str, jurisdiction: str, tables: CompactTables
) -> tuple[Grant, ...]:
    """Every grant the record holds for the profession in the patient jurisdiction."""
    if profession in tables.unlicensed_professions:
        return (ALWAYS,)
    found = [
        _licence_grant(lic)
        for lic in record.licences
        if lic.jurisdiction == jurisdiction
        and lic.profession == profession
        and lic.status in tables.practice_statuses
    ]
    found += _registration_grants(record, profession, jurisdiction, tables)
    for compact in tables.compacts_for(profession):
        found += _compact_grants(record, profession, jurisdiction, compact)
    return tuple(g for g in found if g.first_day <= g.last_day)


def grants_by_jurisdiction(
    record: LicensingRecord, profession: str, jurisdictions: Iterable[str], tables: CompactTables
) -> dict[str, tuple[Grant, ...]]:
    """`grants` for many patient jurisdictions at once. A jurisdiction the record never names
    differs from another only in when it joined each compact, so such jurisdictions share one
    computation per joining pattern."""
    named = {lic.jurisdiction for lic in record.licences} | {
        a.jurisdiction for a in record.authorities if a.jurisdiction is not None
    }
    compacts = tables.compacts_for(profession)
    shared: dict[tuple[date | None, ...], tuple[Grant, ...]] = {}
    found: dict[str, tuple[Grant, ...]] = {}
    for jurisdiction in jurisdictions:
        if jurisdiction in named or jurisdiction in tables.telehealth_registrations:
            found[jurisdiction] = grants(record, profession, jurisdiction, tables)
            continue
        pattern = tuple(
            member.honours_from if (member := compact.member(jurisdiction)) else None
            for compact in compacts
        )
        if pattern not in shared:
            shared[pattern] = grants(record, profession, jurisdiction, tables)
        found[jurisdiction] = shared[pattern]
    return found


def allowed(found: tuple[Grant, ...], start: datetime, end: datetime) -> bool:
    """Whether any grant covers the interval."""
    return any(g.covers(start, end) for g in found)


def _licence_grant(licence: Licence) -> Grant:
    """A licence in good standing from its issue: to its exact expiry instant when it has one,
    else through its expiry date."""
    first = licence.issued or date.min
    if licence.expires_at is not None:
        return Grant(first, date.max, licence.expires_at)
    return Grant(first, licence.expires)


def _authority_grant(authority: Authority) -> Grant | None:
    if authority.status != Status.ACTIVE:
        return None
    return Grant(authority.issued or date.min, authority.expires or date.max)


def _active_licence_grants(
    record: LicensingRecord, profession: str, home: str | None = None
) -> list[Grant]:
    return [
        _licence_grant(lic)
        for lic in record.licences
        if lic.profession == profession
        and lic.status in _ACTIVE
        and (home is None or lic.jurisdiction == home)
    ]


def _registration_grants(
    record: LicensingRecord, profession: str, jurisdiction: str, tables: CompactTables
) -> list[Grant]:
    offered = tables.telehealth_registrations.get(jurisdiction)
    if offered is None or profession not in offered.professions:
        return []
    backing = _active_licence_grants(record, profession)
    return [
        grant.meet(licence)
        for a in record.authorities
        if a.kind == AuthorityKind.TELEHEALTH_REGISTRATION
        and a.jurisdiction == jurisdiction
        and a.profession in (None, profession)
        and (grant := _authority_grant(a)) is not None
        for licence in backing
    ]


def _compact_grants(
    record: LicensingRecord, profession: str, jurisdiction: str, compact: Compact
) -> list[Grant]:
    if compact.model == CompactModel.EXPEDITED_LICENSURE or not compact.operational:
        return []
    member = compact.member(jurisdiction)
    if member is None or member.honours_from is None:
        return []
    honoured = Grant(first_day=member.honours_from)
    if compact.model == CompactModel.MULTISTATE_LICENCE:
        found = _multistate_grants(record, profession, compact)
    elif compact.model == CompactModel.TELEPSYCHOLOGY:
        found = _telepsychology_grants(record, profession, compact)
    else:
        found = _privilege_grants(record, profession, jurisdiction, compact)
    return [honoured.meet(g) for g in found]


def _home_grant(compact: Compact, home: str | None) -> Grant | None:
    member = compact.member(home) if home is not None else None
    if member is None or member.residents_from is None:
        return None
    return Grant(first_day=member.residents_from)


def _multistate_grants(record: LicensingRecord, profession: str, compact: Compact) -> list[Grant]:
    home = _home_grant(compact, record.residence)
    if home is None:
        return []
    return [
        home.meet(_licence_grant(lic))
        for lic in record.licences
        if lic.profession == profession
        and lic.multistate
        and (not lic.compacts or compact.id in lic.compacts)
        and lic.jurisdiction == record.residence
        and lic.status in _ACTIVE
    ]


def _telepsychology_grants(
    record: LicensingRecord, profession: str, compact: Compact
) -> list[Grant]:
    homes = [
        home.meet(_licence_grant(lic))
        for lic in record.licences
        if lic.profession == profession
        and lic.status in _ACTIVE
        and (home := _home_grant(compact, lic.jurisdiction)) is not None
    ]
    passports, apits = (
        [
            g
            for a in record.authorities
            if a.kind == kind and a.compact in (None, compact.id)
            and (g := _authority_grant(a)) is not None
        ]
        for kind in (AuthorityKind.E_PASSPORT, AuthorityKind.APIT)
    )  # fmt: skip
    return [h.meet(p).meet(a) for h in homes for p in passports for a in apits]


def _privilege_grants(
    record: LicensingRecord, profession: str, jurisdiction: str, compact: Compact
) -> list[Grant]:
    privileges = [
        g
        for a in record.authorities
        if a.kind == AuthorityKind.COMPACT_PRIVILEGE
        and a.compact == compact.id
        and a.profession in (None, profession)
        and a.jurisdiction == jurisdiction
        and (g := _authority_grant(a)) is not None
    ]
    if compact.home_state == HomeState.RESIDENCE:
        homes = [record.residence]
    else:
        homes = [lic.jurisdiction for lic in record.licences if lic.profession == profession]
    backed = [
        home_grant.meet(licence)
        for home in dict.fromkeys(homes)
        if (home_grant := _home_grant(compact, home)) is not None
        for licence in _active_licence_grants(record, profession, home)
    ]
    return [p.meet(b) for p in privileges for b in backed]


__all__ = ["ALWAYS", "Grant", "allowed", "grants", "grants_by_jurisdiction"]
