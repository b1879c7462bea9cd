"""Authentication, roles and rate limits of HTTP routes.

A route declares who may call it with one dependency::

    @router.get("/v1/me/score")
    def my_score(who: Annotated[Principal, require("citizen")], db: DbSession) -> ...:

``require(*roles)`` reads ``Authorization: Bearer <JWT or API key>`` (or ``X-API-Key``),
answers 401 when there is no valid credential, 429 when the API key's bucket is empty and 403
when the role is not one of ``roles``. ``route_roles(route)`` tells which roles a route allows.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Path, Request
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from api.problems import Problem
from scoring.auth import KEY_PREFIX, ROLES, AuthError, Principal, authenticate
from scoring.auth import verify_token as authenticate_token

__all__ = [
    "DbSession",
    "KeyCache",
    "RowId",
    "TokenBucket",
    "db_session",
    "flat_routes",
    "principal",
    "require",
    "route_roles",
]


class TokenBucket:
    """Per-key token buckets (in-process): ``rate`` tokens per second up to ``burst``."""

    def __init__(self, per_minute: float, burst: int) -> None:
        self.rate = per_minute / 60.0
        self.burst = float(burst)
        self._buckets: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def take(self, key: str, now: float | None = None) -> float:
        """0 when a request may go ahead (one token taken); otherwise seconds until it may."""
        now = time.monotonic() if now is None else now
        with self._lock:
            tokens, last = self._buckets.get(key, (self.burst, now))
            tokens = min(self.burst, tokens + (now - last) * self.rate)
            if tokens >= 1.0:
                self._buckets[key] = (tokens - 1.0, now)
                return 0.0
            self._buckets[key] = (tokens, now)
            return (1.0 - tokens) / self.rate if self.rate > 0 else math.inf


class KeyCache:
    """API keys verified in the last ``ttl`` seconds (in-process): a bank's every request need not
    read its key row. Revoking a key clears this process's cache; other worker processes stop
    accepting a revoked key within ``ttl``."""

    def __init__(self, ttl: float = 10.0, size: int = 10_000) -> None:
        self.ttl = ttl
        self.size = size
        self._items: dict[str, tuple[Principal, float]] = {}
        self._lock = threading.Lock()

    def get(self, credential: str) -> Principal | None:
        item = self._items.get(credential)
        if item is None or item[1] < time.monotonic():
            return None
        return item[0]

    def put(self, credential: str, who: Principal) -> None:
        with self._lock:
            if len(self._items) >= self.size:
                self._items.clear()
            self._items[credential] = (who, time.monotonic() + self.ttl)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()


def db_session(request: Request) -> Iterator[Session]:
    """One session per request; routes commit what they change (and the reads they register)."""
    session: Session = request.app.state.sessionmaker()
    try:
        yield session
    finally:
        session.close()


DbSession = Annotated[Session, Depends(db_session)]
# A row id in a path: positive and within a signed 64-bit integer (both databases' range).
RowId = Annotated[int, Path(ge=1, le=2**63 - 1)]


def _credential(request: Request) -> str | None:
    auth = request.headers.get("authorization")
    if auth:
        scheme, _, value = auth.partition(" ")
        if scheme.lower() == "bearer" and value.strip():
            return value.strip()
        return ""
    key = request.headers.get("x-api-key")
    return key.strip() if key is not None else None


def _verify(request: Request, credential: str) -> Principal:
    """Check a credential the cache does not hold (an API key reads its row)."""
    session: Session = request.app.state.sessionmaker()
    try:
        return authenticate(session, request.app.state.settings, credential)
    finally:
        session.close()


async def principal(request: Request) -> Principal:
    """The authenticated caller (401 otherwise), rate limited per API key (429). Runs on the
    event loop: a cached key or a JWT needs no thread and no database."""
    cached = getattr(request.state, "principal", None)
    if isinstance(cached, Principal):
        return cached
    credential = _credential(request)
    if not credential:
        raise Problem(
            401,
            "unauthenticated",
            "a bearer token or API key is required",
            headers={"WWW-Authenticate": 'Bearer realm="credit"'},
        )
    cache: KeyCache = request.app.state.key_cache
    try:
        who = cache.get(credential)
        if who is None:
            if credential.startswith(KEY_PREFIX):
                who = await run_in_threadpool(_verify, request, credential)
            else:
                who = authenticate_token(request.app.state.settings, credential)
    except AuthError:
        raise Problem(
            401,
            "invalid-credential",
            "the credential is invalid, expired or revoked",
            headers={"WWW-Authenticate": 'Bearer realm="credit", error="invalid_token"'},
        ) from None
    request.state.principal = who
    if who.key_id is not None:
        cache.put(credential, who)
        wait = request.app.state.limiter.take(who.key_id)
        if wait > 0:
            raise Problem(
                429,
                "rate-limited",
                "too many requests for this API key; retry later",
                headers={"Retry-After": str(max(1, math.ceil(wait)))},
            )
    return who


@dataclass(frozen=True)
class _RoleCheck:
    roles: tuple[str, ...]

    async def __call__(self, who: Annotated[Principal, Depends(principal)]) -> Principal:
        if who.role not in self.roles:
            raise Problem(403, "forbidden-role", f"role {who.role} may not use this route")
        return who


def require(*roles: str) -> Any:
    """A dependency: the caller, if authenticated and in one of ``roles``."""
    unknown = set(roles) - set(ROLES)
    if unknown or not roles:
        raise ValueError(f"unknown roles {sorted(unknown)}")
    return Depends(_RoleCheck(tuple(roles)))


def route_roles(route: Any) -> tuple[str, ...] | None:
    """The roles a route's ``require`` allows (``None``: the route is public)."""
    stack = [getattr(route, "dependant", None)]
    while stack:
        dep = stack.pop()
        if dep is None:
            continue
        if isinstance(dep.call, _RoleCheck):
            return dep.call.roles
        stack.extend(dep.dependencies)
    return None


def flat_routes(routes: Iterable[Any], prefix: str = "") -> Iterator[tuple[str, Any]]:
    """(full path, route) of every route, included routers expanded (FastAPI keeps an included
    router as one entry of ``app.routes``)."""
    for route in routes:
        included = getattr(route, "original_router", None)
        if included is not None:
            context = getattr(route, "include_context", None)
            yield from flat_routes(included.routes, prefix + str(getattr(context, "prefix", "")))
        else:
            yield prefix + str(getattr(route, "path", "")), route
