"""Two licensing processes on the real MongoDB-protocol server and Kafka: both seed the compact
tables at once without harm; two writers of one record at once: one wins, the other gets a clear
conflict, nothing is lost; every change is announced on Kafka, keyed by clinician."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import grpc
import pytest
import pytest_asyncio
from aiokafka import AIOKafkaConsumer
from vsm.common.v1 import common_pb2
from vsm.licensing.v1 import events_pb2
from vsm.licensing.v1 import licensing_service_pb2 as pb
from vsm.licensing.v1 import licensing_service_pb2_grpc as pb_grpc
from vsm_infra.testing import free_port
from vsm_infra.topics import ensure_topics
from vsm_platform.grpc_server import channel, wait_serving
from vsm_platform.topics import LICENSING_EVENTS

pytestmark = pytest.mark.integration
CLINICIAN = common_pb2.Actor(kind=common_pb2.ACTOR_KIND_USER, id="u-c", role="clinician")
OPERATOR = common_pb2.Actor(kind=common_pb2.ACTOR_KIND_USER, id="u-op", role="operator")


@pytest.fixture
def processes(mongodb_uri: str, kafka_bootstrap: str, tmp_path: Path) -> Iterator[list[str]]:
    """Two licensing processes sharing one fresh database; their addresses."""
    database = f"test_licensing_{uuid.uuid4().hex[:10]}"
    started: list[subprocess.Popen[bytes]] = []
    addresses = []
    for n in range(2):
        address = f"127.0.0.1:{free_port()}"
        env = {
            **os.environ,
            "LICENSING_ADDR": address,
            "LICENSING_DATABASE": database,
            "MONGODB_URI": mongodb_uri,
            "KAFKA_BOOTSTRAP": kafka_bootstrap,
        }
        log = (tmp_path / f"licensing-{n}.log").open("wb")
        started.append(
            subprocess.Popen(
                [sys.executable, "-m", "licensing.main"], env=env, stdout=log, stderr=log
            )
        )
        addresses.append(address)
    try:
        yield addresses
    finally:
        for process in started:
            process.terminate()
        for process in started:
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()


async def _serving(address: str) -> None:
    if not await wait_serving(address):
        pytest.fail(f"nothing serves at {address}")


@pytest_asyncio.fixture
async def stubs(processes: list[str], kafka_bootstrap: str) -> AsyncIterator[list[Any]]:
    await ensure_topics(kafka_bootstrap, [LICENSING_EVENTS, LICENSING_EVENTS.dead_letter])
    await asyncio.gather(*(_serving(a) for a in processes))
    clients = [channel(a) for a in processes]
    try:
        yield [pb_grpc.LicensingServiceStub(c) for c in clients]
    finally:
        for c in clients:
            await c.close()


def _licence(n: int) -> pb.Licence:
    return pb.Licence(
        licence_id=f"l{n}",
        jurisdiction="US-TX",
        profession="RN",
        status=pb.STATUS_ACTIVE,
        expires="2027-01-31",
        number=str(n),
    )


async def test_two_processes_one_record_one_wins_the_other_conflicts_nothing_lost(
    stubs: list[Any], kafka_bootstrap: str
) -> None:
    clinician = f"c-{uuid.uuid4().hex[:8]}"
    first, second = stubs
    both = await asyncio.gather(*(stub.ListCompacts(pb.ListCompactsRequest()) for stub in stubs))
    assert {c.code for c in both[0].compacts} == {c.code for c in both[1].compacts}
    assert all(c.version == 1 for answer in both for c in answer.compacts)  # seeded once

    # version 1 first: expected_version 0 means "no check", so every round races on a version
    await first.SetResidence(
        pb.SetResidenceRequest(actor=CLINICIAN, clinician_id=clinician, residence="US-TX")
    )
    winners = []
    version = 1
    for round_ in range(5):
        attempts = await asyncio.gather(
            first.AddLicence(
                pb.AddLicenceRequest(
                    actor=CLINICIAN,
                    clinician_id=clinician,
                    licence=_licence(2 * round_),
                    expected_version=version,
                )
            ),
            second.AddLicence(
                pb.AddLicenceRequest(
                    actor=CLINICIAN,
                    clinician_id=clinician,
                    licence=_licence(2 * round_ + 1),
                    expected_version=version,
                )
            ),
            return_exceptions=True,
        )
        won = [a for a in attempts if not isinstance(a, BaseException)]
        lost = [a for a in attempts if isinstance(a, grpc.aio.AioRpcError)]
        assert len(won) == 1 and len(lost) == 1, attempts
        assert lost[0].code() == grpc.StatusCode.ABORTED
        assert "read it again" in (lost[0].details() or "")
        winners.append(won[0].record.licences[-1].licence_id)
        version = won[0].record.version

    for stub in stubs:  # both processes read the same record: every winner, nothing else
        record = (
            await stub.GetLicensingRecord(pb.GetLicensingRecordRequest(clinician_id=clinician))
        ).record
        assert [lic.licence_id for lic in record.licences] == winners
        assert record.version == 6

    announced = await _changes_of(kafka_bootstrap, clinician, expected=6)
    assert [e.record.version for e in announced] == [1, 2, 3, 4, 5, 6]
    assert [e.entry_id for e in announced[1:]] == winners


async def test_an_operators_compact_change_is_kept_served_by_both_and_announced(
    stubs: list[Any], kafka_bootstrap: str
) -> None:
    first, second = stubs
    table = {
        "id": "SOCIAL_WORK",
        "name": "Social Work Licensure Compact",
        "model": "multistate-licence",
        "professions": ["LCSW", "LMSW", "LBSW"],
        "members": {"US-MO": {"honours_from": "2026-01-01", "residents_from": None}},
    }
    source = f"commission notice {uuid.uuid4().hex[:6]}"
    changed = await first.ChangeCompactTable(
        pb.ChangeCompactTableRequest(
            actor=OPERATOR,
            table_json=json.dumps(table),
            source=source,
            expected_version=1,
        )
    )
    assert changed.compact.version == 2
    with pytest.raises(grpc.aio.AioRpcError) as stale:  # the other process read version 1
        await second.ChangeCompactTable(
            pb.ChangeCompactTableRequest(
                actor=OPERATOR,
                table_json=json.dumps(table),
                source=source,
                expected_version=1,
            )
        )
    assert stale.value.code() == grpc.StatusCode.ABORTED
    standing = await second.GetJurisdictionStanding(
        pb.GetJurisdictionStandingRequest(jurisdiction="US-MO")
    )
    social = next(s for s in standing.standings if s.compact == "SOCIAL_WORK")
    assert (social.member, social.honours_from) == (True, "2026-01-01")
    announced = await _compact_changes(kafka_bootstrap, source)
    assert [(e.compact, e.actor.id) for e in announced] == [("SOCIAL_WORK", "u-op")]


async def _compact_changes(bootstrap: str, source: str) -> list[events_pb2.CompactTableChanged]:
    def wanted(record: Any) -> bool:
        kind = dict(record.headers).get("ce_type", b"")
        return bool(kind.endswith(b"CompactTableChanged")) and (
            events_pb2.CompactTableChanged.FromString(record.value).source == source
        )

    records = await _licensing_events(bootstrap, wanted, 1)
    return [events_pb2.CompactTableChanged.FromString(r.value) for r in records]


async def _changes_of(
    bootstrap: str, clinician: str, expected: int
) -> list[events_pb2.LicensingRecordChanged]:
    records = await _licensing_events(bootstrap, lambda r: r.key == clinician.encode(), expected)
    events = [events_pb2.LicensingRecordChanged.FromString(r.value) for r in records]
    return sorted(events, key=lambda e: e.record.version)


async def _licensing_events(
    bootstrap: str, wanted: Callable[[Any], bool], expected: int, wait: float = 30.0
) -> list[Any]:
    """The records on the licensing topic that `wanted` picks, once each by event id (a
    republished event is a duplicate consumers drop), until `expected` came or `wait` ran out."""
    consumer = AIOKafkaConsumer(
        LICENSING_EVENTS.name, bootstrap_servers=bootstrap, group_id=None,
        auto_offset_reset="earliest",
    )  # fmt: skip
    await consumer.start()
    found: list[Any] = []
    seen: set[bytes] = set()
    try:
        deadline = asyncio.get_running_loop().time() + wait
        while len(found) < expected and asyncio.get_running_loop().time() < deadline:
            for records in (await consumer.getmany(timeout_ms=500)).values():
                for record in records:
                    event_id = dict(record.headers).get("ce_id", b"")
                    if wanted(record) and event_id not in seen:
                        seen.add(event_id)
                        found.append(record)
    finally:
        await consumer.stop()
    return found
