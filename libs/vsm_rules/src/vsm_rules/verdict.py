"""A rule's verdict with its evidence: what allowed it, or every reason it was refused."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Verdict:
    """The outcome of one rule for one (clinician, shift) pair or one patient jurisdiction.

    `rule` names the rule ("licensing", "availability", "rest", ...); `basis` says what allows it
    when allowed; `reasons` say, one sentence each, why not when refused; `evidence` holds the
    figures behind either (local times, zones, dates) as sentences a person can check.
    """

    rule: str
    allowed: bool
    basis: str = ""
    reasons: tuple[str, ...] = ()
    evidence: tuple[str, ...] = ()

    @classmethod
    def allow(cls, rule: str, basis: str, *evidence: str) -> Verdict:
        return cls(rule=rule, allowed=True, basis=basis, evidence=tuple(evidence))

    @classmethod
    def refuse(cls, rule: str, *reasons: str, evidence: tuple[str, ...] = ()) -> Verdict:
        if not reasons:
            raise ValueError("a refusal needs at least one reason")
        return cls(rule=rule, allowed=False, reasons=tuple(reasons), evidence=evidence)

    def explain(self) -> str:
        """One line: the rule, its outcome and why."""
        if self.allowed:
            return f"{self.rule}: allowed: {self.basis}"
        return f"{self.rule}: refused: {'; '.join(self.reasons)}"
