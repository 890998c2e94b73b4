"""The shared values of the contracts (`vsm.common.v1`) read into Python ones, one way for every
service: a missing or backwards field is InvalidArgument naming it."""

from __future__ import annotations

from datetime import UTC, datetime

from google.protobuf.timestamp_pb2 import Timestamp
from vsm.common.v1 import common_pb2
from vsm_rules.errors import InvalidArgument


def instant_from_proto(stamp: Timestamp, field: str) -> datetime:
    """A set timestamp as an aware UTC datetime."""
    if stamp.seconds == 0 and stamp.nanos == 0:
        raise InvalidArgument(field, "missing")
    return stamp.ToDatetime(tzinfo=UTC)


def interval_from_proto(message: common_pb2.Interval, field: str) -> tuple[datetime, datetime]:
    """An interval whose end comes after its start."""
    start = instant_from_proto(message.start, f"{field}.start")
    end = instant_from_proto(message.end, f"{field}.end")
    if end <= start:
        raise InvalidArgument(f"{field}.end", "must be after the start")
    return start, end


__all__ = ["instant_from_proto", "interval_from_proto"]
