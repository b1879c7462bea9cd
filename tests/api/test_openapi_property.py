"""A property-based run over the OpenAPI document (schemathesis): for every operation, requests
generated from its schema — as a caller of a role the route allows, with published scores
behind it — never get a 5xx, and every error is problem+json."""

from __future__ import annotations

from typing import Any

import hypothesis
import pytest
import schemathesis
from api_service import ORG, P1, Service
from hypothesis import HealthCheck

from api.security import flat_routes, route_roles

EXAMPLES = 25
SKIP = {"/docs", "/docs/oauth2-redirect", "/redoc", "/openapi.json"}


def _credential(s: Service, role: str) -> dict[str, str]:
    if role == "citizen":
        return s.auth(s.citizen(P1))
    if role == "enterprise_rep":
        return s.auth(s.token("enterprise_rep", "rep-1", orgs=(ORG,)))
    if role in ("bank", "partner"):
        return s.auth(s.keys[role])
    if role == "department":
        return s.auth(s.keys["hrss"])
    if role == "admin":
        return s.auth(s.admin)
    return s.auth(s.token(role, f"{role}-1"))


def _roles(app: Any) -> dict[tuple[str, str], tuple[str, ...] | None]:
    out = {}
    for path, route in flat_routes(app.routes):
        for method in getattr(route, "methods", None) or ():
            out[(method, path)] = route_roles(route)
    return out


def _run(s: Service, op: Any, headers: dict[str, str], failures: list[str], statuses: list[int]) -> None:
    @hypothesis.settings(
        max_examples=EXAMPLES,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @hypothesis.given(case=op.as_strategy())
    def check(case: Any) -> None:
        kwargs = case.as_transport_kwargs(base_url="http://testserver", headers=headers)
        kwargs.pop("cookies", None)
        try:
            r = s.client.request(**kwargs)
        except (UnicodeEncodeError, ValueError):  # a header or URL the client itself cannot send
            return
        statuses.append(r.status_code)
        if r.status_code >= 500:
            failures.append(f"{case.method} {case.formatted_path}: {r.status_code} {r.text[:200]}")
        if r.status_code >= 400 and op.path != "/readyz":
            assert r.headers["content-type"] == "application/problem+json", (op.path, r.status_code)

    check()


@pytest.mark.slow
def test_generated_requests_never_get_a_server_error(published_for_fuzz: Service) -> None:
    s = published_for_fuzz
    app = s.client.app  # type: ignore[attr-defined]
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    roles = _roles(app)
    failures: list[str] = []
    statuses: list[int] = []
    operations = [op.ok() for op in schema.get_all_operations()]
    assert len(operations) > 30
    for op in operations:
        if op.path in SKIP:
            continue
        allowed = roles.get((op.method.upper(), op.path))
        headers = _credential(s, allowed[0]) if allowed else {}

        _run(s, op, headers, failures, statuses)
    assert failures == []
    assert len(statuses) > 500 and sum(200 <= c < 300 for c in statuses) > 50, sorted(set(statuses))
