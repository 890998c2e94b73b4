"""One translation of refusals into HTTP answers: a field's error is a 422 in FastAPI's own
shape (`detail[].loc` names the field), the rest a 4xx with a sentence. A service's status is
mapped the same way; nothing leaks a stack trace."""

from __future__ import annotations

import logging

import grpc
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from vsm_rules.errors import (
    Conflict,
    DomainError,
    FailedPrecondition,
    InvalidArgument,
    NotFound,
    PermissionDenied,
)

from gateway.inward import http_status, split_field

logger = logging.getLogger(__name__)
STATUS = {NotFound: 404, Conflict: 409, FailedPrecondition: 409, PermissionDenied: 403}


def field_error(field: str, message: str) -> JSONResponse:
    return JSONResponse(
        {"detail": [{"loc": ["body", *field.split(".")], "msg": message, "type": "invalid"}]},
        status_code=422,
    )


async def domain_error(request: Request, error: Exception) -> JSONResponse:
    if isinstance(error, InvalidArgument):
        return field_error(error.field, error.message.removeprefix(f"{error.field}: "))
    assert isinstance(error, DomainError)
    status = next((code for kind, code in STATUS.items() if isinstance(error, kind)), 400)
    return JSONResponse({"detail": error.message}, status_code=status)


async def service_error(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, grpc.aio.AioRpcError)
    code = error.code()
    message = error.details() or code.name.lower()
    if code == grpc.StatusCode.INVALID_ARGUMENT:
        field, text = split_field(message)
        return field_error(field or "request", text)
    status = http_status(code)
    if status >= 500:
        logger.warning("a service failed a call from %s: %s %s", request.url.path, code, message)
        message = "a service behind the gateway is unavailable; try again shortly"
    return JSONResponse({"detail": message}, status_code=status)


def install(app: FastAPI) -> None:
    app.add_exception_handler(DomainError, domain_error)
    app.add_exception_handler(grpc.aio.AioRpcError, service_error)
