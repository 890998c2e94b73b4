"""Ports and settings, the injectable clock, and the actor convention."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from gateway.config import Settings as GatewaySettings
from licensing.config import Settings as LicensingSettings
from matching.config import Settings as MatchingSettings
from scheduling.config import Settings as SchedulingSettings
from vsm.common.v1 import common_pb2
from vsm_platform.actor import Actor, ActorKind
from vsm_platform.clock import ManualClock
from vsm_platform.settings import MAX_GRPC_MESSAGE_BYTES, PlatformSettings
from vsm_rules.errors import InvalidArgument

ADDRESS_VARIABLES = (
    "LICENSING_ADDR", "SCHEDULING_ADDR", "MATCHING_ADDR", "PARTNER_ADDR", "GATEWAY_ADDR",
    "KAFKA_BOOTSTRAP", "MONGODB_URI",
)  # fmt: skip


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ADDRESS_VARIABLES:
        monkeypatch.delenv(name, raising=False)


def test_default_ports_are_those_of_the_readme_table() -> None:
    settings = PlatformSettings()
    assert settings.licensing_addr == "127.0.0.1:50051"
    assert settings.scheduling_addr == "127.0.0.1:50052"
    assert settings.matching_addr == "127.0.0.1:50053"
    assert settings.partner_addr == "127.0.0.1:50054"
    assert settings.gateway_addr == "127.0.0.1:8000"
    assert settings.kafka_bootstrap == "127.0.0.1:9092"
    assert settings.mongodb_uri == "mongodb://127.0.0.1:27017/"
    assert LicensingSettings().listen_addr == "127.0.0.1:50051"
    assert SchedulingSettings().listen_addr == "127.0.0.1:50052"
    assert MatchingSettings().listen_addr == "127.0.0.1:50053"
    assert GatewaySettings().http_port == 8000


def test_each_address_moves_for_every_process_and_prefixed_fields_stay_with_theirs(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("LICENSING_ADDR", "127.0.0.1:6001")
    monkeypatch.setenv("KAFKA_BOOTSTRAP", "broker:19092")
    monkeypatch.setenv("MONGODB_URI", "mongodb://db:27018/")
    monkeypatch.setenv("LICENSING_DATABASE", "elsewhere")
    licensing, matching = LicensingSettings(), MatchingSettings()
    assert licensing.listen_addr == "127.0.0.1:6001"
    assert matching.licensing_addr == "127.0.0.1:6001"  # callers find it there too
    assert licensing.kafka_bootstrap == matching.kafka_bootstrap == "broker:19092"
    assert licensing.mongodb_uri == "mongodb://db:27018/"
    assert licensing.database == "elsewhere"
    assert matching.database == "vsm_matching"


def test_grpc_messages_may_carry_a_20000_shift_instance() -> None:
    assert MAX_GRPC_MESSAGE_BYTES >= 10 * 1024 * 1024 * 4


async def test_a_fortnight_of_hourly_sweeps_runs_in_moments_on_the_manual_clock() -> None:
    start = datetime(2026, 3, 1, tzinfo=UTC)
    clock = ManualClock(start)
    swept: list[datetime] = []

    async def hourly_sweep() -> None:
        while True:
            await clock.sleep(3600)
            swept.append(clock.now())

    task = asyncio.create_task(hourly_sweep())
    await asyncio.sleep(0)
    await clock.advance(timedelta(days=14))
    task.cancel()
    assert len(swept) == 14 * 24
    assert swept[0] == start + timedelta(hours=1)
    assert swept[-1] == start + timedelta(days=14)
    assert clock.now() == start + timedelta(days=14)


def test_a_manual_clock_needs_an_aware_start() -> None:
    with pytest.raises(ValueError):
        ManualClock(datetime(2026, 3, 1))


def test_an_actor_round_trips_through_proto_and_document() -> None:
    actor = Actor(ActorKind.PARTNER, "vms-1", organization_id="org-9", role="partner")
    assert Actor.from_proto(actor.to_proto()) == actor
    assert Actor.from_document(actor.to_document()) == actor
    assert Actor.service("matching").kind is ActorKind.SERVICE


def test_a_request_without_an_actor_kind_or_id_is_refused_naming_the_field() -> None:
    with pytest.raises(InvalidArgument) as missing_kind:
        Actor.from_proto(common_pb2.Actor(id="u1"))
    assert missing_kind.value.field == "actor.kind"
    with pytest.raises(InvalidArgument) as missing_id:
        Actor.from_proto(common_pb2.Actor(kind=common_pb2.ACTOR_KIND_USER, id=" "))
    assert missing_id.value.field == "actor.id"


def test_log_lines_are_json_with_the_current_trace_and_span_ids() -> None:
    import json
    import logging

    from opentelemetry import trace
    from vsm_platform.logs import JsonFormatter

    formatter = JsonFormatter("licensing")
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "licence %s added", ("L1",), None)
    with trace.get_tracer("tests").start_as_current_span("work") as span:
        line = json.loads(formatter.format(record))
        context = span.get_span_context()
    assert line["message"] == "licence L1 added"
    assert line["service"] == "licensing"
    assert line["trace_id"] == f"{context.trace_id:032x}"
    assert line["span_id"] == f"{context.span_id:016x}"
