"""A clinician's licensing record as this service keeps it: the rules' record (`vsm_rules`) with
ids for its licences and authorities, who stands behind each, and a version.

The record changes only through the changes below. Each is a plain document (what the change
row stores) made by a command that checks it against the record as it stands, and `apply` folds
a change into the record; so the record at any version is the fold of its changes in order. No
I/O here: the store (store.py) reads and writes the rows.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum
from typing import Any, TypeVar

from vsm_platform.actor import Actor, ActorKind
from vsm_rules.errors import InvalidArgument, NotFound, PermissionDenied
from vsm_rules.jurisdictions import check_jurisdiction
from vsm_rules.records import (
    Authority,
    Licence,
    LicensingRecord,
    Status,
    authority_from_json,
    authority_to_json,
    licence_from_json,
    licence_to_json,
    parse_instant,
    trusted_record,
    verified_for,
)

Change = Mapping[str, Any]


class Verification(StrEnum):
    """Who stands behind a licence or an authority."""

    SELF_DECLARED = "self_declared"
    OPERATOR = "operator"
    PARTNER = "partner"


@dataclass(frozen=True, slots=True)
class VerificationState:
    """A verification and, once verified, by whom and when."""

    verification: Verification = Verification.SELF_DECLARED
    by: Actor | None = None
    at: datetime | None = None

    @property
    def verified(self) -> bool:
        return self.verification != Verification.SELF_DECLARED

    def counts_for(self, organization: str | None) -> bool:
        """Whether it counts as verified for work at this organisation's facilities."""
        organization_of = self.by.organization_id if self.by is not None else ""
        return verified_for(self.verification.value, organization_of, organization)

    def to_document(self) -> dict[str, Any]:
        return {
            "verification": self.verification.value,
            "by": None if self.by is None else self.by.to_document(),
            "at": None if self.at is None else self.at.isoformat(),
        }

    @classmethod
    def from_document(cls, document: Mapping[str, Any]) -> VerificationState:
        by, at = document.get("by"), document.get("at")
        return cls(
            Verification(document["verification"]),
            None if by is None else Actor.from_document(by),
            None if at is None else parse_instant(at, "at"),
        )


@dataclass(frozen=True, slots=True)
class HeldLicence:
    id: str
    licence: Licence
    verification: VerificationState = VerificationState()


@dataclass(frozen=True, slots=True)
class HeldAuthority:
    id: str
    authority: Authority
    verification: VerificationState = VerificationState()


@dataclass(frozen=True, slots=True)
class ClinicianRecord:
    """Everything this service knows of one clinician's authority to practise."""

    clinician_id: str
    version: int = 0
    residence: str | None = None
    licences: tuple[HeldLicence, ...] = ()
    authorities: tuple[HeldAuthority, ...] = ()
    unverified_allowed: bool = False  # an operator let offers rest on self-declared entries

    def rules_record(self, organization: str | None = None) -> LicensingRecord:
        """What eligibility decides on (`vsm_rules.records.trusted_record`) for work at
        `organization`'s facilities: an operator's verifications count anywhere, a
        credentialing partner's for its own organisation only."""
        return trusted_record(
            self.residence,
            [(h.licence, h.verification.counts_for(organization)) for h in self.licences],
            [(h.authority, h.verification.counts_for(organization)) for h in self.authorities],
            self.unverified_allowed,
        )

    def licence(self, licence_id: str) -> HeldLicence:
        for held in self.licences:
            if held.id == licence_id:
                return held
        raise NotFound(f"clinician {self.clinician_id} has no licence {licence_id!r}")

    def authority(self, authority_id: str) -> HeldAuthority:
        for held in self.authorities:
            if held.id == authority_id:
                return held
        raise NotFound(f"clinician {self.clinician_id} has no authority {authority_id!r}")


Held = TypeVar("Held", HeldLicence, HeldAuthority)


# ---------------------------------------------------------------- who may do what


def verification_by(actor: Actor, at: datetime) -> VerificationState:
    """What an entry given by this actor is worth: an operator's or a credentialing partner's
    word verifies it; anyone else's (the clinician, a service) is self-declared."""
    if actor.is_operator:
        return VerificationState(Verification.OPERATOR, actor, at)
    if actor.kind == ActorKind.PARTNER:
        return VerificationState(Verification.PARTNER, actor, at)
    return VerificationState()


def _check_verifier(actor: Actor) -> None:
    if not (actor.is_operator or actor.kind == ActorKind.PARTNER):
        raise PermissionDenied("only an operator or a credentialing partner verifies a record")


# ---------------------------------------------------------------- commands


def add_licence(
    record: ClinicianRecord, licence_id: str, licence: Licence, actor: Actor, at: datetime
) -> Change:
    if not licence_id.strip():
        raise InvalidArgument("licence.licence_id", "must not be empty")
    if any(h.id == licence_id for h in record.licences):
        raise InvalidArgument("licence.licence_id", f"{licence_id!r} is already in the record")
    return {
        "kind": "licence_added",
        "licence_id": licence_id,
        "licence": licence_to_json(licence),
        "verification": verification_by(actor, at).to_document(),
        "description": f"licence added: {licence.jurisdiction} {licence.profession}",
    }


def change_licence(
    record: ClinicianRecord, licence_id: str, licence: Licence, actor: Actor, at: datetime
) -> Change:
    """New facts for a licence; they stand on the word of whoever gives them."""
    record.licence(licence_id)
    return {
        "kind": "licence_changed",
        "licence_id": licence_id,
        "licence": licence_to_json(licence),
        "verification": verification_by(actor, at).to_document(),
        "description": f"licence changed: {licence.jurisdiction} {licence.profession}",
    }


def verify_licence(record: ClinicianRecord, licence_id: str, actor: Actor, at: datetime) -> Change:
    _check_verifier(actor)
    held = record.licence(licence_id)
    return {
        "kind": "licence_verified",
        "licence_id": licence_id,
        "verification": verification_by(actor, at).to_document(),
        "description": f"licence verified: {held.licence.jurisdiction} {held.licence.profession}",
    }


def revoke_licence(record: ClinicianRecord, licence_id: str, actor: Actor) -> Change:
    """The board revoked it (an operator or a partner records that): kept, with that status."""
    _check_verifier(actor)
    held = record.licence(licence_id)
    return {
        "kind": "licence_revoked",
        "licence_id": licence_id,
        "description": f"licence revoked: {held.licence.jurisdiction} {held.licence.profession}",
    }


def add_authority(
    record: ClinicianRecord, authority_id: str, authority: Authority, actor: Actor, at: datetime
) -> Change:
    if not authority_id.strip():
        raise InvalidArgument("authority.authority_id", "must not be empty")
    if any(h.id == authority_id for h in record.authorities):
        raise InvalidArgument(
            "authority.authority_id", f"{authority_id!r} is already in the record"
        )
    return {
        "kind": "authority_added",
        "authority_id": authority_id,
        "authority": authority_to_json(authority),
        "verification": verification_by(actor, at).to_document(),
        "description": f"authority added: {_describe(authority)}",
    }


def change_authority(
    record: ClinicianRecord, authority_id: str, authority: Authority, actor: Actor, at: datetime
) -> Change:
    record.authority(authority_id)
    return {
        "kind": "authority_changed",
        "authority_id": authority_id,
        "authority": authority_to_json(authority),
        "verification": verification_by(actor, at).to_document(),
        "description": f"authority changed: {_describe(authority)}",
    }


def verify_authority(
    record: ClinicianRecord, authority_id: str, actor: Actor, at: datetime
) -> Change:
    _check_verifier(actor)
    held = record.authority(authority_id)
    return {
        "kind": "authority_verified",
        "authority_id": authority_id,
        "verification": verification_by(actor, at).to_document(),
        "description": f"authority verified: {_describe(held.authority)}",
    }


def revoke_authority(record: ClinicianRecord, authority_id: str, actor: Actor) -> Change:
    _check_verifier(actor)
    held = record.authority(authority_id)
    return {
        "kind": "authority_revoked",
        "authority_id": authority_id,
        "description": f"authority revoked: {_describe(held.authority)}",
    }


def set_residence(record: ClinicianRecord, residence: str | None) -> Change:
    """Where the clinician lives (the compacts' home state); None when abroad or unknown."""
    if residence is not None:
        check_jurisdiction(residence, "residence")
    if residence == record.residence:
        raise InvalidArgument("residence", f"is already {residence}")
    return {
        "kind": "residence_changed",
        "residence": residence,
        "description": f"residence changed: {record.residence or 'none'} -> {residence or 'none'}",
    }


def allow_unverified(record: ClinicianRecord, allowed: bool, actor: Actor) -> Change:
    """An operator lets offers rest on this clinician's self-declared entries (or stops it)."""
    if not actor.is_operator:
        raise PermissionDenied("only an operator allows offers on unverified records")
    if allowed == record.unverified_allowed:
        raise InvalidArgument("allowed", f"is already {str(allowed).lower()}")
    return {
        "kind": "unverified_allowed" if allowed else "unverified_refused",
        "description": "offers may rest on unverified entries"
        if allowed
        else "offers rest on verified entries only",
    }


def _describe(authority: Authority) -> str:
    parts = [authority.kind, authority.compact, authority.jurisdiction, authority.profession]
    return " ".join(p for p in parts if p)


# ---------------------------------------------------------------- the fold


def apply(record: ClinicianRecord, change: Change) -> ClinicianRecord:
    """The record after one more change (its version goes up by one)."""
    kind = change["kind"]
    record = replace(record, version=record.version + 1)
    if kind in ("licence_added", "licence_changed"):
        held = HeldLicence(
            change["licence_id"],
            licence_from_json(change["licence"]),
            VerificationState.from_document(change["verification"]),
        )
        others = tuple(h for h in record.licences if h.id != held.id)
        return replace(record, licences=_in_place(record.licences, others, held))
    if kind in ("authority_added", "authority_changed"):
        held_authority = HeldAuthority(
            change["authority_id"],
            authority_from_json(change["authority"]),
            VerificationState.from_document(change["verification"]),
        )
        kept = tuple(h for h in record.authorities if h.id != held_authority.id)
        return replace(record, authorities=_in_place(record.authorities, kept, held_authority))
    if kind == "licence_verified":
        state = VerificationState.from_document(change["verification"])
        return replace(record, licences=tuple(
            replace(h, verification=state) if h.id == change["licence_id"] else h
            for h in record.licences
        ))  # fmt: skip
    if kind == "authority_verified":
        state = VerificationState.from_document(change["verification"])
        return replace(record, authorities=tuple(
            replace(h, verification=state) if h.id == change["authority_id"] else h
            for h in record.authorities
        ))  # fmt: skip
    if kind == "licence_revoked":
        return replace(record, licences=tuple(
            replace(h, licence=replace(h.licence, status=Status.REVOKED.value))
            if h.id == change["licence_id"] else h
            for h in record.licences
        ))  # fmt: skip
    if kind == "authority_revoked":
        return replace(record, authorities=tuple(
            replace(h, authority=replace(h.authority, status=Status.REVOKED.value))
            if h.id == change["authority_id"] else h
            for h in record.authorities
        ))  # fmt: skip
    if kind == "residence_changed":
        return replace(record, residence=change["residence"])
    if kind in ("unverified_allowed", "unverified_refused"):
        return replace(record, unverified_allowed=kind == "unverified_allowed")
    raise ValueError(f"unknown change {kind!r}")


def _in_place(before: tuple[Held, ...], others: tuple[Held, ...], held: Held) -> tuple[Held, ...]:
    """`held` where the entry of its id was (a change keeps the order), else at the end."""
    if len(others) == len(before):
        return before + (held,)  # noqa: RUF005 (mypy cannot type the unpacking here)
    return tuple(held if h.id == held.id else h for h in before)


__all__ = [
    "ClinicianRecord",
    "HeldAuthority",
    "HeldLicence",
    "Verification",
    "VerificationState",
    "add_authority",
    "add_licence",
    "allow_unverified",
    "apply",
    "change_authority",
    "change_licence",
    "revoke_authority",
    "revoke_licence",
    "set_residence",
    "verify_authority",
    "verify_licence",
]
