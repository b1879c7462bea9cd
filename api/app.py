"""The HTTP service (FastAPI). ``create_app(settings)`` is the factory; ``credit serve`` runs
``serve_app`` (the same, with JSON logs).

Operations: liveness, readiness (the database answers and every exported champion serving
bundle loads and verifies its checksums) and Prometheus ``/metrics``. Every response carries
``x-request-id``; every error is problem+json (``api/problems.py``); routes declare their roles
(``api/security.py``). See docs/api.md.
"""

from __future__ import annotations

import logging
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import anyio.to_thread
from fastapi import FastAPI, Request, Response
from fastapi.openapi.docs import get_swagger_ui_html, get_swagger_ui_oauth2_redirect_html
from fastapi.responses import HTMLResponse, JSONResponse
from fastapi.staticfiles import StaticFiles
from sqlalchemy import text

from api.logs import configure_logging
from api.metrics import CONTENT_TYPE_LATEST, HttpMetrics
from api.problems import install_problem_handlers
from api.request_context import RequestContext
from api.security import KeyCache, TokenBucket
from api.web import mount_web
from features.catalogue import load_catalogue
from features.registry import load_registry
from models.bundle import BundleError
from scoring.assessments import LimitPolicy
from scoring.audit import AuditLog
from scoring.bundles import ModelUnavailable, load_champion
from scoring.db.engine import make_engine, make_sessionmaker
from scoring.group_commit import GroupCommit
from scoring.identity import IdentityVault
from scoring.publish import BundleCache
from scoring.score_views import FeatureNames
from scoring.scores import ScoringPolicy
from scoring.settings import Settings, get_settings

__all__ = ["create_app", "serve_app"]

logger = logging.getLogger(__name__)
SUBJECTS = ("person", "enterprise")
ROUTERS = (
    "api.routes_me",
    "api.routes_orgs",
    "api.routes_staff",
    "api.routes_department",
    "api.routes_admin",
    "api.routes_bank",
    "api.routes_supervisor",
    "api.routes_reviewer",
    "api.routes_reports",
    "api.routes_monitoring",
    "api.routes_commitments",
    "api.routes_benefits",
    "api.routes_rights",
    "api.routes_casework",
)


def _local_docs(app: FastAPI) -> None:
    """Swagger UI at ``/docs`` with its JavaScript and CSS served by the service itself (the
    default page loads them from a CDN, which a closed network cannot reach). The assets are
    swagger-ui-dist 5 (``api/static/swagger-ui``: Swagger UI 4 cannot read OpenAPI 3.1)."""
    assets = "/static/swagger-ui"
    app.mount(
        assets, StaticFiles(directory=Path(__file__).parent / "static" / "swagger-ui"), name="swagger-ui"
    )

    @app.get("/docs", include_in_schema=False)
    def swagger_ui() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=str(app.openapi_url),
            title=f"{app.title} — API",
            oauth2_redirect_url="/docs/oauth2-redirect",
            swagger_js_url=f"{assets}/swagger-ui-bundle.js",
            swagger_css_url=f"{assets}/swagger-ui.css",
            swagger_favicon_url=f"{assets}/favicon-32x32.png",
        )

    @app.get("/docs/oauth2-redirect", include_in_schema=False)
    def swagger_ui_redirect() -> HTMLResponse:
        return get_swagger_ui_oauth2_redirect_html()


def serve_app() -> FastAPI:
    """``credit serve``'s factory: JSON logs to stderr, then the app."""
    configure_logging()
    return create_app()


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> Any:
        anyio.to_thread.current_default_thread_limiter().total_tokens = settings.http_threads
        # No pre-ping: it is one more round trip per checkout; a connection the server dropped
        # fails one request and the pool is refreshed.
        app.state.engine = make_engine(settings.database_url, pool_pre_ping=False)
        app.state.read_engine = app.state.engine.execution_options(isolation_level="AUTOCOMMIT")
        app.state.sessionmaker = make_sessionmaker(app.state.engine)
        app.state.group_commit = GroupCommit(app.state.engine, app.state.audit)
        app.state.bundles = {}
        for subject in SUBJECTS:
            try:
                app.state.bundles[subject] = load_champion(settings.bundle_dir, subject)
            except (ModelUnavailable, BundleError) as exc:
                logger.warning("champion bundle for %s not loaded: %s", subject, type(exc).__name__)
        yield
        app.state.group_commit.close()
        app.state.engine.dispose()

    app = FastAPI(
        title="Public credit-score and incentive service",
        version="0.1.0",
        description="Credit files, explainable scores and enterprise classes, incentives and rights.",
        lifespan=lifespan,
        docs_url=None,  # served below from local assets: no request leaves the service
        redoc_url=None,
    )
    _local_docs(app)
    mount_web(app)
    app.state.settings = settings
    app.state.vault = IdentityVault.from_settings(settings)
    app.state.audit = AuditLog.from_settings(settings)
    app.state.catalogue = load_catalogue()
    app.state.registry = load_registry()
    app.state.policy = ScoringPolicy.from_settings(settings)
    app.state.limits = LimitPolicy.load(settings.credit_limits_file)
    app.state.feature_names = FeatureNames()
    app.state.bundle_cache = BundleCache(settings.bundle_dir)
    app.state.key_cache = KeyCache()
    app.state.limiter = TokenBucket(settings.rate_limit_per_minute, settings.rate_limit_burst)
    app.state.metrics = metrics = HttpMetrics()
    install_problem_handlers(app)

    app.add_middleware(RequestContext, metrics=metrics)

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

    @app.get("/metrics", tags=["operations"], summary="Prometheus metrics: requests by route and status.")
    def prometheus_metrics() -> Response:
        return Response(metrics.exposition(), media_type=CONTENT_TYPE_LATEST)

    import importlib

    for name in ROUTERS:
        # The routes themselves, not the router: matching a request against included routers
        # costs FastAPI about a millisecond per request; against plain routes, microseconds.
        app.router.routes.extend(importlib.import_module(name).router.routes)
    return app
