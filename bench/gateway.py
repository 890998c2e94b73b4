"""The gateway under 200 concurrent clients on loopback, through the whole stack.

    python -m bench.gateway [--clients 200] [--seconds 60]   (after `make infra-up`)

Licensing, scheduling, matching and the gateway run as processes of their own on fresh
databases and topics. One organisation with a facility in Kansas signs up; 200 people sign in
(bearer tokens): a quarter are facility staff who post a shift now and then and read their
roster and a shift's status, the rest clinicians who read their offers, schedule and
notifications. Every client loops with no pause for the given time. Reported: requests a
second, latency percentiles per kind of request, and every answer of 500 or more (there must
be none). Figures go to bench/results/gateway.md and gateway.json (for `python -m bench.report`).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import statistics
import tempfile
import time
import uuid
from collections import Counter, defaultdict
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from gateway.testing import wait_for_gateway
from vsm_infra.testing import ServiceProcesses, free_port
from vsm_platform.settings import PlatformSettings

from bench.offers import percentile

RESULTS = Path(__file__).parent / "results"
PASSWORD = "bench password 2026"
EVERY_DAY = [{"day": d, "start": "00:00", "end": "00:00"}
             for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")]  # fmt: skip


async def _token(http: httpx.AsyncClient, email: str) -> str:
    answer = await http.post("/v1/tokens", json={"email": email, "password": PASSWORD})
    answer.raise_for_status()
    token: str = answer.json()["token"]
    return token


async def _people(base: str, clients: int) -> tuple[str, list[tuple[str, str]]]:
    """The organisation's facility, and (kind, token) for every client."""
    async with httpx.AsyncClient(base_url=base, timeout=60) as http:
        admin_email = f"admin-{uuid.uuid4().hex[:6]}@bench.example"
        signed = await http.post("/v1/signup/organizations", json={
            "organization_name": "Bench Health", "name": "Admin", "email": admin_email,
            "password": PASSWORD})  # fmt: skip
        signed.raise_for_status()
        admin = await _token(http, admin_email)
        facility = f"bench-{uuid.uuid4().hex[:6]}"
        saved = await http.put(f"/v1/facilities/{facility}", headers=_bearer(admin), json={
            "facility_id": facility, "name": "Bench Clinic", "zone": "America/Chicago",
            "jurisdictions": ["US-KS"]})  # fmt: skip
        saved.raise_for_status()
        people: list[tuple[str, str]] = []
        gate = asyncio.Semaphore(8)

        async def clinician(n: int) -> tuple[str, str]:
            async with gate:
                email = f"c{n}-{uuid.uuid4().hex[:6]}@bench.example"
                made = await http.post("/v1/signup/clinicians", json={
                    "name": f"Clinician {n}", "email": email, "password": PASSWORD})  # fmt: skip
                made.raise_for_status()
                token = await _token(http, email)
                await http.put("/v1/me/profile", headers=_bearer(token), json={
                    "profession": "RN", "zone": "America/New_York",
                    "rate_cents_per_hour": 5000 + n})  # fmt: skip
                await http.put("/v1/me/availability", headers=_bearer(token),
                               json={"windows": EVERY_DAY})  # fmt: skip
                return "clinician", token

        staff = clients // 4
        people += [("facility", admin)] * staff  # staff share the admin's organisation
        people += await asyncio.gather(*(clinician(n) for n in range(clients - staff)))
        return facility, people


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def _client(
    base: str, kind: str, token: str, facility: str, until: float, seed: int,
    timings: dict[str, list[float]], failures: list[str],
) -> None:  # fmt: skip
    rng = random.Random(seed)
    shifts: list[str] = []
    async with httpx.AsyncClient(base_url=base, timeout=30, headers=_bearer(token)) as http:
        while time.monotonic() < until:
            if kind == "clinician":
                name, method, path, body = rng.choice([
                    ("offers", "GET", "/v1/me/offers", None),
                    ("schedule", "GET", "/v1/me/schedule", None),
                    ("notifications", "GET", "/v1/me/notifications", None),
                ])  # fmt: skip
            elif rng.random() < 0.1 or not shifts:
                day = (date.today() + timedelta(days=rng.randrange(3, 40))).isoformat()
                hour = rng.randrange(6, 18)
                name, method, path = "post shift", "POST", f"/v1/facilities/{facility}/shifts"
                body = {"profession": "RN", "patient_jurisdictions": ["US-KS"],
                        "local_start": f"{day}T{hour:02d}:00",
                        "local_end": f"{day}T{hour + 4:02d}:00", "positions": 1,
                        "pay_cents_per_hour": 9000}  # fmt: skip
            elif rng.random() < 0.5:
                name, method, path, body = (
                    "roster",
                    "GET",
                    f"/v1/facilities/{facility}/roster",
                    None,
                )
            else:
                name, method = "shift status", "GET"
                path, body = f"/v1/shifts/{rng.choice(shifts)}/status", None
            began = time.perf_counter()
            try:
                answer = await http.request(method, path, json=body)
            except httpx.HTTPError as error:
                failures.append(f"{name}: {type(error).__name__}")
                continue
            timings[name].append((time.perf_counter() - began) * 1000)
            if answer.status_code >= 500:
                failures.append(f"{name}: {answer.status_code}")
            elif name == "post shift" and answer.status_code == 201:
                shifts.append(answer.json()["shift_id"])


async def bench(clients: int, seconds: float) -> dict[str, Any]:
    settings = PlatformSettings()
    run = uuid.uuid4().hex[:8]
    logs = Path(tempfile.mkdtemp(prefix="bench-gateway-"))
    env = {**os.environ, "MONGODB_URI": settings.mongodb_uri,
           "KAFKA_BOOTSTRAP": settings.kafka_bootstrap,
           "LICENSING_DATABASE": f"bench_lic_{run}", "SCHEDULING_DATABASE": f"bench_sch_{run}",
           "MATCHING_DATABASE": f"bench_mat_{run}", "GATEWAY_DATABASE": f"bench_gw_{run}",
           "VSM_TOPIC_PREFIX": f"bench-{run}.", "MATCHING_GROUP": f"bench-{run}",
           "PARTNER_ADDR": f"127.0.0.1:{free_port()}"}  # fmt: skip
    services = ServiceProcesses(env, logs, settings.kafka_bootstrap)
    await services.ensure_topics()
    try:
        for name in ("licensing", "scheduling", "matching"):
            services.start(name, f"{name}.main")
        address = services.start("gateway", "gateway.main")
        await services.serving("licensing", "scheduling", "matching")
        base = f"http://{address}"
        await wait_for_gateway(base)
        facility, people = await _people(base, clients)
        timings: dict[str, list[float]] = defaultdict(list)
        failures: list[str] = []
        began = time.monotonic()
        until = began + seconds
        await asyncio.gather(*(
            _client(base, kind, token, facility, until, n, timings, failures)
            for n, (kind, token) in enumerate(people)
        ))  # fmt: skip
        elapsed = time.monotonic() - began
    finally:
        services.stop_all()
        services.forget_topics()
    total = sum(len(v) for v in timings.values())
    every = [t for v in timings.values() for t in v]
    return {
        "clients": clients, "seconds": elapsed, "requests": total, "rate": total / elapsed,
        "failures": failures, "logs": str(logs),
        "all": (percentile(every, 0.5), percentile(every, 0.99), statistics.fmean(every)),
        "kinds": {k: (len(v), percentile(v, 0.5), percentile(v, 0.99))
                  for k, v in sorted(timings.items())},
    }  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--clients", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=60.0)
    args = parser.parse_args(argv)
    result = asyncio.run(bench(args.clients, args.seconds))
    p50, p99, mean = result["all"]
    lines = [
        "# The gateway under concurrent clients", "",
        f"{result['clients']} clients on loopback for {result['seconds']:.0f} s through the "
        f"whole stack (2 cores shared with Kafka, the database and four service processes): "
        f"{result['requests']} requests, {result['rate']:.0f} a second; "
        f"{len(result['failures'])} failed (5xx or transport).", "",
        "| request | count | p50 ms | p99 ms |", "|---|---|---|---|",
        f"| all | {result['requests']} | {p50:.0f} | {p99:.0f} |",
        *(f"| {k} | {n} | {a:.0f} | {b:.0f} |" for k, (n, a, b) in result["kinds"].items()),
        "", f"Mean {mean:.0f} ms.",
    ]  # fmt: skip
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "gateway.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    figures = {
        "measured": datetime.now(UTC).isoformat(timespec="seconds"),
        "clients": result["clients"], "seconds": result["seconds"],
        "requests": result["requests"], "rate": result["rate"],
        "failures": len(result["failures"]), "failure_kinds": Counter(result["failures"]),
        "all": {"count": result["requests"], "p50": p50, "p99": p99, "mean": mean},
        "kinds": {k: {"count": n, "p50": a, "p99": b} for k, (n, a, b) in result["kinds"].items()},
    }  # fmt: skip
    (RESULTS / "gateway.json").write_text(json.dumps(figures, indent=1) + "\n", encoding="utf-8")
    print("\n".join(lines))
    if result["failures"]:
        print("failures:", sorted(set(result["failures"]))[:10])
    print(f"logs: {result['logs']}")
    return 1 if result["failures"] else 0


if __name__ == "__main__":
    raise SystemExit(main())
