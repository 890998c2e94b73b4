"""Sign-up, sign-in and the account itself: organisations and clinicians sign up, staff are
invited, passwords are reset by a one-time link, sessions (pages) and tokens (API) are opened
and closed, and an account can be deleted."""

from __future__ import annotations

import uuid
from datetime import timedelta

from fastapi import APIRouter, HTTPException, Request, Response
from vsm.scheduling.v1 import scheduling_service_pb2 as spb
from vsm_rules.errors import InvalidArgument, NotFound

from gateway import access
from gateway.accounts import (
    Account,
    Person,
    Role,
    checked_name,
    checked_password,
    normalised_email,
)
from gateway.api.deps import SESSION_COOKIE, Me, Parts
from gateway.api.schemas import (
    AccountView,
    ClinicianSignUp,
    InvitationAccept,
    InvitationIn,
    InvitationView,
    NewPassword,
    OrganizationSignUp,
    PasswordResetRequest,
    SignIn,
    SignUpView,
    TokenView,
)
from gateway.notifications import Notification

router = APIRouter(prefix="/v1", tags=["accounts"])


async def _view(parts: Parts, account: Account) -> AccountView:
    person = await parts.store.person(account.id)
    return AccountView(
        id=account.id, role=account.role.value, organization_id=account.organization_id,
        email=person.email if person else "", name=person.name if person else "",
    )  # fmt: skip


async def _new_account(
    parts: Parts, account: Account, name: str, email: str, password: str
) -> AccountView:
    person = Person(
        normalised_email(email), checked_name(name),
        await parts.passwords.hash(checked_password(password)),
    )  # fmt: skip
    await parts.store.create(account, person, account.actor)
    return await _view(parts, account)


@router.post("/signup/organizations", status_code=201, response_model=SignUpView)
async def sign_up_organization(body: OrganizationSignUp, parts: Parts) -> SignUpView:
    """A facility organisation signs up; the person signing up becomes its admin."""
    normalised_email(body.email)
    checked_password(body.password)
    organization_id = f"org-{uuid.uuid4().hex[:12]}"
    account = Account(f"u-{uuid.uuid4().hex[:16]}", Role.FACILITY_ADMIN, organization_id)
    await parts.services.scheduling.SaveOrganization(
        spb.SaveOrganizationRequest(
            actor=account.actor.to_proto(),
            organization=spb.Organization(
                organization_id=organization_id, name=checked_name(body.organization_name,
                                                                   "organization_name")),
        )
    )  # fmt: skip
    view = await _new_account(parts, account, body.name, body.email, body.password)
    return SignUpView(account=view, organization_id=organization_id)


@router.post("/signup/clinicians", status_code=201, response_model=SignUpView)
async def sign_up_clinician(body: ClinicianSignUp, parts: Parts) -> SignUpView:
    """A clinician signs up; their account id is their clinician id everywhere."""
    account = Account(f"c-{uuid.uuid4().hex[:16]}", Role.CLINICIAN)
    return SignUpView(account=await _new_account(parts, account, body.name, body.email,
                                                 body.password))  # fmt: skip


async def _authenticate(parts: Parts, body: SignIn) -> Account:
    """The account whose password this is; 429 after too many recent failures for the email,
    401 for a wrong email or password (the same answer for both)."""
    email = normalised_email(body.email)
    settings = parts.settings
    since = parts.clock.now() - timedelta(minutes=settings.attempt_window_minutes)
    if await parts.store.failed_attempts_since(email, since) >= settings.max_failed_attempts:
        raise HTTPException(
            429, "too many failed sign-ins for this email; try again later or reset the password",
            headers={"Retry-After": str(settings.attempt_window_minutes * 60)},
        )  # fmt: skip
    account = await parts.store.account_by_email(email)
    person = await parts.store.person(account.id) if account else None
    if account is None or person is None:
        await parts.passwords.waste_time(body.password)
    elif await parts.passwords.matches(person.password_hash, body.password):
        return account
    await parts.store.note_failed_attempt(email)
    raise HTTPException(401, "the email or the password is wrong")


@router.post("/sessions", status_code=204)
async def open_session(body: SignIn, parts: Parts, response: Response) -> None:
    """Signs in for the pages: a session cookie (HttpOnly, SameSite=Strict, and Secure when
    the gateway is served over HTTPS)."""
    account = await _authenticate(parts, body)
    lifetime = timedelta(hours=parts.settings.session_hours)
    token = await parts.store.open_session(account, lifetime)
    response.set_cookie(
        SESSION_COOKIE, token, max_age=int(lifetime.total_seconds()), httponly=True,
        secure=parts.settings.secure_cookies, samesite="strict", path="/",
    )  # fmt: skip


@router.delete("/sessions/current", status_code=204)
async def close_session(request: Request, parts: Parts, response: Response) -> None:
    token = request.cookies.get(SESSION_COOKIE)
    if token:
        await parts.store.close_session(token)
    response.delete_cookie(SESSION_COOKIE, path="/")


@router.post("/tokens", status_code=201, response_model=TokenView)
async def open_token(body: SignIn, parts: Parts) -> TokenView:
    """Signs in for the API: a bearer token."""
    account = await _authenticate(parts, body)
    lifetime = timedelta(hours=parts.settings.token_hours)
    token = await parts.store.open_session(account, lifetime)
    return TokenView(token=token, expires_at=(parts.clock.now() + lifetime).isoformat())


@router.delete("/tokens/current", status_code=204)
async def close_token(request: Request, parts: Parts, me: Me) -> None:
    header = request.headers.get("authorization", "")
    if header.lower().startswith("bearer "):
        await parts.store.close_session(header[7:].strip())


@router.get("/me", response_model=AccountView)
async def who_am_i(parts: Parts, me: Me) -> AccountView:
    return await _view(parts, me)


@router.delete("/me", status_code=204)
async def delete_me(parts: Parts, me: Me, response: Response) -> None:
    """Deletes the account: personal details, sessions and notifications go; what it did
    stays in the history under its id, which no longer leads to a person."""
    await parts.store.delete(me, me.actor)
    await parts.notifier.forget(me.id)
    response.delete_cookie(SESSION_COOKIE, path="/")


@router.post("/password-resets", status_code=202)
async def request_password_reset(body: PasswordResetRequest, parts: Parts) -> dict[str, str]:
    """Sends a one-time link to the address if it has an account; the answer is the same
    either way."""
    email = normalised_email(body.email)
    account = await parts.store.account_by_email(email)
    if account is not None:
        minutes = parts.settings.reset_minutes
        token = await parts.store.issue_token(
            "reset", {"account_id": account.id}, timedelta(minutes=minutes)
        )
        await parts.notifier.notify(Notification(
            f"email:{email}", "password_reset",
            f"Reset your password within {minutes} minutes with this one-time link.",
            parts.clock.now(), f"{parts.settings.public_url}/reset#{token}",
        ))  # fmt: skip
    return {"status": "if the address has an account, a link is on its way"}


@router.post("/password-resets/{token}", status_code=204)
async def reset_password(token: str, body: NewPassword, parts: Parts) -> None:
    """Sets a new password with a one-time link; every open session of the account ends."""
    checked_password(body.password)
    payload = await parts.store.spend_token("reset", token)
    if payload is None:
        raise NotFound("this reset link is unknown, used or expired; ask for a new one")
    await parts.store.set_password(payload["account_id"], await parts.passwords.hash(body.password))
    await parts.store.revoke_sessions(payload["account_id"])


@router.post(
    "/organizations/{organization_id}/invitations", status_code=201,
    response_model=InvitationView,
)  # fmt: skip
async def invite(organization_id: str, body: InvitationIn, parts: Parts, me: Me) -> InvitationView:
    """An organisation's admin invites a colleague by email (a one-time link, 7 days)."""
    access.organization_admin(me, organization_id)
    email = normalised_email(body.email)
    lifetime = timedelta(days=parts.settings.invitation_days)
    token = await parts.store.issue_token(
        "invite", {"organization_id": organization_id, "role": body.role, "email": email},
        lifetime,
    )  # fmt: skip
    await parts.notifier.notify(Notification(
        f"email:{email}", "invitation", "You are invited to staff shifts on the marketplace.",
        parts.clock.now(), f"{parts.settings.public_url}/invitation#{token}",
    ))  # fmt: skip
    expires = parts.clock.now() + lifetime
    return InvitationView(email=email, role=body.role, expires_at=expires.isoformat())


@router.post("/invitations/{token}", status_code=201, response_model=SignUpView)
async def accept_invitation(token: str, body: InvitationAccept, parts: Parts) -> SignUpView:
    """The invited colleague signs up with the link; the account joins the organisation."""
    checked_password(body.password)
    checked_name(body.name)
    payload = await parts.store.peek_token("invite", token)
    if payload is None or await parts.store.spend_token("invite", token) is None:
        raise NotFound("this invitation is unknown, used or expired; ask for a new one")
    if payload["role"] not in (Role.FACILITY_ADMIN.value, Role.FACILITY_STAFF.value):
        raise InvalidArgument("role", "an invitation is for facility staff")
    account = Account(f"u-{uuid.uuid4().hex[:16]}", Role(payload["role"]),
                      payload["organization_id"])  # fmt: skip
    view = await _new_account(parts, account, body.name, payload["email"], body.password)
    return SignUpView(account=view, organization_id=account.organization_id)
