"""Profession, skills and do-not-return: each holds and breaks."""

from __future__ import annotations

from vsm_rules.role import do_not_return_verdict, profession_verdict, skills_verdict


def test_profession_must_match() -> None:
    assert profession_verdict("RN", "RN").allowed
    refused = profession_verdict("LPN", "RN")
    assert not refused.allowed
    assert refused.reasons == ("the shift needs a RN; the clinician is a LPN",)


def test_every_skill_asked_for_is_needed() -> None:
    assert skills_verdict({"triage", "telemetry"}, {"triage"}).allowed
    assert skills_verdict(set(), set()).allowed
    refused = skills_verdict({"triage"}, {"triage", "pediatrics", "oncology"})
    assert refused.reasons == ("lacks oncology, pediatrics",)


def test_a_clinician_on_the_do_not_return_list_is_refused() -> None:
    assert do_not_return_verdict("c1", "f1", {"c7"}).allowed
    assert not do_not_return_verdict("c7", "f1", {"c7"}).allowed
