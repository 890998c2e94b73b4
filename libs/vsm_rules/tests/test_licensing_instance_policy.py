"""The `vsm-match/1` instance policy (FORMAT.md rule 3) runs through the same decision as the
real tables, and agrees with the yardstick's own `Instance.licensed`."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from vsm_infra.testing import load_yardstick
from vsm_rules.compacts import CompactTables
from vsm_rules.eligibility import decide
from vsm_rules.records import record_from_instance


def at(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)


TINY_COMPACTS = [
    {
        "id": "NLC",
        "professions": ["RN", "LPN"],
        "members": {"US-TX": "2000-01-01", "US-FL": "2018-01-19", "US-PA": "2027-03-15"},
    }
]
TINY = CompactTables.from_instance(
    TINY_COMPACTS, {"RN": {"licensed": True}, "SCRIBE": {"licensed": False}}
)
SHIFT = (at("2027-03-09T13:00:00Z"), at("2027-03-09T21:00:00Z"))


def nurse(expires: str = "2027-12-31T23:59:59Z", status: str = "active", **kw: Any) -> Any:
    clinician = {
        "profession": "RN",
        "home": "US-TX",
        "licences": [
            {"jurisdiction": "US-TX", "status": status, "expires": expires, "compacts": ["NLC"]}
        ],
    }
    clinician.update(kw)
    return record_from_instance(clinician)


def test_instance_compact_privilege_allows_a_member_patient_state() -> None:
    decision = decide(nurse(), "RN", ["US-FL"], TINY, interval=SHIFT)
    assert decision.allowed
    assert decision.verdicts["US-FL"].basis == "NLC multistate licence from home US-TX"


def test_instance_member_joining_after_the_shift_start_date_refuses() -> None:
    decision = decide(nurse(), "RN", ["US-PA"], TINY, interval=SHIFT)
    assert not decision.allowed
    assert "no NLC privilege in US-PA on 2027-03-09: US-PA joins NLC on 2027-03-15" in (
        decision.verdicts["US-PA"].reasons
    )
    later = (at("2027-03-15T00:00:00Z"), at("2027-03-15T08:00:00Z"))
    assert decide(nurse(), "RN", ["US-PA"], TINY, interval=later).allowed


def test_instance_licence_expiring_before_the_shift_end_refuses() -> None:
    record = nurse(expires="2027-03-09T20:59:59Z")
    assert not decide(record, "RN", ["US-FL"], TINY, interval=SHIFT).allowed
    assert not decide(record, "RN", ["US-TX"], TINY, interval=SHIFT).allowed
    exact = nurse(expires="2027-03-09T21:00:00Z")
    assert decide(exact, "RN", ["US-FL", "US-TX"], TINY, interval=SHIFT).allowed


def test_instance_policy_allows_only_active_licences() -> None:
    record = nurse(status="suspended")
    assert not decide(record, "RN", ["US-TX"], TINY, interval=SHIFT).allowed


def test_instance_licence_without_the_compact_grants_no_privilege() -> None:
    record = record_from_instance(
        {
            "profession": "RN",
            "home": "US-TX",
            "licences": [
                {"jurisdiction": "US-TX", "status": "active", "expires": "2027-12-31T00:00:00Z"}
            ],
        }
    )
    assert not decide(record, "RN", ["US-FL"], TINY, interval=SHIFT).allowed


def test_instance_unlicensed_profession_needs_no_licence() -> None:
    record = record_from_instance({"profession": "SCRIBE", "home": None, "licences": []})
    assert decide(record, "SCRIBE", ["US-FL"], TINY, interval=SHIFT).allowed


@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
    derandomize=True,
)
@given(
    seed=st.integers(min_value=0, max_value=10_000),
    days=st.integers(min_value=3, max_value=14),
)
def test_instance_policy_agrees_with_the_yardstick(seed: int, days: int) -> None:
    yardstick = load_yardstick()
    doc = yardstick.generate(seed, 40, 40, "2027-03-08T00:00:00Z", days)
    instance = yardstick.Instance(doc)
    tables = CompactTables.from_instance(doc["compacts"], doc["professions"])
    compared = 0
    for clinician in instance.clinicians.values():
        record = record_from_instance(clinician)
        for shift in instance.shifts.values():
            if shift["profession"] != clinician["profession"]:
                continue
            interval = (shift["_start"], shift["_end"])
            decision = decide(
                record,
                clinician["profession"],
                shift["patient_jurisdictions"],
                tables,
                interval=interval,
            )
            for j in shift["patient_jurisdictions"]:
                expected = instance.licensed(clinician, j, *interval)
                verdict = decision.verdicts[j]
                assert verdict.allowed == expected, (clinician["id"], shift["id"], j, verdict)
                compared += 1
    assert compared > 0
