"""A clinician's licensing record: licences, compact authorities and where the clinician lives.

This is the one schema of licensing facts, shared by the command line, gRPC and storage. The
dataclasses check themselves on construction and raise `InvalidArgument` naming the bad field;
`record_from_json` names fields by their path (e.g. `licences[0].jurisdiction`).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from enum import StrEnum
from typing import Any

from vsm_rules.errors import InvalidArgument
from vsm_rules.jurisdictions import check_jurisdiction


class Profession(StrEnum):
    """A clinical profession, by its licensing code."""

    RN = "RN"
    LPN = "LPN"
    NP = "NP"
    MD = "MD"
    DO = "DO"
    PSY = "PSY"
    LPC = "LPC"
    LCSW = "LCSW"
    PT = "PT"
    OT = "OT"
    SLP = "SLP"
    SCRIBE = "SCRIBE"
    VMA = "VMA"


UNLICENSED_PROFESSIONS: frozenset[str] = frozenset({Profession.SCRIBE, Profession.VMA})
"""Roles that need no licence: a scribe or a virtual medical assistant does not practise."""


class Status(StrEnum):
    """The standing of a licence or an authority with the body that issued it."""

    ACTIVE = "active"
    INACTIVE = "inactive"
    EXPIRED = "expired"
    SUSPENDED = "suspended"
    REVOKED = "revoked"
    PROBATION = "probation"
    """Encumbered: practice under the issuing state's own licence only; no compact authority."""


class AuthorityKind(StrEnum):
    """A kind of authority that comes from a compact or a state's telehealth law."""

    E_PASSPORT = "e-passport"
    APIT = "apit"
    COMPACT_PRIVILEGE = "compact-privilege"
    TELEHEALTH_REGISTRATION = "telehealth-registration"
    IMLC_LETTER_OF_QUALIFICATION = "imlc-letter-of-qualification"


def _check_choice(value: object, choices: type[StrEnum], field: str, what: str) -> str:
    if not isinstance(value, str) or value not in {c.value for c in choices}:
        known = ", ".join(c.value for c in choices)
        raise InvalidArgument(field, f"unknown {what} {value!r} (one of {known})")
    return value


def _check_date(value: object, field: str) -> None:
    if not isinstance(value, date) or isinstance(value, datetime):
        raise InvalidArgument(field, f"a calendar date is needed, not {value!r}")


def check_instant(value: object, field: str) -> datetime:
    """`value` as a timezone-aware UTC datetime; `InvalidArgument` if naive or not a datetime."""
    if not isinstance(value, datetime):
        raise InvalidArgument(field, f"an instant is needed, not {value!r}")
    if value.tzinfo is None or value.utcoffset() is None:
        raise InvalidArgument(field, f"instant {value.isoformat()} has no time zone (use UTC)")
    try:
        return value.astimezone(UTC)
    except OverflowError:  # 0001-01-01T00:00+14:00 is before year 1 in UTC
        raise InvalidArgument(field, f"instant {value.isoformat()} is out of range") from None


@dataclass(frozen=True, slots=True)
class Licence:
    """A licence to practise a profession, issued by one jurisdiction.

    `expires` is the last calendar date it is valid (inclusive). `expires_at`, when known, is the
    exact UTC instant it ends (the `vsm-match/1` instances give one); it falls on `expires`.
    `multistate` marks a compact multistate licence (NLC, APRN, social work); `compacts` narrows
    it to the named compacts (empty: every multistate compact listing the profession).
    """

    jurisdiction: str
    profession: str
    status: str
    expires: date
    multistate: bool = False
    number: str = ""
    issued: date | None = None
    expires_at: datetime | None = None
    compacts: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        check_jurisdiction(self.jurisdiction, "jurisdiction")
        _check_choice(self.profession, Profession, "profession", "profession")
        _check_choice(self.status, Status, "status", "status")
        _check_date(self.expires, "expires")
        if self.issued is not None:
            _check_date(self.issued, "issued")
            if self.expires < self.issued:
                raise InvalidArgument(
                    "expires", f"expires {self.expires} before it was issued on {self.issued}"
                )
        if self.expires_at is not None:
            instant = check_instant(self.expires_at, "expires_at")
            object.__setattr__(self, "expires_at", instant)
            if instant.date() != self.expires:
                raise InvalidArgument(
                    "expires_at", f"{instant.isoformat()} is not on the expiry date {self.expires}"
                )
        if not isinstance(self.multistate, bool):
            raise InvalidArgument("multistate", f"true or false, not {self.multistate!r}")
        object.__setattr__(self, "compacts", tuple(self.compacts))
        if self.compacts and not self.multistate:
            raise InvalidArgument("compacts", "only a multistate licence names compacts")


@dataclass(frozen=True, slots=True)
class Authority:
    """An authority beyond a licence: a compact privilege for one remote state, a PSYPACT
    E.Passport or APIT, a state telehealth registration, or an IMLC letter of qualification.

    `compact`, `jurisdiction`, `profession`, `issued` and `expires` are given where the kind has
    them; `expires` is the last valid date (inclusive).
    """

    kind: str
    status: str
    compact: str | None = None
    jurisdiction: str | None = None
    profession: str | None = None
    issued: date | None = None
    expires: date | None = None

    def __post_init__(self) -> None:
        _check_choice(self.kind, AuthorityKind, "kind", "authority kind")
        _check_choice(self.status, Status, "status", "status")
        if self.compact is not None and not isinstance(self.compact, str):
            raise InvalidArgument("compact", f"a compact id string, not {self.compact!r}")
        if self.jurisdiction is not None:
            check_jurisdiction(self.jurisdiction, "jurisdiction")
        if self.profession is not None:
            _check_choice(self.profession, Profession, "profession", "profession")
        if self.issued is not None:
            _check_date(self.issued, "issued")
        if self.expires is not None:
            _check_date(self.expires, "expires")
        if self.issued is not None and self.expires is not None and self.expires < self.issued:
            raise InvalidArgument(
                "expires", f"expires {self.expires} before it was issued on {self.issued}"
            )
        if self.kind == AuthorityKind.COMPACT_PRIVILEGE:
            if not self.compact:
                raise InvalidArgument("compact", "a compact privilege names its compact")
            if self.jurisdiction is None:
                raise InvalidArgument("jurisdiction", "a compact privilege names its state")
        if self.kind == AuthorityKind.TELEHEALTH_REGISTRATION and self.jurisdiction is None:
            raise InvalidArgument("jurisdiction", "a telehealth registration names its state")


@dataclass(frozen=True, slots=True)
class LicensingRecord:
    """Everything that decides where a clinician may practise: the jurisdiction the clinician
    lives in (`residence`, the compacts' home state; None when abroad or unknown), the licences
    and the authorities."""

    residence: str | None
    licences: tuple[Licence, ...] = ()
    authorities: tuple[Authority, ...] = ()

    def __post_init__(self) -> None:
        if self.residence is not None:
            check_jurisdiction(self.residence, "residence")
        object.__setattr__(self, "licences", tuple(self.licences))
        object.__setattr__(self, "authorities", tuple(self.authorities))
        for i, licence in enumerate(self.licences):
            if not isinstance(licence, Licence):
                raise InvalidArgument(f"licences[{i}]", "not a Licence")
        for i, authority in enumerate(self.authorities):
            if not isinstance(authority, Authority):
                raise InvalidArgument(f"authorities[{i}]", "not an Authority")


# ---------------------------------------------------------------- JSON


EVERY_ORGANISATION = "*"
"""Asking for a record trusted "for every organisation": every verification counts (a superset
for finding candidates; each pair is then checked for its own organisation)."""


def verified_for(verified_by: str, verifier_organization: str, organization: str | None) -> bool:
    """Whether an entry counts as verified for work at `organization`'s facilities.

    `verified_by` is "operator", "partner" or anything else (self-declared). An operator's
    verification counts everywhere; a credentialing partner's only for its own organisation
    (a VMS vouches for the clinicians it supplies, not for anyone else's). With no organisation
    in question (None) only operators' verifications count."""
    if verified_by == "operator":
        return True
    if verified_by == "partner":
        return organization == EVERY_ORGANISATION or (
            organization is not None and verifier_organization == organization
        )
    return False


def trusted_record(
    residence: str | None,
    licences: Iterable[tuple[Licence, bool]],
    authorities: Iterable[tuple[Authority, bool]],
    unverified_allowed: bool,
) -> LicensingRecord:
    """What eligibility decides on: the verified licences and authorities only (each given with
    whether it is verified), unless an operator allowed the self-declared ones too."""
    return LicensingRecord(
        residence=residence,
        licences=tuple(lic for lic, verified in licences if verified or unverified_allowed),
        authorities=tuple(a for a, verified in authorities if verified or unverified_allowed),
    )


@contextmanager
def within(prefix: str) -> Iterator[None]:
    """Re-raise an `InvalidArgument` from inside with its field prefixed by `prefix`."""
    try:
        yield
    except InvalidArgument as error:
        detail = error.message.removeprefix(f"{error.field}: ")
        raise InvalidArgument(f"{prefix}.{error.field}", detail) from None


def parse_date(value: object, field: str) -> date:
    """A `YYYY-MM-DD` string as a date; `InvalidArgument` naming `field` otherwise."""
    if not isinstance(value, str) or len(value) != 10:
        raise InvalidArgument(field, f"a date YYYY-MM-DD is needed, not {value!r}")
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise InvalidArgument(field, f"not a valid date: {value!r}") from None


def parse_instant(value: object, field: str) -> datetime:
    """An ISO 8601 instant with `Z` or an offset, as a UTC datetime; naive ones are refused."""
    if not isinstance(value, str):
        raise InvalidArgument(field, f"an ISO 8601 instant is needed, not {value!r}")
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise InvalidArgument(field, f"not a valid instant: {value!r}") from None
    return check_instant(parsed, field)


def _object(value: object, field: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise InvalidArgument(field, f"a JSON object is needed, not {value!r}")
    return value


def _list(value: object, field: str) -> Sequence[Any]:
    if value is None:
        return ()
    if not isinstance(value, list):
        raise InvalidArgument(field, f"a JSON list is needed, not {value!r}")
    return value


def _optional_date(obj: Mapping[str, Any], key: str) -> date | None:
    value = obj.get(key)
    return None if value is None else parse_date(value, key)


def _optional_str(obj: Mapping[str, Any], key: str) -> str | None:
    value = obj.get(key)
    if value is not None and not isinstance(value, str):
        raise InvalidArgument(key, f"a string is needed, not {value!r}")
    return value


def licence_from_json(obj: object) -> Licence:
    """A `Licence` from its JSON object (dates as `YYYY-MM-DD`, `expires_at` an ISO instant)."""
    o = _object(obj, "licence")
    for key in ("jurisdiction", "profession", "status", "expires"):
        if key not in o:
            raise InvalidArgument(key, "missing")
    expires_at = o.get("expires_at")
    number = o.get("number", "")
    if not isinstance(number, str):
        raise InvalidArgument("number", f"a string is needed, not {number!r}")
    compacts = _list(o.get("compacts"), "compacts")
    if not all(isinstance(k, str) for k in compacts):
        raise InvalidArgument("compacts", "compact ids are strings")
    return Licence(
        jurisdiction=o["jurisdiction"],
        profession=o["profession"],
        status=o["status"],
        expires=parse_date(o["expires"], "expires"),
        multistate=o.get("multistate", False),
        number=number,
        issued=_optional_date(o, "issued"),
        expires_at=None if expires_at is None else parse_instant(expires_at, "expires_at"),
        compacts=tuple(compacts),
    )


def authority_from_json(obj: object) -> Authority:
    """An `Authority` from its JSON object; only `kind` and `status` are always needed."""
    o = _object(obj, "authority")
    for key in ("kind", "status"):
        if key not in o:
            raise InvalidArgument(key, "missing")
    return Authority(
        kind=o["kind"],
        status=o["status"],
        compact=_optional_str(o, "compact"),
        jurisdiction=o.get("jurisdiction"),
        profession=o.get("profession"),
        issued=_optional_date(o, "issued"),
        expires=_optional_date(o, "expires"),
    )


def record_from_json(obj: object) -> LicensingRecord:
    """A `LicensingRecord` from a JSON object with `residence`, `licences` and `authorities`
    (other keys are ignored); `InvalidArgument` names the bad field by its path."""
    o = _object(obj, "record")
    licences = []
    for i, item in enumerate(_list(o.get("licences"), "licences")):
        with within(f"licences[{i}]"):
            licences.append(licence_from_json(item))
    authorities = []
    for i, item in enumerate(_list(o.get("authorities"), "authorities")):
        with within(f"authorities[{i}]"):
            authorities.append(authority_from_json(item))
    return LicensingRecord(
        residence=o.get("residence"), licences=tuple(licences), authorities=tuple(authorities)
    )


def _drop_empty(obj: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in obj.items() if v is not None and v != "" and v != []}


def licence_to_json(licence: Licence) -> dict[str, Any]:
    """The JSON object of a licence (the shape `licence_from_json` reads)."""
    return _drop_empty(
        {
            "jurisdiction": licence.jurisdiction,
            "profession": licence.profession,
            "status": licence.status,
            "expires": licence.expires.isoformat(),
            "multistate": licence.multistate,
            "number": licence.number,
            "issued": None if licence.issued is None else licence.issued.isoformat(),
            "expires_at": None
            if licence.expires_at is None
            else licence.expires_at.strftime("%Y-%m-%dT%H:%M:%S.%fZ").replace(".000000Z", "Z"),
            "compacts": list(licence.compacts),
        }
    )


def authority_to_json(authority: Authority) -> dict[str, Any]:
    """The JSON object of an authority (the shape `authority_from_json` reads)."""
    return _drop_empty(
        {
            "kind": authority.kind,
            "status": authority.status,
            "compact": authority.compact,
            "jurisdiction": authority.jurisdiction,
            "profession": authority.profession,
            "issued": None if authority.issued is None else authority.issued.isoformat(),
            "expires": None if authority.expires is None else authority.expires.isoformat(),
        }
    )


def record_to_json(record: LicensingRecord) -> dict[str, Any]:
    """The JSON object of a licensing record; `record_from_json` reads it back unchanged."""
    return {
        "residence": record.residence,
        "licences": [licence_to_json(licence) for licence in record.licences],
        "authorities": [authority_to_json(authority) for authority in record.authorities],
    }


# ---------------------------------------------------------------- vsm-match/1 instances


def record_from_instance(clinician: Mapping[str, Any]) -> LicensingRecord:
    """The licensing record of a clinician of a `vsm-match/1` instance: `home` is the residence,
    each licence is for the clinician's profession, a licence listing `compacts` is a multistate
    licence for those compacts, and its `expires` instant is `expires_at`."""
    profession = clinician["profession"]
    licences = []
    for i, lic in enumerate(clinician.get("licences", [])):
        with within(f"licences[{i}]"):
            expires_at = parse_instant(lic["expires"], "expires")
            compacts = tuple(lic.get("compacts", []))
            licences.append(
                Licence(
                    jurisdiction=lic["jurisdiction"],
                    profession=profession,
                    status=lic["status"],
                    expires=expires_at.date(),
                    multistate=bool(compacts),
                    expires_at=expires_at,
                    compacts=compacts,
                )
            )
    return LicensingRecord(residence=clinician.get("home"), licences=tuple(licences))
