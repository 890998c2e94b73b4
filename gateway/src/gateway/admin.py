"""Operator accounts are made by hand, never by sign-up:

    VSM_OPERATOR_PASSWORD=... python -m gateway.admin add-operator EMAIL NAME

It writes to the gateway's database (MONGODB_URI, GATEWAY_DATABASE) and prints the account id;
an address that has an account already is refused."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import uuid

from vsm_platform.actor import Actor
from vsm_platform.changes import ChangeLog
from vsm_platform.clock import SystemClock
from vsm_platform.mongo import connect
from vsm_rules.errors import DomainError

from gateway.account_store import AccountStore
from gateway.accounts import Account, Person, Role, checked_name, checked_password, normalised_email
from gateway.config import Settings
from gateway.passwords import Passwords


async def add_operator(settings: Settings, email: str, name: str, password: str) -> str:
    clock = SystemClock()
    client = connect(settings.mongodb_uri)
    try:
        db = client[settings.database]
        store = AccountStore(ChangeLog(db["changes"], source="gateway", clock=clock),
                             db["people"], db["rows"], clock)  # fmt: skip
        account = Account(f"op-{uuid.uuid4().hex[:12]}", Role.OPERATOR)
        person = Person(normalised_email(email), checked_name(name),
                        await Passwords().hash(checked_password(password)))  # fmt: skip
        await store.create(account, person, Actor.service("gateway-admin"))
        return account.id
    finally:
        await client.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m gateway.admin")
    commands = parser.add_subparsers(dest="command", required=True)
    add = commands.add_parser("add-operator", help="make an operator account")
    add.add_argument("email")
    add.add_argument("name")
    args = parser.parse_args(argv)
    password = os.environ.get("VSM_OPERATOR_PASSWORD", "")
    try:
        account_id = asyncio.run(add_operator(Settings(), args.email, args.name, password))
    except DomainError as error:
        print(f"refused: {error.message}", file=sys.stderr)
        return 2
    print(account_id)
    return 0


if __name__ == "__main__":
    sys.exit(main())
