"""Licensing answers in plain words for the clinician's page: where they may see patients
today, grouped by what allows it."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from typing import Any


def licences_in_words(verdicts: Iterable[Any]) -> dict[str, Any]:
    """From per-jurisdiction verdicts: the places allowed, grouped by basis, and sentences."""
    by_basis: dict[str, list[str]] = defaultdict(list)
    refused = 0
    for verdict in verdicts:
        if verdict.allowed:
            by_basis[verdict.basis or "allowed"].append(verdict.jurisdiction)
        else:
            refused += 1
    allowed = sum(len(places) for places in by_basis.values())
    if not allowed:
        sentences = ["Today you may not see patients anywhere in the US: add a licence, or "
                     "wait until one is verified."]  # fmt: skip
    else:
        sentences = [f"Today you may see patients in {allowed} US jurisdiction"
                     f"{'s' if allowed != 1 else ''}."]  # fmt: skip
        for basis, places in sorted(by_basis.items(), key=lambda item: -len(item[1])):
            names = ", ".join(p.removeprefix("US-") for p in sorted(places))
            sentences.append(f"{names}: {basis}.")
    return {
        "allowed": {basis: sorted(places) for basis, places in by_basis.items()},
        "not_allowed": refused,
        "sentences": sentences,
    }
