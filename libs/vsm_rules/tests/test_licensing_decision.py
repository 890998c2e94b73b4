"""The licensing decision under the repo's real compact tables, one rule at a time: each rule
has a case that holds and cases that break it."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime
from functools import cache

import pytest
from vsm_rules.compacts import CompactTables
from vsm_rules.eligibility import EligibilityDecision, decide
from vsm_rules.errors import InvalidArgument
from vsm_rules.records import Authority, Licence, LicensingRecord
from vsm_rules.verdict import Verdict


@cache
def real() -> CompactTables:
    return CompactTables.load()


def lic(
    jurisdiction: str,
    profession: str = "RN",
    status: str = "active",
    expires: date = date(2027, 1, 31),
    multistate: bool = False,
) -> Licence:
    return Licence(jurisdiction, profession, status, expires, multistate)


def judge(
    record: LicensingRecord, profession: str, patients: Sequence[str], on: date
) -> EligibilityDecision:
    return decide(record, profession, patients, real(), on=on)


def one(record: LicensingRecord, profession: str, patient: str, on: date) -> Verdict:
    return judge(record, profession, [patient], on).verdicts[patient]


ON = date(2026, 3, 10)
TX_NURSE = LicensingRecord("US-TX", (lic("US-TX", multistate=True),))


# ---------------------------------------------------------------- direct licence


def test_direct_active_licence_allows() -> None:
    verdict = one(LicensingRecord("US-CA", (lic("US-CA"),)), "RN", "US-CA", ON)
    assert verdict.allowed and "licence from US-CA" in verdict.basis


def test_direct_licence_expired_the_day_before_refuses() -> None:
    record = LicensingRecord("US-CA", (lic("US-CA", expires=date(2026, 3, 9)),))
    verdict = one(record, "RN", "US-CA", ON)
    assert not verdict.allowed
    assert "the RN licence from US-CA expired on 2026-03-09" in verdict.reasons


def test_direct_licence_holds_through_its_expiry_date() -> None:
    record = LicensingRecord("US-CA", (lic("US-CA", expires=ON),))
    assert one(record, "RN", "US-CA", ON).allowed


@pytest.mark.parametrize("status", ["inactive", "expired", "suspended", "revoked"])
def test_direct_licence_not_in_good_standing_refuses(status: str) -> None:
    record = LicensingRecord("US-CA", (lic("US-CA", status=status),))
    verdict = one(record, "RN", "US-CA", ON)
    assert not verdict.allowed and f"the RN licence from US-CA is {status}" in verdict.reasons


def test_direct_licence_for_another_profession_does_not_count() -> None:
    record = LicensingRecord("US-CA", (lic("US-CA", profession="LPN"),))
    assert not one(record, "RN", "US-CA", ON).allowed


def test_probation_licence_allows_practice_in_its_own_state() -> None:
    record = LicensingRecord("US-TX", (lic("US-TX", status="probation", multistate=True),))
    verdict = one(record, "RN", "US-TX", ON)
    assert verdict.allowed and "probation" in verdict.basis


# ---------------------------------------------------------------- NLC


def test_nlc_texas_nurse_may_treat_florida_patients() -> None:
    verdict = one(TX_NURSE, "RN", "US-FL", ON)
    assert verdict.allowed
    assert verdict.basis == "NLC multistate licence from home US-TX"


def test_nlc_multistate_licence_from_a_state_other_than_the_residence_grants_nothing() -> None:
    record = LicensingRecord("US-FL", (lic("US-TX", multistate=True),))
    verdict = one(record, "RN", "US-GA", ON)
    assert not verdict.allowed
    assert any("not from home US-FL" in r for r in verdict.reasons)


def test_nlc_probation_home_licence_grants_no_multistate_privilege() -> None:
    record = LicensingRecord("US-TX", (lic("US-TX", status="probation", multistate=True),))
    verdict = one(record, "RN", "US-FL", ON)
    assert not verdict.allowed
    assert any("probation" in r and "NLC" in r for r in verdict.reasons)


def test_nlc_single_state_home_licence_grants_no_privilege() -> None:
    record = LicensingRecord("US-TX", (lic("US-TX", multistate=False),))
    verdict = one(record, "RN", "US-FL", ON)
    assert not verdict.allowed
    assert any("no RN multistate licence from home US-TX" in r for r in verdict.reasons)


def test_nlc_expired_home_licence_grants_no_privilege() -> None:
    record = LicensingRecord("US-TX", (lic("US-TX", expires=date(2026, 3, 9), multistate=True),))
    assert not one(record, "RN", "US-FL", ON).allowed


def test_nlc_pennsylvania_honours_texas_licences_from_2023_09_05() -> None:
    assert one(TX_NURSE, "RN", "US-PA", date(2023, 9, 5)).allowed
    verdict = one(TX_NURSE, "RN", "US-PA", date(2023, 9, 4))
    assert not verdict.allowed
    assert "no NLC privilege in US-PA on 2023-09-04: US-PA joins NLC on 2023-09-05" in (
        verdict.reasons
    )


def test_nlc_pennsylvania_cannot_be_a_home_state_before_2025_07_07() -> None:
    pa_nurse = LicensingRecord("US-PA", (lic("US-PA", multistate=True),))
    verdict = one(pa_nurse, "RN", "US-FL", date(2025, 7, 6))
    assert not verdict.allowed
    assert any(
        "home US-PA can be a NLC home state only from 2025-07-07" in r for r in verdict.reasons
    )
    assert one(pa_nurse, "RN", "US-FL", date(2025, 7, 7)).allowed


def test_nlc_connecticut_refused_the_day_before_it_joins() -> None:
    assert not one(TX_NURSE, "RN", "US-CT", date(2025, 9, 30)).allowed
    assert one(TX_NURSE, "RN", "US-CT", date(2025, 10, 1)).allowed


def test_nlc_guam_honours_other_states_licences_but_cannot_be_a_home_state() -> None:
    assert one(TX_NURSE, "RN", "US-GU", ON).allowed
    guam_nurse = LicensingRecord("US-GU", (lic("US-GU", multistate=True),))
    verdict = one(guam_nurse, "RN", "US-FL", ON)
    assert not verdict.allowed
    assert any("home US-GU cannot be a NLC home state" in r for r in verdict.reasons)


def test_nlc_massachusetts_pending_honours_nothing() -> None:
    verdict = one(TX_NURSE, "RN", "US-MA", ON)
    assert not verdict.allowed
    assert any("US-MA does not take part in NLC yet" in r for r in verdict.reasons)


def test_nlc_does_not_cover_nurse_practitioners() -> None:
    record = LicensingRecord("US-TX", (lic("US-TX", profession="NP", multistate=True),))
    verdict = one(record, "NP", "US-FL", ON)
    assert not verdict.allowed
    assert any("APRN is not operational" in r for r in verdict.reasons)


# ---------------------------------------------------------------- IMLC


def test_imlc_never_grants_a_privilege() -> None:
    record = LicensingRecord(
        "US-TX",
        (lic("US-TX", profession="MD", multistate=True),),
        (Authority(kind="imlc-letter-of-qualification", status="active"),),
    )
    verdict = one(record, "MD", "US-CO", ON)
    assert not verdict.allowed
    assert any("IMLC grants no privilege in US-CO" in r for r in verdict.reasons)


def test_imlc_issued_licence_is_an_ordinary_direct_licence() -> None:
    record = LicensingRecord("US-TX", (lic("US-TX", "MD"), lic("US-CO", "MD")))
    assert one(record, "MD", "US-CO", ON).allowed


# ---------------------------------------------------------------- PSYPACT

E_PASSPORT = Authority(kind="e-passport", status="active", expires=date(2027, 1, 1))
APIT = Authority(kind="apit", status="active", compact="PSYPACT")


def test_psypact_licence_with_e_passport_and_apit_allows() -> None:
    record = LicensingRecord("US-TX", (lic("US-TX", "PSY"),), (E_PASSPORT, APIT))
    verdict = one(record, "PSY", "US-GA", ON)
    assert verdict.allowed and verdict.basis.startswith("PSYPACT APIT")


@pytest.mark.parametrize(
    ("authorities", "missing"),
    [((E_PASSPORT,), "no active APIT"), ((APIT,), "no active E.Passport")],
)
def test_psypact_needs_both_e_passport_and_apit(
    authorities: tuple[Authority, ...], missing: str
) -> None:
    record = LicensingRecord("US-TX", (lic("US-TX", "PSY"),), authorities)
    verdict = one(record, "PSY", "US-GA", ON)
    assert not verdict.allowed and any(missing in r for r in verdict.reasons)


def test_psypact_expired_e_passport_refuses() -> None:
    expired = Authority(kind="e-passport", status="active", expires=date(2026, 3, 9))
    record = LicensingRecord("US-TX", (lic("US-TX", "PSY"),), (expired, APIT))
    assert not one(record, "PSY", "US-GA", ON).allowed


def test_psypact_non_member_patient_state_refuses() -> None:
    record = LicensingRecord("US-TX", (lic("US-TX", "PSY"),), (E_PASSPORT, APIT))
    verdict = one(record, "PSY", "US-CA", ON)
    assert not verdict.allowed and any("not a member of PSYPACT" in r for r in verdict.reasons)


def test_psypact_probation_home_licence_refuses() -> None:
    record = LicensingRecord("US-TX", (lic("US-TX", "PSY", "probation"),), (E_PASSPORT, APIT))
    assert not one(record, "PSY", "US-GA", ON).allowed


# ---------------------------------------------------------------- Counseling (privilege)


def counselor(*privileges: Authority, status: str = "active") -> LicensingRecord:
    return LicensingRecord("US-OH", (lic("US-OH", "LPC", status),), privileges)


def privilege(jurisdiction: str, **kw: object) -> Authority:
    fields: dict[str, object] = {
        "kind": "compact-privilege",
        "status": "active",
        "compact": "COUNSELING",
        "jurisdiction": jurisdiction,
        "issued": date(2026, 1, 10),
        "expires": date(2027, 1, 31),
    }
    fields.update(kw)
    return Authority(**fields)  # type: ignore[arg-type]


def test_counseling_privilege_for_that_state_allows() -> None:
    verdict = one(counselor(privilege("US-AZ")), "LPC", "US-AZ", ON)
    assert verdict.allowed and verdict.basis.startswith("COUNSELING privilege for US-AZ")


def test_counseling_privilege_for_another_state_does_not_count() -> None:
    verdict = one(counselor(privilege("US-AZ")), "LPC", "US-MN", ON)
    assert not verdict.allowed
    assert any("no COUNSELING privilege issued for US-MN" in r for r in verdict.reasons)


def test_counseling_membership_alone_is_not_a_privilege() -> None:
    assert not one(counselor(), "LPC", "US-AZ", ON).allowed


def test_counseling_privilege_in_a_state_not_live_yet_refuses() -> None:
    verdict = one(counselor(privilege("US-GA")), "LPC", "US-GA", ON)
    assert not verdict.allowed
    assert any("US-GA joins COUNSELING on 2026-06-02" in r for r in verdict.reasons)


def test_counseling_expired_or_suspended_privilege_refuses() -> None:
    assert not one(
        counselor(privilege("US-AZ", expires=date(2026, 3, 9))), "LPC", "US-AZ", ON
    ).allowed
    assert not one(counselor(privilege("US-AZ", status="suspended")), "LPC", "US-AZ", ON).allowed


def test_counseling_probation_home_licence_blocks_the_privilege() -> None:
    verdict = one(counselor(privilege("US-AZ"), status="probation"), "LPC", "US-AZ", ON)
    assert not verdict.allowed and any("probation" in r for r in verdict.reasons)


# ---------------------------------------------------------------- telehealth registration


def test_telehealth_registration_backed_by_active_licence_allows() -> None:
    registration = Authority(
        kind="telehealth-registration", status="active", jurisdiction="US-FL", profession="NP"
    )
    record = LicensingRecord("US-CA", (lic("US-CA", "NP"),), (registration,))
    verdict = one(record, "NP", "US-FL", ON)
    assert verdict.allowed
    assert verdict.basis.startswith("telehealth registration with US-FL for NP")


def test_telehealth_registration_without_active_licence_refuses() -> None:
    registration = Authority(
        kind="telehealth-registration", status="active", jurisdiction="US-FL", profession="NP"
    )
    record = LicensingRecord("US-CA", (lic("US-CA", "NP", "suspended"),), (registration,))
    verdict = one(record, "NP", "US-FL", ON)
    assert not verdict.allowed and any("not backed" in r for r in verdict.reasons)


def test_telehealth_registration_for_another_state_does_not_count() -> None:
    registration = Authority(
        kind="telehealth-registration", status="active", jurisdiction="US-FL", profession="NP"
    )
    record = LicensingRecord("US-CA", (lic("US-CA", "NP"),), (registration,))
    assert not one(record, "NP", "US-GA", ON).allowed


# ---------------------------------------------------------------- unlicensed roles, all states


@pytest.mark.parametrize("role", ["SCRIBE", "VMA"])
def test_unlicensed_roles_need_no_licence(role: str) -> None:
    decision = judge(LicensingRecord(None), role, ["US-CA", "US-NY"], ON)
    assert decision.allowed and all(v.allowed for v in decision.verdicts.values())


def test_every_patient_jurisdiction_must_allow() -> None:
    decision = judge(TX_NURSE, "RN", ["US-FL", "US-CA"], ON)
    assert not decision.allowed
    assert decision.verdicts["US-FL"].allowed and not decision.verdicts["US-CA"].allowed
    assert judge(TX_NURSE, "RN", ["US-FL", "US-GA"], ON).allowed


def test_every_refusal_gives_reasons_and_evidence() -> None:
    verdict = one(TX_NURSE, "RN", "US-CA", ON)
    assert verdict.reasons and verdict.evidence
    assert "judged on 2026-03-10" in verdict.evidence


def test_bad_arguments_name_their_field() -> None:
    with pytest.raises(InvalidArgument) as info:
        judge(TX_NURSE, "RN", ["US-FL", "US-XX"], ON)
    assert info.value.field == "patient_jurisdictions[1]"
    with pytest.raises(InvalidArgument) as info:
        judge(TX_NURSE, "APRN", ["US-FL"], ON)
    assert info.value.field == "profession"
    with pytest.raises(InvalidArgument):
        decide(TX_NURSE, "RN", ["US-FL"], real())
    with pytest.raises(InvalidArgument) as info:
        decide(
            TX_NURSE, "RN", ["US-FL"], real(), interval=(datetime(2026, 3, 10), datetime.now(UTC))
        )
    assert info.value.field == "interval.start"
