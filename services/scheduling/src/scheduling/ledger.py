"""The booking ledger: atomic without transactions and without updating a shared document.

Every state change is an insert of a unique `_id`; whoever inserts it first wins, and a
duplicate key means someone else did:

- a shift's position `n` is claimed by inserting `slot:<shift>:<n>:<g>` (generation `g`) and
  freed by inserting `slot:<shift>:<n>:<g>:free`; the next claim of that position is `g + 1`;
- a clinician's bookings are guarded by a lock `lock:<clinician>:<g>` whose generation is a
  fencing token: it expires, and taking over an expired lock inserts generation `g + 1`; it is
  let go by inserting `lock:<clinician>:<g>:free`;
- a booking is a chain of rows `booking:<shift>:<clinician>:<v>`: pending (v1) while it is being
  made, then one outcome (v2): confirmed, or expired when a sweeper found it never completed and
  freed its position; a later release or cancellation is v3;
- a clinician's schedule (what the rules check against) is a chain `schedule:<clinician>:<v>`,
  each row the whole list of confirmed bookings, written under the lock with its token.

All reads are `_id` lookups, so the same code holds on MongoDB and the embedded server.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from pymongo.errors import DuplicateKeyError
from vsm_platform.clock import Clock
from vsm_platform.mongo import Collection
from vsm_rules.errors import Conflict, FailedPrecondition
from vsm_rules.verdict import Verdict

LOCK_SECONDS = 30.0  # a lock not let go by then may be taken over (its holder died)
PENDING_SECONDS = 60.0  # a booking pending longer than this never completed

Interval = tuple[datetime, datetime]
Check = Callable[[list[Interval]], Awaitable[list[Verdict]]]


@dataclass(frozen=True, slots=True)
class Booked:
    """A confirmed booking as the ledger keeps it."""

    shift_id: str
    clinician_id: str
    start: datetime
    end: datetime
    slot: int
    generation: int

    def document(self) -> dict[str, Any]:
        return {"shift": self.shift_id, "clinician": self.clinician_id, "start": self.start,
                "end": self.end, "slot": self.slot, "generation": self.generation}  # fmt: skip

    @classmethod
    def of(cls, doc: dict[str, Any]) -> Booked:
        return cls(doc["shift"], doc["clinician"], doc["start"], doc["end"], doc["slot"],
                   doc["generation"])  # fmt: skip


class Refused(FailedPrecondition):
    """A booking a rule refuses, with every refusing verdict."""

    def __init__(self, verdicts: Sequence[Verdict]) -> None:
        super().__init__("; ".join(v.explain() for v in verdicts))
        self.verdicts = tuple(verdicts)


class Ledger:
    def __init__(
        self,
        rows: Collection,
        clock: Clock,
        owner: str,
        lock_seconds: float = LOCK_SECONDS,
        pending_seconds: float = PENDING_SECONDS,
    ) -> None:
        self._rows = rows
        self._clock = clock
        self._owner = owner  # who takes locks here (a process), for the record
        self._lock_seconds = lock_seconds
        self._pending_seconds = pending_seconds

    def now(self) -> datetime:
        return self._clock.now()

    # ------------------------------------------------------------ reading

    async def _exists(self, key: str) -> bool:
        return await self._rows.find_one({"_id": key}) is not None

    async def _last(self, prefix: str) -> int:
        """The highest generation `g` with a row `<prefix>:<g>`, or -1."""
        g = -1
        while await self._exists(f"{prefix}:{g + 1}"):
            g += 1
        return g

    async def schedule(self, clinician_id: str) -> tuple[int, list[Booked]]:
        """The clinician's confirmed bookings and the version of that list (-1: none yet)."""
        version = await self._last(f"schedule:{clinician_id}")
        if version < 0:
            return -1, []
        row = await self._rows.find_one({"_id": f"schedule:{clinician_id}:{version}"})
        assert row is not None
        return version, [Booked.of(b) for b in row["bookings"]]

    async def _held_slots(self, shift_id: str, positions: int) -> list[tuple[str, dict[str, Any]]]:
        """Each position of the shift held now (claimed, not freed): its slot key and row."""
        held = []
        for n in range(positions):
            g = await self._last(f"slot:{shift_id}:{n}")
            if g < 0 or await self._exists(f"slot:{shift_id}:{n}:{g}:free"):
                continue
            row = await self._rows.find_one({"_id": f"slot:{shift_id}:{n}:{g}"})
            assert row is not None
            held.append((f"slot:{shift_id}:{n}:{g}", row))
        return held

    async def holders(self, shift_id: str, positions: int) -> list[str]:
        """The clinicians holding each claimed position of a shift now."""
        return [row["clinician"] for _, row in await self._held_slots(shift_id, positions)]

    async def bookings_of(self, shift_id: str, positions: int) -> list[Booked]:
        """The confirmed bookings holding the shift's positions now (as confirmed: a booking
        moved by `retime` is read at its new times from the clinician's schedule)."""
        found = []
        for _, slot in await self._held_slots(shift_id, positions):
            key = f"booking:{shift_id}:{slot['clinician']}:{slot['attempt']}:outcome"
            outcome = await self._rows.find_one({"_id": key})
            if outcome is not None and outcome["status"] == "confirmed":
                found.append(Booked.of(outcome["booking"]))
        return found

    # ------------------------------------------------------------ inserting

    async def _insert(self, key: str, **fields: Any) -> bool:
        try:
            await self._rows.insert_one({"_id": key, **fields})
        except DuplicateKeyError:
            return False
        return True

    async def _take_lock(self, clinician_id: str) -> int:
        """The lock's next generation (a fencing token); Conflict while someone holds it."""
        now = self._clock.now()
        g = await self._last(f"lock:{clinician_id}")
        if g >= 0 and not await self._exists(f"lock:{clinician_id}:{g}:free"):
            row = await self._rows.find_one({"_id": f"lock:{clinician_id}:{g}"})
            assert row is not None
            if row["expires"] > now:
                raise Conflict(f"{clinician_id}'s bookings are being changed; try again")
        token = g + 1
        expires = now + timedelta(seconds=self._lock_seconds)
        if not await self._insert(f"lock:{clinician_id}:{token}", owner=self._owner,
                                  at=now, expires=expires):  # fmt: skip
            raise Conflict(f"{clinician_id}'s bookings are being changed; try again")
        return token

    async def _let_go(self, clinician_id: str, token: int) -> None:
        await self._insert(f"lock:{clinician_id}:{token}:free", at=self._clock.now())

    async def _claim_slot(
        self, shift_id: str, positions: int, clinician_id: str, attempt: int
    ) -> tuple[int, int] | None:
        """A free position of the shift, claimed: (position, generation); None when every
        position is held."""
        for n in range(positions):
            g = await self._last(f"slot:{shift_id}:{n}")
            if g >= 0 and not await self._exists(f"slot:{shift_id}:{n}:{g}:free"):
                continue  # held
            if await self._insert(f"slot:{shift_id}:{n}:{g + 1}", clinician=clinician_id,
                                  attempt=attempt, at=self._clock.now()):  # fmt: skip
                return n, g + 1
        return None

    # ------------------------------------------------------------ booking

    async def book(
        self,
        shift_id: str,
        clinician_id: str,
        interval: Interval,
        positions: int,
        check: Check,
    ) -> Booked:
        """Books the clinician on the shift if `check` (every hard rule, against the
        clinician's confirmed bookings as they stand under the lock) refuses nothing and a
        position is free. Conflict when the clinician's bookings are being changed elsewhere
        (retry), Refused with the verdicts, or FailedPrecondition when no position is free."""
        token = await self._take_lock(clinician_id)
        try:
            version, booked = await self.schedule(clinician_id)
            if any(b.shift_id == shift_id for b in booked):
                raise FailedPrecondition(f"{clinician_id} is already booked on {shift_id}")
            key = f"booking:{shift_id}:{clinician_id}"
            last = await self._last(key)
            interrupted = await self._interrupted(key, last, shift_id, positions)
            refusals = [v for v in await check([(b.start, b.end) for b in booked]) if not v.allowed]
            if refusals:
                if interrupted is not None:  # confirmed once, refused now: let its position go
                    await self._insert(f"{key}:{last}:released", at=self._clock.now(),
                                       reason="refused when its booking was completed")  # fmt: skip
                    await self._free(interrupted)
                raise Refused(refusals)
            if interrupted is not None:  # confirmed, but its process died before the schedule
                return await self._add_to_schedule(interrupted, booked, version, token, key, last)
            attempt = last + 1
            if not await self._insert(f"{key}:{attempt}", status="pending", at=self._clock.now(),
                                      token=token):  # fmt: skip
                raise Conflict(f"{clinician_id} is being booked on {shift_id} elsewhere")
            claimed = await self._claim_slot(shift_id, positions, clinician_id, attempt)
            if claimed is None:
                await self._insert(f"{key}:{attempt}:outcome", status="full", at=self._clock.now())
                raise FailedPrecondition(f"shift {shift_id} has no free position")
            made = Booked(shift_id, clinician_id, interval[0], interval[1], *claimed)
            if not await self._insert(f"{key}:{attempt}:outcome", status="confirmed",
                                      at=self._clock.now(), booking=made.document()):  # fmt: skip
                # the sweeper gave up on it first and freed the position
                raise Conflict(f"booking {shift_id} for {clinician_id} took too long; try again")
            return await self._add_to_schedule(made, booked, version, token, key, attempt)
        finally:
            await self._let_go(clinician_id, token)

    async def _add_to_schedule(
        self, made: Booked, booked: list[Booked], version: int, token: int, key: str,
        attempt: int,
    ) -> Booked:  # fmt: skip
        """Writes the clinician's schedule with `made` added: the booking's last step."""
        if not await self._insert(
            f"schedule:{made.clinician_id}:{version + 1}",
            token=token,
            at=self._clock.now(),
            bookings=[b.document() for b in [*booked, made]],
        ):  # a lock taken over while we were slow: the holder's token is newer
            won = await self._rows.find_one({"_id": f"schedule:{made.clinician_id}:{version + 1}"})
            if won is not None and made.document() in won["bookings"]:
                return made  # the one who took over completed this very booking
            await self._insert(f"{key}:{attempt}:released", at=self._clock.now(),
                               reason="the clinician's bookings changed meanwhile")  # fmt: skip
            await self._free(made)
            raise Conflict(f"{made.clinician_id}'s bookings changed meanwhile; try again")
        return made

    async def _interrupted(
        self, key: str, attempt: int, shift_id: str, positions: int
    ) -> Booked | None:
        """The clinician's last attempt at this shift, when its process died before finishing
        it (we hold the clinician's lock, so no one is finishing it now). Confirmed but not in
        the schedule: returned, to be completed. Still pending: ended as expired, its position
        freed at once rather than by the sweeper a minute later."""
        if attempt < 0 or await self._exists(f"{key}:{attempt}:released"):
            return None
        outcome = await self._rows.find_one({"_id": f"{key}:{attempt}:outcome"})
        if outcome is not None:
            if outcome["status"] != "confirmed":
                return None
            made = Booked.of(outcome["booking"])
            held = f"slot:{made.shift_id}:{made.slot}:{made.generation}"
            return None if await self._exists(f"{held}:free") else made
        if await self._insert(f"{key}:{attempt}:outcome", status="expired", at=self._clock.now()):
            clinician = key.rsplit(":", 1)[1]
            for slot_key, slot in await self._held_slots(shift_id, positions):
                if (slot["clinician"], slot["attempt"]) == (clinician, attempt):
                    await self._insert(f"{slot_key}:free", at=self._clock.now())
            return None
        return await self._interrupted(key, attempt, shift_id, positions)  # confirmed meanwhile

    async def release(self, shift_id: str, clinician_id: str) -> Booked:
        """Takes the clinician off the shift and frees the position, under the clinician's lock;
        NotFound-like FailedPrecondition when not booked on it."""
        token = await self._take_lock(clinician_id)
        try:
            version, booked = await self.schedule(clinician_id)
            held = next((b for b in booked if b.shift_id == shift_id), None)
            if held is None:
                raise FailedPrecondition(f"{clinician_id} is not booked on {shift_id}")
            if not await self._insert(
                f"schedule:{clinician_id}:{version + 1}",
                token=token,
                at=self._clock.now(),
                bookings=[b.document() for b in booked if b is not held],
            ):
                raise Conflict(f"{clinician_id}'s bookings changed meanwhile; try again")
            await self._free(held)
            return held
        finally:
            await self._let_go(clinician_id, token)

    async def retime(self, shift_id: str, clinician_id: str, interval: Interval) -> Booked:
        """The clinician's booking of a shift whose times changed, moved to `interval` (what the
        rules check later bookings against), under the clinician's lock."""
        token = await self._take_lock(clinician_id)
        try:
            version, booked = await self.schedule(clinician_id)
            held = next((b for b in booked if b.shift_id == shift_id), None)
            if held is None:
                raise FailedPrecondition(f"{clinician_id} is not booked on {shift_id}")
            moved = replace(held, start=interval[0], end=interval[1])
            if not await self._insert(
                f"schedule:{clinician_id}:{version + 1}",
                token=token,
                at=self._clock.now(),
                bookings=[(moved if b is held else b).document() for b in booked],
            ):
                raise Conflict(f"{clinician_id}'s bookings changed meanwhile; try again")
            return moved
        finally:
            await self._let_go(clinician_id, token)

    async def _free(self, booked: Booked) -> None:
        await self._insert(f"slot:{booked.shift_id}:{booked.slot}:{booked.generation}:free",
                           at=self._clock.now())  # fmt: skip

    # ------------------------------------------------------------ the sweeper

    async def sweep_shift(self, shift_id: str, positions: int) -> int:
        """Frees each position of the shift held by a booking that stayed pending longer than
        the pending time (its process died mid-booking); returns how many it freed. A booking
        that completes at the same moment and the sweeper race on one outcome row: one wins."""
        freed = 0
        now = self._clock.now()
        for slot_key, slot in await self._held_slots(shift_id, positions):
            key = f"booking:{shift_id}:{slot['clinician']}:{slot['attempt']}"
            pending = await self._rows.find_one({"_id": key})
            if pending is None or now - pending["at"] < timedelta(seconds=self._pending_seconds):
                continue
            if await self._insert(f"{key}:outcome", status="expired", at=now):
                await self._insert(f"{slot_key}:free", at=now)
                freed += 1
        return freed

    async def sweep_all(self) -> int:
        """`sweep_shift` for every shift with a claimed position: one scan of the ledger's rows
        (the periodic sweeper's read, not a hot one), then `_id` lookups."""
        positions: dict[str, int] = {}
        async for row in self._rows.find({}, {"_id": 1}):
            parts = str(row["_id"]).split(":")
            if parts[0] == "slot" and len(parts) == 4:
                shift_id, n = parts[1], int(parts[2])
                positions[shift_id] = max(positions.get(shift_id, 0), n + 1)
        freed = 0
        for shift_id, count in positions.items():
            freed += await self.sweep_shift(shift_id, count)
        return freed
