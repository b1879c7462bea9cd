"""The reporting department's casework over HTTP, on both databases: its open objections and
repair applications (only about its own records, with the citizen's evidence and proof), an
application accepted and approved (the record repaired, the subject rescored and the citizen
seeing it), refusals for another department's cases and for decisions out of order."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from api_service import Service
from score_service import SCORED

from scoring.db.tables import Record

PROBLEM = "application/problem+json"


def _old_violation(s: Service) -> None:
    """A general traffic violation of the scored citizen from 2024, public until 2030: repairable."""
    day = dt.date(2024, 1, 10)
    with s.engine.begin() as c:
        c.execute(sa.text("UPDATE records SET department = 'traffic_police' WHERE record_uid = 't1'"))
        c.execute(
            sa.insert(Record).values(
                record_uid="t2", version=1, subject_id=1, kind="traffic_violation",
                department="traffic_police", event_date=day, publicity_end=dt.date(2030, 1, 1),
                severity="general",
                recorded_at=dt.datetime.combine(day, dt.time(20)), content_hash="t2", outcome="general",
                payload="{}",
            )
        )  # fmt: skip


def test_department_lists_accepts_and_approves_a_repair_and_the_citizen_sees_it(scored: Service) -> None:
    s = scored
    _old_violation(s)
    me = s.auth(s.citizen(SCORED))
    police = s.auth(s.key("department", "police-feed", "traffic_police"))
    hrss = s.auth(s.key("department", "hrss-feed", "hrss"))
    filed = {"record_uid": "t1", "reason": "not me", "evidence": "ticket"}
    objection = s.client.post("/v1/me/objections", json=filed, headers=me)
    assert objection.status_code == 201, objection.text
    body = {"record_uid": "t2", "proof": "fine paid on 2024-02-01", "commitment": "CN-2026-7"}
    applied = s.client.post("/v1/me/repairs", json=body, headers=me)
    assert applied.status_code == 201, applied.text
    app_id = applied.json()["id"]

    cases = s.client.get("/v1/department/cases", headers=police)
    assert cases.status_code == 200, cases.text
    got = cases.json()
    assert [(o["id"], o["record_uid"], o["evidence"]) for o in got["objections"]] == [
        (objection.json()["id"], "t1", "ticket")
    ]
    assert [(a["id"], a["record_uid"], a["status"], a["proof"], a["commitment"]) for a in got["repairs"]] == [
        (app_id, "t2", "applied", "fine paid on 2024-02-01", "CN-2026-7")
    ]
    assert {o["subject_key"] for o in got["objections"]} == {s.pseudonym(SCORED)}
    assert s.client.get("/v1/department/cases?overdue=true", headers=police).json() == {
        "objections": [],
        "repairs": [],
    }
    assert s.client.get("/v1/department/cases", headers=hrss).json() == {"objections": [], "repairs": []}
    reads = s.client.get("/v1/me/queries", headers=me).json()["queries"]
    assert [q["purpose"] for q in reads if q["accessor_role"] == "department"] == ["casework"]

    accept = f"/v1/department/repairs/{app_id}/acceptance"
    decide = f"/v1/department/repairs/{app_id}/decision"
    other = s.client.post(accept, json={"accepted": True, "reason": "ok"}, headers=hrss)
    assert other.status_code == 404 and other.headers["content-type"] == PROBLEM
    early = s.client.post(decide, json={"approved": True, "reason": "ok"}, headers=police)
    assert early.status_code == 422 and "not accepted" in early.json()["detail"]
    r = s.client.post(accept, json={"accepted": True, "reason": "materials complete"}, headers=police)
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "accepted" and r.json()["result_due"] and not r.json()["complex"]
    before = s.client.get("/v1/me/score", headers=me).json()["score"]
    r = s.client.post(
        decide, json={"approved": True, "reason": "fine paid, commitment signed"}, headers=police
    )
    assert r.status_code == 200, r.text
    decided = r.json()
    assert decided["status"] == "repaired" and decided["score_after_id"] != decided["score_before_id"]
    again = s.client.post(decide, json={"approved": True, "reason": "again"}, headers=police)
    assert again.status_code == 422

    score = s.client.get("/v1/me/score", headers=me).json()
    assert score["score_id"] == decided["score_after_id"] and score["score"] >= before
    records = {r["record_uid"]: r for r in s.client.get("/v1/me/file", headers=me).json()["records"]}
    assert records["t2"]["status"] == "repaired"
    mine = [(c["case"], c["status"]) for c in s.client.get("/v1/me/cases", headers=me).json()]
    assert mine == [("objection", "disputed"), ("repair", "repaired")]
    left = s.client.get("/v1/department/cases", headers=police).json()
    assert left["repairs"] == [] and len(left["objections"]) == 1


def test_an_application_not_accepted_says_why_and_cannot_be_decided(scored: Service) -> None:
    s = scored
    _old_violation(s)
    me = s.auth(s.citizen(SCORED))
    police = s.auth(s.key("department", "police-feed", "traffic_police"))
    body = {"record_uid": "t2", "proof": "paid", "commitment": "CN-1"}
    app_id = s.client.post("/v1/me/repairs", json=body, headers=me).json()["id"]
    r = s.client.post(
        f"/v1/department/repairs/{app_id}/acceptance",
        json={"accepted": False, "reason": "missing: the payment receipt"},
        headers=police,
    )
    assert r.status_code == 200 and r.json()["status"] == "not_accepted"
    assert r.json()["accept_reason"] == "missing: the payment receipt"
    r = s.client.post(
        f"/v1/department/repairs/{app_id}/decision", json={"approved": True, "reason": "x"}, headers=police
    )
    assert r.status_code == 422 and r.headers["content-type"] == PROBLEM
    empty = s.client.post(
        f"/v1/department/repairs/{app_id}/acceptance", json={"accepted": True, "reason": ""}, headers=police
    )
    assert empty.status_code == 422  # a written reason is required
