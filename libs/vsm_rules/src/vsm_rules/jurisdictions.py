"""Jurisdictions: ISO 3166-2 codes of the places that license clinicians or where patients are.

The United States (50 states, DC and the inhabited territories) and Canada (provinces and
territories) are known in full; a few other places the marketplace serves are known as well.
"""

from __future__ import annotations

from vsm_rules.errors import InvalidArgument

_STATE_CODES = (
    "AL AK AZ AR CA CO CT DE FL GA HI ID IL IN IA KS KY LA ME MD MA MI MN MS MO MT NE NV NH NJ "
    "NM NY NC ND OH OK OR PA RI SC SD TN TX UT VT VA WA WV WI WY"
)
US_STATES: frozenset[str] = frozenset(f"US-{code}" for code in _STATE_CODES.split())
"""The fifty US states."""

US_DISTRICT_AND_TERRITORIES: frozenset[str] = frozenset(
    {"US-DC", "US-PR", "US-GU", "US-VI", "US-AS", "US-MP"}
)
"""The District of Columbia and the inhabited US territories."""

_PROVINCE_CODES = "AB BC MB NB NL NS NT NU ON PE QC SK YT"
CANADIAN_PROVINCES_AND_TERRITORIES: frozenset[str] = frozenset(
    f"CA-{code}" for code in _PROVINCE_CODES.split()
)
"""Canada's ten provinces and three territories."""

_AUSTRALIAN_CODES = "ACT NSW NT QLD SA TAS VIC WA"
OTHER_JURISDICTIONS: frozenset[str] = frozenset(
    {"GB-ENG", "GB-SCT", "GB-WLS", "GB-NIR", "IE", "NZ"}
    | {f"AU-{code}" for code in _AUSTRALIAN_CODES.split()}
)
"""Other places the marketplace serves: the UK nations, Ireland, Australia's states and
territories, New Zealand (no US compact reaches them: only a direct licence counts there)."""

KNOWN_JURISDICTIONS: frozenset[str] = (
    US_STATES
    | US_DISTRICT_AND_TERRITORIES
    | CANADIAN_PROVINCES_AND_TERRITORIES
    | OTHER_JURISDICTIONS
)
"""Every jurisdiction a licence, a privilege, a residence or a patient location may name."""


def is_us_jurisdiction(jurisdiction: str) -> bool:
    """Whether the jurisdiction is a US state, DC or a US territory."""
    return jurisdiction in US_STATES or jurisdiction in US_DISTRICT_AND_TERRITORIES


def check_jurisdiction(value: object, field: str) -> str:
    """The jurisdiction code `value`, or `InvalidArgument` naming `field` if it is not one."""
    if not isinstance(value, str):
        raise InvalidArgument(field, f"a jurisdiction is an ISO 3166-2 code string, not {value!r}")
    if value not in KNOWN_JURISDICTIONS:
        raise InvalidArgument(field, f"unknown jurisdiction {value!r} (ISO 3166-2, e.g. 'US-TX')")
    return value
