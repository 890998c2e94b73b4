"""A licensing record as the licensing service announces it, read for eligibility: verified
entries only, unless an operator allowed self-declared ones; a bad field named."""

from __future__ import annotations

import pytest
from vsm.licensing.v1 import licensing_service_pb2 as pb
from vsm_platform.licensing_records import record_from_proto
from vsm_rules.errors import InvalidArgument


def _licence(jurisdiction: str, verification: pb.Verification) -> pb.Licence:
    return pb.Licence(jurisdiction=jurisdiction, profession="RN", status=pb.STATUS_ACTIVE,
                      expires="2028-01-31", expires_at="2028-01-31T00:00:00Z",
                      verification=pb.VerificationState(verification=verification))  # fmt: skip


def test_only_verified_entries_count_unless_an_operator_allowed_the_rest() -> None:
    message = pb.LicensingRecord(clinician_id="c1", residence="US-TX", licences=[
        _licence("US-TX", pb.VERIFICATION_OPERATOR), _licence("US-CA", pb.VERIFICATION_PARTNER),
        _licence("US-NY", pb.VERIFICATION_SELF_DECLARED),
    ])  # fmt: skip
    record = record_from_proto(message)
    assert record.residence == "US-TX"
    assert [lic.jurisdiction for lic in record.licences] == ["US-TX", "US-CA"]
    assert record.licences[0].expires_at is not None
    message.unverified_allowed = True
    assert len(record_from_proto(message).licences) == 3


def test_a_bad_entry_is_named() -> None:
    bad = pb.LicensingRecord(
        clinician_id="c1", licences=[_licence("US-ZZ", pb.VERIFICATION_OPERATOR)]
    )
    with pytest.raises(InvalidArgument, match=r"^record\.licences\[0\]\.jurisdiction"):
        record_from_proto(bad)
