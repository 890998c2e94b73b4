"""The licensing decision: may this clinician treat patients located in these jurisdictions?

One decision for every policy (the repo's real compact tables or an instance's own): for each
patient jurisdiction (the patient's location governs) the clinician needs

1. a direct licence from it for the profession, in good standing through the date; or
2. a telehealth registration with it for the profession, backed by an active licence elsewhere; or
3. a compact authority: a multistate licence from the home state (NLC, APRN, social work), a
   PSYPACT APIT with an E.Passport, or an issued privilege for that very state (Counseling, PT,
   OT, ...), with the compact operational and both states taking part on that date.

A licence on probation allows practice under the issuing state's own licence only and blocks every
compact authority. The IMLC grants nothing. Unlicensed roles need nothing. The clinician is allowed
only if every patient jurisdiction allows.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from vsm_rules.compacts import Compact, CompactModel, CompactTables, HomeState
from vsm_rules.errors import InvalidArgument
from vsm_rules.jurisdictions import check_jurisdiction
from vsm_rules.records import (
    Authority,
    AuthorityKind,
    Licence,
    LicensingRecord,
    Profession,
    Status,
    check_instant,
)
from vsm_rules.verdict import Verdict

RULE = "licensing"
_COMPACT_STATUSES = frozenset({Status.ACTIVE})
"""A compact authority rests only on an unencumbered active licence: never on probation."""


PROFESSION_CODES = frozenset(p.value for p in Profession)


@dataclass(frozen=True, slots=True)
class EligibilityDecision:
    """The decision for a clinician: allowed only if every patient jurisdiction's verdict is."""

    allowed: bool
    verdicts: Mapping[str, Verdict]


@dataclass(frozen=True, slots=True)
class Moment:
    """When the work happens: `day` decides compact membership (the UTC date of an interval's
    start); a licence or authority must last through `last_day`, and a licence with an exact
    `expires_at` must last until `end` when an interval is given."""

    day: date
    last_day: date
    end: datetime | None = None

    @classmethod
    def of(cls, on: date | None, interval: tuple[datetime, datetime] | None) -> Moment:
        """The moment of a date, of an interval `[start, end)`, or of both (`on` then decides
        membership)."""
        if on is not None and (not isinstance(on, date) or isinstance(on, datetime)):
            raise InvalidArgument("on", f"a calendar date is needed, not {on!r}")
        if interval is None:
            if on is None:
                raise InvalidArgument("on", "a date or an interval is needed")
            return cls(day=on, last_day=on)
        start = check_instant(interval[0], "interval.start")
        end = check_instant(interval[1], "interval.end")
        if end < start:
            raise InvalidArgument("interval.end", f"{end.isoformat()} is before the start")
        day = on if on is not None else start.date()
        last = max(day, (end - timedelta(microseconds=1)).date()) if end > start else day
        return cls(day=day, last_day=last, end=end)

    def describe(self) -> str:
        """The moment as evidence."""
        if self.end is None:
            return f"judged on {self.day}"
        return f"judged for {self.day} to {self.end.strftime('%Y-%m-%dT%H:%M:%SZ')}"

    def licence_problem(self, licence: Licence, statuses: Iterable[str]) -> str | None:
        """Why the licence does not hold at this moment, or None when it does."""
        if licence.status not in statuses:
            if licence.status == Status.PROBATION:
                return "is on probation (encumbered), which blocks every compact authority"
            return f"is {licence.status}"
        if licence.issued is not None and licence.issued > self.day:
            return f"is issued only on {licence.issued}"
        if self.end is not None and licence.expires_at is not None:
            if licence.expires_at < self.end:
                return (
                    f"expires at {licence.expires_at.strftime('%Y-%m-%dT%H:%M:%SZ')}, before "
                    f"the work ends at {self.end.strftime('%Y-%m-%dT%H:%M:%SZ')}"
                )
            return None
        if licence.expires < self.day:
            return f"expired on {licence.expires}"
        if licence.expires < self.last_day:
            return f"expires on {licence.expires}, before {self.last_day}"
        return None

    def authority_problem(self, authority: Authority) -> str | None:
        """Why the authority does not hold at this moment, or None when it does."""
        if authority.status != Status.ACTIVE:
            return f"is {authority.status}"
        if authority.issued is not None and authority.issued > self.day:
            return f"is issued only on {authority.issued}"
        if authority.expires is not None and authority.expires < self.last_day:
            return f"expired on {authority.expires}"
        return None


def decide(
    record: LicensingRecord,
    profession: str,
    patient_jurisdictions: Iterable[str],
    tables: CompactTables,
    on: date | None = None,
    interval: tuple[datetime, datetime] | None = None,
) -> EligibilityDecision:
    """Decide, for each patient jurisdiction, whether the clinician may practise the profession
    there on `on` (or during `interval`, whose UTC start date decides compact membership)."""
    if profession not in PROFESSION_CODES:
        raise InvalidArgument("profession", f"unknown profession {profession!r}")
    if isinstance(patient_jurisdictions, str):
        raise InvalidArgument("patient_jurisdictions", "a list of jurisdictions is needed")
    jurisdictions: list[str] = []
    for i, j in enumerate(patient_jurisdictions):
        check_jurisdiction(j, f"patient_jurisdictions[{i}]")
        if j not in jurisdictions:
            jurisdictions.append(j)
    moment = Moment.of(on, interval)
    verdicts = {j: judge_jurisdiction(record, profession, j, tables, moment) for j in jurisdictions}
    return EligibilityDecision(allowed=all(v.allowed for v in verdicts.values()), verdicts=verdicts)


def judge_jurisdiction(
    record: LicensingRecord,
    profession: str,
    jurisdiction: str,
    tables: CompactTables,
    moment: Moment,
) -> Verdict:
    """The verdict for one patient jurisdiction: the first authority that allows, or every
    reason none does."""
    evidence = [moment.describe(), f"compact tables {tables.version}"]
    if profession in tables.unlicensed_professions:
        return Verdict.allow(
            RULE, f"{profession} is an unlicensed role: no licence needed", *evidence
        )
    if record.residence is not None:
        evidence.append(f"residence {record.residence}")
    for licence in record.licences:
        if licence.profession == profession:
            evidence.append(_licence_evidence(licence))
    reasons: list[str] = []
    for check in (_direct, _telehealth_registration):
        basis = check(record, profession, jurisdiction, tables, moment, reasons)
        if basis is not None:
            return Verdict.allow(RULE, basis, *evidence)
    for compact in tables.compacts_for(profession):
        basis = _compact_authority(record, profession, jurisdiction, compact, moment, reasons)
        if basis is not None:
            return Verdict.allow(RULE, basis, *evidence)
        member = compact.member(jurisdiction)
        if member is not None:
            evidence.append(
                f"{compact.id}: {jurisdiction} {member.status}, honours from "
                f"{member.honours_from or 'never yet'} ({member.precision}), residents from "
                f"{member.residents_from or 'never yet'}"
            )
    return Verdict.refuse(RULE, *reasons, evidence=tuple(evidence))


def _licence_evidence(licence: Licence) -> str:
    kind = "multistate" if licence.multistate else "single-state"
    number = f" #{licence.number}" if licence.number else ""
    return (
        f"licence {licence.jurisdiction} {licence.profession}{number} {licence.status}, "
        f"{kind}, expires {licence.expires}"
    )


def _direct(
    record: LicensingRecord,
    profession: str,
    jurisdiction: str,
    tables: CompactTables,
    moment: Moment,
    reasons: list[str],
) -> str | None:
    held = [
        lic
        for lic in record.licences
        if lic.jurisdiction == jurisdiction and lic.profession == profession
    ]
    if not held:
        reasons.append(f"no {profession} licence from {jurisdiction}")
    for licence in held:
        problem = moment.licence_problem(licence, tables.practice_statuses)
        if problem is None:
            terms = " (on probation: under its own terms)" if licence.status == "probation" else ""
            return (
                f"{profession} licence from {jurisdiction}{terms}, valid through {licence.expires}"
            )
        if licence.status == Status.PROBATION:
            problem = "is on probation"
        reasons.append(f"the {profession} licence from {jurisdiction} {problem}")
    return None


def _telehealth_registration(
    record: LicensingRecord,
    profession: str,
    jurisdiction: str,
    tables: CompactTables,
    moment: Moment,
    reasons: list[str],
) -> str | None:
    registrations = [
        a
        for a in record.authorities
        if a.kind == AuthorityKind.TELEHEALTH_REGISTRATION
        and a.jurisdiction == jurisdiction
        and a.profession in (None, profession)
    ]
    if not registrations:
        return None
    offered = tables.telehealth_registrations.get(jurisdiction)
    if offered is None or profession not in offered.professions:
        reasons.append(
            f"the telehealth registration with {jurisdiction} counts for nothing: the tables know "
            f"no {jurisdiction} telehealth registration for {profession}"
        )
        return None
    for registration in registrations:
        problem = moment.authority_problem(registration)
        if problem is not None:
            reasons.append(f"the telehealth registration with {jurisdiction} {problem}")
            continue
        backing = [lic for lic in record.licences if lic.profession == profession]
        for licence in backing:
            if moment.licence_problem(licence, _COMPACT_STATUSES) is None:
                return (
                    f"telehealth registration with {jurisdiction} for {profession}, backed by "
                    f"the active licence from {licence.jurisdiction}"
                )
        reasons.append(
            f"the telehealth registration with {jurisdiction} is not backed by an active, "
            f"unencumbered {profession} licence"
        )
    return None


def _compact_authority(
    record: LicensingRecord,
    profession: str,
    jurisdiction: str,
    compact: Compact,
    moment: Moment,
    reasons: list[str],
) -> str | None:
    """The basis of the compact's authority in the jurisdiction, or None with a reason added."""
    no = f"no {compact.id} privilege in {jurisdiction} on {moment.day}"
    if compact.model == CompactModel.EXPEDITED_LICENSURE:
        reasons.append(
            f"{compact.id} grants no privilege in {jurisdiction}: it is an expedited path to "
            f"separate licences, so a licence from {jurisdiction} itself is needed"
        )
        return None
    if not compact.operational:
        reasons.append(f"{no}: {compact.id} is not operational")
        return None
    member = compact.member(jurisdiction)
    if member is None:
        reasons.append(f"{no}: {jurisdiction} is not a member of {compact.id}")
        return None
    if not member.honours_on(moment.day):
        if member.honours_from is None:
            enacted = f" (enacted {member.enacted})" if member.enacted else ""
            reasons.append(f"{no}: {jurisdiction} does not take part in {compact.id} yet{enacted}")
        else:
            reasons.append(f"{no}: {jurisdiction} joins {compact.id} on {member.honours_from}")
        return None
    if compact.model == CompactModel.MULTISTATE_LICENCE:
        return _multistate(record, profession, compact, moment, no, reasons)
    if compact.model == CompactModel.TELEPSYCHOLOGY:
        return _telepsychology(record, profession, compact, moment, no, reasons)
    return _privilege(record, profession, jurisdiction, compact, moment, no, reasons)


def _home_problem(compact: Compact, home: str | None, day: date) -> str | None:
    """Why `home` cannot be the clinician's home state for the compact on `day`, or None."""
    if home is None:
        return "the clinician's residence is unknown, so there is no home state"
    member = compact.member(home)
    if member is None:
        return f"home {home} is not a member of {compact.id}"
    if member.home_on(day):
        return None
    if member.residents_from is not None:
        return f"home {home} can be a {compact.id} home state only from {member.residents_from}"
    if member.honours_from is not None:
        return f"home {home} cannot be a {compact.id} home state (partial member)"
    return f"home {home} does not take part in {compact.id} yet"


def _multistate(
    record: LicensingRecord,
    profession: str,
    compact: Compact,
    moment: Moment,
    no: str,
    reasons: list[str],
) -> str | None:
    home = record.residence
    problem = _home_problem(compact, home, moment.day)
    if problem is not None:
        reasons.append(f"{no}: {problem}")
        return None
    multistate = [
        lic
        for lic in record.licences
        if lic.profession == profession
        and lic.multistate
        and (not lic.compacts or compact.id in lic.compacts)
    ]
    from_home = [lic for lic in multistate if lic.jurisdiction == home]
    if not from_home:
        elsewhere = ", ".join(sorted({lic.jurisdiction for lic in multistate}))
        if elsewhere:
            reasons.append(
                f"{no}: the multistate licence from {elsewhere} is not from home {home}, "
                "where the clinician lives, so it grants no privilege"
            )
        else:
            reasons.append(f"{no}: no {profession} multistate licence from home {home}")
        return None
    for licence in from_home:
        issue = moment.licence_problem(licence, _COMPACT_STATUSES)
        if issue is None:
            return f"{compact.id} multistate licence from home {home}"
        reasons.append(f"{no}: the multistate licence from home {home} {issue}")
    return None


def _telepsychology(
    record: LicensingRecord,
    profession: str,
    compact: Compact,
    moment: Moment,
    no: str,
    reasons: list[str],
) -> str | None:
    candidates = sorted(
        (
            lic
            for lic in record.licences
            if lic.profession == profession and compact.member(lic.jurisdiction) is not None
        ),
        key=lambda lic: lic.jurisdiction != record.residence,
    )
    home: Licence | None = None
    problems: list[str] = []
    for licence in candidates:
        problem = _home_problem(compact, licence.jurisdiction, moment.day)
        if problem is None:
            issue = moment.licence_problem(licence, _COMPACT_STATUSES)
            problem = None if issue is None else f"the licence from {licence.jurisdiction} {issue}"
        if problem is None:
            home = licence
            break
        problems.append(problem)
    if home is None:
        if not candidates:
            problems.append(f"no {profession} licence from a {compact.id} member state")
        reasons.append(f"{no}: {problems[0]}")
        return None
    missing = []
    for kind, label in ((AuthorityKind.E_PASSPORT, "E.Passport"), (AuthorityKind.APIT, "APIT")):
        held = [a for a in record.authorities if a.kind == kind and a.compact in (None, compact.id)]
        if not any(moment.authority_problem(a) is None for a in held):
            missing.append(f"no active {label}")
    if missing:
        reasons.append(f"{no}: {' and '.join(missing)}")
        return None
    return f"{compact.id} APIT with an active E.Passport, home licence from {home.jurisdiction}"


def _privilege(
    record: LicensingRecord,
    profession: str,
    jurisdiction: str,
    compact: Compact,
    moment: Moment,
    no: str,
    reasons: list[str],
) -> str | None:
    privileges = [
        a
        for a in record.authorities
        if a.kind == AuthorityKind.COMPACT_PRIVILEGE
        and a.compact == compact.id
        and a.profession in (None, profession)
    ]
    for_here = [a for a in privileges if a.jurisdiction == jurisdiction]
    if not for_here:
        others = ", ".join(sorted({str(a.jurisdiction) for a in privileges}))
        held = f" (privileges held for {others} only)" if others else ""
        reasons.append(f"{no}: no {compact.id} privilege issued for {jurisdiction}{held}")
        return None
    valid = [a for a in for_here if moment.authority_problem(a) is None]
    if not valid:
        reasons.append(
            f"{no}: the privilege for {jurisdiction} {moment.authority_problem(for_here[0])}"
        )
        return None
    if compact.home_state == HomeState.RESIDENCE:
        homes = [record.residence]
    else:
        homes = [lic.jurisdiction for lic in record.licences if lic.profession == profession]
    problems: list[str] = []
    for home in homes:
        problem = _home_problem(compact, home, moment.day)
        if problem is None:
            licences = [
                lic
                for lic in record.licences
                if lic.jurisdiction == home and lic.profession == profession
            ]
            issues = [moment.licence_problem(lic, _COMPACT_STATUSES) for lic in licences]
            if any(issue is None for issue in issues):
                return (
                    f"{compact.id} privilege for {jurisdiction} through "
                    f"{valid[0].expires or 'its home licence expiry'}, home licence from {home}"
                )
            problem = next(
                (f"the home licence from {home} {i}" for i in issues if i is not None),
                f"no {profession} licence from home {home}",
            )
        problems.append(problem)
    if not problems:
        problems.append(f"no {profession} licence from a {compact.id} member state")
    reasons.append(f"{no}: {problems[0]}")
    return None
