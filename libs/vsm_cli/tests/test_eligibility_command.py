"""`vsm eligibility CASES.jsonl`: one answer a line, in input order; a malformed line gets an
error naming its field and exit code 1, and the other lines are still answered."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import pytest
from vsm_cli import eligibility


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="vsm")
    eligibility.add_parser(parser.add_subparsers(dest="command"))
    return parser.parse_args(argv)


def case(case_id: str, **kw: Any) -> dict[str, Any]:
    obj: dict[str, Any] = {
        "id": case_id,
        "date": "2026-03-10",
        "profession": "RN",
        "residence": "US-TX",
        "licences": [
            {
                "jurisdiction": "US-TX",
                "profession": "RN",
                "status": "active",
                "expires": "2027-01-31",
                "multistate": True,
            }
        ],
        "authorities": [],
        "patient_jurisdictions": ["US-FL", "US-GA"],
    }
    obj.update(kw)
    return obj


def run_cases(
    tmp_path: Path, lines: list[str], capsys: pytest.CaptureFixture[str]
) -> tuple[int, list[dict[str, Any]]]:
    cases = tmp_path / "cases.jsonl"
    cases.write_text("\n".join(lines) + "\n", encoding="utf-8")
    args = parse(["eligibility", str(cases)])
    assert args.handler is eligibility.run
    code = eligibility.run(args)
    out = capsys.readouterr().out.splitlines()
    return code, [json.loads(line) for line in out]


def test_answers_each_case_in_input_order_and_exits_0(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    lines = [
        json.dumps(case("nlc-ok")),
        json.dumps(case("california", patient_jurisdictions=["US-FL", "US-CA"])),
        json.dumps(
            case("scribe", profession="SCRIBE", licences=[], patient_jurisdictions=["US-NY"])
        ),
    ]
    code, answers = run_cases(tmp_path, lines, capsys)
    assert code == 0
    assert [a["id"] for a in answers] == ["nlc-ok", "california", "scribe"]
    assert answers[0] == {
        "id": "nlc-ok",
        "allowed": True,
        "jurisdictions": {
            "US-FL": {"allowed": True, "basis": "NLC multistate licence from home US-TX"},
            "US-GA": {"allowed": True, "basis": "NLC multistate licence from home US-TX"},
        },
    }
    assert answers[1]["allowed"] is False
    assert answers[1]["jurisdictions"]["US-FL"]["allowed"] is True
    refused = answers[1]["jurisdictions"]["US-CA"]
    assert refused["allowed"] is False and refused["reasons"]
    assert answers[2]["allowed"] is True


def test_malformed_line_gets_an_error_naming_the_field_and_exit_1(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad_licence = case("bad")
    bad_licence["licences"][0]["jurisdiction"] = "US-XX"
    lines = [
        json.dumps(case("first")),
        json.dumps(bad_licence),
        "{not json",
        json.dumps(case("bad-date", date="2026-02-30")),
        json.dumps(case("last", patient_jurisdictions=["US-CA"])),
    ]
    code, answers = run_cases(tmp_path, lines, capsys)
    assert code == 1
    assert [a["id"] for a in answers] == ["first", "bad", None, "bad-date", "last"]
    assert answers[0]["allowed"] is True
    assert answers[1]["error"].startswith("licences[0].jurisdiction: ")
    assert "line 3" in answers[2]["error"]
    assert answers[3]["error"].startswith("date: ")
    assert answers[4]["allowed"] is False


def test_privilege_and_psypact_cases_from_the_issue_shape(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    counselor = case(
        "lpc",
        profession="LPC",
        residence="US-OH",
        licences=[
            {
                "jurisdiction": "US-OH",
                "profession": "LPC",
                "status": "active",
                "expires": "2027-01-31",
            }
        ],
        authorities=[
            {
                "kind": "compact-privilege",
                "compact": "COUNSELING",
                "jurisdiction": "US-AZ",
                "issued": "2026-01-10",
                "expires": "2027-01-31",
                "status": "active",
            }
        ],
        patient_jurisdictions=["US-AZ", "US-MN"],
    )
    psychologist = case(
        "psy",
        profession="PSY",
        licences=[
            {
                "jurisdiction": "US-TX",
                "profession": "PSY",
                "status": "active",
                "expires": "2027-01-31",
            }
        ],
        authorities=[
            {"kind": "e-passport", "status": "active"},
            {"kind": "apit", "status": "active"},
        ],
        patient_jurisdictions=["US-GA"],
    )
    code, answers = run_cases(tmp_path, [json.dumps(counselor), json.dumps(psychologist)], capsys)
    assert code == 0
    assert answers[0]["jurisdictions"]["US-AZ"]["allowed"] is True
    assert answers[0]["jurisdictions"]["US-MN"]["allowed"] is False
    assert answers[1]["allowed"] is True
