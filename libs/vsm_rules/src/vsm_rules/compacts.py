"""Compact tables: which interstate compacts exist, what they grant, who takes part from when.

Two policies share one shape: `CompactTables.load()` reads the repo's versioned tables of the real
US compacts (`data/compacts.json`, each fact with its sources), and `CompactTables.from_instance`
builds the tables a `vsm-match/1` instance declares. The same decision (`vsm_rules.eligibility`)
runs on either.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from importlib import resources
from typing import Any

from vsm_rules.errors import InvalidArgument
from vsm_rules.jurisdictions import check_jurisdiction
from vsm_rules.records import UNLICENSED_PROFESSIONS, Status, parse_date


class CompactModel(StrEnum):
    """What holding a compact's authority means."""

    MULTISTATE_LICENCE = "multistate-licence"
    """A home-state licence marked multistate is valid in every member (NLC, APRN, social work)."""
    TELEPSYCHOLOGY = "telepsychology"
    """PSYPACT: a member home-state licence plus an active E.Passport and APIT."""
    PRIVILEGE = "privilege"
    """A privilege issued for one remote state (Counseling, PT, OT, ASLP, PA, DDH, ...)."""
    EXPEDITED_LICENSURE = "expedited-licensure"
    """A faster path to separate licences that grants no privilege itself (IMLC)."""


class HomeState(StrEnum):
    """How a compact finds the clinician's home state."""

    RESIDENCE = "residence"
    """The state the clinician lives in (NLC, Counseling, PT, OT, ASLP, social work, APRN)."""
    LICENCE = "licence"
    """Any member state where the clinician holds the licence (PSYPACT, EMS)."""
    NONE = "none"
    """No home state: the compact grants nothing (IMLC)."""


@dataclass(frozen=True, slots=True)
class Membership:
    """One jurisdiction's part in one compact.

    `honours_from` is the date from which it honours the other members' authority for patients
    located there; `residents_from` the date from which its residents can hold the authority from
    it as home state (later for partial members, None where they never can); both None while it
    has enacted the compact but does not take part yet. A date known only as "in effect by"
    (`precision` no_later_than) is used as the effective date.
    """

    jurisdiction: str
    status: str
    honours_from: date | None
    residents_from: date | None
    precision: str = "exact"
    enacted: date | None = None
    notes: str = ""

    def honours_on(self, day: date) -> bool:
        """Whether it honours other members' authority for its patients on `day`."""
        return self.honours_from is not None and self.honours_from <= day

    def home_on(self, day: date) -> bool:
        """Whether it can be a clinician's home state for this compact on `day`."""
        return self.residents_from is not None and self.residents_from <= day


@dataclass(frozen=True, slots=True)
class Compact:
    """An interstate compact: its model, the professions it covers, its members and sources."""

    id: str
    name: str
    model: CompactModel
    professions: frozenset[str]
    operational: bool
    home_state: HomeState
    members: Mapping[str, Membership]
    sources: tuple[str, ...] = ()
    notes: str = ""

    def covers(self, profession: str) -> bool:
        """Whether the compact covers the profession."""
        return profession in self.professions

    def member(self, jurisdiction: str | None) -> Membership | None:
        """The jurisdiction's membership, or None when it is not a member."""
        return None if jurisdiction is None else self.members.get(jurisdiction)


@dataclass(frozen=True, slots=True)
class TelehealthRegistration:
    """A state's registration that lets out-of-state clinicians of the listed professions treat
    its patients by telehealth, on a licence held elsewhere."""

    jurisdiction: str
    mechanism: str
    professions: frozenset[str]
    sources: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class CompactTables:
    """A policy: the compacts, the telehealth registrations, the licence statuses that allow
    practice in the issuing state, and the roles that need no licence."""

    version: str
    compacts: tuple[Compact, ...]
    telehealth_registrations: Mapping[str, TelehealthRegistration] = field(default_factory=dict)
    practice_statuses: frozenset[str] = frozenset({Status.ACTIVE, Status.PROBATION})
    unlicensed_professions: frozenset[str] = UNLICENSED_PROFESSIONS

    def compact(self, compact_id: str) -> Compact | None:
        """The compact with that id, if the tables have one."""
        return next((k for k in self.compacts if k.id == compact_id), None)

    def compacts_for(self, profession: str) -> tuple[Compact, ...]:
        """The compacts that cover the profession, in table order."""
        return tuple(k for k in self.compacts if k.covers(profession))

    @classmethod
    def load(cls) -> CompactTables:
        """The repo's tables of the real US compacts (`vsm_rules/data/compacts.json`)."""
        text = resources.files("vsm_rules").joinpath("data/compacts.json").read_text("utf-8")
        return cls.from_json(json.loads(text))

    @classmethod
    def from_json(cls, doc: Mapping[str, Any]) -> CompactTables:
        """Tables from a document shaped like `data/compacts.json`."""
        version = doc.get("version")
        if not isinstance(version, str):
            raise InvalidArgument("version", "the compact tables need a version string")
        compacts = tuple(
            _compact_from_json(obj, f"compacts[{i}]") for i, obj in enumerate(doc["compacts"])
        )
        registrations = {
            check_jurisdiction(j, f"telehealth_registrations.{j}"): TelehealthRegistration(
                jurisdiction=j,
                mechanism=str(obj.get("mechanism", "")),
                professions=frozenset(obj.get("professions", [])),
                sources=tuple(obj.get("sources", [])),
            )
            for j, obj in doc.get("telehealth_registrations", {}).items()
        }
        return cls(version=version, compacts=compacts, telehealth_registrations=registrations)

    @classmethod
    def from_instance(
        cls,
        compacts: Iterable[Mapping[str, Any]],
        professions: Mapping[str, Mapping[str, Any]] | None = None,
        name: str = "vsm-match/1",
    ) -> CompactTables:
        """The policy of a `vsm-match/1` instance (FORMAT.md rule 3): each compact is a
        multistate-licence compact keyed on residence whose members take part, as home and as
        patient state, from their one date; only `active` licences allow practice; a profession
        is unlicensed where the instance's `professions` says `licensed: false`."""
        tables = []
        for i, obj in enumerate(compacts):
            members = {}
            for j, day in obj["members"].items():
                check_jurisdiction(j, f"compacts[{i}].members")
                since = parse_date(day, f"compacts[{i}].members.{j}")
                members[j] = Membership(j, "implemented", since, since)
            tables.append(
                Compact(
                    id=obj["id"],
                    name=obj["id"],
                    model=CompactModel.MULTISTATE_LICENCE,
                    professions=frozenset(obj["professions"]),
                    operational=True,
                    home_state=HomeState.RESIDENCE,
                    members=members,
                )
            )
        unlicensed = frozenset(
            p for p, spec in (professions or {}).items() if not spec.get("licensed", True)
        )
        return cls(
            version=name,
            compacts=tuple(tables),
            practice_statuses=frozenset({Status.ACTIVE}),
            unlicensed_professions=unlicensed
            if professions is not None
            else UNLICENSED_PROFESSIONS,
        )


def compact_from_json(obj: Mapping[str, Any], where: str = "compact") -> Compact:
    """One compact from its entry of `data/compacts.json`; `InvalidArgument` names what is wrong
    by its path under `where`."""
    if not isinstance(obj, Mapping):
        raise InvalidArgument(where, "a compact is a JSON object")
    for key in ("id", "model", "professions"):
        if key not in obj:
            raise InvalidArgument(f"{where}.{key}", "missing")
    if obj["model"] not in {m.value for m in CompactModel}:
        raise InvalidArgument(f"{where}.model", f"unknown model {obj['model']!r}")
    if not isinstance(obj["professions"], list) or not all(
        isinstance(p, str) and p for p in obj["professions"]
    ):
        raise InvalidArgument(f"{where}.professions", "a list of profession codes")
    if not isinstance(obj.get("members", {}), Mapping):
        raise InvalidArgument(f"{where}.members", "an object keyed by jurisdiction")
    return _compact_from_json(obj, where)


def _compact_from_json(obj: Mapping[str, Any], where: str) -> Compact:
    members = {}
    for j, m in obj.get("members", {}).items():
        check_jurisdiction(j, f"{where}.members")
        at = f"{where}.members.{j}"
        if not isinstance(m, Mapping):
            raise InvalidArgument(at, "an object with honours_from and residents_from dates")
        honours = m.get("honours_from")
        residents = m.get("residents_from")
        enacted = m.get("enacted")
        members[j] = Membership(
            jurisdiction=j,
            status=str(m.get("status", "")),
            honours_from=None if honours is None else parse_date(honours, f"{at}.honours_from"),
            residents_from=None
            if residents is None
            else parse_date(residents, f"{at}.residents_from"),
            precision=str(m.get("precision", "exact")),
            enacted=None if enacted is None else parse_date(enacted, f"{at}.enacted"),
            notes=str(m.get("notes", "")),
        )
    return Compact(
        id=obj["id"],
        name=obj.get("name", obj["id"]),
        model=CompactModel(obj["model"]),
        professions=frozenset(obj["professions"]),
        operational=bool(obj.get("operational", False)),
        home_state=HomeState(obj.get("home_state", HomeState.RESIDENCE)),
        members=members,
        sources=tuple(obj.get("sources", [])),
        notes=str(obj.get("notes", "")),
    )
