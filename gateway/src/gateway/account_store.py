"""Accounts, sessions, sign-in attempts and one-time tokens in MongoDB, by inserts and `_id`
reads only.

- An account's facts are change rows `account:<id>` (created, deleted): its history.
- Its personal details are one document in `people`, deleted with the account.
- Claims are rows whose `_id` is the thing claimed: `email:<address>` (one account per
  address), `session:<hash>`, `used:<hash>` (a one-time token spent), `attempt:<who>:<time>:<n>`
  (a failed sign-in, counted by an `_id` range, never a counter the server could lose).
Tokens are random; only their SHA-256 is stored, so a copy of the database opens no session.
"""

from __future__ import annotations

import contextlib
import hashlib
import secrets
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from pymongo.errors import DuplicateKeyError
from vsm_platform.actor import Actor
from vsm_platform.changes import ChangeLog
from vsm_platform.clock import Clock
from vsm_platform.mongo import Collection, insert_unique, prefixed, sortable
from vsm_rules.errors import Conflict

from gateway.accounts import Account, Person, Role

ORPHAN_CLAIM_SECONDS = 60


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_token() -> str:
    return secrets.token_urlsafe(32)


@dataclass(frozen=True, slots=True)
class Session:
    account: Account
    expires_at: datetime


class AccountStore:
    def __init__(
        self, changes: ChangeLog, people: Collection, rows: Collection, clock: Clock
    ) -> None:
        self._changes = changes
        self._people = people
        self._rows = rows
        self._clock = clock

    # accounts

    async def create(self, account: Account, person: Person, actor: Actor) -> None:
        """Claims the email, keeps the person, records the account; Conflict if the email has
        an account (a claim left by a sign-up that died half way is taken over)."""
        claim = {"_id": f"email:{person.email}", "account_id": account.id, "at": self._clock.now()}
        if not await insert_unique(self._rows, claim):
            held = await self._rows.find_one({"_id": claim["_id"]})
            orphan = (
                held is not None
                and held.get("account_id") is not None
                and await self.account(held["account_id"]) is None
                and self._clock.now() - _aware(held["at"]) > timedelta(seconds=ORPHAN_CLAIM_SECONDS)
            )
            if not orphan:
                raise Conflict("email: an account with this email exists; sign in instead")
            assert held is not None
            await self._rows.delete_one({"_id": claim["_id"], "account_id": held["account_id"]})
            if not await insert_unique(self._rows, claim):
                raise Conflict("email: an account with this email exists; sign in instead")
        await self._people.replace_one(
            {"_id": account.id},
            {"_id": account.id, "email": person.email, "name": person.name,
             "password_hash": person.password_hash},
            upsert=True,
        )  # fmt: skip
        await self._changes.append(
            f"account:{account.id}", 1,
            change={"op": "created", "role": account.role.value, "org": account.organization_id},
            actor=actor,
        )  # fmt: skip

    async def account(self, account_id: str) -> Account | None:
        first = await self._changes.get(f"account:{account_id}", 1)
        if first is None:
            return None
        deleted = await self._changes.get(f"account:{account_id}", 2) is not None
        return Account(account_id, Role(first.change["role"]), first.change["org"], deleted)

    async def person(self, account_id: str) -> Person | None:
        doc = await self._people.find_one({"_id": account_id})
        if doc is None:
            return None
        return Person(doc["email"], doc["name"], doc["password_hash"])

    async def account_by_email(self, email: str) -> Account | None:
        claim = await self._rows.find_one({"_id": f"email:{email}"})
        if claim is None:
            return None
        account = await self.account(claim["account_id"])
        return account if account is not None and not account.deleted else None

    async def set_password(self, account_id: str, password_hash: str) -> None:
        person = await self.person(account_id)
        if person is None:
            return
        await self._people.replace_one(
            {"_id": account_id},
            {"_id": account_id, "email": person.email, "name": person.name,
             "password_hash": password_hash},
        )  # fmt: skip

    async def delete(self, account: Account, actor: Actor) -> None:
        """Ends the account: its sessions go, its personal details go, its email is free again;
        its id stays in the history of everything it did, no longer linked to a person."""
        person = await self.person(account.id)
        with contextlib.suppress(Conflict):  # deleted already: finish what that one left
            await self._changes.append(
                f"account:{account.id}", 2, change={"op": "deleted"}, actor=actor
            )
        await self.revoke_sessions(account.id)
        kept = await self._rows.find_one({"_id": f"calendar-link:{account.id}"})
        if kept is not None:
            await self._rows.delete_one({"_id": f"calendar:{token_hash(kept['token'])}"})
            await self._rows.delete_one({"_id": kept["_id"]})
        if person is not None:
            await self._rows.delete_one({"_id": f"email:{person.email}"})
        await self._people.delete_one({"_id": account.id})

    # sessions

    async def open_session(self, account: Account, lifetime: timedelta) -> str:
        token = new_token()
        digest = token_hash(token)
        expires = self._clock.now() + lifetime
        await self._rows.insert_one(
            {"_id": f"session:{digest}", "account_id": account.id, "role": account.role.value,
             "org": account.organization_id, "expires_at": expires}
        )  # fmt: skip
        await self._rows.insert_one(
            {"_id": f"account-session:{account.id}:{digest}", "expires_at": expires}
        )
        return token

    async def session(self, token: str) -> Session | None:
        doc = await self._rows.find_one({"_id": f"session:{token_hash(token)}"})
        if doc is None or _aware(doc["expires_at"]) <= self._clock.now():
            return None
        account = Account(doc["account_id"], Role(doc["role"]), doc["org"])
        return Session(account, _aware(doc["expires_at"]))

    async def close_session(self, token: str) -> None:
        digest = token_hash(token)
        doc = await self._rows.find_one({"_id": f"session:{digest}"})
        await self._rows.delete_one({"_id": f"session:{digest}"})
        if doc is not None:
            await self._rows.delete_one({"_id": f"account-session:{doc['account_id']}:{digest}"})

    async def revoke_sessions(self, account_id: str) -> int:
        query = prefixed(f"account-session:{account_id}:")
        listed = [doc["_id"] async for doc in self._rows.find(query, {"_id": 1})]
        for listing in listed:
            await self._rows.delete_one({"_id": f"session:{listing.rsplit(':', 1)[1]}"})
            await self._rows.delete_one({"_id": listing})
        return len(listed)

    # sign-in attempts

    async def note_failed_attempt(self, who: str) -> None:
        now = self._clock.now()
        await self._rows.insert_one(
            {"_id": f"attempt:{_who(who)}:{sortable(now)}:{uuid.uuid4().hex[:8]}", "at": now}
        )

    async def failed_attempts_since(self, who: str, since: datetime) -> int:
        prefix = f"attempt:{_who(who)}:"
        query = {"_id": {"$gte": prefix + sortable(since), "$lt": prefix + "\uffff"}}
        return len([doc async for doc in self._rows.find(query, {"_id": 1})])

    # one-time tokens (invitations, password resets)

    async def issue_token(self, kind: str, payload: dict[str, Any], lifetime: timedelta) -> str:
        token = new_token()
        await self._rows.insert_one(
            {"_id": f"{kind}:{token_hash(token)}", "payload": payload,
             "expires_at": self._clock.now() + lifetime}
        )  # fmt: skip
        return token

    async def peek_token(self, kind: str, token: str) -> dict[str, Any] | None:
        """The payload of a live, unspent token; None otherwise."""
        digest = token_hash(token)
        doc = await self._rows.find_one({"_id": f"{kind}:{digest}"})
        if doc is None or _aware(doc["expires_at"]) <= self._clock.now():
            return None
        if await self._rows.find_one({"_id": f"used:{digest}"}) is not None:
            return None
        payload: dict[str, Any] = doc["payload"]
        return payload

    async def spend_token(self, kind: str, token: str) -> dict[str, Any] | None:
        """Spends a token once: the one caller whose insert of `used:<hash>` lands gets the
        payload; every other (or a late one) gets None."""
        payload = await self.peek_token(kind, token)
        if payload is None:
            return None
        try:
            await self._rows.insert_one(
                {"_id": f"used:{token_hash(token)}", "at": self._clock.now()}
            )
        except DuplicateKeyError:
            return None
        return payload

    # calendar links

    async def calendar_token(self, clinician_id: str) -> str:
        """The clinician's private calendar token, made on first use (the link must stay the
        same, so it is kept; it grants reading one schedule and nothing else)."""
        kept = await self._rows.find_one({"_id": f"calendar-link:{clinician_id}"})
        if kept is not None:
            token: str = kept["token"]
            return token
        token = new_token()
        await self._rows.insert_one(
            {"_id": f"calendar:{token_hash(token)}", "clinician_id": clinician_id}
        )
        if not await insert_unique(
            self._rows, {"_id": f"calendar-link:{clinician_id}", "token": token}
        ):
            return await self.calendar_token(clinician_id)  # a concurrent first use won
        return token

    async def calendar_owner(self, token: str) -> str | None:
        doc = await self._rows.find_one({"_id": f"calendar:{token_hash(token)}"})
        return None if doc is None else str(doc["clinician_id"])

    # retention

    async def sweep(self, attempts_kept: timedelta) -> dict[str, int]:
        """Deletes expired sessions and tokens and attempts older than `attempts_kept`."""
        now = self._clock.now()
        swept = {"sessions": 0, "tokens": 0, "attempts": 0}
        for prefix, tally in (("session:", "sessions"), ("account-session:", "sessions"),
                              ("invite:", "tokens"), ("reset:", "tokens")):  # fmt: skip
            async for doc in self._rows.find(prefixed(prefix)):
                if _aware(doc["expires_at"]) <= now:
                    await self._rows.delete_one({"_id": doc["_id"]})
                    swept[tally] += prefix == "session:" or tally == "tokens"
        async for doc in self._rows.find(prefixed("attempt:")):
            if now - _aware(doc["at"]) > attempts_kept:
                await self._rows.delete_one({"_id": doc["_id"]})
                swept["attempts"] += 1
        return swept


def _who(email: str) -> str:
    return hashlib.sha256(email.encode()).hexdigest()[:32]


def _aware(value: datetime) -> datetime:
    """Stored instants come back aware (the client is tz_aware); kept explicit for safety."""
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)
