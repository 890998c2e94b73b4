"""The offer policy: the rate fixed in the offer, expiry from delivery after quiet hours, two
live offers per open position, the next best after a decline, favourites first among
near-equals."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from matching.offers import Candidate, make_offer, next_offers, offer_order
from vsm_rules.errors import InvalidArgument
from vsm_rules.quiet_hours import QuietHours

NY = "America/New_York"
NIGHT = QuietHours("22:00", "07:00")
SHIFT_START = datetime(2027, 3, 10, 20, 0, tzinfo=UTC)  # 15:00 in New York


def test_an_offer_expires_fifteen_minutes_after_it_can_be_delivered() -> None:
    noon = datetime(2027, 3, 9, 17, 0, tzinfo=UTC)  # 12:00 in New York
    offer = make_offer("o1", "s1", SHIFT_START, "c1", 8000, noon, NY, NIGHT)
    assert offer is not None and offer.rate_cents_per_hour == 8000
    assert (offer.deliver_at, offer.expires_at) == (noon, noon + timedelta(minutes=15))
    night = datetime(2027, 3, 10, 4, 0, tzinfo=UTC)  # 23:00 in New York
    late = make_offer("o2", "s1", SHIFT_START, "c1", 8000, night, NY, NIGHT)
    assert late is not None
    assert late.deliver_at == datetime(2027, 3, 10, 12, 0, tzinfo=UTC)  # 07:00 in New York
    assert late.expires_at == late.deliver_at + timedelta(minutes=15)
    assert late.live_at(late.deliver_at) and not late.live_at(late.expires_at)


def test_no_offer_that_could_only_arrive_once_the_shift_has_started() -> None:
    early_shift = datetime(2027, 3, 10, 11, 0, tzinfo=UTC)  # 06:00 in New York, still quiet
    night = datetime(2027, 3, 10, 4, 0, tzinfo=UTC)
    assert make_offer("o1", "s1", early_shift, "c1", 8000, night, NY, NIGHT) is None
    close = make_offer("o2", "s1", SHIFT_START, "c1", 8000,
                       SHIFT_START - timedelta(minutes=5), NY, None)  # fmt: skip
    assert close is not None and close.expires_at == SHIFT_START
    with pytest.raises(InvalidArgument, match=r"^rate_cents_per_hour"):
        make_offer("o3", "s1", SHIFT_START, "c1", 0, night, NY, None)


def test_two_live_offers_per_open_position_then_the_next_best() -> None:
    ranked = [Candidate(f"c{i}", 1000.0 - 100 * i) for i in range(6)]
    assert next_offers(2, 0, [], ranked) == ["c0", "c1", "c2", "c3"]
    assert next_offers(2, 4, ["c0", "c1", "c2", "c3"], ranked) == []
    # c1 declined: three still live, one more goes to the best not offered before
    assert next_offers(2, 3, ["c0", "c1", "c2", "c3"], ranked) == ["c4"]
    assert next_offers(0, 0, [], ranked) == []


def test_favourites_come_first_among_near_equal_candidates_only() -> None:
    candidates = [
        Candidate("best", 1000.0),
        Candidate("fav-near", 990.0, favourite=True),
        Candidate("fav-far", 700.0, favourite=True),
        Candidate("other", 995.0),
    ]
    assert offer_order(candidates) == ["fav-near", "best", "other", "fav-far"]
    assert offer_order(candidates, near_equal=0.0) == ["best", "other", "fav-near", "fav-far"]
