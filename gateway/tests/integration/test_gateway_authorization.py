"""The authorisation sweep: every endpoint of the OpenAPI document is called as every role
that does not own its object, and anonymously. Answers must be 401 (anonymous) or 403/404,
and no answer may carry the owners' data. Endpoints on the caller's own things (`/v1/me/...`)
are called as everyone, and nobody's answer may carry another's data. A new endpoint that is
not in the table below fails the sweep until it is placed."""

from __future__ import annotations

import asyncio
import uuid
from datetime import date, timedelta
from typing import Any

import httpx
import pytest
import pytest_asyncio
from gateway.testing import Stack

pytestmark = pytest.mark.integration
SECRETS = ("Secret Prairie Clinic", "SECRET-SCOPE-A", "Nora Secret", "6123")
EVERY_DAY = [{"day": d, "start": "00:00", "end": "00:00"}
             for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")]  # fmt: skip
PUBLIC = {  # anyone may call these: signing up and in, links that are their own credential
    ("post", "/v1/signup/organizations"), ("post", "/v1/signup/clinicians"),
    ("post", "/v1/sessions"), ("delete", "/v1/sessions/current"), ("post", "/v1/tokens"),
    ("post", "/v1/password-resets"), ("post", "/v1/password-resets/{token}"),
    ("post", "/v1/invitations/{token}"), ("get", "/v1/calendar/{token}.ics"),
    ("get", "/v1/jurisdictions"),
}  # fmt: skip


def _shift_body(day: str) -> dict[str, Any]:
    return {"profession": "RN", "patient_jurisdictions": ["US-KS"],
            "local_start": f"{day}T09:00", "local_end": f"{day}T13:00", "positions": 1,
            "pay_cents_per_hour": 9000, "scope_of_work": "SECRET-SCOPE-A"}  # fmt: skip


@pytest_asyncio.fixture(scope="module")
async def world(stack: Stack) -> dict[str, Any]:
    """Organisation A with a facility and a shift offered to nurse 1; organisation B and nurse
    2 as the outsiders; an operator."""
    org_a = await stack.sign_up_organization("alpha")
    org_b = await stack.sign_up_organization("beta")
    admin_a, admin_b = await stack.as_user(org_a["email"]), await stack.as_user(org_b["email"])
    facility = f"f-{uuid.uuid4().hex[:8]}"
    saved = await admin_a.put(f"/v1/facilities/{facility}", json={
        "facility_id": facility, "name": "Secret Prairie Clinic", "zone": "America/Chicago",
        "jurisdictions": ["US-KS"]})  # fmt: skip
    assert saved.status_code == 200, saved.text
    nurses = []
    for name, rate in (("Nora Secret", 6123), ("Other Nurse", 5000)):
        signed = await stack.sign_up_clinician(name)
        client = await stack.as_user(signed["email"])
        await client.put("/v1/me/profile", json={
            "profession": "RN", "zone": "America/New_York", "rate_cents_per_hour": rate,
            "max_minutes_per_week": 2400, "min_rest_minutes": 480})  # fmt: skip
        await client.put("/v1/me/availability", json={"windows": EVERY_DAY})
        nurses.append((signed, client))
    nurse_1 = nurses[0][0]["account"]["id"]
    await nurses[0][1].put("/v1/me/residence", json={"residence": "US-KS"})
    await nurses[0][1].post("/v1/me/licences", json={
        "licence_id": "lic-ks", "jurisdiction": "US-KS", "profession": "RN", "number": "RN-1",
        "issued": "2020-01-01", "expires": "2030-01-01"})  # fmt: skip
    operator = await stack.as_user(stack.operator_email)
    await operator.post(f"/v1/operator/clinicians/{nurse_1}/licences/lic-ks/verify")
    day = (date.today() + timedelta(days=9)).isoformat()
    posted = await admin_a.post(f"/v1/facilities/{facility}/shifts", json=_shift_body(day))
    assert posted.status_code == 201, posted.text
    shift = posted.json()["shift_id"]
    offer = None
    for _ in range(200):
        offers = (await nurses[0][1].get("/v1/me/offers")).json()["offers"]
        offer = next((o["offer_id"] for o in offers if o["shift_id"] == shift), None)
        if offer:
            break
        await asyncio.sleep(0.3)
    assert offer, "nurse 1 got no offer"
    return {
        "ids": {"organization_id": org_a["organization_id"], "facility_id": facility,
                "shift_id": shift, "offer_id": offer, "clinician_id": nurse_1,
                "entry": "licences", "entry_id": "lic-ks", "decision": "verify",
                "token": "not-a-token", "code": "NLC", "key_id": "k0"},
        "callers": {"admin_a": admin_a, "admin_b": admin_b, "nurse_1": nurses[0][1],
                    "nurse_2": nurses[1][1], "operator": operator},
        "day": day,
    }  # fmt: skip


def _bodies(day: str) -> dict[tuple[str, str], Any]:
    """A valid body for each endpoint that takes one, so the sweep reaches the access rules
    (a malformed body would be refused before them)."""
    facility = {"facility_id": "{facility_id}", "name": "Renamed", "zone": "America/Chicago",
                "jurisdictions": ["US-KS"]}  # fmt: skip
    return {
        ("post", "/v1/organizations/{organization_id}/invitations"): {"email": "x@y.example"},
        ("put", "/v1/facilities/{facility_id}"): facility,
        ("put", "/v1/facilities/{facility_id}/do-not-return"): {"clinician_ids": ["c-x"]},
        ("put", "/v1/facilities/{facility_id}/favourites"): {"clinician_ids": ["c-x"]},
        ("post", "/v1/facilities/{facility_id}/shifts"): _shift_body(day),
        ("post", "/v1/facilities/{facility_id}/shift-series"): {
            **_shift_body(day), "every_days": 7, "occurrences": 2},
        ("put", "/v1/shifts/{shift_id}"): _shift_body(day),
        ("post", "/v1/shifts/{shift_id}/cancel"): {"reason": "sweep"},
        ("post", "/v1/offers/{offer_id}/decline"): {"reason": "sweep"},
        ("post", "/v1/organizations/{organization_id}/api-keys"): {"name": "sweep"},
        ("put", "/v1/operator/compacts"): {"table": {"code": "NLC"}, "source": "sweep"},
        ("put", "/v1/me/profile"): {"profession": "RN", "zone": "America/New_York",
                                    "rate_cents_per_hour": 7000},
        ("put", "/v1/me/availability"): {"windows": EVERY_DAY},
        ("put", "/v1/me/time-off"): {"dates": []},
        ("put", "/v1/me/residence"): {"residence": "US-KS"},
        ("post", "/v1/me/licences"): {"licence_id": "lic-x", "jurisdiction": "US-MO",
                                      "profession": "RN", "number": "N", "issued": "2020-01-01",
                                      "expires": "2030-01-01"},
        ("post", "/v1/me/authorities"): {"authority_id": "a-x", "kind": "apit",
                                         "profession": "psychologist", "issued": "2020-01-01",
                                         "expires": "2030-01-01"},
    }  # fmt: skip


OWNERS: dict[tuple[str, str], set[str]] = {  # who may reach the object; everyone else may not
    **{(m, p): {"admin_a", "operator"} for m, p in [
        ("get", "/v1/organizations/{organization_id}"),
        ("post", "/v1/organizations/{organization_id}/invitations"),
        ("get", "/v1/facilities/{facility_id}"), ("put", "/v1/facilities/{facility_id}"),
        ("put", "/v1/facilities/{facility_id}/do-not-return"),
        ("put", "/v1/facilities/{facility_id}/favourites"),
        ("post", "/v1/facilities/{facility_id}/shifts"),
        ("post", "/v1/facilities/{facility_id}/shift-series"),
        ("get", "/v1/facilities/{facility_id}/roster"),
        ("get", "/v1/shifts/{shift_id}"), ("put", "/v1/shifts/{shift_id}"),
        ("post", "/v1/shifts/{shift_id}/cancel"), ("get", "/v1/shifts/{shift_id}/status"),
        ("get", "/v1/shifts/{shift_id}/unfilled"), ("get", "/v1/shifts/{shift_id}/cancellation"),
        ("post", "/v1/organizations/{organization_id}/api-keys"),
        ("get", "/v1/organizations/{organization_id}/api-keys"),
        ("delete", "/v1/organizations/{organization_id}/api-keys/{key_id}"),
    ]},
    ("post", "/v1/offers/{offer_id}/accept"): {"nurse_1"},
    ("post", "/v1/offers/{offer_id}/decline"): {"nurse_1"},
    ("get", "/v1/operator/clinicians/{clinician_id}/licensing"): {"operator"},
    ("post", "/v1/operator/clinicians/{clinician_id}/{entry}/{entry_id}/{decision}"): {"operator"},
    ("put", "/v1/operator/compacts"): {"operator"},
    ("get", "/v1/operator/compacts/{code}/history"): {"operator"},
    ("get", "/v1/operator/audit"): {"operator"},
    ("get", "/v1/supply"): {"admin_a", "admin_b", "operator"},  # counts only, no one's data
    ("get", "/v1/compacts"): {"admin_a", "admin_b", "nurse_1", "nurse_2", "operator"},
}  # fmt: skip
# Endpoints on the caller's own things: everyone may call them; no one sees another's data.
SELF = {("get", "/v1/me"), ("delete", "/v1/me"), ("delete", "/v1/tokens/current"),
        ("get", "/v1/me/profile"), ("put", "/v1/me/profile"), ("put", "/v1/me/availability"),
        ("put", "/v1/me/time-off"), ("get", "/v1/me/licensing"), ("put", "/v1/me/residence"),
        ("post", "/v1/me/licences"), ("post", "/v1/me/authorities"), ("get", "/v1/me/offers"),
        ("get", "/v1/me/shifts/{shift_id}/why-not"), ("get", "/v1/me/schedule"),
        ("get", "/v1/me/calendar-link"), ("get", "/v1/me/notifications"),
        ("get", "/v1/me/licensing/today")}  # fmt: skip
ENDINGS = {("delete", "/v1/me"), ("delete", "/v1/tokens/current")}
QUERIES = {"/v1/supply": {"profession": "RN", "start": "2030-01-01T00:00:00Z",
                          "end": "2030-01-02T00:00:00Z"}}  # fmt: skip


async def _call(
    client: httpx.AsyncClient, method: str, path: str, ids: dict[str, str], body: Any
) -> httpx.Response:
    url = path.format(**ids)
    content = None if body is None else _fill(body, ids)
    return await client.request(method.upper(), url, json=content, params=QUERIES.get(path))


def _fill(body: Any, ids: dict[str, str]) -> Any:
    if isinstance(body, dict):
        return {k: _fill(v, ids) for k, v in body.items()}
    if isinstance(body, str) and body.startswith("{"):
        return body.format(**ids)
    return body


async def test_every_endpoint_refuses_every_foreign_role_and_leaks_nothing(
    stack: Stack, world: dict[str, Any]
) -> None:
    async with stack.client() as http:
        document = (await http.get("/openapi.json")).json()
    endpoints = {(m, p) for p, methods in document["paths"].items() for m in methods}
    unplaced = endpoints - PUBLIC - set(OWNERS) - SELF
    assert not unplaced, f"place these endpoints in the sweep: {sorted(unplaced)}"
    ids, callers, bodies = world["ids"], world["callers"], _bodies(world["day"])
    checked = 0
    async with stack.client() as anonymous:
        for method, path in sorted(endpoints - PUBLIC):
            if (method, path) in ENDINGS:
                continue  # called last, below: they end the caller's token or account
            body = bodies.get((method, path))
            answer = await _call(anonymous, method, path, ids, body)
            assert answer.status_code == 401, (method, path, answer.status_code)
            for name, client in callers.items():
                if (method, path) in SELF or name in OWNERS.get((method, path), set()):
                    if name == "nurse_1" or (method, path) not in SELF:
                        continue  # the owner's own answer may show the owner's data
                    answer = await _call(client, method, path, ids, body)
                    assert answer.status_code < 500, (name, method, path, answer.text)
                else:
                    answer = await _call(client, method, path, ids, body)
                    assert answer.status_code in (403, 404), (name, method, path, answer.text)
                leaked = [s for s in SECRETS if s in answer.text]
                if name != "admin_a" or (method, path) in SELF:
                    assert not leaked, (name, method, path, leaked, answer.text)
                checked += 1
    assert checked > 100
    async with stack.client() as anonymous:
        for method, path in ENDINGS:
            assert (await _call(anonymous, method, path, ids, None)).status_code == 401
    assert (await callers["admin_b"].delete("/v1/tokens/current")).status_code == 204
    assert (await callers["admin_b"].get("/v1/me")).status_code == 401
    assert (await callers["nurse_1"].get("/v1/me")).status_code == 200  # only the caller's
    for name in ("nurse_2",):
        assert (await callers[name].delete("/v1/me")).status_code == 204
        assert (await callers[name].get("/v1/me")).status_code == 401
