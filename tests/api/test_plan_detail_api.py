"""A plan read back as JSON (``GET /v1/supervisor/plans/{plan_no}``) on both databases: the header
as published, the drawn organisations with names, classes and inspectors, and the results as
they are recorded."""

from __future__ import annotations

import csv
import io

from api_service import Service
from score_service import LISTED
from sqlalchemy.orm import Session

from scoring.inspections import add_inspector

PROBLEM = "application/problem+json"


def test_plan_detail_lists_the_drawn_organisations_and_their_results(scored: Service) -> None:
    s = scored
    with Session(s.engine) as session, session.begin():
        add_inspector(session, code="ZF-0001", name="=cmd()", department="market_regulation", sectors="*")
        add_inspector(session, code="ZF-0002", name="Li", department="market_regulation", sectors="*")
    sup = s.auth(s.token("supervisor", "sup-1"))
    r = s.client.post(
        "/v1/supervisor/plans",
        json={"sector": "retail", "period": "2026Q3", "seed": "seed-detail-1"},
        headers=sup,
    )
    assert r.status_code == 201, r.text
    header = r.json()
    no = header["plan_no"]

    got = s.client.get(f"/v1/supervisor/plans/{no}", headers=sup)
    assert got.status_code == 200, got.text
    plan = got.json()
    assert {k: v for k, v in plan.items() if k != "selection"} == header
    rows = list(
        csv.DictReader(io.StringIO(s.client.get(f"/v1/supervisor/plans/{no}/export", headers=sup).text))
    )
    assert [(d["position"], d["code"], d["class"]) for d in plan["selection"]] == [
        (int(row["position"]), row["credit_code"], row["class"]) for row in rows
    ]
    assert sum(drawn for _, drawn in plan["counts"].values()) == len(plan["selection"])
    listed = next(d for d in plan["selection"] if d["code"] == LISTED)
    assert listed["name"] and listed["result"] is None and listed["inspected_on"] is None
    assert len(listed["inspectors"]) == header["inspectors_per_check"]
    assert {i["code"] for i in listed["inspectors"]} <= {"ZF-0001", "ZF-0002"}
    assert "=cmd()" in {i["name"] for i in listed["inspectors"]}  # JSON is data: names as stored

    result = {"org_code": LISTED, "result": "compliant", "inspected_on": "2026-07-10"}
    assert s.client.post(f"/v1/supervisor/plans/{no}/results", json=result, headers=sup).status_code == 201
    again = s.client.get(f"/v1/supervisor/plans/{no}", headers=sup).json()
    listed = next(d for d in again["selection"] if d["code"] == LISTED)
    assert (listed["result"], listed["inspected_on"]) == ("compliant", "2026-07-10")

    missing = s.client.get("/v1/supervisor/plans/NOPE-1", headers=sup)
    assert missing.status_code == 404 and missing.headers["content-type"] == PROBLEM
    reviewer = s.auth(s.token("reviewer", "rev-1"))
    assert s.client.get(f"/v1/supervisor/plans/{no}", headers=reviewer).status_code == 403
