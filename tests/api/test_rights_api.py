"""Rights and supervision routes on both databases: objections decided by the reporting
department (the score follows), score reviews by a reviewer, the citizen's cases, random
inspection plans generated, verified, exported and given results."""

from __future__ import annotations

import csv
import io
from typing import Any

import sqlalchemy as sa
from api_service import Service
from score_service import LISTED, SCORED
from sqlalchemy.orm import Session

from scoring.inspections import add_inspector

PROBLEM = "application/problem+json"


def _score(s: Service) -> int:
    r = s.client.get("/v1/me/score", headers=s.auth(s.citizen(SCORED)))
    assert r.status_code == 200, r.text
    return int(r.json()["score"])


def test_objection_upheld_by_the_department_changes_the_score(scored: Service) -> None:
    s = scored
    with s.engine.begin() as c:  # the hand-built record names no catalogue department
        c.execute(sa.text("UPDATE records SET department = 'traffic_police' WHERE record_uid = 't1'"))
    me = s.auth(s.citizen(SCORED))
    before = _score(s)
    body = {"record_uid": "t1", "reason": "I was not driving that day", "evidence": "travel record"}
    r = s.client.post("/v1/me/objections", json=body, headers=me)
    assert r.status_code == 201, r.text
    objection = r.json()
    assert objection["status"] == "disputed" and objection["decide_due"]
    again = s.client.post("/v1/me/objections", json=body, headers=me)
    assert again.status_code == 422 and again.headers["content-type"] == PROBLEM
    other = s.client.post("/v1/me/objections", json={**body, "record_uid": "p2-0"}, headers=me)
    assert other.status_code == 422  # not in my credit file

    hrss = s.auth(s.key("department", "hrss-feed", "hrss"))
    decision = {"upheld": True, "action": "withdrawn", "reason": "payment found"}
    url = f"/v1/department/objections/{objection['id']}/decision"
    assert s.client.post(url, json=decision, headers=hrss).status_code == 404  # not its record
    police = s.auth(s.key("department", "police-feed", "traffic_police"))
    r = s.client.post(url, json=decision, headers=police)
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "upheld" and r.json()["action"] == "withdrawn"
    assert s.client.post(url, json=decision, headers=police).status_code == 422  # decided already
    assert _score(s) > before  # the record is out of the score while disputed, and withdrawn now
    history = s.client.get("/v1/me/history", headers=me).json()["scores"]
    assert history[-1]["origin"] == "rescore" and history[-1]["score_id"] == r.json()["score_after_id"]

    cases = s.client.get("/v1/me/cases", headers=me)
    assert cases.status_code == 200
    assert [(c["case"], c["status"]) for c in cases.json()] == [("objection", "upheld")]


def test_reviewer_decides_a_review_the_citizen_asked_for(scored: Service) -> None:
    s = scored
    me = s.auth(s.citizen(SCORED))
    r = s.client.post("/v1/me/reviews", json={"reason": "my score ignores my new job"}, headers=me)
    assert r.status_code == 201, r.text
    review = r.json()
    reviewer = s.auth(s.token("reviewer", "rev-1"))
    queue = s.client.get("/v1/reviewer/reviews", headers=reviewer)
    assert queue.status_code == 200
    assert [q["id"] for q in queue.json()] == [review["id"]]
    assert queue.json()[0]["subject_key"] == s.pseudonym(SCORED)
    reads = s.client.get("/v1/me/queries", headers=me).json()["queries"]
    assert any(q["accessor_role"] == "reviewer" and q["purpose"] == "score_review" for q in reads)
    url = f"/v1/reviewer/reviews/{review['id']}/decision"
    r = s.client.post(url, json={"outcome": "confirmed", "reason": "records are right"}, headers=reviewer)
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "confirmed" and r.json()["score_after"] == r.json()["score_before"]
    assert s.client.get("/v1/reviewer/reviews", headers=reviewer).json() == []
    missing = s.client.post(
        "/v1/reviewer/reviews/999999/decision", json={"outcome": "confirmed", "reason": "x"}, headers=reviewer
    )
    assert missing.status_code == 404 and missing.headers["content-type"] == PROBLEM
    cases = s.client.get("/v1/me/cases", headers=me).json()
    assert [(c["case"], c["status"]) for c in cases] == [("review", "confirmed")]


def test_repair_of_a_record_that_is_not_mine_is_refused(scored: Service) -> None:
    s = scored
    body = {"record_uid": "p2-0", "proof": "paid", "commitment": "CN-1"}
    r = s.client.post("/v1/me/repairs", json=body, headers=s.auth(s.citizen(SCORED)))
    assert r.status_code == 422 and r.headers["content-type"] == PROBLEM


def _inspector(s: Service) -> None:
    with Session(s.engine) as session, session.begin():
        add_inspector(session, code="ZF-0001", name="=cmd()", department="market_regulation", sectors="*")
        add_inspector(session, code="ZF-0002", name="Li", department="market_regulation", sectors="*")


def test_supervisor_generates_verifies_exports_a_plan_and_records_a_result(scored: Service) -> None:
    s = scored
    _inspector(s)
    sup = s.auth(s.token("supervisor", "sup-1"))
    body: dict[str, Any] = {"sector": "retail", "period": "2026Q3", "seed": "published-seed-1"}
    r = s.client.post("/v1/supervisor/plans", json=body, headers=sup)
    assert r.status_code == 201, r.text
    plan = r.json()
    assert plan["seed"] == "published-seed-1" and plan["selection_sha256"]
    no = plan["plan_no"]
    v = s.client.get(f"/v1/supervisor/plans/{no}/verify", headers=sup)
    assert v.status_code == 200 and v.json() == {"plan_no": no, "ok": True, "problems": []}
    export = s.client.get(f"/v1/supervisor/plans/{no}/export", headers=sup)
    assert export.status_code == 200 and export.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(export.text)))
    assert rows[0] == ["position", "credit_code", "name", "class", "inspectors", "result"]
    drawn = [row[1] for row in rows[1:]]
    assert LISTED in drawn
    assert all(not cell.startswith("=") for row in rows for cell in row)
    result = {"org_code": LISTED, "result": "non_compliant", "inspected_on": "2026-07-10"}
    r = s.client.post(f"/v1/supervisor/plans/{no}/results", json=result, headers=sup)
    assert r.status_code == 201, r.text
    assert r.json()["result"] == "non_compliant" and r.json()["record_uid"]
    assert s.client.get("/v1/supervisor/plans/NOPE-1/verify", headers=sup).status_code == 404
