"""Who may call what: the expected status of every route for every role, written out by hand.

A route missing from ``MATRIX`` fails the test, so every new route states its roles here.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import polars as pl
import pytest
import sqlalchemy as sa
from api_service import ORG, P1, Service, sic
from sqlalchemy.orm import Session

from api.security import flat_routes, route_roles
from scoring.benefits import issue_card_token
from scoring.db.tables import Subject
from scoring.inspections import add_inspector
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
    ("GET", "/"): public(200),  # a redirect to the citizen app (/app/), followed
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
    ("POST", "/v1/bank/reports"): only(bank=200),
    ("GET", "/v1/disclosure/metrics"): only(supervisor=200),
    ("GET", "/v1/commitments/items"): public(200),
    ("GET", "/v1/commitments/published"): public(200),
    ("POST", "/v1/me/commitments"): only(citizen=201),
    ("GET", "/v1/me/commitments"): only(citizen=200),
    ("POST", "/v1/orgs/{code}/commitments"): only(enterprise_rep=201),
    ("GET", "/v1/department/commitments/due"): only(department=200),
    # The hrss key may not decide a commitment the tax office supervises.
    ("POST", "/v1/department/commitments/{commitment_no}/decision"): only(department=422),
    ("GET", "/v1/supervisor/bulletins/{period}"): only(supervisor=200),
    ("GET", "/v1/supervisor/coverage"): only(supervisor=200),
    ("GET", "/v1/supervisor/warnings"): only(supervisor=200),
    ("GET", "/v1/me/benefits"): only(citizen=200),
    ("GET", "/v1/me/grants"): only(citizen=200),
    ("POST", "/v1/me/objections"): only(citizen=201),
    ("POST", "/v1/me/repairs"): only(citizen=422),  # a paid contribution is not a negative record
    ("POST", "/v1/me/reviews"): only(citizen=422),  # one open review at a time: one is asked for above
    ("GET", "/v1/me/cases"): only(citizen=200),
    ("GET", "/v1/partner/eligibility"): only(partner=200),
    ("POST", "/v1/partner/grants"): only(partner=404),  # metro provides no benefit of the catalogue
    ("POST", "/v1/partner/obligations/{obligation_id}/settlement"): only(partner=404),
    ("POST", "/v1/department/checks"): only(department=201),
    ("POST", "/v1/department/checks/{check_id}/feedback"): only(department=422),  # no such measure
    ("POST", "/v1/department/objections/{objection_id}/decision"): only(department=200),
    ("GET", "/v1/department/cases"): only(department=200),
    ("POST", "/v1/department/repairs/{application_id}/acceptance"): only(department=404),  # not its record
    ("POST", "/v1/department/repairs/{application_id}/decision"): only(department=404),
    ("POST", "/v1/lists"): only(supervisor=201),
    ("POST", "/v1/lists/{listing_id}/verify"): only(supervisor=200),
    ("POST", "/v1/lists/{listing_id}/publish"): only(supervisor=200),
    ("POST", "/v1/lists/{listing_id}/exit"): only(supervisor=200),
    ("POST", "/v1/supervisor/plans"): only(supervisor=201),
    ("GET", "/v1/supervisor/plans/{plan_no}"): only(supervisor=200),
    ("GET", "/v1/supervisor/plans/{plan_no}/verify"): only(supervisor=200),
    ("GET", "/v1/supervisor/plans/{plan_no}/export"): only(supervisor=200),
    ("POST", "/v1/supervisor/plans/{plan_no}/results"): only(supervisor=201),
    ("GET", "/v1/reviewer/reviews"): only(reviewer=200),
    ("POST", "/v1/reviewer/reviews/{review_id}/decision"): only(reviewer=200),
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


LISTING = {"department": "market_regulation", "doc_no": "闽市监〔2025〕1号", "area": "市场监管",
           "legal_basis": "《严重违法失信名单管理办法》第二条", "decided_on": "2025-06-01",
           "valid_to": "2028-06-01"}  # fmt: skip


def _listing(s: Service, list_type: str, *steps: str) -> int:
    """A listing of ORG proposed by sup-2, then taken through ``steps`` by sup-3."""
    other = s.auth(s.token("supervisor", "sup-3"))
    body = {**LISTING, "list_type": list_type, "subject": ORG, "doc_no": f"闽市监〔2025〕{len(steps) + 2}号"}
    r = s.client.post("/v1/lists", json=body, headers=s.auth(s.token("supervisor", "sup-2")))
    assert r.status_code == 201, r.text
    listing_id = int(r.json()["id"])
    for step in steps:
        assert s.client.post(f"/v1/lists/{listing_id}/{step}", headers=other).status_code == 200
    return listing_id


def _rights_and_incentives(s: Service, creds: dict[str, dict[str, str]]) -> dict[Any, Any]:
    """Requests of the incentive, list, objection, review and plan routes (and what they need)."""
    c, citizen, dept = s.client, creds["citizen"], creds["department"]
    with Session(s.engine) as session, session.begin():
        subject = session.execute(
            sa.select(Subject).where(Subject.subject_key == s.pseudonym(P1))
        ).scalar_one()
        token = issue_card_token(session, s.settings, subject, "metro")
        for code, name in (("ZF-0001", "Li"), ("ZF-0002", "Wang")):
            add_inspector(session, code=code, name=name, department="market_regulation", sectors="*")
    uids = [r["record_uid"] for r in c.get("/v1/me/file", headers=citizen).json()["records"]]
    objection = c.post("/v1/me/objections", json={"record_uid": uids[0], "reason": "paid"}, headers=citizen)
    review = c.post("/v1/me/reviews", json={"reason": "please check"}, headers=citizen)
    check = c.post(
        "/v1/department/checks", json={"subject": P1, "scenario": "subsidy_application"}, headers=dept
    )
    sup = creds["supervisor"]
    plan = c.post("/v1/supervisor/plans", json={"sector": "retail", "period": "2025"}, headers=sup)
    for r in (objection, review, check, plan):
        assert r.status_code == 201, r.text
    no = plan.json()["plan_no"]
    grant = {"token": token, "benefit": "library_deposit_waiver"}
    result = {"org_code": ORG, "result": "compliant", "inspected_on": "2025-07-10"}
    return {
        ("POST", "/v1/me/objections"): (
            "/v1/me/objections",
            {"json": {"record_uid": uids[1], "reason": "x"}},
        ),
        ("POST", "/v1/me/repairs"): (
            "/v1/me/repairs",
            {"json": {"record_uid": uids[1], "proof": "paid", "commitment": "CN-1"}},
        ),
        ("POST", "/v1/me/reviews"): ("/v1/me/reviews", {"json": {"reason": "again"}}),
        ("GET", "/v1/partner/eligibility"): (f"/v1/partner/eligibility?token={token}", {}),
        ("POST", "/v1/partner/grants"): (
            "/v1/partner/grants",
            {"json": grant, "headers": {"Idempotency-Key": "k-1"}},
        ),
        ("POST", "/v1/partner/obligations/{obligation_id}/settlement"): (
            "/v1/partner/obligations/1/settlement",
            {"json": {"reference": "PAY-1"}},
        ),
        ("POST", "/v1/department/checks"): (
            "/v1/department/checks",
            {"json": {"subject": P1, "scenario": "government_procurement"}},
        ),
        ("POST", "/v1/department/checks/{check_id}/feedback"): (
            f"/v1/department/checks/{check.json()['check_id']}/feedback",
            {"json": {"measure": "no_such_measure", "outcome": "applied"}},
        ),
        ("POST", "/v1/department/objections/{objection_id}/decision"): (
            f"/v1/department/objections/{objection.json()['id']}/decision",
            {"json": {"upheld": False, "reason": "the contribution was recorded as paid"}},
        ),
        ("POST", "/v1/department/repairs/{application_id}/acceptance"): (
            "/v1/department/repairs/999999/acceptance",
            {"json": {"accepted": True, "reason": "materials complete"}},
        ),
        ("POST", "/v1/department/repairs/{application_id}/decision"): (
            "/v1/department/repairs/999999/decision",
            {"json": {"approved": True, "reason": "fine paid"}},
        ),
        ("POST", "/v1/lists"): ("/v1/lists", {"json": {**LISTING, "list_type": "red", "subject": ORG}}),
        ("POST", "/v1/lists/{listing_id}/verify"): (f"/v1/lists/{_listing(s, 'red')}/verify", {}),
        ("POST", "/v1/lists/{listing_id}/publish"): (f"/v1/lists/{_listing(s, 'red', 'verify')}/publish", {}),
        ("POST", "/v1/lists/{listing_id}/exit"): (
            f"/v1/lists/{_listing(s, 'red', 'verify', 'publish')}/exit",
            {"json": {"reason": "the determination was revoked"}},
        ),
        ("POST", "/v1/supervisor/plans"): (
            "/v1/supervisor/plans",
            {"json": {"sector": "retail", "period": "2026"}},
        ),
        ("GET", "/v1/supervisor/plans/{plan_no}"): (f"/v1/supervisor/plans/{no}", {}),
        ("GET", "/v1/supervisor/plans/{plan_no}/verify"): (f"/v1/supervisor/plans/{no}/verify", {}),
        ("GET", "/v1/supervisor/plans/{plan_no}/export"): (f"/v1/supervisor/plans/{no}/export", {}),
        ("POST", "/v1/supervisor/plans/{plan_no}/results"): (
            f"/v1/supervisor/plans/{no}/results",
            {"json": result},
        ),
        ("POST", "/v1/reviewer/reviews/{review_id}/decision"): (
            f"/v1/reviewer/reviews/{review.json()['id']}/decision",
            {"json": {"outcome": "confirmed", "reason": "records are right"}},
        ),
    }


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
    commitment_no = c.post("/v1/me/commitments", json={"item": "tax_notification"}, headers=citizen).json()[
        "commitment_no"
    ]
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
        ("POST", "/v1/bank/reports"): ("/v1/bank/reports", {"json": {**assessment, "format": "html"}}),
        ("GET", "/v1/disclosure/metrics"): ("/v1/disclosure/metrics?from=2024-01-01&to=2026-12-31", {}),
        ("POST", "/v1/me/commitments"): ("/v1/me/commitments", {"json": {"item": "tax_notification"}}),
        ("POST", "/v1/orgs/{code}/commitments"): (
            f"/v1/orgs/{ORG}/commitments",
            {"json": {"item": "market_entry"}},
        ),
        ("POST", "/v1/department/commitments/{commitment_no}/decision"): (
            f"/v1/department/commitments/{commitment_no}/decision",
            {"json": {"outcome": "fulfilled", "on": "2026-11-30", "note": "checked"}},
        ),
        ("GET", "/v1/supervisor/bulletins/{period}"): ("/v1/supervisor/bulletins/2026-Q4", {}),
        ("GET", "/v1/supervisor/warnings"): ("/v1/supervisor/warnings?from=2025-01-01", {}),
        **_rights_and_incentives(seeded, creds),
    }
    got: dict[tuple[str, str], dict[str, int]] = {}
    for method, template in MATRIX:
        path, kwargs = requests.get((method, template), (template, {}))
        got[(method, template)] = {}
        for role in ROLES:
            extra = kwargs.get("headers", {})
            r = c.request(method, path, **{**kwargs, "headers": {**creds[role], **extra}})
            got[(method, template)][role] = r.status_code
            if r.status_code >= 400 and template != "/readyz":  # readiness answers with its own report
                assert r.headers["content-type"] == "application/problem+json", (method, template, role)
    assert got == MATRIX
