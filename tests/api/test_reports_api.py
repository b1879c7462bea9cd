"""Report and disclosure routes on both databases: issuing, registering, verifying, the public feed."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from api_service import ORG, ORG2, P1, Service

from scoring.db.tables import QueryRegisterEntry


def _penalty(day: dt.date) -> dict[str, str]:
    return {
        "kind": "administrative_penalty",
        "subject_id": ORG,
        "event_date": day.isoformat(),
        "department": "market_regulation",
        "doc_no": "JSCF-2026-7",
        "penalty_type": "fine_mid",
        "amount": "3000",
    }


def test_citizen_report_is_a_registered_read_and_verifies(seeded: Service) -> None:
    c = seeded.client
    r = c.get("/v1/me/report?purpose=rental", headers=seeded.auth(seeded.citizen(P1)))
    assert r.status_code == 200 and r.headers["content-type"] == "application/pdf"
    assert r.content.startswith(b"%PDF")
    number, code = r.headers["x-report-number"], r.headers["x-report-code"]
    ok = c.get(f"/v1/reports/{number}/verify", params={"code": code}).json()
    assert ok["valid"] and ok["audience"] == "self" and ok["subject_type"] == "person"
    bad = c.get(f"/v1/reports/{number}/verify", params={"code": "0000-0000-0000-0000-0000"}).json()
    assert (bad["valid"], bad["reason"]) == (False, "code_mismatch")
    assert c.get("/v1/reports/CR20990101AAAAAAAAAA/verify?code=x").json()["reason"] == "unknown_number"
    with seeded.engine.connect() as conn:
        purposes = conn.execute(sa.select(QueryRegisterEntry.purpose)).scalars().all()
    assert "credit_report:rental" in purposes
    mine = c.get("/v1/me/queries", headers=seeded.auth(seeded.citizen(P1))).json()
    assert any(q["purpose"] == "credit_report:rental" for q in mine["queries"])


def test_public_organisation_report_and_feed(seeded: Service) -> None:
    c = seeded.client
    today = dt.datetime.now(dt.UTC).date()
    posted = c.post(
        "/v1/department/batches",
        json={"records": [_penalty(today - dt.timedelta(days=2))]},
        headers=seeded.auth(seeded.keys["market_regulation"]),
    )
    assert posted.status_code == 201, posted.text
    page = c.get(f"/v1/orgs/{ORG}/public-report?format=html")  # no credential: public
    assert page.status_code == 200 and "JSCF-2026-7" in page.text and "Alpha Ltd" in page.text
    assert "公开版" in page.text
    verified = c.get(
        f"/v1/reports/{page.headers['x-report-number']}/verify",
        params={"code": page.headers["x-report-code"]},
    ).json()
    assert verified["valid"] and verified["subject_code"] == ORG and verified["audience"] == "public"
    assert c.get(f"/v1/orgs/{ORG2}/public-report").status_code == 404
    feed = c.get("/v1/disclosure/feed", params={"on": today.isoformat()}).json()
    assert [(e["subject_code"], e["decision_no"], e["on_time"]) for e in feed["entries"]] == [
        (ORG, "JSCF-2026-7", True)
    ]
    assert c.get("/v1/disclosure/feed", params={"on": "1900-01-01"}).status_code == 422
    rep = seeded.auth(seeded.token("enterprise_rep", "rep-1", orgs=(ORG,)))
    full = c.get(f"/v1/orgs/{ORG}/report?format=html", headers=rep)
    assert full.status_code == 200 and "授权完整版" in full.text
    other = seeded.auth(seeded.token("enterprise_rep", "rep-2", orgs=(ORG2,)))
    assert c.get(f"/v1/orgs/{ORG}/report", headers=other).status_code == 403
