"""A partner's stream cursor: what the API gave decodes to the same positions; anything else,
an offset beyond Kafka's 64 bits included, is InvalidArgument naming cursor.position (a cursor
of 10**30 once failed inside the consumer, INTERNAL to the partner)."""

from __future__ import annotations

import pytest
from gateway.partner_stream import MAX_OFFSET, decode_cursor, encode_cursor
from vsm_rules.errors import InvalidArgument


def test_a_cursor_the_api_gave_decodes_to_its_positions() -> None:
    positions = {"vsm.matching.events.v1:0": 0, "vsm.matching.events.v1:5": MAX_OFFSET}
    assert decode_cursor(encode_cursor(positions)) == positions
    assert decode_cursor("") == {}


@pytest.mark.parametrize(
    "position",
    [encode_cursor({"t:0": MAX_OFFSET + 1}), encode_cursor({"t:0": 10**30}),
     encode_cursor({"t:0": -1}), "W10", "not-a-cursor!"],
)  # fmt: skip
def test_anything_else_is_refused_naming_the_field(position: str) -> None:
    with pytest.raises(InvalidArgument) as refused:
        decode_cursor(position)
    assert refused.value.field == "cursor.position"
