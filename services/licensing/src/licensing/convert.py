"""Between the licensing contract (protobuf) and the domain: every field read from a request is
checked, and a bad one is an `InvalidArgument` naming it by its path in the request."""

from __future__ import annotations

from vsm.licensing.v1 import licensing_service_pb2 as pb
from vsm_platform.licensing_records import (
    KIND_TO_PROTO,
    STATUS_TO_PROTO,
    authority_from_proto,
    licence_from_proto,
)
from vsm_rules.compacts import Compact
from vsm_rules.eligibility import EligibilityDecision
from vsm_rules.records import (
    within,
)

from licensing.record import (
    ClinicianRecord,
    HeldAuthority,
    HeldLicence,
    Verification,
    VerificationState,
)

_VERIFICATION_TO_PROTO = {
    Verification.SELF_DECLARED: pb.VERIFICATION_SELF_DECLARED,
    Verification.OPERATOR: pb.VERIFICATION_OPERATOR,
    Verification.PARTNER: pb.VERIFICATION_PARTNER,
}


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
                status=STATUS_TO_PROTO[licence.status],
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
                kind=KIND_TO_PROTO[authority.kind],
                status=STATUS_TO_PROTO[authority.status],
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
