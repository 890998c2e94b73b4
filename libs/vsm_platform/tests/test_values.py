"""The shared contract values read into Python ones: an impossible Timestamp (seconds beyond
years 1 to 9999, nanos beyond a second) is InvalidArgument naming the field, not a ValueError
that became INTERNAL; ids too long to be keys are found at any depth."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from google.protobuf.timestamp_pb2 import Timestamp
from vsm.common.v1 import common_pb2
from vsm.partner.v1 import partner_service_pb2 as ppb
from vsm_platform.values import (
    MAX_ID_LENGTH,
    instant_from_proto,
    interval_from_proto,
    long_id_field,
)
from vsm_rules.errors import InvalidArgument


@pytest.mark.parametrize(
    ("seconds", "nanos"),
    [(-62135596801, 0), (253402300800, 0), (2**63 - 1, 0), (-(2**63), 0), (1, 10**9), (1, -1)],
)
def test_an_instant_outside_years_1_to_9999_is_invalid_argument_naming_the_field(
    seconds: int, nanos: int
) -> None:
    with pytest.raises(InvalidArgument) as refused:
        instant_from_proto(Timestamp(seconds=seconds, nanos=nanos), "window.start")
    assert refused.value.field == "window.start"


def test_the_first_and_last_instants_of_years_1_to_9999_are_read() -> None:
    first = instant_from_proto(Timestamp(seconds=-62135596800), "at")
    last = instant_from_proto(Timestamp(seconds=253402300799, nanos=999_999_999), "at")
    assert (first.year, last.year, first.tzinfo, last.tzinfo) == (1, 9999, UTC, UTC)


def test_an_interval_with_an_impossible_end_names_the_end() -> None:
    interval = common_pb2.Interval(start=Timestamp(seconds=1_800_000_000),
                                   end=Timestamp(seconds=1, nanos=10**9))  # fmt: skip
    with pytest.raises(InvalidArgument) as refused:
        interval_from_proto(interval, "interval")
    assert refused.value.field == "interval.end"
    ok = common_pb2.Interval(start=Timestamp(seconds=1_800_000_000),
                             end=Timestamp(seconds=1_800_003_600))  # fmt: skip
    assert interval_from_proto(ok, "interval")[0] == datetime.fromtimestamp(1_800_000_000, UTC)


def test_an_id_too_long_is_found_at_any_depth_by_its_path() -> None:
    fine = ppb.ShiftDraft(facility_id="f" * MAX_ID_LENGTH, scope_of_work="x" * 10_000)
    long = ppb.ShiftDraft(facility_id="f" * (MAX_ID_LENGTH + 1))
    assert long_id_field(ppb.PostShiftsRequest(shifts=[fine, fine])) is None
    found = long_id_field(ppb.PostShiftsRequest(shifts=[fine, long]))
    assert found == "shifts[1].facility_id"
