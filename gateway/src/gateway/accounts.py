"""Accounts and who they are: the people who sign in, their roles, and the rules for what they
give us at sign-up. Pure: no I/O."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from email_validator import EmailNotValidError, validate_email
from vsm_platform.actor import OPERATOR_ROLE, Actor, ActorKind
from vsm_rules.errors import InvalidArgument

PASSWORD_MIN = 12
PASSWORD_MAX = 256
NAME_MAX = 120


class Role(StrEnum):
    """What an account may do: run an organisation's facilities (an admin also invites staff),
    work shifts, or operate the marketplace."""

    FACILITY_ADMIN = "facility_admin"
    FACILITY_STAFF = "facility_staff"
    CLINICIAN = "clinician"
    OPERATOR = OPERATOR_ROLE

    @property
    def is_facility(self) -> bool:
        return self in (Role.FACILITY_ADMIN, Role.FACILITY_STAFF)


@dataclass(frozen=True, slots=True)
class Account:
    """A signed-up person. A clinician's account id is their clinician id in every service; a
    facility account belongs to one organisation. Personal details (email, name, password
    hash) are kept apart, so that deleting them leaves the history whole but anonymous."""

    id: str
    role: Role
    organization_id: str = ""
    deleted: bool = False

    @property
    def actor(self) -> Actor:
        """The account as the actor of inward calls and change rows."""
        return Actor(ActorKind.USER, self.id, self.organization_id, self.role.value)

    @property
    def is_clinician(self) -> bool:
        return self.role == Role.CLINICIAN

    @property
    def is_operator(self) -> bool:
        return self.role == Role.OPERATOR


@dataclass(frozen=True, slots=True)
class Person:
    """An account's personal details."""

    email: str
    name: str
    password_hash: str


def normalised_email(email: str, field: str = "email") -> str:
    """The address in one canonical spelling (domain lower-cased), or InvalidArgument."""
    try:
        checked = validate_email(email.strip(), check_deliverability=False)
    except EmailNotValidError as error:
        raise InvalidArgument(field, str(error)) from error
    return checked.normalized.lower()


def checked_password(password: str, field: str = "password") -> str:
    """A password long enough to resist guessing (length, not composition rules: NIST 800-63B)."""
    if len(password) < PASSWORD_MIN:
        raise InvalidArgument(field, f"must be at least {PASSWORD_MIN} characters")
    if len(password) > PASSWORD_MAX:
        raise InvalidArgument(field, f"must be at most {PASSWORD_MAX} characters")
    return password


def checked_name(name: str, field: str = "name") -> str:
    cleaned = " ".join(name.split())
    if not cleaned:
        raise InvalidArgument(field, "must not be empty")
    if len(cleaned) > NAME_MAX:
        raise InvalidArgument(field, f"must be at most {NAME_MAX} characters")
    return cleaned
