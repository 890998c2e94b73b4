"""Money between the two sides: a shift's pay is the most the facility pays per hour, a
clinician's rate is what they ask; they meet only when the rate is within the pay."""

from __future__ import annotations

from vsm_rules.verdict import Verdict

# The most an hour may cost, in cents (100,000.00): far above any real pay or rate, and low
# enough that the matching engine's 64-bit sums (value less rate times seconds) stay exact.
MAX_CENTS_PER_HOUR = 10_000_000


def pay_verdict(rate_cents_per_hour: int, pay_cents_per_hour: int) -> Verdict:
    """The clinician's rate must be within the most the facility pays per hour."""
    if rate_cents_per_hour > pay_cents_per_hour:
        return Verdict.refuse(
            "pay",
            f"the clinician asks {rate_cents_per_hour / 100:.2f} per hour, more than the "
            f"{pay_cents_per_hour / 100:.2f} the facility pays at most",
        )
    return Verdict.allow(
        "pay", f"asks {rate_cents_per_hour / 100:.2f} of at most {pay_cents_per_hour / 100:.2f}"
    )


__all__ = ["MAX_CENTS_PER_HOUR", "pay_verdict"]
