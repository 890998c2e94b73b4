"""Steps the browser tests share: Chromium, signing in through the page, an organisation with a
rural facility in Chicago's zone serving Kansas, a nurse in London ready for offers in Kansas,
and a shift posted through the facility's form."""

from __future__ import annotations

import os
import shutil
import uuid
from typing import Any

import pytest
from gateway.testing import PASSWORD, Stack
from playwright.async_api import Browser, Page

EVERY_DAY = [{"day": d, "start": "00:00", "end": "00:00"}
             for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")]  # fmt: skip


def chromium() -> str:
    found = os.environ.get("VSM_CHROMIUM") or shutil.which("chromium")
    if not found:
        pytest.fail("Chromium is not installed: run `make browser` (Debian's chromium package)")
    return found


async def signed_in(browser: Browser, stack: Stack, email: str, home: str, **options: Any) -> Page:
    context = await browser.new_context(**options)
    page = await context.new_page()
    await page.goto(f"{stack.base_url}/login")
    await page.get_by_label("Email").fill(email)
    await page.get_by_label("Password").fill(PASSWORD)
    await page.get_by_role("button", name="Sign in").click()
    await page.wait_for_url(f"**{home}")
    return page


async def nurse_in_london(stack: Stack) -> dict[str, Any]:
    nurse = await stack.sign_up_clinician("lena")
    me = await stack.as_user(nurse["email"])
    for method, path, body in (
        ("PUT", "/v1/me/profile", {"profession": "RN", "zone": "Europe/London",
                                   "rate_cents_per_hour": 5500, "max_minutes_per_week": 3000,
                                   "min_rest_minutes": 480}),
        ("PUT", "/v1/me/availability", {"windows": EVERY_DAY}),
        ("PUT", "/v1/me/residence", {"residence": "US-KS"}),
        ("POST", "/v1/me/licences", {"licence_id": "lic-ks", "jurisdiction": "US-KS",
                                     "profession": "RN", "number": "RN-77",
                                     "issued": "2020-01-01", "expires": "2030-01-01"}),
    ):  # fmt: skip
        answer = await me.request(method, path, json=body)
        assert answer.status_code < 300, answer.text
    operator = await stack.as_user(stack.operator_email)
    verified = await operator.post(
        f"/v1/operator/clinicians/{nurse['account']['id']}/licences/lic-ks/verify"
    )
    assert verified.status_code == 200, verified.text
    await me.aclose()
    await operator.aclose()
    return nurse


async def post_in_page(page: Page, day: str) -> None:
    form = page.locator("#shift-form")
    await form.get_by_label("Role").select_option("RN")
    await form.get_by_label("Date").fill(day)
    await form.get_by_label("Starts").fill("09:00")
    await form.get_by_label("Ends").fill("13:00")
    await form.get_by_label("Patients are in").select_option(["US-KS"])
    await form.get_by_label("Pay up to").fill("80")
    await form.get_by_label("Scope of work").fill("Overnight telehealth triage for a rural clinic")
    await form.get_by_role("button", name="Post").click()


async def facility_in_chicago(stack: Stack, name: str) -> tuple[dict[str, Any], str]:
    """A new organisation (its admin's sign-up) and the id of its facility in Chicago's zone
    whose patients are in Kansas."""
    org = await stack.sign_up_organization(name)
    admin = await stack.as_user(org["email"])
    facility_id = f"f-{uuid.uuid4().hex[:6]}"
    saved = await admin.put(f"/v1/facilities/{facility_id}", json={
        "facility_id": facility_id, "name": f"{name.title()} Rural Health",
        "zone": "America/Chicago", "jurisdictions": ["US-KS"]})  # fmt: skip
    assert saved.status_code == 200, saved.text
    await admin.aclose()
    return org, facility_id
