"""The rules of role: profession, skills, and a facility's do-not-return list."""

from __future__ import annotations

from collections.abc import Collection

from vsm_rules.verdict import Verdict


def profession_verdict(clinician_profession: str, shift_profession: str) -> Verdict:
    """A clinician works only shifts of their own profession."""
    if clinician_profession == shift_profession:
        return Verdict.allow(
            "profession", f"{clinician_profession} shift for a {clinician_profession}"
        )
    return Verdict.refuse(
        "profession",
        f"the shift needs a {shift_profession}; the clinician is a {clinician_profession}",
    )


def skills_verdict(clinician_skills: Collection[str], shift_skills: Collection[str]) -> Verdict:
    """Every skill the shift asks for must be one the clinician has."""
    missing = sorted(set(shift_skills) - set(clinician_skills))
    if not missing:
        needed = ", ".join(sorted(shift_skills)) or "no particular skill"
        return Verdict.allow("skills", f"has {needed}")
    return Verdict.refuse("skills", f"lacks {', '.join(missing)}")


def do_not_return_verdict(
    clinician_id: str, facility_id: str, do_not_return: Collection[str]
) -> Verdict:
    """A facility may bar a clinician from its shifts."""
    if clinician_id in do_not_return:
        return Verdict.refuse(
            "do_not_return", f"{facility_id} asked not to have {clinician_id} back"
        )
    return Verdict.allow("do_not_return", f"not on {facility_id}'s do-not-return list")
