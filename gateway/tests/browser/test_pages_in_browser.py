"""The pages in a real browser (Debian's Chromium driven by Playwright), on the whole stack:
a facility in Chicago posts shifts; a clinician in London, whose page is already open, sees the
offers appear live, accepts one with the keyboard and sees it in her week; the facility sees
the fill without reloading. Times are checked on both sides of the 2027 clock changes (the US
moves on 14 March, the UK on 28 March). Screenshots of the main pages, wide and phone-sized,
go to test-artifacts/screenshots/."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from browser_steps import facility_in_chicago, nurse_in_london, post_in_page, signed_in
from gateway.testing import Stack
from playwright.async_api import Browser, expect

pytestmark = pytest.mark.integration
SHOTS = Path(__file__).resolve().parents[3] / "test-artifacts" / "screenshots"
PHONE = {"width": 390, "height": 844}


async def test_a_shift_posted_in_chicago_is_offered_live_in_london_and_filled_live(
    stack: Stack, browser: Browser
) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    org, _ = await facility_in_chicago(stack, "plains")
    nurse = await nurse_in_london(stack)

    clinician = await signed_in(browser, stack, nurse["email"], "/clinician")
    facility = await signed_in(browser, stack, org["email"], "/facility")
    await expect(facility.locator("#zone-note")).to_have_text("in America/Chicago time")

    # 15 March: Chicago is on summer time (UTC-5), London not yet (UTC+0): 09:00 -> 14:00.
    # 29 March: both are on summer time (UTC-5, UTC+1): 09:00 -> 15:00.
    await post_in_page(facility, "2027-03-15")
    await expect(facility.locator("#shifts tbody tr[data-shift-id]")).to_have_count(1)
    await post_in_page(facility, "2027-03-29")
    rows = facility.locator("#shifts tbody tr[data-shift-id]")
    await expect(rows).to_have_count(2)
    await expect(rows.first).to_contain_text("2027-03-15 09:00 \u2013 13:00")

    offers = clinician.locator("#offers article[data-state=open]")  # arrives without a reload
    await expect(offers).to_have_count(2, timeout=60_000)
    march_15 = clinician.locator("#offers article", has_text="Mon, Mar 15")
    await expect(march_15.locator("h3")).to_contain_text("14:00 GMT")
    await expect(march_15.locator("[data-facility-time]")).to_contain_text(
        "Facility time: 2027-03-15 09:00 \u2013 13:00 (America/Chicago)"
    )
    march_29 = clinician.locator("#offers article", has_text="Mon, Mar 29")
    await expect(march_29.locator("h3")).to_contain_text("15:00 GMT+1")
    await clinician.screenshot(path=str(SHOTS / "clinician-offers.png"), full_page=True)

    accept = march_15.get_by_role("button", name="Accept")
    for _ in range(60):  # reach Accept with the keyboard alone
        if await accept.evaluate("button => button === document.activeElement"):
            break
        await clinician.keyboard.press("Tab")
    else:
        pytest.fail("Accept cannot be reached with the keyboard")
    await clinician.keyboard.press("Enter")
    await expect(march_15).to_have_attribute("data-state", "accepted")

    filled = facility.locator("#shifts tbody tr[data-booked='1']")  # the fill, live
    await expect(filled).to_have_count(1, timeout=30_000)
    await expect(filled.locator(".fill")).to_have_text("1 / 1")
    await expect(filled).to_have_attribute("data-state", "filled")
    await facility.screenshot(path=str(SHOTS / "facility-shifts.png"), full_page=True)

    await clinician.locator("#week-of").fill("2027-03-15")
    await clinician.locator("#week-of").dispatch_event("change")
    booked = clinician.locator(".day[data-day='2027-03-15'] .booking")
    await expect(booked).to_contain_text("14:00 GMT")
    assert "(America/Chicago)" in (await booked.get_attribute("title") or "")
    await clinician.screenshot(path=str(SHOTS / "clinician-week.png"), full_page=True)

    said: list[str] = []  # cancelling shows what each booked clinician would be owed, first

    async def answer(dialog: Any) -> None:
        said.append(dialog.message)
        await dialog.accept()

    facility.once("dialog", answer)
    await filled.get_by_role("button", name="Cancel").click()
    await expect(facility.locator("#shift-detail")).to_contain_text("Shift cancelled")
    assert "releases 1 booking(s)" in said[0] and "is owed $0.00" in said[0], said
    assert "hours before it starts" in said[0]  # the policy, in words
    await expect(facility.locator("#shifts tbody tr[data-state='cancelled']")).to_have_count(1)
    await expect(booked).to_have_count(0, timeout=15_000)  # gone from her week, live
    await expect(clinician.locator("#notifications")).to_contain_text("Booking released")


async def test_the_pages_fit_a_phone(stack: Stack, browser: Browser) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    nurse = await stack.sign_up_clinician("pia")
    org = await stack.sign_up_organization("coast")
    pages = [(nurse["email"], "/clinician", "clinician-phone.png"),
             (org["email"], "/facility", "facility-phone.png"),
             (stack.operator_email, "/operator", "operator-phone.png")]  # fmt: skip
    for email, home, shot in pages:
        page = await signed_in(browser, stack, email, home, viewport=PHONE)
        await page.wait_for_load_state("networkidle")
        overflow = await page.evaluate(
            "document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        assert overflow <= 1, f"{home} is {overflow}px wider than a phone"
        await page.screenshot(path=str(SHOTS / shot), full_page=True)
        await page.context.close()


async def test_an_operator_verifies_a_licence_and_reads_a_compacts_history(
    stack: Stack, browser: Browser
) -> None:
    nurse = await stack.sign_up_clinician("vera")
    me = await stack.as_user(nurse["email"])
    declared = await me.post("/v1/me/licences", json={
        "licence_id": "lic-mo", "jurisdiction": "US-MO", "profession": "RN", "number": "RN-5",
        "issued": "2021-01-01", "expires": "2031-01-01"})  # fmt: skip
    assert declared.status_code == 201, declared.text
    await me.aclose()
    page = await signed_in(browser, stack, stack.operator_email, "/operator")
    await page.get_by_label("Clinician id").fill(nurse["account"]["id"])
    await page.get_by_role("button", name="Look up").click()
    entry = page.locator("[data-entry='lic-mo']")
    await expect(entry).to_contain_text("self-declared")
    await entry.get_by_role("button", name="Verify").click()
    await expect(entry).to_contain_text("operator")
    nlc = page.locator("#compacts details", has_text="(NLC)")
    await nlc.locator("summary").click()
    await nlc.get_by_role("button", name="History").click()
    await expect(nlc.locator("table.history tbody tr")).to_have_count(1)
    await page.screenshot(path=str(SHOTS / "operator.png"), full_page=True)
    await page.context.close()
