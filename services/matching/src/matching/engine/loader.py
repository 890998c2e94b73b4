"""Reads a `vsm-match/1` instance (the benchmark's format) into the engine's Problem."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from vsm_rules.availability import windows_from
from vsm_rules.compacts import CompactTables
from vsm_rules.match_instance import MAX_COUNT, load_instance, parse_instant, whole_number
from vsm_rules.pay import MAX_CENTS_PER_HOUR
from vsm_rules.records import record_from_instance

from matching.engine.problem import Clinician, Problem


def problem_from_instance(document: Mapping[str, Any]) -> Problem:
    instance = load_instance(document)
    professions = document.get("professions") or {}
    shifts = dict(instance.shifts)
    clinicians = {}
    for index, raw in enumerate(document.get("clinicians", [])):
        where = f"clinicians[{index}]"
        booked = tuple(
            sorted(
                (
                    parse_instant(b.get("start"), f"clinicians[{index}].booked[{k}].start"),
                    parse_instant(b.get("end"), f"clinicians[{index}].booked[{k}].end"),
                )
                for k, b in enumerate(raw.get("booked", []))
            )
        )
        clinicians[raw["id"]] = Clinician(
            id=raw["id"],
            profession=raw["profession"],
            skills=frozenset(raw.get("skills", [])),
            zone=raw["tz"],
            rate_cents_per_hour=whole_number(
                raw, "rate_cents_per_hour", 0, f"{where}.rate_cents_per_hour", MAX_CENTS_PER_HOUR
            ),
            licensing=record_from_instance(raw),
            availability=windows_from(raw.get("availability", [])),
            min_rest_minutes=whole_number(
                raw, "min_rest_minutes", 0, f"{where}.min_rest_minutes", MAX_COUNT
            ),
            max_minutes_per_week=whole_number(
                raw, "max_minutes_per_week", 7 * 24 * 60, f"{where}.max_minutes_per_week", MAX_COUNT
            ),
            booked=booked,
        )
    return Problem(
        horizon_start=instance.horizon_start,
        horizon_end=instance.horizon_end,
        shifts=shifts,
        clinicians=clinicians,
        do_not_return={f.id: f.do_not_return for f in instance.facilities.values()},
        licensed_professions=frozenset(
            p for p in {s.profession for s in shifts.values()} if instance.licensed_profession(p)
        ),
        tables=CompactTables.from_instance(document.get("compacts", []), professions),
    )
