"""The shared values of the contracts (`vsm.common.v1`) read into Python ones, one way for every
service: a missing, impossible or backwards field is InvalidArgument naming it."""

from __future__ import annotations

from datetime import UTC, datetime

from google.protobuf.descriptor import FieldDescriptor
from google.protobuf.message import Message
from google.protobuf.timestamp_pb2 import Timestamp
from vsm.common.v1 import common_pb2
from vsm_rules.errors import InvalidArgument


def instant_from_proto(stamp: Timestamp, field: str) -> datetime:
    """A set timestamp as an aware UTC datetime."""
    if stamp.seconds == 0 and stamp.nanos == 0:
        raise InvalidArgument(field, "missing")
    try:
        return stamp.ToDatetime(tzinfo=UTC)
    except (ValueError, OverflowError):  # seconds beyond years 1 to 9999, nanos beyond a second
        raise InvalidArgument(
            field, f"not an instant of years 1 to 9999 ({stamp.seconds} s, {stamp.nanos} ns)"
        ) from None


def interval_from_proto(message: common_pb2.Interval, field: str) -> tuple[datetime, datetime]:
    """An interval whose end comes after its start."""
    start = instant_from_proto(message.start, f"{field}.start")
    end = instant_from_proto(message.end, f"{field}.end")
    if end <= start:
        raise InvalidArgument(f"{field}.end", "must be after the start")
    return start, end


MAX_ID_LENGTH = 256


def long_id_field(message: Message) -> str | None:
    """The path of the first id (a string field `id` or `*_id`, at any depth) longer than
    MAX_ID_LENGTH, e.g. "shifts[3].facility_id"; None when every id is within it. Run on every
    request: the path is spelled out only for the id found."""
    for field, value in message.ListFields():
        if field.type == FieldDescriptor.TYPE_MESSAGE:
            if field.message_type is None or field.message_type.GetOptions().map_entry:
                continue
            items = enumerate(value) if field.is_repeated else [(None, value)]
            for i, item in items:
                found = long_id_field(item)
                if found is not None:
                    where = field.name if i is None else f"{field.name}[{i}]"
                    return f"{where}.{found}"
        elif (
            field.type == FieldDescriptor.TYPE_STRING
            and not field.is_repeated
            and (field.name == "id" or field.name.endswith("_id"))
            and len(value) > MAX_ID_LENGTH
        ):
            return field.name
    return None


__all__ = ["MAX_ID_LENGTH", "instant_from_proto", "interval_from_proto", "long_id_field"]
