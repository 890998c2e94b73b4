"""The HTTP application: the REST API under /v1 with its OpenAPI document at /openapi.json,
refusals mapped in one place, every change written to the audit trail, traces continued
from the caller."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, HTTPException, Query, Request, Response
from opentelemetry.instrumentation.asgi import OpenTelemetryMiddleware
from starlette.middleware.base import RequestResponseEndpoint

from gateway import web
from gateway.accounts import normalised_email
from gateway.api import accounts, clinicians, errors, facilities, keys, operators
from gateway.api.deps import Gateway

CHANGES = {"POST", "PUT", "PATCH", "DELETE"}


def create_app(parts: Gateway) -> FastAPI:
    app = FastAPI(
        title="Virtual shift marketplace",
        version="1.0.0",
        description="Facilities post virtual healthcare shifts; licensed clinicians get offers "
        "inside the hours they declared. Sign in with POST /v1/tokens (bearer) or "
        "POST /v1/sessions (cookie).",
    )
    app.state.gateway = parts
    errors.install(app)
    for module in (accounts, facilities, clinicians, operators, keys):
        app.include_router(module.router)
    web.install(app)

    @app.middleware("http")
    async def audit_changes(request: Request, call_next: RequestResponseEndpoint) -> Response:
        response = await call_next(request)
        if request.method in CHANGES and request.url.path.startswith("/v1/"):
            route = request.scope.get("route")
            await parts.audit.record(
                getattr(request.state, "account_id", ""), request.method,
                getattr(route, "path", request.url.path), response.status_code,
            )  # fmt: skip
        return response

    @app.get("/healthz", include_in_schema=False)
    async def healthz() -> dict[str, str]:
        return {"status": "serving"}

    if parts.settings.dev_outbox:

        @app.get("/v1/dev/outbox", include_in_schema=False)
        async def outbox(email: str = Query(max_length=254)) -> dict[str, Any]:
            """The development sink's mail to an address (invitations, reset links)."""
            try:
                address = normalised_email(email)
            except Exception as error:
                raise HTTPException(422, "email: not an address") from error
            sent = await parts.notifier.delivered(f"email:{address}", parts.clock.now())
            return {"messages": [{"kind": n.kind, "text": n.text, "link": n.link} for n in sent]}

    app.add_middleware(OpenTelemetryMiddleware)
    return app
