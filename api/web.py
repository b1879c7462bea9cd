"""The web pages, served by the service itself from local files (no build step, no CDN).

* ``/app/``: the citizen's mobile app, also the enterprise representative's view;
* ``/staff/``: the supervisor's and the model reviewer's pages;
* ``/web/``: what both share (style sheet, API client, charts).

The pages are static: they sign in with a bearer token (the identity provider's in production;
``credit demo-credentials`` prints development sign-in links whose token travels in the URL
fragment, which browsers never send to a server) and call the same ``/v1`` API as any client.
Every page response carries a strict Content-Security-Policy: scripts, styles and requests only
from this origin.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import FastAPI
from fastapi.responses import RedirectResponse
from starlette.responses import Response
from starlette.staticfiles import StaticFiles
from starlette.types import Scope

__all__ = ["SECURITY_HEADERS", "WEB_DIR", "mount_web"]

WEB_DIR = Path(__file__).parent / "web"
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; font-src 'self'; manifest-src 'self'; base-uri 'none'; "
        "form-action 'self'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-cache",
}


class _Pages(StaticFiles):
    """Static files with the pages' security headers (revalidated on every load: ETag)."""

    async def get_response(self, path: str, scope: Scope) -> Response:
        response = await super().get_response(path, scope)
        response.headers.update(SECURITY_HEADERS)
        if path.endswith(".js"):
            response.headers["content-type"] = "text/javascript; charset=utf-8"
        return response


def mount_web(app: FastAPI) -> None:
    for prefix, folder in (("/app", "app"), ("/staff", "staff"), ("/web", "common")):
        app.mount(prefix, _Pages(directory=WEB_DIR / folder, html=True), name=f"web-{folder}")

    @app.get("/", include_in_schema=False)
    def root() -> Any:
        return RedirectResponse("/app/", status_code=307)
