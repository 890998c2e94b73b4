"""Journeys through the gateway's REST API, with every service a real process on the real
servers: sign-up to first offer, accepted and filled; cookie sessions; the sign-in limit; a
password reset; an invitation; deleting an account."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from datetime import date, timedelta
from typing import Any, TypeVar

import httpx
import pytest
from gateway.testing import PASSWORD, Stack

pytestmark = pytest.mark.integration
T = TypeVar("T")
EVERY_DAY = [{"day": d, "start": "00:00", "end": "00:00"}
             for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")]  # fmt: skip


async def _until(what: str, probe: Callable[[], Awaitable[T | None]], seconds: float = 60) -> T:
    deadline = asyncio.get_running_loop().time() + seconds
    while asyncio.get_running_loop().time() < deadline:
        found = await probe()
        if found:
            return found
        await asyncio.sleep(0.3)
    pytest.fail(f"waited {seconds} s for {what}")


def _next_tuesday() -> date:
    today = date.today()
    return today + timedelta(days=7 + (1 - today.weekday()) % 7)


async def _facility(stack: Stack, admin: httpx.AsyncClient, org: dict[str, Any]) -> str:
    facility_id = f"f-{uuid.uuid4().hex[:8]}"
    saved = await admin.put(f"/v1/facilities/{facility_id}", json={
        "facility_id": facility_id, "name": "Prairie Clinic", "zone": "America/Chicago",
        "jurisdictions": ["US-KS"]})  # fmt: skip
    assert saved.status_code == 200, saved.text
    assert saved.json()["organization_id"] == org["organization_id"]
    return facility_id


async def _licensed_nurse(
    stack: Stack, rate: int = 6000
) -> tuple[dict[str, Any], httpx.AsyncClient]:
    nurse = await stack.sign_up_clinician("nora")
    me = await stack.as_user(nurse["email"])
    profile = await me.put("/v1/me/profile", json={
        "profession": "RN", "zone": "America/New_York", "rate_cents_per_hour": rate,
        "max_minutes_per_week": 2400, "min_rest_minutes": 480})  # fmt: skip
    assert profile.status_code == 200, profile.text
    available = await me.put("/v1/me/availability", json={"windows": EVERY_DAY})
    assert available.status_code == 200, available.text
    assert (await me.put("/v1/me/residence", json={"residence": "US-KS"})).status_code == 200
    declared = await me.post("/v1/me/licences", json={
        "licence_id": "lic-ks", "jurisdiction": "US-KS", "profession": "RN", "number": "RN-1",
        "issued": "2020-01-01", "expires": "2030-01-01"})  # fmt: skip
    assert declared.status_code == 201, declared.text
    licence = declared.json()["licences"][0]
    assert licence["verification"]["verification"] == "VERIFICATION_SELF_DECLARED"
    return nurse, me


async def test_sign_up_to_first_offer_accepted_and_filled(stack: Stack) -> None:
    org = await stack.sign_up_organization("prairie")
    admin = await stack.as_user(org["email"])
    facility_id = await _facility(stack, admin, org)
    nurse, me = await _licensed_nurse(stack)
    nurse_id = nurse["account"]["id"]

    operator = await stack.as_user(stack.operator_email)
    verified = await operator.post(f"/v1/operator/clinicians/{nurse_id}/licences/lic-ks/verify")
    assert verified.status_code == 200, verified.text
    assert verified.json()["licences"][0]["verification"]["verification"] == "VERIFICATION_OPERATOR"

    day = _next_tuesday().isoformat()
    posted = await admin.post(f"/v1/facilities/{facility_id}/shifts", json={
        "profession": "RN", "patient_jurisdictions": ["US-KS"], "local_start": f"{day}T09:00",
        "local_end": f"{day}T13:00", "positions": 1, "pay_cents_per_hour": 9000,
        "scope_of_work": "Telehealth triage for a rural clinic"})  # fmt: skip
    assert posted.status_code == 201, posted.text
    shift = posted.json()
    assert shift["local_start"] == {"local": f"{day}T09:00", "zone": "America/Chicago"}

    async def offered() -> dict[str, Any] | None:
        offers = (await me.get("/v1/me/offers")).json()["offers"]
        return next((o for o in offers if o["shift_id"] == shift["shift_id"]), None)

    offer = await _until("the nurse's offer", offered)
    assert offer["rate_cents_per_hour"] == 6000 and offer["state"] == "OFFER_STATE_OPEN"
    accepted = await me.post(f"/v1/offers/{offer['offer_id']}/accept")
    assert accepted.status_code == 200, accepted.text
    assert accepted.json()["state"] == "OFFER_STATE_ACCEPTED"

    async def filled() -> dict[str, Any] | None:  # the booking reaches matching as an event
        status: dict[str, Any] = (await admin.get(f"/v1/shifts/{shift['shift_id']}/status")).json()
        return status if status["booked"] else None

    status = await _until("the fill in the shift's status", filled)
    assert status["booked"] == 1 and status["booked_clinicians"] == [nurse_id]
    schedule = (await me.get("/v1/me/schedule")).json()["entries"]
    assert [e["shift"]["shift_id"] for e in schedule] == [shift["shift_id"]]
    assert schedule[0]["local_start"]["zone"] == "America/New_York"
    assert schedule[0]["local_start"]["local"].endswith("T10:00")  # 09:00 in Chicago
    link = (await me.get("/v1/me/calendar-link")).json()["url"]
    async with httpx.AsyncClient(timeout=30) as anyone:
        ical = await anyone.get(link)
    assert ical.status_code == 200 and "BEGIN:VCALENDAR" in ical.text

    async def told(client: httpx.AsyncClient, *kinds: str) -> list[str] | None:
        said = [
            n["kind"] for n in (await client.get("/v1/me/notifications")).json()["notifications"]
        ]
        return said if set(kinds) <= set(said) else None

    await _until("the nurse's notifications", lambda: told(me, "new_offer", "booking_confirmed"))
    await _until(
        "the facility's notification of the fill", lambda: told(admin, "booking_confirmed")
    )
    for client in (admin, me, operator):
        await client.aclose()


async def test_a_cookie_session_opens_and_closes(stack: Stack) -> None:
    nurse = await stack.sign_up_clinician("cora")
    async with stack.client() as browser:
        opened = await browser.post(
            "/v1/sessions", json={"email": nurse["email"], "password": PASSWORD}
        )
        assert opened.status_code == 204
        cookie = opened.headers["set-cookie"].lower()
        assert "httponly" in cookie and "samesite=strict" in cookie
        assert (await browser.get("/v1/me")).json()["email"] == nurse["email"]
        assert (await browser.delete("/v1/sessions/current")).status_code == 204
        assert (await browser.get("/v1/me")).status_code == 401


async def test_too_many_failed_sign_ins_refuse_even_the_right_password(stack: Stack) -> None:
    nurse = await stack.sign_up_clinician("ida")
    async with stack.client() as http:
        for _ in range(5):
            wrong = await http.post(
                "/v1/tokens", json={"email": nurse["email"], "password": "not the password"}
            )
            assert wrong.status_code == 401
        refused = await http.post(
            "/v1/tokens", json={"email": nurse["email"], "password": PASSWORD}
        )
    assert refused.status_code == 429 and "retry-after" in refused.headers


async def test_a_password_reset_link_works_once_and_ends_old_sessions(stack: Stack) -> None:
    nurse = await stack.sign_up_clinician("rhea")
    old = await stack.as_user(nurse["email"])
    async with stack.client() as http:
        asked = await http.post("/v1/password-resets", json={"email": nurse["email"]})
        unknown = await http.post("/v1/password-resets", json={"email": "nobody@x.example"})
        assert asked.status_code == unknown.status_code == 202
        assert asked.json() == unknown.json()  # nothing tells whether the address has an account
        mail = (await http.get("/v1/dev/outbox", params={"email": nurse["email"]})).json()
        token = mail["messages"][0]["link"].split("#", 1)[1]
        new_password = "a brand new long passphrase"
        assert (await http.post(f"/v1/password-resets/{token}",
                                json={"password": new_password})).status_code == 204  # fmt: skip
        again = await http.post(f"/v1/password-resets/{token}", json={"password": new_password})
        assert again.status_code == 404
    assert (await old.get("/v1/me")).status_code == 401
    await stack.token(nurse["email"], new_password)
    await old.aclose()


async def test_an_invited_colleague_joins_the_organisation(stack: Stack) -> None:
    org = await stack.sign_up_organization("lakes")
    admin = await stack.as_user(org["email"])
    facility_id = await _facility(stack, admin, org)
    email = f"staff-{uuid.uuid4().hex[:6]}@lakes.example"
    invited = await admin.post(f"/v1/organizations/{org['organization_id']}/invitations",
                               json={"email": email})  # fmt: skip
    assert invited.status_code == 201, invited.text
    async with stack.client() as http:
        mail = (await http.get("/v1/dev/outbox", params={"email": email})).json()
        token = mail["messages"][0]["link"].split("#", 1)[1]
        joined = await http.post(f"/v1/invitations/{token}",
                                 json={"name": "Sam Staff", "password": PASSWORD})  # fmt: skip
    assert joined.status_code == 201, joined.text
    assert joined.json()["account"]["role"] == "facility_staff"
    staff = await stack.as_user(email)
    assert (await staff.get(f"/v1/facilities/{facility_id}")).status_code == 200
    refused = await staff.post(f"/v1/organizations/{org['organization_id']}/invitations",
                               json={"email": "x@lakes.example"})  # fmt: skip
    assert refused.status_code == 403
    await admin.aclose()
    await staff.aclose()


async def test_a_deleted_account_keeps_no_personal_details_and_frees_its_email(
    stack: Stack,
) -> None:
    nurse = await stack.sign_up_clinician("dora")
    me = await stack.as_user(nurse["email"])
    assert (await me.delete("/v1/me")).status_code == 204
    assert (await me.get("/v1/me")).status_code == 401
    async with stack.client() as http:
        gone = await http.post("/v1/tokens", json={"email": nurse["email"], "password": PASSWORD})
        assert gone.status_code == 401
        again = await http.post("/v1/signup/clinicians", json={
            "name": "Dora Again", "email": nurse["email"], "password": PASSWORD})  # fmt: skip
        assert again.status_code == 201
    operator = await stack.as_user(stack.operator_email)
    trail = (await operator.get("/v1/operator/audit")).json()["entries"]
    deletion = [e for e in trail if e["method"] == "DELETE" and e["route"] == "/v1/me"]
    assert [e["account_id"] for e in deletion] == [nurse["account"]["id"]]
    assert nurse["email"] not in str(trail)
    await me.aclose()
    await operator.aclose()
