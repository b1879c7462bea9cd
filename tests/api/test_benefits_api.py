"""Incentive routes on both databases: a citizen's benefits and grants, a partner's eligibility
check and idempotent grant by citizen-card token, the list workflow (four eyes) suspending the
grant, and 逢办必查 checks with the executing department's feedback."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from api_service import Service
from score_service import SCORED
from sqlalchemy.orm import Session

from scoring.benefits import issue_card_token
from scoring.db.tables import Subject

PROBLEM = "application/problem+json"
LISTING = {"list_type": "black", "department": "market_regulation", "doc_no": "闽市监〔2026〕7号",
           "area": "市场监管", "legal_basis": "《市场监督管理严重违法失信名单管理办法》第二条",
           "decided_on": "2026-05-01", "valid_to": "2029-05-01"}  # fmt: skip


def _token(s: Service, number: str, partner: str) -> str:
    with Session(s.engine) as session, session.begin():
        key = s.pseudonym(number)
        subject = session.execute(sa.select(Subject).where(Subject.subject_key == key)).scalar_one()
        return issue_card_token(session, s.settings, subject, partner)


def _good_score(s: Service) -> None:
    with s.engine.begin() as c:  # the hand-built person scores 400; benefits start at 600
        c.execute(sa.text("UPDATE scores SET score = 720 WHERE subject_id = 1"))


def _queries(s: Service, headers: dict[str, str]) -> list[str]:
    return [
        f"{q['accessor_role']}:{q['accessor_id']}"
        for q in s.client.get("/v1/me/queries", headers=headers).json()["queries"]
    ]


def test_partner_eligibility_idempotent_grant_and_suspension_by_a_listing(scored: Service) -> None:
    s = scored
    _good_score(s)
    me = s.auth(s.citizen(SCORED))
    mine = s.client.get("/v1/me/benefits?lang=en", headers=me)
    assert mine.status_code == 200, mine.text
    by_code = {b["benefit"]: b for b in mine.json()["benefits"]}
    assert by_code["library_deposit_waiver"]["eligible"] is True
    assert by_code["credit_loan_enterprise"]["eligible"] is False
    assert by_code["credit_loan_enterprise"]["reasons"][0]["code"] == "subject_type"

    library = s.auth(s.key("partner", "city-library"))
    token = _token(s, SCORED, "city-library")
    r = s.client.get(f"/v1/partner/eligibility?token={token}", headers=library)
    assert r.status_code == 200, r.text
    assert r.json()["benefits"] == [{"benefit": "library_deposit_waiver", "eligible": True}]
    assert "score" not in r.text
    assert s.client.get("/v1/partner/eligibility?token=ct_nope", headers=library).status_code == 404
    other = s.client.get(f"/v1/partner/eligibility?token={token}&benefit=transit_discount", headers=library)
    assert other.status_code == 404 and other.headers["content-type"] == PROBLEM
    bike = s.auth(s.key("partner", "public-bike"))
    assert s.client.get(f"/v1/partner/eligibility?token={token}", headers=bike).status_code == 404

    body = {"token": token, "benefit": "library_deposit_waiver"}
    key = {"Idempotency-Key": "lib-0001"}
    first = s.client.post("/v1/partner/grants", json=body, headers={**library, **key})
    assert first.status_code == 201, first.text
    again = s.client.post("/v1/partner/grants", json=body, headers={**library, **key})
    assert again.status_code == 200 and again.json()["replayed"] is True
    assert again.json()["grant"] == first.json()["grant"]
    missing = s.client.post("/v1/partner/grants", json=body, headers=library)
    assert missing.status_code == 422 and missing.headers["content-type"] == PROBLEM
    grants = s.client.get("/v1/me/grants", headers=me).json()
    assert [g["status"] for g in grants["grants"]] == ["active"] and grants["suspensions"] == []

    # A black listing: proposed by one supervisor, verified and published by another.
    sup1, sup2 = s.auth(s.token("supervisor", "sup-1")), s.auth(s.token("supervisor", "sup-2"))
    r = s.client.post("/v1/lists", json={**LISTING, "subject": SCORED}, headers=sup1)
    assert r.status_code == 201, r.text
    listing = r.json()["id"]
    own = s.client.post(f"/v1/lists/{listing}/verify", headers=sup1)
    assert own.status_code == 422 and "four eyes" in own.json()["detail"]
    assert s.client.post(f"/v1/lists/{listing}/publish", headers=sup2).status_code == 422  # not verified
    assert s.client.post(f"/v1/lists/{listing}/verify", headers=sup2).json()["status"] == "verified"
    assert s.client.post(f"/v1/lists/{listing}/publish", headers=sup2).json()["status"] == "published"
    assert s.client.post("/v1/lists/999999/verify", headers=sup2).status_code == 404
    grants = s.client.get("/v1/me/grants", headers=me).json()
    assert [g["status"] for g in grants["grants"]] == ["suspended"] and len(grants["suspensions"]) == 1
    r = s.client.get(f"/v1/partner/eligibility?token={token}", headers=library)
    assert r.json()["benefits"][0]["eligible"] is False
    assert "partner:city-library" in _queries(s, me)


def test_department_check_lists_measures_and_takes_feedback_once(scored: Service) -> None:
    s = scored
    sup1, sup2 = s.auth(s.token("supervisor", "sup-1")), s.auth(s.token("supervisor", "sup-2"))
    listing = s.client.post("/v1/lists", json={**LISTING, "subject": SCORED}, headers=sup1).json()["id"]
    for step in ("verify", "publish"):
        assert s.client.post(f"/v1/lists/{listing}/{step}", headers=sup2).status_code == 200
    hrss = s.auth(s.key("department", "hrss-feed", "hrss"))
    body: dict[str, Any] = {"subject": SCORED, "scenario": "subsidy_application"}
    r = s.client.post("/v1/department/checks", json=body, headers=hrss)
    assert r.status_code == 201, r.text
    check = r.json()
    assert check["measures"], check
    measure = check["measures"][0]
    assert (measure["code"] and measure.get("basis")) or measure.get("memorandum") or measure
    url = f"/v1/department/checks/{check['check_id']}/feedback"
    fb = {"measure": measure["code"], "outcome": "applied"}
    assert s.client.post(url, json=fb, headers=hrss).status_code == 201
    assert s.client.post(url, json=fb, headers=hrss).status_code == 422  # once per measure
    tax = s.auth(s.key("department", "tax-feed", "tax"))
    assert s.client.post(url, json=fb, headers=tax).status_code == 404  # not its check
    unknown = s.client.post("/v1/department/checks", json={**body, "subject": "0" * 64}, headers=hrss)
    assert unknown.status_code == 404 and unknown.headers["content-type"] == PROBLEM
    assert "department:hrss-feed" in _queries(s, s.auth(s.citizen(SCORED)))
