"""The licensing record schema: it checks itself and names the bad field; JSON round-trips."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest
from vsm_rules.errors import InvalidArgument
from vsm_rules.jurisdictions import KNOWN_JURISDICTIONS, check_jurisdiction
from vsm_rules.records import (
    Authority,
    Licence,
    LicensingRecord,
    parse_instant,
    record_from_instance,
    record_from_json,
    record_to_json,
)


def full_record_json() -> dict[str, Any]:
    return {
        "residence": "US-TX",
        "licences": [
            {
                "jurisdiction": "US-TX",
                "profession": "RN",
                "status": "active",
                "expires": "2027-01-31",
                "multistate": True,
                "number": "TX-1",
                "issued": "2020-02-01",
                "expires_at": "2027-01-31T23:59:59Z",
            }
        ],
        "authorities": [
            {"kind": "e-passport", "status": "active"},
            {
                "kind": "compact-privilege",
                "compact": "COUNSELING",
                "jurisdiction": "US-AZ",
                "issued": "2025-10-01",
                "expires": "2027-01-31",
                "status": "active",
            },
            {
                "kind": "telehealth-registration",
                "jurisdiction": "US-FL",
                "profession": "NP",
                "status": "active",
            },
        ],
    }


def test_record_json_round_trips_unchanged() -> None:
    record = record_from_json(full_record_json())
    assert record_from_json(record_to_json(record)) == record
    assert record.licences[0].expires_at == datetime(2027, 1, 31, 23, 59, 59, tzinfo=UTC)


def test_all_us_states_dc_territories_and_canadian_provinces_are_known() -> None:
    assert len([j for j in KNOWN_JURISDICTIONS if j.startswith("US-")]) == 56
    assert {"US-DC", "US-PR", "US-GU", "US-VI", "CA-ON", "CA-QC", "CA-YT"} <= KNOWN_JURISDICTIONS


@pytest.mark.parametrize("bad", ["US-XX", "TX", "us-tx", "", 7])
def test_unknown_jurisdiction_is_refused(bad: object) -> None:
    with pytest.raises(InvalidArgument) as info:
        check_jurisdiction(bad, "residence")
    assert info.value.field == "residence"


@pytest.mark.parametrize(
    ("path", "value", "field"),
    [
        (("licences", 0, "jurisdiction"), "US-XX", "licences[0].jurisdiction"),
        (("licences", 0, "profession"), "ND", "licences[0].profession"),
        (("licences", 0, "status"), "lapsed", "licences[0].status"),
        (("licences", 0, "expires"), "2027-02-30", "licences[0].expires"),
        (("licences", 0, "expires"), "31/01/2027", "licences[0].expires"),
        (("licences", 0, "issued"), "2028-01-01", "licences[0].expires"),
        (("licences", 0, "expires_at"), "2027-01-31T23:59:59", "licences[0].expires_at"),
        (("authorities", 1, "kind"), "privilege", "authorities[1].kind"),
        (("authorities", 1, "status"), "pending", "authorities[1].status"),
        (("authorities", 1, "jurisdiction"), "US-ZZ", "authorities[1].jurisdiction"),
        (("authorities", 1, "issued"), "2027-02-01", "authorities[1].expires"),
        (("authorities", 2, "profession"), "APRN", "authorities[2].profession"),
        (("residence",), "Texas", "residence"),
    ],
)
def test_malformed_field_raises_invalid_argument_naming_its_path(
    path: tuple[Any, ...], value: object, field: str
) -> None:
    obj = full_record_json()
    target: Any = obj
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    with pytest.raises(InvalidArgument) as info:
        record_from_json(obj)
    assert info.value.field == field
    assert info.value.message.startswith(f"{field}: ")


def test_missing_licence_field_is_named() -> None:
    obj = full_record_json()
    del obj["licences"][0]["expires"]
    with pytest.raises(InvalidArgument) as info:
        record_from_json(obj)
    assert info.value.field == "licences[0].expires"


def test_naive_expiry_instant_is_refused_by_the_dataclass() -> None:
    with pytest.raises(InvalidArgument) as info:
        Licence("US-TX", "RN", "active", date(2027, 1, 31), expires_at=datetime(2027, 1, 31, 12))
    assert info.value.field == "expires_at"


@pytest.mark.parametrize("text", ["0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00"])
def test_an_instant_beyond_years_1_to_9999_in_utc_is_refused_naming_the_field(text: str) -> None:
    with pytest.raises(InvalidArgument) as info:  # was an OverflowError, INTERNAL to the caller
        parse_instant(text, "licences[0].expires_at")
    assert info.value.field == "licences[0].expires_at"


def test_compact_privilege_must_name_its_compact_and_state() -> None:
    with pytest.raises(InvalidArgument) as info:
        Authority(kind="compact-privilege", status="active", jurisdiction="US-AZ")
    assert info.value.field == "compact"


def test_records_are_frozen() -> None:
    record = LicensingRecord(residence="US-TX")
    with pytest.raises(AttributeError):
        record.residence = "US-FL"  # type: ignore[misc]


def test_instance_clinician_licence_maps_compacts_to_multistate_and_expiry_instant() -> None:
    record = record_from_instance(
        {
            "profession": "RN",
            "home": "US-TX",
            "licences": [
                {
                    "jurisdiction": "US-TX",
                    "status": "active",
                    "expires": "2027-12-31T23:59:59Z",
                    "compacts": ["NLC"],
                },
                {"jurisdiction": "US-NY", "status": "active", "expires": "2027-06-01T00:00:00Z"},
            ],
        }
    )
    home, other = record.licences
    assert home.multistate and home.compacts == ("NLC",) and home.profession == "RN"
    assert home.expires == date(2027, 12, 31)
    assert home.expires_at == datetime(2027, 12, 31, 23, 59, 59, tzinfo=UTC)
    assert not other.multistate
