"""Typed domain errors. Entrypoints map them: gRPC INVALID_ARGUMENT / NOT_FOUND / ABORTED /
FAILED_PRECONDITION / PERMISSION_DENIED, HTTP 422 / 404 / 409 / 403; the message names the field
where there is one."""

from __future__ import annotations


class DomainError(Exception):
    """A request the domain refuses, with a message fit for the caller."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InvalidArgument(DomainError):
    """A field of the request is malformed or out of range."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field


class NotFound(DomainError):
    """What the request names does not exist (or is not the caller's to see)."""


class Conflict(DomainError):
    """Someone changed the same thing first; re-read and retry."""


class FailedPrecondition(DomainError):
    """The request is well formed but the current state does not allow it."""


class PermissionDenied(DomainError):
    """The actor may not do this (e.g. only operators and credentialing partners verify)."""
