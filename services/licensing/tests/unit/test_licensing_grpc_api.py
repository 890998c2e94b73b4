"""The licensing contract over a real gRPC server (in-memory rows): the hard licensing cases
get the same answers as `vsm eligibility`; bad input is INVALID_ARGUMENT naming the field; a
record's life (add, verify, revoke) and a batch go through end to end."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import grpc
import pytest
import pytest_asyncio
from licensing.grpc_api import SERVICE_NAME, register
from licensing.service import Licensing
from vsm.common.v1 import common_pb2
from vsm.licensing.v1 import licensing_service_pb2 as pb
from vsm.licensing.v1 import licensing_service_pb2_grpc as pb_grpc
from vsm_cli import eligibility as cli
from vsm_platform.grpc_server import channel, start_server

OPERATOR = common_pb2.Actor(kind=common_pb2.ACTOR_KIND_USER, id="u-op", role="operator")
CLINICIAN = common_pb2.Actor(kind=common_pb2.ACTOR_KIND_USER, id="u-c1", role="clinician")
STATUS = {
    "active": pb.STATUS_ACTIVE,
    "probation": pb.STATUS_PROBATION,
    "suspended": pb.STATUS_SUSPENDED,
    "expired": pb.STATUS_EXPIRED,
}
KIND = {
    "e-passport": pb.AUTHORITY_KIND_E_PASSPORT,
    "apit": pb.AUTHORITY_KIND_APIT,
    "compact-privilege": pb.AUTHORITY_KIND_COMPACT_PRIVILEGE,
    "telehealth-registration": pb.AUTHORITY_KIND_TELEHEALTH_REGISTRATION,
    "imlc-letter-of-qualification": pb.AUTHORITY_KIND_IMLC_LETTER_OF_QUALIFICATION,
}


def _lic(
    j: str,
    prof: str = "RN",
    status: str = "active",
    multistate: bool = False,
    expires: str = "2027-01-31",
) -> dict[str, Any]:
    return {
        "jurisdiction": j,
        "profession": prof,
        "status": status,
        "expires": expires,
        "multistate": multistate,
    }


def _case(
    name: str,
    residence: str | None,
    licences: list[dict[str, Any]],
    profession: str,
    patients: list[str],
    on: str = "2026-03-10",
    authorities: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    return {
        "id": name,
        "residence": residence,
        "licences": licences,
        "authorities": authorities or [],
        "profession": profession,
        "patient_jurisdictions": patients,
        "date": on,
    }


TX_NLC = [_lic("US-TX", multistate=True)]
PRIVILEGE_AZ = {
    "kind": "compact-privilege",
    "status": "active",
    "compact": "COUNSELING",
    "jurisdiction": "US-AZ",
    "issued": "2026-01-10",
    "expires": "2027-01-31",
}
HARD_CASES = [
    _case("nlc-texas-to-florida", "US-TX", TX_NLC, "RN", ["US-FL"]),
    _case("non-resident-multistate", "US-CA", TX_NLC, "RN", ["US-FL", "US-TX"]),
    _case("pending-member", "US-TX", TX_NLC, "RN", ["US-MA"]),
    _case("join-date-day-before", "US-TX", TX_NLC, "RN", ["US-PA"], on="2023-09-04"),
    _case("join-date-day-of", "US-TX", TX_NLC, "RN", ["US-PA"], on="2023-09-05"),
    _case("partial-member-home", "US-GU", [_lic("US-GU", multistate=True)], "RN", ["US-FL"]),
    _case(
        "encumbered-home",
        "US-TX",
        [_lic("US-TX", status="probation", multistate=True)],
        "RN",
        ["US-FL", "US-TX"],
    ),
    _case(
        "imlc-letter",
        "US-TX",
        [_lic("US-TX", "MD", multistate=True)],
        "MD",
        ["US-CO"],
        authorities=[{"kind": "imlc-letter-of-qualification", "status": "active"}],
    ),
    _case(
        "psypact",
        "US-TX",
        [_lic("US-TX", "PSY")],
        "PSY",
        ["US-AZ", "US-CA"],
        authorities=[
            {"kind": "e-passport", "status": "active", "expires": "2027-01-01"},
            {"kind": "apit", "status": "active", "compact": "PSYPACT"},
        ],
    ),
    _case(
        "counseling-privilege-that-state",
        "US-OH",
        [_lic("US-OH", "LPC")],
        "LPC",
        ["US-AZ", "US-MN"],
        authorities=[PRIVILEGE_AZ],
    ),
    _case(
        "telehealth-registration",
        "US-CA",
        [_lic("US-CA", "NP")],
        "NP",
        ["US-FL"],
        authorities=[
            {
                "kind": "telehealth-registration",
                "status": "active",
                "jurisdiction": "US-FL",
                "profession": "NP",
            }
        ],
    ),
    _case("unlicensed-scribe", None, [], "SCRIBE", ["US-NY", "CA-ON"]),
]


def _record(case: dict[str, Any]) -> pb.LicensingRecord:
    record = pb.LicensingRecord(residence=case["residence"] or "")
    for lic in case["licences"]:
        record.licences.append(
            pb.Licence(
                jurisdiction=lic["jurisdiction"],
                profession=lic["profession"],
                status=STATUS[lic["status"]],
                expires=lic["expires"],
                multistate=lic["multistate"],
            )
        )
    for a in case["authorities"]:
        record.authorities.append(
            pb.Authority(
                kind=KIND[a["kind"]],
                status=STATUS[a["status"]],
                compact=a.get("compact", ""),
                jurisdiction=a.get("jurisdiction", ""),
                profession=a.get("profession", ""),
                issued=a.get("issued", ""),
                expires=a.get("expires", ""),
            )
        )
    return record


@pytest_asyncio.fixture
async def stub(licensing: Licensing) -> AsyncIterator[Any]:
    server = await start_server("127.0.0.1:0", [register(licensing)], [SERVICE_NAME])
    client = channel(f"127.0.0.1:{server.port}")
    try:
        yield pb_grpc.LicensingServiceStub(client)
    finally:
        await client.close()
        await server.stop(0)


async def test_hard_cases_get_the_same_answers_as_the_command_line(
    stub: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cases = tmp_path / "cases.jsonl"
    cases.write_text("".join(json.dumps(c) + "\n" for c in HARD_CASES), encoding="utf-8")
    parser = __import__("argparse").ArgumentParser(prog="vsm")
    cli.add_parser(parser.add_subparsers(dest="command"))
    assert cli.run(parser.parse_args(["eligibility", str(cases)])) == 0
    by_command_line = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    outcomes: set[bool] = set()
    for case, expected in zip(HARD_CASES, by_command_line, strict=True):
        answer = await stub.CheckEligibility(
            pb.CheckEligibilityRequest(
                record=_record(case),
                profession=case["profession"],
                patient_jurisdictions=case["patient_jurisdictions"],
                date=case["date"],
            )
        )
        got = {
            v.jurisdiction: {"allowed": True, "basis": v.basis}
            if v.allowed
            else {"allowed": False, "reasons": list(v.reasons)}
            for v in answer.verdicts
        }
        assert {"allowed": answer.allowed, "jurisdictions": got} == {
            "allowed": expected["allowed"],
            "jurisdictions": expected["jurisdictions"],
        }, case["id"]
        outcomes.update(v["allowed"] for v in got.values())
    assert outcomes == {True, False}


@pytest.mark.parametrize(
    ("request_", "field"),
    [
        (
            pb.CheckEligibilityRequest(
                clinician_id="c1", patient_jurisdictions=["US-FL"], date="2026-03-10"
            ),
            "profession",
        ),
        (
            pb.CheckEligibilityRequest(
                clinician_id="c1",
                profession="RN",
                patient_jurisdictions=["US-XX"],
                date="2026-03-10",
            ),
            "patient_jurisdictions[0]",
        ),
        (
            pb.CheckEligibilityRequest(
                clinician_id="c1",
                profession="ZZ",
                patient_jurisdictions=["US-FL"],
                date="2026-03-10",
            ),
            "profession",
        ),
        (
            pb.CheckEligibilityRequest(
                clinician_id="c1",
                profession="RN",
                patient_jurisdictions=["US-FL"],
                date="10/03/2026",
            ),
            "date",
        ),
    ],
)
async def test_bad_checks_are_invalid_argument_naming_the_field(
    stub: Any, request_: Any, field: str
) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await stub.CheckEligibility(request_)
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert caught.value.details().startswith(field)


async def test_a_licence_lives_through_grpc_and_bad_changes_name_their_field(stub: Any) -> None:
    licence = pb.Licence(
        licence_id="l1",
        jurisdiction="US-TX",
        profession="RN",
        status=pb.STATUS_ACTIVE,
        expires="2027-01-31",
        multistate=True,
    )
    await stub.SetResidence(
        pb.SetResidenceRequest(actor=CLINICIAN, clinician_id="c1", residence="US-TX")
    )
    added = await stub.AddLicence(
        pb.AddLicenceRequest(actor=CLINICIAN, clinician_id="c1", licence=licence)
    )
    assert added.record.licences[0].verification.verification == pb.VERIFICATION_SELF_DECLARED
    check = pb.CheckEligibilityRequest(
        clinician_id="c1", profession="RN", patient_jurisdictions=["US-FL"], date="2026-12-01"
    )
    assert not (await stub.CheckEligibility(check)).allowed
    with pytest.raises(grpc.aio.AioRpcError) as denied:
        await stub.VerifyLicence(pb.EntryRequest(actor=CLINICIAN, clinician_id="c1", entry_id="l1"))
    assert denied.value.code() == grpc.StatusCode.PERMISSION_DENIED
    verified = await stub.VerifyLicence(
        pb.EntryRequest(actor=OPERATOR, clinician_id="c1", entry_id="l1", expected_version=2)
    )
    assert verified.record.licences[0].verification.verified_by.id == "u-op"
    assert (await stub.CheckEligibility(check)).allowed
    with pytest.raises(grpc.aio.AioRpcError) as stale:
        await stub.RevokeLicence(
            pb.EntryRequest(actor=OPERATOR, clinician_id="c1", entry_id="l1", expected_version=2)
        )
    assert stale.value.code() == grpc.StatusCode.ABORTED

    bad_expiry = pb.Licence(
        jurisdiction="US-TX",
        profession="RN",
        status=pb.STATUS_ACTIVE,
        issued="2027-01-01",
        expires="2026-01-31",
    )
    for licence_, field in [
        (bad_expiry, "licence.expires"),
        (
            pb.Licence(
                jurisdiction="US-ZZ", profession="RN", status=pb.STATUS_ACTIVE, expires="2027-01-31"
            ),
            "licence.jurisdiction",
        ),
        (
            pb.Licence(
                jurisdiction="US-TX",
                profession="XYZ",
                status=pb.STATUS_ACTIVE,
                expires="2027-01-31",
            ),
            "licence.profession",
        ),
    ]:
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await stub.AddLicence(
                pb.AddLicenceRequest(actor=CLINICIAN, clinician_id="c1", licence=licence_)
            )
        assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert caught.value.details().startswith(field)
    record = (await stub.GetLicensingRecord(pb.GetLicensingRecordRequest(clinician_id="c1"))).record
    assert record.version == 3 and len(record.licences) == 1  # nothing bad was stored


async def test_a_batch_answers_every_check_and_names_a_bad_ones_field(stub: Any) -> None:
    good = pb.CheckEligibilityRequest(
        record=_record(HARD_CASES[0]),
        profession="RN",
        patient_jurisdictions=["US-FL"],
        date="2026-03-10",
    )
    bad = pb.CheckEligibilityRequest(
        record=_record(HARD_CASES[0]), profession="RN", patient_jurisdictions=["US-FL"]
    )
    answer = await stub.CheckEligibilityBatch(
        pb.CheckEligibilityBatchRequest(checks=[good, bad, good])
    )
    assert [r.decision.allowed for r in answer.results] == [True, False, True]
    assert answer.results[1].error.startswith("checks[1].date")


async def test_compacts_and_a_jurisdictions_standing(stub: Any) -> None:
    compacts = (await stub.ListCompacts(pb.ListCompactsRequest())).compacts
    nlc = next(c for c in compacts if c.code == "NLC")
    assert nlc.version == 1 and "RN" in nlc.professions
    standing = await stub.GetJurisdictionStanding(
        pb.GetJurisdictionStandingRequest(jurisdiction="US-PA")
    )
    in_nlc = next(s for s in standing.standings if s.compact == "NLC")
    assert (in_nlc.member, in_nlc.honours_from) == (True, "2023-09-05")


async def test_a_compacts_history_keeps_every_version_with_its_source_and_author(
    stub: Any,
) -> None:
    nlc = next(c for c in (await stub.ListCompacts(pb.ListCompactsRequest())).compacts
               if c.code == "NLC")  # fmt: skip
    table = {"id": "NLC", "name": nlc.name, "model": nlc.model,
             "professions": list(nlc.professions),
             "members": {"US-TX": "2000-01-01", "US-KS": "2019-07-01"}}  # fmt: skip
    with pytest.raises(grpc.aio.AioRpcError) as refused:  # a member must say its dates
        await stub.ChangeCompactTable(pb.ChangeCompactTableRequest(
            actor=OPERATOR, table_json=json.dumps(table), source="letter",
            expected_version=1))  # fmt: skip
    assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "table_json.members.US-TX" in (refused.value.details() or "")
    table["members"] = {j: {"honours_from": d, "residents_from": d}
                        for j, d in table["members"].items()}  # fmt: skip
    await stub.ChangeCompactTable(pb.ChangeCompactTableRequest(
        actor=OPERATOR, table_json=json.dumps(table), source="board letter 2027-01",
        expected_version=1))  # fmt: skip
    history = (await stub.GetCompactHistory(pb.GetCompactHistoryRequest(code="NLC"))).versions
    assert [v.version for v in history] == [1, 2]
    assert history[1].source == "board letter 2027-01" and history[1].changed_by.id == "u-op"
    assert {m.jurisdiction for m in history[1].compact.members} == {"US-TX", "US-KS"}
    assert len(history[0].compact.members) > 2  # the repository's table, as it was
    assert json.loads(history[1].table_json)["members"]["US-KS"]["honours_from"] == "2019-07-01"
    for code, status in (("", grpc.StatusCode.INVALID_ARGUMENT),
                         ("NOPE", grpc.StatusCode.NOT_FOUND)):  # fmt: skip
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            await stub.GetCompactHistory(pb.GetCompactHistoryRequest(code=code))
        assert refused.value.code() == status


async def test_a_stored_multistate_licence_from_another_state_grants_no_privilege(
    stub: Any,
) -> None:
    await stub.SetResidence(
        pb.SetResidenceRequest(actor=OPERATOR, clinician_id="c9", residence="US-CA")
    )
    licence = pb.Licence(jurisdiction="US-TX", profession="RN", status=pb.STATUS_ACTIVE,
                         expires="2027-01-31", multistate=True)  # fmt: skip
    stored = await stub.AddLicence(
        pb.AddLicenceRequest(actor=OPERATOR, clinician_id="c9", licence=licence)
    )
    assert stored.record.licences[0].multistate  # stored as given
    answer = await stub.CheckEligibility(pb.CheckEligibilityRequest(
        clinician_id="c9", profession="RN", patient_jurisdictions=["US-TX", "US-FL"],
        date="2026-03-10",
    ))  # fmt: skip
    texas, florida = answer.verdicts
    assert texas.allowed and not florida.allowed
    assert any("US-CA" in reason for reason in florida.reasons)


async def test_an_expiry_instant_and_named_compacts_are_kept_and_govern(stub: Any) -> None:
    """A licence may end at an exact instant (the shift must end by then) and a multistate
    licence may name its compacts: both are stored, returned and decided by."""
    await stub.SetResidence(
        pb.SetResidenceRequest(actor=OPERATOR, clinician_id="c7", residence="US-TX")
    )
    licence = pb.Licence(jurisdiction="US-TX", profession="RN", status=pb.STATUS_ACTIVE,
                         expires="2027-01-31", expires_at="2027-01-31T06:00:00Z",
                         multistate=True, compacts=["NLC"])  # fmt: skip
    stored = await stub.AddLicence(
        pb.AddLicenceRequest(actor=OPERATOR, clinician_id="c7", licence=licence)
    )
    kept = stored.record.licences[0]
    assert (kept.expires_at, list(kept.compacts)) == ("2027-01-31T06:00:00Z", ["NLC"])

    def check(end: str) -> Any:
        request = pb.CheckEligibilityRequest(
            clinician_id="c7", profession="RN", patient_jurisdictions=["US-FL"]
        )
        request.interval.start.FromJsonString("2027-01-30T22:00:00Z")
        request.interval.end.FromJsonString(end)
        return stub.CheckEligibility(request)

    assert (await check("2027-01-31T06:00:00Z")).allowed
    late = await check("2027-01-31T07:00:00Z")
    assert not late.allowed and "2027-01-31T06:00:00Z" in " ".join(late.verdicts[0].reasons)

    off_day = pb.Licence(jurisdiction="US-TX", profession="RN", status=pb.STATUS_ACTIVE,
                         expires="2027-01-31", expires_at="2027-02-01T06:00:00Z")  # fmt: skip
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await stub.AddLicence(pb.AddLicenceRequest(actor=OPERATOR, clinician_id="c7",
                                                   licence=off_day))  # fmt: skip
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert caught.value.details().startswith("licence.expires_at")
