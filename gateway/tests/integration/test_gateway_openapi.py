"""Schemathesis against the gateway's OpenAPI document over real HTTP, with every service a
real process: generated requests (valid and not) to every endpoint, signed in as a facility
admin and as a clinician, never get a 5xx."""

from __future__ import annotations

import os
import uuid
from typing import Any

import pytest
import requests
import schemathesis
from gateway.testing import PASSWORD, Stack
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error

pytestmark = pytest.mark.integration
# The suite explores the same examples every run; VSM_FUZZ_EXAMPLES=200 VSM_FUZZ_RANDOM=1 for
# a longer, different run each time.
EXAMPLES = int(os.environ.get("VSM_FUZZ_EXAMPLES", "10"))
RANDOM = os.environ.get("VSM_FUZZ_RANDOM") == "1"


def _token(base_url: str, kind: str) -> str:
    """Signs up an account of `kind` and returns its bearer token (synchronously: the
    generated calls run outside the event loop)."""
    email = f"{kind}-{uuid.uuid4().hex[:8]}@fuzz.example"
    body: dict[str, Any] = {"name": "Fuzz", "email": email, "password": PASSWORD}
    if kind == "organizations":
        body["organization_name"] = "Fuzz Health"
    made = requests.post(f"{base_url}/v1/signup/{kind}", json=body, timeout=30)
    assert made.status_code == 201, made.text
    signed = requests.post(
        f"{base_url}/v1/tokens", json={"email": email, "password": PASSWORD}, timeout=30
    )
    assert signed.status_code == 201, signed.text
    token: str = signed.json()["token"]
    return token


@pytest.fixture(scope="module")
def api(stack: Stack) -> Any:
    loaded = schemathesis.openapi.from_url(f"{stack.base_url}/openapi.json")
    # Ending the caller's own token or account would leave the rest of the run anonymous.
    return loaded.exclude(path="/v1/me", method="DELETE").exclude(
        path="/v1/tokens/current", method="DELETE"
    )


@pytest.fixture(scope="module")
def headers(stack: Stack) -> list[dict[str, str]]:
    return [{"Authorization": f"Bearer {_token(stack.base_url, kind)}"}
            for kind in ("organizations", "clinicians")]  # fmt: skip


def test_no_generated_request_gets_a_server_error(
    api: Any, stack: Stack, headers: list[dict[str, str]]
) -> None:
    """Each operation's strategy drives its own Hypothesis run (schemathesis' pytest plugin
    does not support this pytest yet, so the runs are driven here)."""
    operations = [result.ok() for result in api.get_all_operations()]
    assert len(operations) > 40

    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(max_examples=EXAMPLES, deadline=None, database=None, derandomize=not RANDOM,
                  suppress_health_check=list(HealthCheck))  # fmt: skip
        def no_server_error(case: Any) -> None:
            for signed_in in headers:
                case.call_and_validate(base_url=stack.base_url, headers=signed_in,
                                       checks=[not_a_server_error])  # fmt: skip

        no_server_error()
