"""The stored licensing record: commands check against the record, the fold replays them, and
eligibility rests on verified entries only unless an operator allows otherwise."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from functools import reduce

import pytest
from licensing import record as r
from vsm_platform.actor import Actor, ActorKind
from vsm_rules.compacts import CompactTables
from vsm_rules.eligibility import decide
from vsm_rules.errors import InvalidArgument, NotFound, PermissionDenied
from vsm_rules.records import Authority, Licence

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
CLINICIAN = Actor(ActorKind.USER, "u-clinician", role="clinician")
OPERATOR = Actor(ActorKind.USER, "u-operator", role="operator")
PARTNER = Actor(ActorKind.PARTNER, "credentials-inc", "org-vms")
TX_RN = Licence("US-TX", "RN", "active", date(2028, 1, 31), multistate=True, number="123")


def _fold(*changes: r.Change) -> r.ClinicianRecord:
    return reduce(r.apply, changes, r.ClinicianRecord("c1"))


def test_a_clinicians_own_licence_is_self_declared_and_an_operators_is_verified() -> None:
    empty = r.ClinicianRecord("c1")
    own = r.apply(empty, r.add_licence(empty, "l1", TX_RN, CLINICIAN, NOW))
    assert own.version == 1
    assert own.licence("l1").verification.verification == r.Verification.SELF_DECLARED
    checked = r.apply(own, r.verify_licence(own, "l1", OPERATOR, NOW))
    state = checked.licence("l1").verification
    assert (state.verification, state.by, state.at) == (r.Verification.OPERATOR, OPERATOR, NOW)
    by_partner = r.apply(empty, r.add_licence(empty, "l1", TX_RN, PARTNER, NOW))
    assert by_partner.licence("l1").verification.verification == r.Verification.PARTNER


def test_only_operators_and_partners_verify_or_revoke() -> None:
    held = _fold(r.add_licence(r.ClinicianRecord("c1"), "l1", TX_RN, CLINICIAN, NOW))
    with pytest.raises(PermissionDenied):
        r.verify_licence(held, "l1", CLINICIAN, NOW)
    with pytest.raises(PermissionDenied):
        r.revoke_licence(held, "l1", Actor.service("scheduling"))
    with pytest.raises(PermissionDenied):
        r.allow_unverified(held, True, PARTNER)


def test_eligibility_rests_on_verified_entries_unless_an_operator_allows_otherwise() -> None:
    tables = CompactTables.load()
    held = _fold(
        r.set_residence(r.ClinicianRecord("c1"), "US-TX"),
        r.add_licence(r.ClinicianRecord("c1", 1, "US-TX"), "l1", TX_RN, CLINICIAN, NOW),
    )
    day = date(2026, 12, 1)
    assert not decide(held.rules_record(), "RN", ["US-TX"], tables, on=day).allowed
    allowed = r.apply(held, r.allow_unverified(held, True, OPERATOR))
    assert decide(allowed.rules_record(), "RN", ["US-TX"], tables, on=day).allowed
    verified = r.apply(held, r.verify_licence(held, "l1", PARTNER, NOW))
    # a credentialing partner's word counts for its own organisation's shifts only
    assert decide(verified.rules_record("org-vms"), "RN", ["US-TX", "US-FL"], tables,
                  on=day).allowed  # fmt: skip
    assert not decide(verified.rules_record("org-other"), "RN", ["US-TX"], tables, on=day).allowed
    assert not decide(verified.rules_record(), "RN", ["US-TX"], tables, on=day).allowed
    by_operator = r.apply(verified, r.verify_licence(verified, "l1", OPERATOR, NOW))
    assert decide(by_operator.rules_record("org-other"), "RN", ["US-TX"], tables, on=day).allowed
    revoked = r.apply(by_operator, r.revoke_licence(by_operator, "l1", OPERATOR))
    assert revoked.licence("l1").licence.status == "revoked"
    assert not decide(revoked.rules_record(), "RN", ["US-TX"], tables, on=day).allowed


def test_a_change_keeps_the_entrys_place_and_resets_its_verification() -> None:
    start = r.ClinicianRecord("c1")
    two = _fold(
        r.add_licence(start, "l1", TX_RN, PARTNER, NOW),
        r.add_licence(r.ClinicianRecord("c1", 1), "l2", TX_RN, PARTNER, NOW),
    )
    later = Licence("US-TX", "RN", "active", date(2030, 1, 31), multistate=True)
    changed = r.apply(two, r.change_licence(two, "l1", later, CLINICIAN, NOW))
    assert [h.id for h in changed.licences] == ["l1", "l2"]
    assert changed.licence("l1").licence.expires == date(2030, 1, 31)
    assert not changed.licence("l1").verification.verified


def test_authorities_follow_the_same_life() -> None:
    apit = Authority("apit", "active", expires=date(2027, 6, 30))
    held = _fold(r.add_authority(r.ClinicianRecord("c1"), "a1", apit, CLINICIAN, NOW))
    verified = r.apply(held, r.verify_authority(held, "a1", OPERATOR, NOW))
    assert verified.authority("a1").verification.verified
    revoked = r.apply(verified, r.revoke_authority(verified, "a1", PARTNER))
    assert revoked.authority("a1").authority.status == "revoked"
    assert revoked.version == 3


def test_bad_commands_name_the_field_or_the_missing_entry() -> None:
    held = _fold(r.add_licence(r.ClinicianRecord("c1"), "l1", TX_RN, CLINICIAN, NOW))
    with pytest.raises(InvalidArgument, match=r"licence\.licence_id"):
        r.add_licence(held, "l1", TX_RN, CLINICIAN, NOW)
    with pytest.raises(InvalidArgument, match="residence"):
        r.set_residence(held, "US-XX")
    with pytest.raises(NotFound, match="l9"):
        r.verify_licence(held, "l9", OPERATOR, NOW)
    with pytest.raises(NotFound, match="a9"):
        r.change_authority(held, "a9", Authority("apit", "active"), CLINICIAN, NOW)


def test_the_fold_of_stored_changes_gives_the_same_record() -> None:
    """Changes are plain documents: what the store keeps replays to the same record."""
    start = r.ClinicianRecord("c1")
    changes = [r.set_residence(start, "US-TX")]
    changes.append(r.add_licence(_fold(*changes), "l1", TX_RN, CLINICIAN, NOW))
    changes.append(r.verify_licence(_fold(*changes), "l1", OPERATOR, NOW))
    stored = [json.loads(json.dumps(c)) for c in changes]
    assert _fold(*stored) == _fold(*changes)
