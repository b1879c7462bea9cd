"""Who may call what: the expected status of every route for every role, written out by hand.

A route missing from ``MATRIX`` fails the test, so every new route states its roles here.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from api_service import ORG, P1, Service, sic

from api.security import flat_routes, route_roles
from scoring.publish import publish_scores

ROLES = (
    "anonymous",
    "citizen",
    "enterprise_rep",
    "bank",
    "partner",
    "supervisor",
    "reviewer",
    "department",
    "admin",
)


def public(status: int) -> dict[str, int]:
    return dict.fromkeys(ROLES, status)


def only(**allowed: int) -> dict[str, int]:
    return {role: 401 if role == "anonymous" else allowed.get(role, 403) for role in ROLES}


EVERYONE = {**public(200), "anonymous": 401}
CONSENT = {"bank": "citybank", "purpose": "credit_loan", "valid_from": "2026-01-01", "valid_to": "2027-12-31"}

# (method, route template) -> expected status by role. Requests are built in ``_request``.
MATRIX: dict[tuple[str, str], dict[str, int]] = {
    ("GET", "/healthz"): public(200),
    ("GET", "/readyz"): public(200),  # champion models exported, database reachable
    ("GET", "/metrics"): public(200),
    ("GET", "/openapi.json"): public(200),
    ("GET", "/docs"): public(200),
    ("GET", "/docs/oauth2-redirect"): public(200),
    ("GET", "/redoc"): public(200),
    ("GET", "/v1/whoami"): EVERYONE,
    ("GET", "/v1/me"): only(citizen=200),
    ("GET", "/v1/me/file"): only(citizen=200),
    ("GET", "/v1/me/queries"): only(citizen=200),
    ("GET", "/v1/me/consents"): only(citizen=200),
    ("POST", "/v1/me/consents"): only(citizen=201),
    ("DELETE", "/v1/me/consents/{consent_id}"): only(citizen=200),
    ("GET", "/v1/orgs/{code}/file"): only(enterprise_rep=200),
    ("GET", "/v1/orgs/{code}/queries"): only(enterprise_rep=200),
    ("GET", "/v1/orgs/{code}/consents"): only(enterprise_rep=200),
    ("POST", "/v1/orgs/{code}/consents"): only(enterprise_rep=201),
    ("DELETE", "/v1/orgs/{code}/consents/{consent_id}"): only(enterprise_rep=200),
    ("GET", "/v1/subjects/{subject_key}/file"): only(supervisor=200, reviewer=200),
    ("POST", "/v1/department/batches"): only(department=201),
    ("POST", "/v1/department/batches/file"): only(department=201),
    ("GET", "/v1/department/kinds"): only(department=200),
    ("GET", "/v1/department/batches"): only(department=200),
    ("GET", "/v1/department/batches/{batch_id}"): only(department=200),
    ("GET", "/v1/department/batches/{batch_id}/quarantine"): only(department=200),
    ("POST", "/v1/admin/api-keys"): only(admin=201),
    ("GET", "/v1/admin/api-keys"): only(admin=200),
    ("DELETE", "/v1/admin/api-keys/{key_id}"): only(admin=200),
    ("GET", "/v1/admin/audit/verify"): only(admin=200, supervisor=200),
    ("GET", "/v1/me/score"): only(citizen=200),
    ("GET", "/v1/me/recourse"): only(citizen=200),
    ("GET", "/v1/me/history"): only(citizen=200),
    ("GET", "/v1/orgs/{code}/score"): only(enterprise_rep=200),
    ("POST", "/v1/bank/assessments"): only(bank=201),
    ("GET", "/v1/supervisor/enterprises"): only(supervisor=200),
    ("GET", "/v1/supervisor/enterprises/distribution"): only(supervisor=200),
    ("GET", "/v1/reviewer/models"): only(reviewer=200),
    ("GET", "/v1/reviewer/models/{group}/{version}"): only(reviewer=200),
    ("GET", "/v1/reviewer/models/{group}/{version}/card"): only(reviewer=200),
    ("GET", "/v1/reviewer/drift"): only(reviewer=200),
    ("GET", "/v1/reviewer/decisions/{score_id}"): only(reviewer=200),
    ("GET", "/v1/me/report"): only(citizen=200),
    ("GET", "/v1/orgs/{code}/report"): only(enterprise_rep=200),
    ("GET", "/v1/orgs/{code}/public-report"): public(200),
    ("GET", "/v1/reports/{number}/verify"): public(200),
    ("GET", "/v1/disclosure/feed"): public(200),
    ("GET", "/v1/supervisor/bulletins/{period}"): only(supervisor=200),
    ("GET", "/v1/supervisor/coverage"): only(supervisor=200),
    ("GET", "/v1/supervisor/warnings"): only(supervisor=200),
}


def _routes(service: Service) -> set[tuple[str, str]]:
    found = set()
    for path, route in flat_routes(service.client.app.routes):  # type: ignore[attr-defined]
        for method in getattr(route, "methods", None) or ():
            if method not in ("HEAD", "OPTIONS"):
                found.add((method, path))
    return found


def test_every_route_is_in_the_matrix(service: Service) -> None:
    routes = _routes(service)
    assert sorted(routes - set(MATRIX)) == [], "routes without expected statuses: add them to MATRIX"
    assert sorted(set(MATRIX) - routes) == [], "MATRIX names routes the app does not have"
    # The matrix and the routes' declared roles agree.
    for route in service.client.app.routes:  # type: ignore[attr-defined]
        for method in getattr(route, "methods", None) or ():
            if (method, route.path) not in MATRIX:
                continue
            expected = MATRIX[(method, route.path)]
            allowed = {r for r, s in expected.items() if s not in (401, 403)}
            declared = route_roles(route)
            assert (set(declared) if declared else None) == (None if "anonymous" in allowed else allowed), (
                route.path
            )


def _credentials(service: Service) -> dict[str, dict[str, str]]:
    k, a = service.keys, service.auth
    return {
        "anonymous": {},
        "citizen": a(service.citizen(P1)),
        "enterprise_rep": a(service.token("enterprise_rep", "rep-1", orgs=(ORG,))),
        "bank": a(k["bank"]),
        "partner": a(k["partner"]),
        "supervisor": a(service.token("supervisor", "sup-1")),
        "reviewer": a(service.token("reviewer", "rev-1")),
        "department": a(k["hrss"]),
        "admin": a(service.admin),
    }


@pytest.fixture
def published(service_factory: Any, api_bundles: Path) -> Service:
    """The seeded service with champion models and published scores (a model card too)."""
    service: Service = service_factory(bundle_dir=api_bundles)
    service.seed()
    publish_scores(service.engine, service.settings, dt.date(2025, 6, 30))
    card = service.settings.var_dir / "cards" / "credit-person-pd" / "1" / "model_card.md"
    card.parent.mkdir(parents=True)
    card.write_text("# card\n", encoding="utf-8")
    return service


def test_each_role_gets_the_expected_status_on_each_route(published: Service) -> None:
    seeded = published
    c, admin = seeded.client, seeded.auth(seeded.admin)
    creds = _credentials(seeded)
    citizen, rep = creds["citizen"], creds["enterprise_rep"]
    score_id = c.get("/v1/me/score", headers=citizen).json()["score_id"]
    report = c.get(f"/v1/orgs/{ORG}/public-report?format=html")
    assessment = {
        "subject": {"type": "person", "identifier": P1},
        "consent_id": c.post("/v1/me/consents", json=CONSENT, headers=citizen).json()["id"],
        "purpose": "credit_loan",
        "amount": 10000,
    }
    ids: dict[str, Any] = {
        "consent_id": c.post("/v1/me/consents", json=CONSENT, headers=citizen).json()["id"],
        "org_consent_id": c.post(f"/v1/orgs/{ORG}/consents", json=CONSENT, headers=rep).json()["id"],
        "batch_id": c.get("/v1/department/batches", headers=creds["department"]).json()[0]["batch_id"],
        "key_id": c.post(
            "/v1/admin/api-keys", json={"role": "partner", "name": "spare"}, headers=admin
        ).json()["key_id"],
        "subject_key": seeded.pseudonym(P1),
    }
    csv = pl.DataFrame([sic(P1, "2024-05")]).write_csv().encode()
    requests: dict[tuple[str, str], tuple[str, dict[str, Any]]] = {
        ("DELETE", "/v1/me/consents/{consent_id}"): (f"/v1/me/consents/{ids['consent_id']}", {}),
        ("GET", "/v1/orgs/{code}/file"): (f"/v1/orgs/{ORG}/file", {}),
        ("GET", "/v1/orgs/{code}/queries"): (f"/v1/orgs/{ORG}/queries", {}),
        ("GET", "/v1/orgs/{code}/consents"): (f"/v1/orgs/{ORG}/consents", {}),
        ("POST", "/v1/orgs/{code}/consents"): (f"/v1/orgs/{ORG}/consents", {"json": CONSENT}),
        ("DELETE", "/v1/orgs/{code}/consents/{consent_id}"): (
            f"/v1/orgs/{ORG}/consents/{ids['org_consent_id']}",
            {},
        ),
        ("GET", "/v1/subjects/{subject_key}/file"): (
            f"/v1/subjects/{ids['subject_key']}/file?purpose=supervision",
            {},
        ),
        ("POST", "/v1/me/consents"): ("/v1/me/consents", {"json": CONSENT}),
        ("POST", "/v1/department/batches"): (
            "/v1/department/batches",
            {"json": {"records": [sic(P1, "2024-04")]}},
        ),
        ("POST", "/v1/department/batches/file"): (
            "/v1/department/batches/file?filename=may.csv",
            {"content": csv},
        ),
        ("GET", "/v1/department/batches/{batch_id}"): (f"/v1/department/batches/{ids['batch_id']}", {}),
        ("GET", "/v1/department/batches/{batch_id}/quarantine"): (
            f"/v1/department/batches/{ids['batch_id']}/quarantine",
            {},
        ),
        ("POST", "/v1/admin/api-keys"): ("/v1/admin/api-keys", {"json": {"role": "bank", "name": "bank2"}}),
        ("DELETE", "/v1/admin/api-keys/{key_id}"): (f"/v1/admin/api-keys/{ids['key_id']}", {}),
        ("GET", "/v1/orgs/{code}/score"): (f"/v1/orgs/{ORG}/score", {}),
        ("POST", "/v1/bank/assessments"): ("/v1/bank/assessments", {"json": assessment}),
        ("GET", "/v1/reviewer/models/{group}/{version}"): ("/v1/reviewer/models/person/1", {}),
        ("GET", "/v1/reviewer/models/{group}/{version}/card"): ("/v1/reviewer/models/person/1/card", {}),
        ("GET", "/v1/reviewer/decisions/{score_id}"): (f"/v1/reviewer/decisions/{score_id}", {}),
        ("GET", "/v1/orgs/{code}/report"): (f"/v1/orgs/{ORG}/report?format=html", {}),
        ("GET", "/v1/orgs/{code}/public-report"): (f"/v1/orgs/{ORG}/public-report", {}),
        ("GET", "/v1/reports/{number}/verify"): (
            f"/v1/reports/{report.headers['x-report-number']}/verify?code={report.headers['x-report-code']}",
            {},
        ),
        ("GET", "/v1/disclosure/feed"): ("/v1/disclosure/feed?on=2025-06-30", {}),
        ("GET", "/v1/supervisor/bulletins/{period}"): ("/v1/supervisor/bulletins/2026-Q4", {}),
        ("GET", "/v1/supervisor/warnings"): ("/v1/supervisor/warnings?from=2025-01-01", {}),
    }
    got: dict[tuple[str, str], dict[str, int]] = {}
    for method, template in MATRIX:
        path, kwargs = requests.get((method, template), (template, {}))
        got[(method, template)] = {}
        for role in ROLES:
            r = c.request(method, path, headers=creds[role], **kwargs)
            got[(method, template)][role] = r.status_code
            if r.status_code >= 400 and template != "/readyz":  # readiness answers with its own report
                assert r.headers["content-type"] == "application/problem+json", (method, template, role)
    assert got == MATRIX
