"""What every route may depend on: the gateway's parts (built once in main) and the signed-in
account, from a bearer token (API clients) or the session cookie (pages)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, HTTPException, Request
from fastapi.security import APIKeyCookie, HTTPAuthorizationCredentials, HTTPBearer
from vsm_platform.clock import Clock

from gateway.account_store import AccountStore
from gateway.accounts import Account
from gateway.api_keys import ApiKeys
from gateway.audit import AuditTrail
from gateway.config import Settings
from gateway.inward import Services
from gateway.live import LiveHub
from gateway.notifications import Notifier
from gateway.passwords import Passwords

SESSION_COOKIE = "vsm_session"
_bearer = HTTPBearer(auto_error=False, description="A token from POST /v1/tokens")
_cookie = APIKeyCookie(name=SESSION_COOKIE, auto_error=False, description="POST /v1/sessions")


@dataclass(frozen=True, slots=True)
class Gateway:
    settings: Settings
    clock: Clock
    store: AccountStore
    passwords: Passwords
    services: Services
    notifier: Notifier
    audit: AuditTrail
    live: LiveHub
    keys: ApiKeys


def gateway(request: Request) -> Gateway:
    parts: Gateway = request.app.state.gateway
    return parts


Parts = Annotated[Gateway, Depends(gateway)]


async def signed_in(
    request: Request,
    parts: Parts,
    bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    cookie: Annotated[str | None, Depends(_cookie)],
) -> Account:
    """The account of the request's token or session; 401 without one that is live."""
    token = bearer.credentials if bearer is not None else cookie
    session = await parts.store.session(token) if token else None
    if session is None:
        raise HTTPException(
            401, "sign in first (a bearer token or a session)",
            headers={"WWW-Authenticate": "Bearer"},
        )  # fmt: skip
    request.state.account_id = session.account.id
    return session.account


Me = Annotated[Account, Depends(signed_in)]
