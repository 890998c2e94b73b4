"""Week parts in bulk agree with the rules' `week_minutes`, across DST changes and odd zones."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from matching.engine.bulk import micros
from matching.engine.weeks import WeekGrid
from vsm_rules.weekly_hours import week_minutes

ZONES = ["America/New_York", "Australia/Lord_Howe", "Asia/Kathmandu", "Europe/London", "UTC",
         "America/St_Johns", "Pacific/Chatham"]  # fmt: skip
FIRST = datetime(2027, 3, 1, tzinfo=UTC)


@settings(max_examples=300, deadline=None)
@given(
    st.sampled_from(ZONES),
    st.lists(st.tuples(st.integers(0, 60 * 24 * 60), st.integers(0, 6 * 24 * 60)), min_size=1),
)
def test_week_parts_agree_with_week_minutes(zone: str, spans: list[tuple[int, int]]) -> None:
    starts = [FIRST + timedelta(minutes=a) for a, _ in spans]
    ends = [s + timedelta(minutes=b) for s, (_, b) in zip(starts, spans, strict=True)]
    grid = WeekGrid(zone, FIRST, FIRST + timedelta(days=70))
    week, one, two = grid.parts(
        np.array([micros(s) for s in starts]), np.array([micros(e) for e in ends])
    )
    for i, (s, e) in enumerate(zip(starts, ends, strict=True)):
        expected = week_minutes(zone, s, e)
        found = {grid.mondays[week[i]]: one[i], grid.mondays[week[i] + 1]: two[i]}
        assert {m: v for m, v in found.items() if v > 0} == expected
