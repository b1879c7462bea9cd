"""Every request's id, metrics and access-log line, as a plain ASGI middleware.

The request id is the caller's ``x-request-id`` when well formed (a new one otherwise), set on
``request.state.request_id`` and the ``REQUEST_ID`` context of the logs, and returned in the
response's ``x-request-id``. Whatever escapes the exception handlers becomes a logged 500
problem. Each request is counted (``HttpMetrics``) and logged once, by route template (never
the path with its values, nor the query string). A plain ASGI middleware rather than
``@app.middleware("http")``: the latter runs every request through an extra task and streams,
a measurable share of a short request.
"""

from __future__ import annotations

import logging
import re
import time
import uuid
from typing import Any

from starlette.datastructures import MutableHeaders
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.logs import REQUEST_ID
from api.metrics import HttpMetrics
from api.problems import internal_error

__all__ = ["RequestContext"]

logger = logging.getLogger("api.app")
access_log = logging.getLogger("api.access")
_REQUEST_ID_RE = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


class RequestContext:
    def __init__(self, app: ASGIApp, metrics: HttpMetrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given = ""
        for name, value in scope["headers"]:
            if name == b"x-request-id":
                given = value.decode("latin-1")
                break
        rid = given if _REQUEST_ID_RE.match(given) else uuid.uuid4().hex
        state: dict[str, Any] = scope.setdefault("state", {})
        state["request_id"] = rid
        token = REQUEST_ID.set(rid)
        started = time.perf_counter()
        status = 500
        sent = False

        async def send_with_id(message: Message) -> None:
            nonlocal status, sent
            if message["type"] == "http.response.start":
                status = int(message["status"])
                sent = True
                MutableHeaders(scope=message)["x-request-id"] = rid
            await send(message)

        try:
            try:
                await self.app(scope, receive, send_with_id)
            except Exception as exc:  # whatever escaped the handlers: a 500 problem, logged
                logger.error("unhandled %s", type(exc).__name__, exc_info=exc)
                if sent:
                    raise
                await internal_error(Request(scope))(scope, receive, send_with_id)
            self._record(scope, state, status, time.perf_counter() - started)
        finally:
            REQUEST_ID.reset(token)

    def _record(self, scope: Scope, state: dict[str, Any], status: int, elapsed: float) -> None:
        method = scope["method"]
        template = getattr(scope.get("route"), "path", None) or "unmatched"
        self.metrics.observe(template, method, status, elapsed)
        who = state.get("principal")
        access_log.info(
            "%s %s %s",
            method,
            template,
            status,
            extra={
                "fields": {
                    "method": method,
                    "route": template,
                    "status": status,
                    "duration_ms": round(elapsed * 1000, 2),
                    "role": getattr(who, "role", None),
                }
            },
        )
