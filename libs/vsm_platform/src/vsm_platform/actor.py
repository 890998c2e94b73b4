"""Who did a thing: one convention for users, services and partners, in requests and change rows."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from vsm.common.v1 import common_pb2
from vsm_rules.errors import InvalidArgument

OPERATOR_ROLE = "operator"


class ActorKind(StrEnum):
    USER = "user"
    SERVICE = "service"
    PARTNER = "partner"


_FROM_PROTO = {
    common_pb2.ACTOR_KIND_USER: ActorKind.USER,
    common_pb2.ACTOR_KIND_SERVICE: ActorKind.SERVICE,
    common_pb2.ACTOR_KIND_PARTNER: ActorKind.PARTNER,
}
_TO_PROTO = {kind: number for number, kind in _FROM_PROTO.items()}


@dataclass(frozen=True, slots=True)
class Actor:
    """A user, one of our services, or a partner system, and whom it acts for."""

    kind: ActorKind
    id: str
    organization_id: str = ""
    role: str = ""

    @property
    def is_operator(self) -> bool:
        """One of our operators: a user with the operator role."""
        return self.kind == ActorKind.USER and self.role == OPERATOR_ROLE

    def speaks_for(self, user_id: str) -> bool:
        """Whether it may act as this user: the user themselves, an operator, or a partner
        system acting for its users."""
        return self.id == user_id or self.is_operator or self.kind == ActorKind.PARTNER

    @classmethod
    def service(cls, name: str) -> Actor:
        return cls(ActorKind.SERVICE, name)

    @classmethod
    def from_proto(cls, message: common_pb2.Actor, field: str = "actor") -> Actor:
        """The actor of a request; refuses a missing kind or id, naming the field."""
        kind = _FROM_PROTO.get(message.kind)
        if kind is None:
            raise InvalidArgument(f"{field}.kind", "must be USER, SERVICE or PARTNER")
        if not message.id.strip():
            raise InvalidArgument(f"{field}.id", "must not be empty")
        return cls(kind, message.id, message.organization_id, message.role)

    def to_proto(self) -> common_pb2.Actor:
        return common_pb2.Actor(
            kind=_TO_PROTO[self.kind],
            id=self.id,
            organization_id=self.organization_id,
            role=self.role,
        )

    def to_document(self) -> dict[str, Any]:
        return {
            "kind": self.kind.value,
            "id": self.id,
            "org": self.organization_id,
            "role": self.role,
        }

    @classmethod
    def from_document(cls, document: dict[str, Any]) -> Actor:
        return cls(
            ActorKind(document["kind"]),
            document["id"],
            document.get("org", ""),
            document.get("role", ""),
        )
