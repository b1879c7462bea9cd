"""The HTTP service (FastAPI). ``create_app(settings)`` is the factory; ``credit serve`` runs it.

So far: liveness and readiness. Readiness means the database answers and every champion
serving bundle that has been exported loads and verifies its checksums.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse
from sqlalchemy import text

from models.bundle import BundleError
from scoring.bundles import ModelUnavailable, load_champion
from scoring.db.engine import make_engine
from scoring.settings import Settings, get_settings

__all__ = ["create_app"]

logger = logging.getLogger(__name__)
SUBJECTS = ("person", "enterprise")


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> Any:
        app.state.engine = make_engine(settings.database_url)
        app.state.bundles = {}
        for subject in SUBJECTS:
            try:
                app.state.bundles[subject] = load_champion(settings.bundle_dir, subject)
            except (ModelUnavailable, BundleError) as exc:
                logger.warning("champion bundle for %s not loaded: %s", subject, type(exc).__name__)
        yield
        app.state.engine.dispose()

    app = FastAPI(
        title="Public credit-score and incentive service",
        version="0.1.0",
        description="Credit files, explainable scores and enterprise classes, incentives and rights.",
        lifespan=lifespan,
    )

    @app.middleware("http")
    async def request_id(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        rid = request.headers.get("x-request-id") or uuid.uuid4().hex
        request.state.request_id = rid
        response = await call_next(request)
        response.headers["x-request-id"] = rid
        return response

    @app.get("/healthz", tags=["operations"], summary="Liveness: the process answers.")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get(
        "/readyz", tags=["operations"], summary="Readiness: database reachable, champion bundles verified."
    )
    def readyz(request: Request) -> JSONResponse:
        checks: dict[str, str] = {}
        try:
            with request.app.state.engine.connect() as conn:
                conn.execute(text("SELECT 1"))
            checks["database"] = "ok"
        except Exception as exc:  # any driver error means not ready
            checks["database"] = f"unavailable ({type(exc).__name__})"
        for subject in SUBJECTS:
            bundle = request.app.state.bundles.get(subject)
            checks[f"{subject}_model"] = "missing" if bundle is None else f"v{bundle.model_version} verified"
        ready = checks["database"] == "ok" and all(
            v.endswith("verified") for k, v in checks.items() if "model" in k
        )
        body = {"status": "ready" if ready else "not ready", "checks": checks}
        return JSONResponse(body, status_code=200 if ready else 503)

    return app
