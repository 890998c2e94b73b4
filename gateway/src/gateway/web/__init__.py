"""The pages: HTML shells and ES modules served as they are (no build step), talking to the
REST API with the session cookie, and a server-sent event stream for live updates."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import APIRouter, FastAPI
from fastapi.responses import FileResponse, RedirectResponse, StreamingResponse
from fastapi.staticfiles import StaticFiles
from vsm_rules.jurisdictions import US_DISTRICT_AND_TERRITORIES, US_STATES

from gateway.api.deps import Me, Parts
from gateway.live import stream

STATIC = Path(__file__).parent / "static"
PAGES = ("login", "signup", "facility", "clinician", "operator", "reset", "invitation")
router = APIRouter()


@router.get("/", include_in_schema=False)
async def home() -> RedirectResponse:
    return RedirectResponse("/login")


def _page(name: str) -> Any:
    async def page() -> FileResponse:
        return FileResponse(STATIC / f"{name}.html", media_type="text/html")

    page.__name__ = f"page_{name}"
    return page


for _name in PAGES:
    router.add_api_route(f"/{_name}", _page(_name), methods=["GET"], include_in_schema=False)


@router.get("/v1/live", include_in_schema=False)
async def live(parts: Parts, me: Me) -> StreamingResponse:
    """Server-sent events: `change` events for what concerns the signed-in person."""
    audiences = [f"clinician:{me.id}"] if me.is_clinician else [f"org:{me.organization_id}"]

    async def events() -> Any:
        with parts.live.listen(audiences) as queue:
            async for text in stream(queue):
                yield text

    headers = {"Cache-Control": "no-store", "X-Accel-Buffering": "no"}
    return StreamingResponse(events(), media_type="text/event-stream", headers=headers)


@router.get("/v1/jurisdictions", tags=["reference"])
async def jurisdictions() -> dict[str, list[str]]:
    """The US jurisdictions patients may be in (for forms)."""
    return {"jurisdictions": sorted(US_STATES | US_DISTRICT_AND_TERRITORIES)}


def install(app: FastAPI) -> None:
    app.include_router(router)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
