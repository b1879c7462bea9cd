"""Errors as RFC 9457 problem details (``application/problem+json``).

Every error response of the service, whatever raised it (a route, validation, routing, an
unhandled exception), has ``type``, ``title``, ``status``, ``detail``, ``instance`` (the
request path) and ``request_id``. Routes raise ``Problem``; a plain ``HTTPException`` becomes
``type: about:blank``. Validation errors list where and what, never the values sent.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from features.fieldtypes import mask_id_numbers

__all__ = ["PROBLEM_JSON", "Problem", "install_problem_handlers", "problem_response"]

PROBLEM_JSON = "application/problem+json"
TYPE_BASE = "urn:problem:credit:"
logger = logging.getLogger(__name__)


class Problem(StarletteHTTPException):
    """An error with a problem type (a short slug) and optional extension members."""

    def __init__(
        self,
        status: int,
        slug: str,
        detail: str,
        *,
        title: str | None = None,
        headers: Mapping[str, str] | None = None,
        **extensions: Any,
    ) -> None:
        super().__init__(status_code=status, detail=detail, headers=dict(headers) if headers else None)
        self.slug = slug
        self.title = title or HTTPStatus(status).phrase
        self.extensions = extensions


def problem_response(
    request: Request,
    status: int,
    *,
    detail: str,
    type_: str = "about:blank",
    title: str | None = None,
    headers: Mapping[str, str] | None = None,
    extensions: Mapping[str, Any] | None = None,
) -> JSONResponse:
    rid = getattr(request.state, "request_id", None)
    body: dict[str, Any] = {
        "type": type_,
        "title": title or HTTPStatus(status).phrase,
        "status": status,
        "detail": detail,
        "instance": request.url.path,
        "request_id": rid,
        **(extensions or {}),
    }
    out = dict(headers or {})
    if rid:
        out["x-request-id"] = rid
    return JSONResponse(body, status_code=status, headers=out, media_type=PROBLEM_JSON)


async def _http_exception(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    if isinstance(exc, Problem):
        return problem_response(
            request,
            exc.status_code,
            detail=str(exc.detail),
            type_=TYPE_BASE + exc.slug,
            title=exc.title,
            headers=exc.headers,
            extensions=exc.extensions,
        )
    detail = exc.detail if isinstance(exc.detail, str) else HTTPStatus(exc.status_code).phrase
    return problem_response(request, exc.status_code, detail=detail, headers=exc.headers)


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    # Only where and what: the input itself may carry identity numbers.
    errors = [
        {
            "loc": [str(p) for p in e.get("loc", ())],
            "msg": mask_id_numbers(str(e.get("msg", ""))),
            "type": str(e.get("type", "")),
        }
        for e in exc.errors()
    ]
    return problem_response(
        request,
        422,
        detail="the request does not match what this route accepts",
        type_=TYPE_BASE + "validation",
        title="Invalid request",
        extensions={"errors": errors},
    )


async def _unhandled(request: Request, exc: Exception) -> JSONResponse:
    logger.error("unhandled %s", type(exc).__name__, exc_info=exc)
    return internal_error(request)


def internal_error(request: Request) -> JSONResponse:
    return problem_response(
        request,
        500,
        detail="an internal error; quote the request id when reporting it",
        type_=TYPE_BASE + "internal",
    )


def install_problem_handlers(app: FastAPI) -> None:
    app.add_exception_handler(StarletteHTTPException, _http_exception)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(Exception, _unhandled)
