"""Posting in the facility's wall time: gaps and overlaps are refused with both readings named
unless the caller chose one; a weekly series keeps its local time across clock changes."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from vsm_rules.errors import InvalidArgument
from vsm_rules.posting_time import Reading, resolve_posted

NY = "America/New_York"


def test_a_plain_wall_time_resolves_to_its_one_instant() -> None:
    posted = resolve_posted(datetime(2027, 3, 10, 9, 0), NY, "start")
    assert posted.instant == datetime(2027, 3, 10, 14, 0, tzinfo=UTC)
    assert posted.zone == NY


def test_a_time_skipped_by_spring_forward_is_refused_naming_both_readings() -> None:
    with pytest.raises(InvalidArgument) as refused:
        resolve_posted(datetime(2027, 3, 14, 2, 30), NY, "start")
    message = refused.value.message
    assert message.startswith("start: 2027-03-14 02:30 in America/New_York does not exist")
    assert "2027-03-14 01:30 UTC-05:00 (06:30 UTC) (earlier)" in message
    assert "2027-03-14 03:30 UTC-04:00 (07:30 UTC) (later)" in message
    later = resolve_posted(datetime(2027, 3, 14, 2, 30), NY, "start", Reading.LATER)
    assert later.instant == datetime(2027, 3, 14, 7, 30, tzinfo=UTC)


def test_a_time_that_happens_twice_is_refused_unless_one_is_chosen() -> None:
    with pytest.raises(InvalidArgument, match="happens twice") as refused:
        resolve_posted(datetime(2027, 11, 7, 1, 30), NY, "end")
    assert "(05:30 UTC) (earlier)" in refused.value.message
    assert "(06:30 UTC) (later)" in refused.value.message
    earlier = resolve_posted(datetime(2027, 11, 7, 1, 30), NY, "end", Reading.EARLIER)
    assert earlier.instant == datetime(2027, 11, 7, 5, 30, tzinfo=UTC)


def test_bad_zone_or_offset_names_the_field() -> None:
    with pytest.raises(InvalidArgument, match=r"^zone"):
        resolve_posted(datetime(2027, 3, 10, 9, 0), "Mars/Olympus", "start")
    with pytest.raises(InvalidArgument, match=r"^start"):
        resolve_posted(datetime(2027, 3, 10, 9, 0, tzinfo=UTC), NY, "start")
