"""Password hashing with argon2id (argon2-cffi's recommended parameters), behind one small
class so the account rules never see the algorithm."""

from __future__ import annotations

import asyncio

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError


class Passwords:
    """Hashes and checks passwords off the event loop (a hash takes tens of milliseconds)."""

    def __init__(self, hasher: PasswordHasher | None = None) -> None:
        self._hasher = hasher or PasswordHasher()

    async def hash(self, password: str) -> str:
        return await asyncio.to_thread(self._hasher.hash, password)

    async def matches(self, password_hash: str, password: str) -> bool:
        def check() -> bool:
            try:
                return self._hasher.verify(password_hash, password)
            except (VerificationError, InvalidHashError):
                return False

        return await asyncio.to_thread(check)

    async def waste_time(self, password: str) -> None:
        """As long as a check, for an unknown email: the answer's timing tells nothing."""
        await self.hash(password)


def fast_passwords() -> Passwords:
    """Cheap parameters for tests only."""
    return Passwords(PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))
