"""The demo `make up` seeds, on a stack of its own: four organisations, sixty clinicians of the
roles we serve, a week of shifts; every printed sign-in works, the market offers the demo
shifts, and running it again adds nothing."""

from __future__ import annotations

import asyncio
import sys

import httpx
import pytest
from gateway.demo import PASSWORD
from gateway.testing import Stack

pytestmark = pytest.mark.integration


async def _demo(stack: Stack, *args: str) -> str:
    env = {**stack.processes.env, "GATEWAY_ADDR": stack.processes.address["gateway"],
           "GATEWAY_PUBLIC_URL": stack.base_url}  # fmt: skip
    for name in ("licensing", "scheduling", "matching"):
        env[f"{name.upper()}_ADDR"] = stack.processes.address[name]
    run = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "gateway.demo", *args, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await run.communicate()
    assert run.returncode == 0, err.decode()
    return out.decode()


async def test_the_demo_seeds_a_live_market_once_and_its_sign_ins_work(stack: Stack) -> None:
    first = await _demo(stack, "--all")
    assert "seeded Prairie Health Network: 1 organisations" in first
    assert "60 clinicians" in first
    block = first[first.index("\nweb: ") :].splitlines()
    assert block[1] == f"web: {stack.base_url}"
    emails = [line.split()[0] for line in block[3:] if "@" in line]
    assert len(emails) == 65  # the operator, four admins, sixty clinicians
    for role in ("multistate", "psychiatrist", "PSYPACT", "counsellor", "teleradiologist",
                 "scribe abroad", "medical assistant abroad"):  # fmt: skip
        assert role in first

    async with httpx.AsyncClient(base_url=stack.base_url, timeout=30) as http:
        for email in emails:
            signed = await http.post("/v1/tokens", json={"email": email, "password": PASSWORD})
            assert signed.status_code == 201, (email, signed.text)
        signed = await http.post(
            "/v1/tokens", json={"email": "admin@prairie-health.demo", "password": PASSWORD}
        )
        admin = signed.json()["token"]
        headers = {"Authorization": f"Bearer {admin}"}
        roster = (await http.get("/v1/facilities/prairie-wichita/roster", headers=headers)).json()
        assert len(roster["entries"]) == 7
        for _ in range(150):
            out = [(await http.get(f"/v1/shifts/{e['shift']['shift_id']}/status",
                                   headers=headers)).json()["offers_out"]
                   for e in roster["entries"]]  # fmt: skip
            if sum(out) >= 5:
                break
            await asyncio.sleep(0.4)
        assert sum(out) >= 5, f"the demo market made too few offers: {out}"

    again = await _demo(stack)
    assert "seeded" not in again and f"web: {stack.base_url}" in again
