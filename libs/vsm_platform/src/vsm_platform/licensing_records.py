"""The licensing contract's records read into the rules' values, for every service that reads
them (the licensing service from requests, the matching service from events): a bad field is
InvalidArgument naming it."""

from __future__ import annotations

from datetime import date

from vsm.licensing.v1 import licensing_service_pb2 as pb
from vsm_rules.errors import InvalidArgument
from vsm_rules.records import (
    EVERY_ORGANISATION,
    Authority,
    AuthorityKind,
    Licence,
    LicensingRecord,
    Status,
    parse_date,
    parse_instant,
    trusted_record,
    verified_for,
    within,
)

STATUS = {
    pb.STATUS_ACTIVE: Status.ACTIVE,
    pb.STATUS_INACTIVE: Status.INACTIVE,
    pb.STATUS_EXPIRED: Status.EXPIRED,
    pb.STATUS_SUSPENDED: Status.SUSPENDED,
    pb.STATUS_REVOKED: Status.REVOKED,
    pb.STATUS_PROBATION: Status.PROBATION,
}
STATUS_TO_PROTO = {status.value: number for number, status in STATUS.items()}
KIND = {
    pb.AUTHORITY_KIND_E_PASSPORT: AuthorityKind.E_PASSPORT,
    pb.AUTHORITY_KIND_APIT: AuthorityKind.APIT,
    pb.AUTHORITY_KIND_COMPACT_PRIVILEGE: AuthorityKind.COMPACT_PRIVILEGE,
    pb.AUTHORITY_KIND_TELEHEALTH_REGISTRATION: AuthorityKind.TELEHEALTH_REGISTRATION,
    pb.AUTHORITY_KIND_IMLC_LETTER_OF_QUALIFICATION: AuthorityKind.IMLC_LETTER_OF_QUALIFICATION,
}
KIND_TO_PROTO = {kind.value: number for number, kind in KIND.items()}


def _status(value: pb.Status, field: str) -> str:
    if value not in STATUS:
        raise InvalidArgument(field, "must be set (ACTIVE, INACTIVE, EXPIRED, ...)")
    return STATUS[value].value


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
    if message.kind not in KIND:
        raise InvalidArgument(f"{field}.kind", "must be set (E_PASSPORT, APIT, ...)")
    with within(field):
        return Authority(
            kind=KIND[message.kind].value,
            status=_status(message.status, "status"),
            compact=message.compact or None,
            jurisdiction=message.jurisdiction or None,
            profession=message.profession or None,
            issued=_optional_date(message.issued, "issued"),
            expires=_optional_date(message.expires, "expires"),
        )


_VERIFIED_BY = {pb.VERIFICATION_OPERATOR: "operator", pb.VERIFICATION_PARTNER: "partner"}


def _counts(state: pb.VerificationState, organization: str | None) -> bool:
    by = _VERIFIED_BY.get(state.verification, "")
    return verified_for(by, state.verified_by.organization_id, organization)


def partner_verified(message: pb.LicensingRecord) -> bool:
    """Whether any entry rests on a credentialing partner's word (so counts for its
    organisation only)."""
    partner = pb.VERIFICATION_PARTNER
    return any(m.verification.verification == partner for m in message.licences) or any(
        m.verification.verification == partner for m in message.authorities
    )


def record_from_proto(
    message: pb.LicensingRecord, organization: str | None = EVERY_ORGANISATION
) -> LicensingRecord:
    """What eligibility decides on for a record as the licensing service announced it, for work
    at `organization`'s facilities: its entries verified for that organisation (an operator's
    anywhere, a partner's for its own), or every entry when an operator allowed self-declared
    ones. By default every verification counts (`EVERY_ORGANISATION`)."""
    with within("record"):
        licences = [
            (licence_from_proto(m, f"licences[{i}]"), _counts(m.verification, organization))
            for i, m in enumerate(message.licences)
        ]
        authorities = [
            (authority_from_proto(m, f"authorities[{i}]"), _counts(m.verification, organization))
            for i, m in enumerate(message.authorities)
        ]
    return trusted_record(
        message.residence or None, licences, authorities, message.unverified_allowed
    )


__all__ = [
    "KIND",
    "KIND_TO_PROTO",
    "STATUS",
    "STATUS_TO_PROTO",
    "authority_from_proto",
    "licence_from_proto",
    "partner_verified",
    "record_from_proto",
]
