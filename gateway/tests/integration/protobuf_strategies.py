"""Hypothesis strategies that build any protobuf message from its descriptor: every scalar with
its edge values (huge and negative numbers, NaN and infinities, empty, huge, unicode and NUL
strings), repeated and nested fields, enums with unknown numbers, oneofs, and Timestamps from
year 1 to beyond year 9999. Strings are chosen by field name (absurd_values). Given a template
(a valid request), a few of its fields are swapped at a time, so that generated requests also
get past the first check; and bytes that are not the message at all."""

from __future__ import annotations

from typing import Any

from absurd_values import Hints, instants_in_seconds, json_texts, mostly, nanos, strings
from google.protobuf.descriptor import Descriptor, FieldDescriptor
from google.protobuf.message import Message
from google.protobuf.message_factory import GetMessageClass
from google.protobuf.timestamp_pb2 import Timestamp
from hypothesis import strategies as st

TIMESTAMP = "google.protobuf.Timestamp"
F = FieldDescriptor
_INTEGERS = {
    F.TYPE_INT32: (-(2**31), 2**31 - 1), F.TYPE_SINT32: (-(2**31), 2**31 - 1),
    F.TYPE_SFIXED32: (-(2**31), 2**31 - 1), F.TYPE_INT64: (-(2**63), 2**63 - 1),
    F.TYPE_SINT64: (-(2**63), 2**63 - 1), F.TYPE_SFIXED64: (-(2**63), 2**63 - 1),
    F.TYPE_UINT32: (0, 2**32 - 1), F.TYPE_FIXED32: (0, 2**32 - 1),
    F.TYPE_UINT64: (0, 2**64 - 1), F.TYPE_FIXED64: (0, 2**64 - 1),
}  # fmt: skip
_UNKNOWN_ENUM_NUMBERS = [-1, 99, 2**31 - 1, -(2**31)]


def integers(low: int, high: int) -> st.SearchStrategy[int]:
    """Small counts, minutes and cents, the type's ends, and anything between."""
    edges = [n for n in (0, 1, -1, 2, 7, 28, 60, 104, 1000, 1001, 2000, 2001, 10**7, 10**7 + 1,
                         10**9, 10**15)
             if low <= n <= high]  # fmt: skip
    return st.one_of(st.sampled_from([*edges, low, high]), st.integers(max(low, -100), 10_000),
                     st.integers(low, high))  # fmt: skip


def _floats(width: int) -> st.SearchStrategy[float]:
    edges = [0.0, -0.0, 1.0, -1.0, 0.5, 60.0, 61.0, 1e9, float("nan"), float("inf"), float("-inf")]
    return st.one_of(st.sampled_from(edges), st.floats(width=width))  # type: ignore[arg-type]


def timestamps() -> st.SearchStrategy[Timestamp]:
    """Seconds from year 1 to beyond year 9999, nanos in and out of range."""
    return st.builds(Timestamp, seconds=instants_in_seconds(), nanos=nanos())


def _single(field: Any, hints: Hints, depth: int) -> st.SearchStrategy[Any]:
    """One value of the field (one element when it is repeated)."""
    kind = field.type
    if kind == F.TYPE_MESSAGE:
        return messages(field.message_type, hints, depth=depth - 1)
    if kind == F.TYPE_ENUM:
        known = [value.number for value in field.enum_type.values]
        return st.one_of(st.sampled_from(known), st.sampled_from(_UNKNOWN_ENUM_NUMBERS))
    if kind == F.TYPE_STRING:
        return strings(field.name, hints)
    if kind == F.TYPE_BYTES:
        return st.binary(max_size=64)
    if kind == F.TYPE_BOOL:
        return st.booleans()
    if kind in (F.TYPE_DOUBLE, F.TYPE_FLOAT):
        return _floats(64 if kind == F.TYPE_DOUBLE else 32)
    return integers(*_INTEGERS[kind])


def _is_map(field: Any) -> bool:
    return field.type == F.TYPE_MESSAGE and bool(field.message_type.GetOptions().map_entry)


def _field(field: Any, hints: Hints, depth: int) -> st.SearchStrategy[Any]:
    """A value for the whole field: a list when repeated, a dict for a map."""
    if _is_map(field):
        entry = field.message_type.fields_by_name
        key, value = entry["key"], entry["value"]
        return st.dictionaries(_single(key, hints, depth), _single(value, hints, depth), max_size=3)
    if field.is_repeated:
        return st.lists(_single(field, hints, depth), max_size=4)
    return _single(field, hints, depth)


def _build(cls: type[Message], values: dict[str, Any]) -> Message:
    message = cls()
    for name, value in values.items():
        if value is None:
            continue
        if name.startswith("oneof "):
            name, value = value
        _set(message, message.DESCRIPTOR.fields_by_name[name], value)
    return message


def _set(message: Message, field: Any, value: Any) -> None:
    if _is_map(field):
        held = getattr(message, field.name)
        for key, item in value.items():
            if isinstance(item, Message):
                held[key].CopyFrom(item)
            else:
                held[key] = item
    elif field.is_repeated:
        getattr(message, field.name).extend(value)
    elif field.type == F.TYPE_MESSAGE:
        getattr(message, field.name).CopyFrom(value)
    else:
        setattr(message, field.name, value)


def _real_oneofs(descriptor: Descriptor) -> list[Any]:
    return [o for o in descriptor.oneofs if not (len(o.fields) == 1 and o.fields[0].has_presence
                                                 and o.name.startswith("_"))]  # fmt: skip


def messages(
    descriptor: Descriptor, hints: Hints | None = None, template: Message | None = None,
    depth: int = 4,
) -> st.SearchStrategy[Message]:  # fmt: skip
    """Any message of `descriptor`; with a `template`, also the template with a few of its
    fields (at any depth) swapped for generated values."""
    hints = hints or Hints()
    if descriptor.full_name == TIMESTAMP:
        return timestamps()
    cls = GetMessageClass(descriptor)
    if depth <= 0:
        return st.just(cls())
    in_oneof = {f.name for o in _real_oneofs(descriptor) for f in o.fields}
    optional: dict[str, st.SearchStrategy[Any]] = {
        f.name: _field(f, hints, depth) for f in descriptor.fields if f.name not in in_oneof
    }
    for oneof in _real_oneofs(descriptor):
        optional[f"oneof {oneof.name}"] = st.one_of(
            *(st.tuples(st.just(f.name), _single(f, hints, depth)) for f in oneof.fields)
        )
    generated = st.fixed_dictionaries({}, optional=optional).map(lambda v: _build(cls, v))
    if template is None:
        return generated
    return st.one_of(mutations(template, hints, depth), generated)


def mutations(template: Message, hints: Hints, depth: int = 4) -> st.SearchStrategy[Message]:
    """The template with about one field in five swapped (a set one for a generated value, an
    unset one set); nested messages are mutated the same way. Shrinks towards the template."""
    descriptor = template.DESCRIPTOR
    if descriptor.full_name == TIMESTAMP:
        return mostly(st.just(template), timestamps())
    fields: dict[str, st.SearchStrategy[Any]] = {}
    for field in descriptor.fields:
        fresh = _field(field, hints, depth)
        current = getattr(template, field.name)
        if _is_map(field) or (field.is_repeated and field.type != F.TYPE_MESSAGE):
            copied = dict(current) if _is_map(field) else list(current)
            keep: st.SearchStrategy[Any] = st.just(copied)
            is_set = len(current) > 0
        elif field.is_repeated:
            keep = st.tuples(*(mutations(item, hints, depth - 1) for item in current)).map(list)
            is_set = len(current) > 0
        elif field.type == F.TYPE_MESSAGE:
            keep, is_set = mutations(current, hints, depth - 1), template.HasField(field.name)
        elif field.name in hints.documents and field.type == F.TYPE_STRING:
            keep, is_set = json_texts(hints.documents[field.name], field.name, hints), True
        else:
            keep, is_set = st.just(current), current != field.default_value
        fields[field.name] = mostly(keep, fresh) if is_set else mostly(st.none(), fresh)
    return st.fixed_dictionaries(fields).map(lambda v: _build(type(template), v))


def malformed(descriptor: Descriptor, hints: Hints | None = None) -> st.SearchStrategy[bytes]:
    """Bytes that are not (or not quite) the message: random bytes, a valid message cut short,
    invalid UTF-8 in a string, a varint that does not end, nesting too deep to parse."""
    whole = messages(descriptor, hints, depth=3).map(lambda m: m.SerializeToString())
    cut = st.tuples(whole, st.integers(0, 10_000)).map(lambda t: t[0][: t[1] % max(len(t[0]), 1)])
    crafted = [b"\x0a\x02\xc3\x28", b"\x12\x02\xc3\x28", b"\x08" + b"\xff" * 11,
               b"\x0a\xff\xff\xff\xff\x0f garbage", b"\x0a\x05ab", b"\x0b\x0c", b"\x07",
               b"\x0a" * 200 + b"\x00", _nested(200), b"\x00" * 16]  # fmt: skip
    return st.one_of(st.sampled_from(crafted), st.binary(max_size=300), cut)


def _nested(levels: int) -> bytes:
    """Field 1 holding field 1 holding ... `levels` deep (past protobuf's recursion limit)."""
    inner = b""
    for _ in range(levels):
        inner = b"\x0a" + _varint(len(inner)) + inner
    return inner


def _varint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte, value = value & 0x7F, value >> 7
        out.append(byte | (0x80 if value else 0))
        if not value:
            return bytes(out)


def length_delimited(field_number: int, size: int) -> bytes:
    """A message whose field `field_number` holds `size` bytes of "a": for oversized requests."""
    return _varint(field_number << 3 | 2) + _varint(size) + b"a" * size
