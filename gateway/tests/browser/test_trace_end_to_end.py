"""One trace from end to end: a shift posted in the facility's web page goes through the
gateway, scheduling, scheduling's relay, Kafka, matching (its consumer, then the placing of the
shift, then its relay) and back through Kafka to the gateway's live hub, which pushes the offer
to the clinician's open page. Every process writes its spans to a file; the test reads them back
and follows the chain of parents from the push up to the page's request."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from browser_steps import facility_in_chicago, nurse_in_london, post_in_page, signed_in
from gateway.testing import Stack
from playwright.async_api import Browser, expect

pytestmark = pytest.mark.integration
TRACED = True  # the stack's processes write spans to stack.traces


def _chain(spans: dict[str, dict[str, Any]], last: dict[str, Any]) -> list[dict[str, Any]]:
    """From `last` up through its parents to the root, root first."""
    chain = [last]
    while chain[-1]["parent_span_id"]:
        parent = spans.get(chain[-1]["parent_span_id"])
        assert parent is not None, f"{chain[-1]['name']}'s parent was not written"
        chain.append(parent)
    return chain[::-1]


async def _pushed(stack: Stack, offer_id: str, seconds: float = 20) -> dict[str, Any]:
    """The live hub's push of the OfferMade of `offer_id`, once written."""
    deadline = asyncio.get_running_loop().time() + seconds
    while True:
        for span in await asyncio.to_thread(stack.spans):
            change = json.loads(span["attributes"].get("vsm.change", "{}"))
            if (span["name"] == "live push" and change.get("type") == "OfferMade"
                    and change.get("offer_id") == offer_id):  # fmt: skip
                return span
        assert asyncio.get_running_loop().time() < deadline, "no push of the offer was traced"
        await asyncio.sleep(0.5)


async def test_one_trace_runs_from_the_facility_page_to_the_clinician_page(
    stack: Stack, browser: Browser
) -> None:
    org, facility_id = await facility_in_chicago(stack, "traced")
    nurse = await nurse_in_london(stack)
    clinician = await signed_in(browser, stack, nurse["email"], "/clinician")
    facility = await signed_in(browser, stack, org["email"], "/facility")

    await post_in_page(facility, "2027-03-15")
    offer = clinician.locator("#offers article[data-state=open]")  # pushed, not reloaded
    await expect(offer).to_have_count(1, timeout=60_000)
    offer_id = await offer.get_attribute("data-offer-id")
    assert offer_id

    push = await _pushed(stack, offer_id)
    spans = {s["span_id"]: s for s in await asyncio.to_thread(stack.spans)
             if s["trace_id"] == push["trace_id"]}  # fmt: skip
    chain = _chain(spans, push)
    hops = [(s["service"], s["kind"], s["name"]) for s in chain]
    root = chain[0]
    assert (root["service"], root["kind"]) == ("gateway", "SERVER"), hops
    assert root["attributes"].get("http.method") == "POST", hops
    target = str(root["attributes"].get("http.target"))
    assert f"/v1/facilities/{facility_id}/shifts" in target, hops
    steps = iter(hops)  # each hop in this order (other spans may sit between them)
    for service, kind, name in [
        ("gateway", "CLIENT", "SchedulingService/PostShift"),
        ("scheduling", "SERVER", "SchedulingService/PostShift"),
        ("scheduling", "PRODUCER", "vsm.scheduling.events.v1"),
        ("matching", "CONSUMER", "vsm.scheduling.events.v1"),
        ("matching", "INTERNAL", ""),  # placing the shift, or re-matching its profession
        ("matching", "PRODUCER", "vsm.matching.events.v1"),
        ("gateway", "CONSUMER", "vsm.matching.events.v1"),
        ("gateway", "INTERNAL", "live push"),
    ]:
        assert any(s == service and k == kind and name in n for s, k, n in steps), (
            f"no {kind} span of {service} named like {name!r} in order in {hops}"
        )
    assert push["attributes"]["vsm.pages"] >= 1  # the clinician's page was listening
