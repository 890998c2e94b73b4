"""The load of the fault test: a facility's shifts posted one by one, and clinicians answering
every offer they hear of, each call retried while the stack is down and counted.

A request is *acknowledged* when the service answered it with success; a call that failed with a
transient code (the service killed mid-call, the database or broker away) is retried with the
same idempotency key or offer id until it is answered. What came back is tallied per code."""

from __future__ import annotations

import asyncio
import random
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

import grpc
from aiokafka import AIOKafkaConsumer
from vsm.common.v1 import common_pb2
from vsm.matching.v1 import events_pb2 as mev
from vsm.matching.v1 import matching_service_pb2 as mpb
from vsm.scheduling.v1 import scheduling_service_pb2 as spb
from vsm_platform.envelope import from_record

T = TypeVar("T")
# Codes after which the request may or may not have had its effect: ask again, the same way.
TRANSIENT = frozenset({
    grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED, grpc.StatusCode.ABORTED,
    grpc.StatusCode.UNKNOWN, grpc.StatusCode.INTERNAL, grpc.StatusCode.CANCELLED,
})  # fmt: skip


@dataclass
class Tally:
    """Every answer the load got, by call and code, and what was acknowledged."""

    answers: Counter[str] = field(default_factory=Counter)
    posted: dict[str, str] = field(default_factory=dict)  # idempotency key → shift id
    accepted: dict[str, tuple[str, str]] = field(default_factory=dict)  # offer → shift, clinician
    declined: set[str] = field(default_factory=set)
    refused: dict[str, str] = field(default_factory=dict)  # offer → why (filled, withdrawn...)

    @property
    def requests(self) -> int:
        return sum(self.answers.values())


async def until_answered(
    tally: Tally, what: str, call: Callable[[], Awaitable[T]], give_up_at: float
) -> T:
    """Calls until the service answers other than with a transient code; that answer is
    returned (or raised). Gives up (TimeoutError) at `give_up_at` (loop time)."""
    loop = asyncio.get_running_loop()
    while True:
        try:
            answer = await call()
        except grpc.aio.AioRpcError as error:
            tally.answers[f"{what} {error.code().name}"] += 1
            if error.code() not in TRANSIENT:
                raise
            if loop.time() > give_up_at:
                raise TimeoutError(f"{what}: no answer before the deadline") from error
            await asyncio.sleep(0.3)
            continue
        tally.answers[f"{what} OK"] += 1
        return answer


async def post_all(
    scheduling: Any, postings: list[spb.PostShiftRequest], rate: float, tally: Tally,
    give_up_at: float, workers: int = 4,
) -> None:  # fmt: skip
    """Posts each shift, `rate` a second at most, `workers` at a time (one retried does not
    hold back the others)."""
    queue: asyncio.Queue[spb.PostShiftRequest] = asyncio.Queue()
    for posting in postings:
        queue.put_nowait(posting)
    pace = asyncio.Lock()

    async def worker() -> None:
        while not queue.empty():
            posting = queue.get_nowait()
            async with pace:
                await asyncio.sleep(1 / rate)
            answer = await until_answered(
                tally, "PostShift", lambda p=posting: scheduling.PostShift(p, timeout=10),
                give_up_at,
            )  # fmt: skip
            tally.posted[posting.idempotency_key] = answer.shift.shift_id

    await asyncio.gather(*(worker() for _ in range(workers)))


class Clinicians:
    """Each clinician answers every offer made to them once, after a short while: yes with
    probability `accept`, else no."""

    def __init__(self, matching: Any, tally: Tally, accept: float, seed: int) -> None:
        self._matching = matching
        self._tally = tally
        self._accept = accept
        self._rng = random.Random(seed)
        self.heard: set[str] = set()
        self.last_offer = time.monotonic()
        self._answering: set[asyncio.Task[None]] = set()

    @property
    def pending(self) -> int:
        return len(self._answering)

    async def follow(self, bootstrap: str, topic: str) -> None:
        """Hears of offers from the topic; reconnects (from the start, skipping what it heard)
        whenever the broker goes away."""
        while True:
            consumer = AIOKafkaConsumer(topic, bootstrap_servers=bootstrap, group_id=None,
                                        auto_offset_reset="earliest")  # fmt: skip
            try:
                await consumer.start()
                while True:
                    for records in (await consumer.getmany(timeout_ms=300)).values():
                        for record in records:
                            self._heard(record)
            except asyncio.CancelledError:
                raise
            except Exception:  # the broker went away: listen again once it is back
                await asyncio.sleep(1)
            finally:
                await consumer.stop()

    def _heard(self, record: Any) -> None:
        message = from_record(record.key, record.value, record.headers).message()
        if not isinstance(message, mev.OfferMade) or message.offer.offer_id in self.heard:
            return
        self.heard.add(message.offer.offer_id)
        self.last_offer = time.monotonic()
        task = asyncio.create_task(self._answer(message.offer))
        self._answering.add(task)
        task.add_done_callback(self._answering.discard)

    async def _answer(self, offer: Any) -> None:
        await asyncio.sleep(self._rng.uniform(0.1, 1.0))
        actor = common_pb2.Actor(kind=common_pb2.ACTOR_KIND_USER, id=offer.clinician_id,
                                 role="clinician")  # fmt: skip
        give_up_at = asyncio.get_running_loop().time() + 120
        try:
            if self._rng.random() < self._accept:
                request = mpb.AcceptOfferRequest(actor=actor, offer_id=offer.offer_id)
                await until_answered(self._tally, "AcceptOffer",
                                     lambda: self._matching.AcceptOffer(request, timeout=10),
                                     give_up_at)  # fmt: skip
                self._tally.accepted[offer.offer_id] = (offer.shift_id, offer.clinician_id)
            else:
                refusal = mpb.DeclineOfferRequest(actor=actor, offer_id=offer.offer_id,
                                                  reason="not this one")  # fmt: skip
                await until_answered(self._tally, "DeclineOffer",
                                     lambda: self._matching.DeclineOffer(refusal, timeout=10),
                                     give_up_at)  # fmt: skip
                self._tally.declined.add(offer.offer_id)
        except grpc.aio.AioRpcError as error:  # filled, withdrawn or taken meanwhile
            self._tally.refused[offer.offer_id] = f"{error.code().name}: {error.details()}"

    async def quiet(self, seconds: float, give_up_at: float) -> None:
        """Returns once every offer heard of is answered and none came for `seconds`."""
        loop = asyncio.get_running_loop()
        while loop.time() < give_up_at:
            if not self._answering and time.monotonic() - self.last_offer >= seconds:
                return
            await asyncio.sleep(0.5)
        raise TimeoutError(f"the market did not go quiet ({self.pending} answers pending)")
