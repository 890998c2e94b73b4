"""The repo's compact tables: versioned data with sources, two dates per member where needed."""

from __future__ import annotations

import json
from datetime import date
from importlib import resources

from vsm_rules.compacts import CompactModel, CompactTables, HomeState


def test_tables_load_from_the_package_with_a_version() -> None:
    tables = CompactTables.load()
    assert tables.version
    ids = {k.id for k in tables.compacts}
    assert {"NLC", "IMLC", "PSYPACT", "COUNSELING", "APRN", "PA", "SOCIAL_WORK"} <= ids
    assert {"OT", "PT", "ASLP", "DIETITIAN", "EMS", "DDH"} <= ids


def test_every_compact_and_registration_keeps_its_sources() -> None:
    doc = json.loads(resources.files("vsm_rules").joinpath("data/compacts.json").read_text("utf-8"))
    assert doc["version"]
    for compact in doc["compacts"]:
        assert compact["sources"], compact["id"]
    for j, registration in doc["telehealth_registrations"].items():
        assert registration["sources"], j


def test_nlc_pennsylvania_honours_before_it_can_be_a_home_state() -> None:
    nlc = CompactTables.load().compact("NLC")
    assert nlc is not None and nlc.model == CompactModel.MULTISTATE_LICENCE
    pa = nlc.members["US-PA"]
    assert pa.honours_from == date(2023, 9, 5)
    assert pa.residents_from == date(2025, 7, 7)


def test_nlc_guam_partial_and_massachusetts_pending() -> None:
    nlc = CompactTables.load().compact("NLC")
    assert nlc is not None
    guam, mass = nlc.members["US-GU"], nlc.members["US-MA"]
    assert guam.honours_from is not None and guam.residents_from is None
    assert mass.honours_from is None and mass.residents_from is None
    assert mass.enacted == date(2024, 11, 20)


def test_no_later_than_dates_are_used_as_the_effective_date() -> None:
    nlc = CompactTables.load().compact("NLC")
    assert nlc is not None
    nj = nlc.members["US-NJ"]
    assert nj.precision == "no_later_than" and nj.honours_from == date(2020, 3, 31)
    assert nj.honours_on(date(2020, 3, 31)) and not nj.honours_on(date(2020, 3, 30))


def test_imlc_is_expedited_licensure_with_no_home_state() -> None:
    imlc = CompactTables.load().compact("IMLC")
    assert imlc is not None
    assert imlc.model == CompactModel.EXPEDITED_LICENSURE and imlc.home_state == HomeState.NONE


def test_not_yet_operational_compacts_are_marked_so() -> None:
    tables = CompactTables.load()
    for compact_id in ("APRN", "PA", "SOCIAL_WORK", "DIETITIAN", "DDH"):
        compact = tables.compact(compact_id)
        assert compact is not None and not compact.operational, compact_id
    counseling = tables.compact("COUNSELING")
    assert counseling is not None and counseling.operational
    live = {j for j, m in counseling.members.items() if m.honours_from is not None}
    assert live == {"US-AZ", "US-MN", "US-OH", "US-LA", "US-GA", "US-IN"}


def test_instance_tables_use_one_date_for_both_sides() -> None:
    tables = CompactTables.from_instance(
        [{"id": "NLC", "professions": ["RN"], "members": {"US-TX": "2020-01-01"}}],
        {"RN": {"licensed": True}, "SCRIBE": {"licensed": False}},
    )
    nlc = tables.compact("NLC")
    assert nlc is not None
    tx = nlc.members["US-TX"]
    assert tx.honours_from == tx.residents_from == date(2020, 1, 1)
    assert tables.unlicensed_professions == {"SCRIBE"}
    assert tables.practice_statuses == {"active"}
