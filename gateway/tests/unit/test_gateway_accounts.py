"""Accounts, their rules and their store over in-memory rows: sign-up input, who may reach
what, sessions, one-time tokens spent once, failed sign-ins counted, deletion forgetting the
person but not the history."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from gateway.account_store import AccountStore
from gateway.accounts import Account, Person, Role, checked_password, normalised_email
from gateway.passwords import fast_passwords
from vsm_platform.changes import ChangeLog
from vsm_platform.clock import ManualClock
from vsm_platform.testing import MemoryCollection
from vsm_rules.errors import Conflict, InvalidArgument, NotFound, PermissionDenied

from gateway import access

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
ADMIN_A = Account("u-a", Role.FACILITY_ADMIN, "org-a")
STAFF_A = Account("u-a2", Role.FACILITY_STAFF, "org-a")
ADMIN_B = Account("u-b", Role.FACILITY_ADMIN, "org-b")
NURSE = Account("c-1", Role.CLINICIAN)
OPERATOR = Account("op-1", Role.OPERATOR)


def _store(clock: Any) -> tuple[AccountStore, MemoryCollection, MemoryCollection]:
    people, rows = MemoryCollection(), MemoryCollection()
    changes = ChangeLog(MemoryCollection(), source="gateway", clock=clock)  # type: ignore[arg-type]
    return AccountStore(changes, people, rows, clock), people, rows  # type: ignore[arg-type]


def test_emails_are_normalised_and_bad_ones_named() -> None:
    assert normalised_email("  Nurse@Clinic.EXAMPLE ") == "nurse@clinic.example"
    with pytest.raises(InvalidArgument) as refused:
        normalised_email("not an address")
    assert refused.value.field == "email"


def test_passwords_need_length_not_composition() -> None:
    assert checked_password("correct horse battery") == "correct horse battery"
    with pytest.raises(InvalidArgument, match="at least 12"):
        checked_password("Sh0rt!")


def test_a_facility_is_in_reach_of_its_organisation_and_operators_only() -> None:
    access.facility_in_reach(STAFF_A, "f1", "org-a")
    access.facility_in_reach(OPERATOR, "f1", "org-a")
    for outsider in (ADMIN_B, NURSE):
        with pytest.raises(NotFound):
            access.facility_in_reach(outsider, "f1", "org-a")


def test_only_an_admin_of_the_organisation_invites() -> None:
    access.organization_admin(ADMIN_A, "org-a")
    with pytest.raises(PermissionDenied):
        access.organization_admin(STAFF_A, "org-a")
    with pytest.raises(NotFound):
        access.organization_admin(ADMIN_B, "org-a")


def test_a_clinician_reaches_only_themselves() -> None:
    access.clinician_in_reach(NURSE, "c-1")
    with pytest.raises(NotFound):
        access.clinician_in_reach(NURSE, "c-2")
    with pytest.raises(PermissionDenied):
        access.clinician_role(ADMIN_A)


async def test_one_account_per_email_and_sessions_open_and_close() -> None:
    clock = ManualClock(NOW)
    store, _, _ = _store(clock)
    person = Person("n@x.example", "Nurse", "hash")
    await store.create(NURSE, person, NURSE.actor)
    with pytest.raises(Conflict, match="email"):
        await store.create(Account("c-2", Role.CLINICIAN), person, NURSE.actor)
    assert await store.account_by_email("n@x.example") == NURSE
    token = await store.open_session(NURSE, timedelta(hours=1))
    session = await store.session(token)
    assert session is not None and session.account == NURSE
    await clock.advance(timedelta(hours=2))
    assert await store.session(token) is None  # expired
    fresh = await store.open_session(NURSE, timedelta(hours=1))
    await store.close_session(fresh)
    assert await store.session(fresh) is None


async def test_a_one_time_token_is_spent_by_exactly_one_of_many() -> None:
    store, _, _ = _store(ManualClock(NOW))
    token = await store.issue_token("reset", {"account_id": "c-1"}, timedelta(minutes=60))
    spent = await asyncio.gather(*(store.spend_token("reset", token) for _ in range(10)))
    assert [s for s in spent if s is not None] == [{"account_id": "c-1"}]
    assert await store.spend_token("reset", "made-up") is None


async def test_failed_sign_ins_are_counted_by_inserted_rows_within_the_window() -> None:
    clock = ManualClock(NOW)
    store, _, _ = _store(clock)
    for _ in range(3):
        await store.note_failed_attempt("n@x.example")
    assert await store.failed_attempts_since("n@x.example", NOW - timedelta(minutes=15)) == 3
    assert await store.failed_attempts_since("other@x.example", NOW - timedelta(minutes=15)) == 0
    await clock.advance(timedelta(minutes=20))
    window = clock.now() - timedelta(minutes=15)
    assert await store.failed_attempts_since("n@x.example", window) == 0
    assert (await store.sweep(timedelta(minutes=10)))["attempts"] == 3


async def test_deleting_an_account_forgets_the_person_and_frees_the_email() -> None:
    store, people, rows = _store(ManualClock(NOW))
    await store.create(NURSE, Person("n@x.example", "Nurse", "hash"), NURSE.actor)
    token = await store.open_session(NURSE, timedelta(hours=1))
    await store.calendar_token(NURSE.id)
    await store.delete(NURSE, NURSE.actor)
    assert await store.person(NURSE.id) is None and people.documents == {}
    assert await store.session(token) is None
    assert await store.account_by_email("n@x.example") is None
    account = await store.account(NURSE.id)
    assert account is not None and account.deleted  # the history still knows the id
    assert not [k for k in rows.documents if "n@x.example" in k or k.startswith("calendar")]
    await store.create(Account("c-9", Role.CLINICIAN), Person("n@x.example", "N", "h"), NURSE.actor)


async def test_passwords_hash_and_check() -> None:
    passwords = fast_passwords()
    hashed = await passwords.hash("correct horse battery")
    assert hashed.startswith("$argon2id$")
    assert await passwords.matches(hashed, "correct horse battery")
    assert not await passwords.matches(hashed, "wrong horse battery")
    assert not await passwords.matches("not a hash", "x")
