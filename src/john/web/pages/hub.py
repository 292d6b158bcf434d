"""The home page and the health check."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from john.web.templating import templates

router = APIRouter()


@router.get("/", response_class=HTMLResponse, include_in_schema=False)
def home(request: Request) -> HTMLResponse:
    """Render the start page."""
    return templates.TemplateResponse(request, "home.html", {"title": "JOHN hub"})


@router.get("/api/v1/health", tags=["hub"])
def health() -> dict[str, str]:
    """Return ``ok`` when the application is serving."""
    return {"status": "ok"}
