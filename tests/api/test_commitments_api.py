"""Credit commitments over HTTP on both databases (sign, list, decide; a broken one becomes a
record and the subject is rescored), and a bank's consented credit report."""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from api_service import Service
from score_service import CLEAN, SCORED, UNKNOWN

SIGN = {"item": "tax_notification"}


def test_a_citizen_signs_and_the_supervising_department_decides(scored: Service) -> None:
    s = scored
    citizen = s.auth(s.citizen(SCORED))
    tax = s.auth(s.key("department", "tax-desk", "tax"))
    hrss = s.auth(s.key("department", "hrss-desk", "hrss"))
    items = {i["item"]: i for i in s.client.get("/v1/commitments/items").json()}
    assert (
        items["tax_notification"]["department"] == "tax"
        and "person" in items["tax_notification"]["subject_types"]
    )
    r = s.client.post("/v1/me/commitments", json=SIGN, headers=citizen)
    assert r.status_code == 201, r.text
    signed: dict[str, Any] = r.json()
    number = signed["commitment_no"]
    assert (signed["status"], signed["item"], signed["department"]) == ("signed", "tax_notification", "tax")
    assert "*" in signed["subject_code"]  # a person's number is masked in the text and the view
    assert [c["commitment_no"] for c in s.client.get("/v1/me/commitments", headers=citizen).json()] == [
        number
    ]
    # Not for persons: an organisation-only item is refused.
    bad = s.client.post("/v1/me/commitments", json={"item": "market_entry"}, headers=citizen)
    assert bad.status_code == 422 and "not for subjects of type person" in bad.json()["detail"]
    # Only the supervising department decides, once, with a note.
    decision = {"outcome": "broken", "on": dt.date.today().isoformat(), "note": "tax return not filed"}
    wrong = s.client.post(f"/v1/department/commitments/{number}/decision", json=decision, headers=hrss)
    assert wrong.status_code == 422 and "supervised by tax" in wrong.json()["detail"]
    before = s.client.get("/v1/me/score", headers=citizen).json()
    r = s.client.post(f"/v1/department/commitments/{number}/decision", json=decision, headers=tax)
    assert r.status_code == 200, r.text
    decided = r.json()
    # The subject was rescored against the snapshot in force; the breach is dated today, after the
    # snapshot's as-of date (2026-06-15), so it counts from the next publication, not in this one.
    assert decided["status"] == "broken" and decided["record_uid"] and decided["rescored"] is False
    with s.engine.connect() as c:
        kind, outcome = c.execute(
            sa.text("SELECT kind, outcome FROM records WHERE record_uid = :u"), {"u": decided["record_uid"]}
        ).one()
    assert (kind, outcome) == ("credit_commitment", "broken")
    after = s.client.get("/v1/me/score", headers=citizen).json()
    assert after["score_id"] == before["score_id"]
    again = s.client.post(f"/v1/department/commitments/{number}/decision", json=decision, headers=tax)
    assert again.status_code == 422 and "already decided" in again.json()["detail"]
    missing = s.client.post("/v1/department/commitments/CM2026000000/decision", json=decision, headers=tax)
    assert missing.status_code == 404


def test_organisations_commitments_are_published(scored: Service) -> None:
    s = scored
    rep = s.auth(s.token("enterprise_rep", "rep-1", orgs=(CLEAN,)))
    r = s.client.post(f"/v1/orgs/{CLEAN}/commitments", json={"item": "market_entry"}, headers=rep)
    assert r.status_code == 201, r.text
    column = s.client.get("/v1/commitments/published").json()
    assert [(c["commitment_no"], c["subject_code"]) for c in column] == [(r.json()["commitment_no"], CLEAN)]
    due = s.client.get(
        "/v1/department/commitments/due?on=2030-01-01",
        headers=s.auth(s.key("department", "samr-desk", "market_regulation")),
    ).json()
    assert [d["commitment_no"] for d in due] == [r.json()["commitment_no"]]


def test_a_bank_with_consent_gets_the_authorised_report_and_nobody_else_learns_anything(
    scored: Service,
) -> None:
    s = scored
    bank = s.auth(s.keys["bank"])  # citybank
    citizen = s.auth(s.citizen(SCORED))
    period = {"valid_from": "2026-01-01T00:00:00", "valid_to": "2028-12-31T00:00:00"}
    consent = s.client.post(
        "/v1/me/consents", json={"bank": "citybank", "purpose": "credit_loan", **period}, headers=citizen
    ).json()["id"]
    ask = {
        "subject": {"type": "person", "identifier": SCORED},
        "consent_id": consent,
        "purpose": "credit_loan",
    }
    r = s.client.post("/v1/bank/reports", json={**ask, "format": "html"}, headers=bank)
    assert r.status_code == 200, r.text
    assert "信用报告" in r.text and SCORED not in r.text  # the identity number is masked
    number, code = r.headers["x-report-number"], r.headers["x-report-code"]
    assert s.client.get(f"/v1/reports/{number}/verify?code={code}").json()["valid"] is True
    queries = s.client.get("/v1/me/queries", headers=citizen).json()["queries"]
    assert any(q["accessor_role"] == "bank" and q["route"] == "/v1/bank/reports" for q in queries)
    # Wrong purpose, another bank, an unknown person: the same refusal.
    refusals = [
        s.client.post("/v1/bank/reports", json={**ask, "purpose": "mortgage"}, headers=bank),
        s.client.post("/v1/bank/reports", json=ask, headers=s.auth(s.keys["bank2"])),
        s.client.post(
            "/v1/bank/reports",
            json={**ask, "subject": {"type": "person", "identifier": UNKNOWN}},
            headers=bank,
        ),
    ]
    bodies = {(x.status_code, x.json()["type"], x.json()["detail"]) for x in refusals}
    assert bodies == {
        (403, "urn:problem:credit:no-consent", "no valid consent of this subject for this bank and purpose")
    }


def test_disclosure_metrics_for_supervisors(scored: Service) -> None:
    s = scored
    sup = s.auth(s.token("supervisor", "sup-1"))
    r = s.client.get("/v1/disclosure/metrics?from=2020-01-01&to=2026-12-31", headers=sup)
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["from"], body["to"]) == ("2020-01-01", "2026-12-31")
    for m in body["departments"]:
        assert {"department", "submitted", "on_time", "accepted", "quarantined", "timeliness"} <= set(m)
        assert m["on_time"] <= m["submitted"]
    backwards = s.client.get("/v1/disclosure/metrics?from=2026-12-31&to=2020-01-01", headers=sup)
    assert backwards.status_code == 422 and backwards.json()["type"] == "urn:problem:credit:bad-period"
