"""Between the licensing contract (protobuf) and the domain: every field read from a request is
checked, and a bad one is an `InvalidArgument` naming it by its path in the request."""

from __future__ import annotations

from datetime import date

from vsm.licensing.v1 import licensing_service_pb2 as pb
from vsm_rules.compacts import Compact
from vsm_rules.eligibility import EligibilityDecision
from vsm_rules.errors import InvalidArgument
from vsm_rules.records import (
    Authority,
    AuthorityKind,
    Licence,
    Status,
    parse_date,
    parse_instant,
    within,
)

from licensing.record import (
    ClinicianRecord,
    HeldAuthority,
    HeldLicence,
    Verification,
    VerificationState,
)

_STATUS = {
    pb.STATUS_ACTIVE: Status.ACTIVE,
    pb.STATUS_INACTIVE: Status.INACTIVE,
    pb.STATUS_EXPIRED: Status.EXPIRED,
    pb.STATUS_SUSPENDED: Status.SUSPENDED,
    pb.STATUS_REVOKED: Status.REVOKED,
    pb.STATUS_PROBATION: Status.PROBATION,
}
_STATUS_TO_PROTO = {status.value: number for number, status in _STATUS.items()}
_KIND = {
    pb.AUTHORITY_KIND_E_PASSPORT: AuthorityKind.E_PASSPORT,
    pb.AUTHORITY_KIND_APIT: AuthorityKind.APIT,
    pb.AUTHORITY_KIND_COMPACT_PRIVILEGE: AuthorityKind.COMPACT_PRIVILEGE,
    pb.AUTHORITY_KIND_TELEHEALTH_REGISTRATION: AuthorityKind.TELEHEALTH_REGISTRATION,
    pb.AUTHORITY_KIND_IMLC_LETTER_OF_QUALIFICATION: AuthorityKind.IMLC_LETTER_OF_QUALIFICATION,
}
_KIND_TO_PROTO = {kind.value: number for number, kind in _KIND.items()}
_VERIFICATION_TO_PROTO = {
    Verification.SELF_DECLARED: pb.VERIFICATION_SELF_DECLARED,
    Verification.OPERATOR: pb.VERIFICATION_OPERATOR,
    Verification.PARTNER: pb.VERIFICATION_PARTNER,
}


def _status(value: pb.Status, field: str) -> str:
    if value not in _STATUS:
        raise InvalidArgument(field, "must be set (ACTIVE, INACTIVE, EXPIRED, ...)")
    return _STATUS[value].value


def _optional_date(value: str, field: str) -> date | None:
    return parse_date(value, field) if value else None


def licence_from_proto(message: pb.Licence, field: str = "licence") -> Licence:
    """The domain licence of a request; `InvalidArgument` names e.g. `licence.expires`."""
    if not message.expires:
        raise InvalidArgument(f"{field}.expires", "missing")
    with within(field):
        return Licence(
            jurisdiction=message.jurisdiction,
            profession=message.profession,
            status=_status(message.status, "status"),
            expires=parse_date(message.expires, "expires"),
            multistate=message.multistate,
            number=message.number,
            issued=_optional_date(message.issued, "issued"),
            expires_at=parse_instant(message.expires_at, "expires_at")
            if message.expires_at
            else None,
            compacts=tuple(message.compacts),
        )


def authority_from_proto(message: pb.Authority, field: str = "authority") -> Authority:
    if message.kind not in _KIND:
        raise InvalidArgument(f"{field}.kind", "must be set (E_PASSPORT, APIT, ...)")
    with within(field):
        return Authority(
            kind=_KIND[message.kind].value,
            status=_status(message.status, "status"),
            compact=message.compact or None,
            jurisdiction=message.jurisdiction or None,
            profession=message.profession or None,
            issued=_optional_date(message.issued, "issued"),
            expires=_optional_date(message.expires, "expires"),
        )


def _verification_to_proto(state: VerificationState) -> pb.VerificationState:
    message = pb.VerificationState(verification=_VERIFICATION_TO_PROTO[state.verification])
    if state.by is not None:
        message.verified_by.CopyFrom(state.by.to_proto())
    if state.at is not None:
        message.verified_at = state.at.strftime("%Y-%m-%dT%H:%M:%SZ")
    return message


def record_to_proto(record: ClinicianRecord) -> pb.LicensingRecord:
    message = pb.LicensingRecord(
        clinician_id=record.clinician_id,
        residence=record.residence or "",
        version=record.version,
        unverified_allowed=record.unverified_allowed,
    )
    for held in record.licences:
        licence = held.licence
        message.licences.append(
            pb.Licence(
                licence_id=held.id,
                jurisdiction=licence.jurisdiction,
                profession=licence.profession,
                number=licence.number,
                status=_STATUS_TO_PROTO[licence.status],
                issued=licence.issued.isoformat() if licence.issued else "",
                expires=licence.expires.isoformat(),
                multistate=licence.multistate,
                verification=_verification_to_proto(held.verification),
                expires_at=licence.expires_at.strftime("%Y-%m-%dT%H:%M:%SZ")
                if licence.expires_at
                else "",
                compacts=list(licence.compacts),
            )
        )
    for held_authority in record.authorities:
        authority = held_authority.authority
        message.authorities.append(
            pb.Authority(
                authority_id=held_authority.id,
                kind=_KIND_TO_PROTO[authority.kind],
                status=_STATUS_TO_PROTO[authority.status],
                compact=authority.compact or "",
                jurisdiction=authority.jurisdiction or "",
                profession=authority.profession or "",
                issued=authority.issued.isoformat() if authority.issued else "",
                expires=authority.expires.isoformat() if authority.expires else "",
                verification=_verification_to_proto(held_authority.verification),
            )
        )
    return message


def inline_record(message: pb.LicensingRecord, field: str = "record") -> ClinicianRecord:
    """A record given inline with a check: taken as it is said, every entry trusted."""
    with within(field):
        residence = message.residence or None
        licences = tuple(
            _held_licence(item, f"licences[{i}]") for i, item in enumerate(message.licences)
        )
        authorities = tuple(
            _held_authority(item, f"authorities[{i}]") for i, item in enumerate(message.authorities)
        )
        return ClinicianRecord(
            clinician_id=message.clinician_id or "inline",
            residence=residence,
            licences=licences,
            authorities=authorities,
            unverified_allowed=True,
        )


def _held_licence(message: pb.Licence, field: str) -> HeldLicence:
    return HeldLicence(message.licence_id or field, licence_from_proto(message, field))


def _held_authority(message: pb.Authority, field: str) -> HeldAuthority:
    return HeldAuthority(message.authority_id or field, authority_from_proto(message, field))


def decision_to_proto(decision: EligibilityDecision) -> pb.CheckEligibilityResponse:
    return pb.CheckEligibilityResponse(
        allowed=decision.allowed,
        verdicts=[
            pb.JurisdictionVerdict(
                jurisdiction=jurisdiction,
                allowed=verdict.allowed,
                basis=verdict.basis,
                reasons=list(verdict.reasons),
            )
            for jurisdiction, verdict in decision.verdicts.items()
        ],
    )


def compact_to_proto(compact: Compact, version: int) -> pb.Compact:
    return pb.Compact(
        code=compact.id,
        name=compact.name,
        model=compact.model.value,
        professions=sorted(compact.professions),
        members=[
            pb.CompactMember(
                jurisdiction=m.jurisdiction,
                honours_from=m.honours_from.isoformat() if m.honours_from else "",
                residents_from=m.residents_from.isoformat() if m.residents_from else "",
                note=m.notes,
            )
            for m in sorted(compact.members.values(), key=lambda m: m.jurisdiction)
        ],
        version=version,
    )
