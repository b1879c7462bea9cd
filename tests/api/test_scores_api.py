"""Score routes on both databases: the citizen's score, recourse and history, an organisation's
class, banks' credit-loan assessments (consents, idempotency), supervisors' and reviewers' views."""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from api_service import Service
from score_service import CLEAN, LISTED, MINOR, SCORED, THIN, UNKNOWN

from scoring.db.tables import Consent

PROBLEM = "application/problem+json"
PERIOD = {"valid_from": "2026-01-01T00:00:00", "valid_to": "2028-12-31T00:00:00"}


def _problem(r: Any, status: int) -> dict[str, Any]:
    assert r.status_code == status, r.text
    assert r.headers["content-type"] == PROBLEM
    body: dict[str, Any] = r.json()
    assert {"type", "title", "status", "detail", "instance", "request_id"} <= set(body)
    return body


def _queries(s: Service, number: str) -> list[dict[str, Any]]:
    r = s.client.get("/v1/me/queries", headers=s.auth(s.citizen(number)))
    assert r.status_code == 200
    return list(r.json()["queries"])


def test_citizen_score_states_reasons_and_register(scored: Service) -> None:
    s = scored
    r = s.client.get("/v1/me/score", headers=s.auth(s.citizen(SCORED)))
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["state"] == "scored" and 350 <= body["score"] <= 950
    assert set(body["tier"]) == {"code", "zh", "en"} and body["tier"]["zh"] in {
        "较差",
        "中等",
        "良好",
        "优秀",
        "极好",
    }
    assert body["model_version"] == "1" and body["as_of"] == "2026-06-15"
    first = body["reasons"][0]
    assert first["direction"] == "lowering" and first["feature"] == "utility_late_12m"
    assert first["records"] and "records" in first["zh"].replace("条记录", "records") and first["en"]
    for number, state in ((THIN, "insufficient_record"), (MINOR, "minor")):
        b = s.client.get("/v1/me/score", headers=s.auth(s.citizen(number))).json()
        assert b["state"] == state and b["score"] is None and b["reasons"] == []
        assert b["tier"]["code"] == state and b["message"]["zh"]
    thin = s.client.get("/v1/me/score", headers=s.auth(s.citizen(THIN))).json()
    assert thin["tier"]["zh"] == "信用记录不足" and thin["message"]["zh"].startswith("信用记录不足")
    assert [q["route"] for q in _queries(s, SCORED)] == ["/v1/me/score"]


def test_citizen_recourse_and_history(scored: Service) -> None:
    s = scored
    h = s.auth(s.citizen(SCORED))
    rec = s.client.get("/v1/me/recourse", headers=h).json()
    assert rec["state"] == "scored" and rec["actions"]
    assert all(a["gain"] >= 1 and a["projected_score"] > rec["score"] for a in rec["actions"])
    hist = s.client.get("/v1/me/history", headers=h).json()["scores"]
    assert len(hist) == 1 and hist[0]["origin"] == "batch" and hist[0]["score"] == rec["score"]
    none = s.client.get("/v1/me/recourse", headers=s.auth(s.citizen(THIN))).json()
    assert none["actions"] == [] and none["score"] is None
    _problem(s.client.get("/v1/me/score", headers=s.auth(s.citizen(UNKNOWN))), 404)
    assert {q["route"] for q in _queries(s, SCORED)} == {"/v1/me/recourse", "/v1/me/history"}


def test_enterprise_class_with_listing_downgrade(scored: Service) -> None:
    s = scored
    rep = s.auth(s.token("enterprise_rep", "rep-1", orgs=(LISTED,)))
    body = s.client.get(f"/v1/orgs/{LISTED}/score", headers=rep).json()
    assert body["class"] == "D" and body["model_class"] in {"A", "B", "C", "D"}
    assert [d["kind"] for d in body["downgrades"]] in ([], ["serious_dishonesty_list"])
    assert [f["kind"] for f in body["flags"]] == ["serious_dishonesty_list"] and body["flags"][0]["zh"]
    assert "score" not in body and body["model_version"] == "1"
    _problem(s.client.get(f"/v1/orgs/{CLEAN}/score", headers=rep), 403)


def _consent(s: Service, number: str = SCORED, **kw: Any) -> int:
    body = {"bank": "citybank", "purpose": "credit_loan", **PERIOD, **kw}
    r = s.client.post("/v1/me/consents", json=body, headers=s.auth(s.citizen(number)))
    assert r.status_code == 201, r.text
    return int(r.json()["id"])


def _ask(
    s: Service,
    consent_id: int,
    *,
    number: str = SCORED,
    key: str | None = None,
    bank: str = "bank",
    amount: float = 50000,
    purpose: str = "credit_loan",
    kind: str = "person",
) -> Any:
    headers = s.auth(s.keys[bank])
    if key:
        headers["Idempotency-Key"] = key
    body = {"subject": {"type": kind, "identifier": number}, "consent_id": consent_id, "purpose": purpose,
            "amount": amount}  # fmt: skip
    return s.client.post("/v1/bank/assessments", json=body, headers=headers)


def test_bank_assessment_with_consent(scored: Service) -> None:
    s = scored
    cid = _consent(s)
    r = _ask(s, cid)
    assert r.status_code == 201, r.text
    a = r.json()
    assert a["state"] == "scored" and 350 <= a["score"] <= 950 and 0 < a["pd"] < 1
    assert a["subject"]["identifier"] != SCORED and "*" in a["subject"]["identifier"]
    assert a["model_version"] == "1" and a["reasons"][0]["feature"] == "utility_late_12m"
    limit = a["suggested_limit"]
    assert limit["decision"] in {"offer", "decline"} and limit["policy_version"]
    assert limit["amount"] is not None and 0 <= limit["amount"] <= 50000
    assert _queries(s, SCORED)[0]["accessor_id"] == "citybank"
    with s.engine.connect() as c:
        stored = c.execute(sa.text("SELECT subject_id, score_id, model_version FROM bank_assessments")).all()
    assert [tuple(x) for x in stored] == [(1, a["score_id"], "1")]
    # A thin file gets an answer, never a number, and no suggestion.
    thin = _ask(s, _consent(s, THIN), number=THIN).json()
    assert thin["state"] == "insufficient_record" and thin["score"] is None and thin["pd"] is None
    assert thin["suggested_limit"]["decision"] == "refer" and thin["suggested_limit"]["amount"] is None


def test_enterprise_assessment_by_credit_code(scored: Service) -> None:
    s = scored
    rep = s.auth(s.token("enterprise_rep", "rep-1", orgs=(LISTED,)))
    cid = s.client.post(
        f"/v1/orgs/{LISTED}/consents",
        json={"bank": "citybank", "purpose": "credit_loan", **PERIOD},
        headers=rep,
    ).json()["id"]
    a = _ask(s, cid, number=LISTED, kind="organisation", amount=1_000_000).json()
    assert a["class"] == "D" and a["suggested_limit"]["decision"] in {"decline", "refer"}
    assert not a["suggested_limit"]["amount"]


def test_refusals_are_indistinguishable(scored: Service) -> None:
    s = scored
    revoked = _consent(s)
    assert s.client.delete(f"/v1/me/consents/{revoked}", headers=s.auth(s.citizen(SCORED))).status_code == 200
    card = _consent(s, purpose="credit_card")
    other = _consent(s, bank="otherbank")
    future = _consent(s, valid_from="2099-01-01T00:00:00", valid_to="2099-06-01T00:00:00")
    thin_consent = _consent(s, THIN)
    with s.engine.begin() as c:  # expired: granted last year, ended yesterday
        now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
        expired = c.execute(
            sa.insert(Consent).returning(Consent.id),
            {"subject_id": 1, "bank": "citybank", "purpose": "credit_loan",
             "valid_from": now - dt.timedelta(400), "valid_to": now - dt.timedelta(1),
             "granted_at": now - dt.timedelta(400), "granted_by": "x"},
        ).scalar_one()  # fmt: skip
    cases = {
        "expired": _ask(s, expired),
        "revoked": _ask(s, revoked),
        "wrong bank": _ask(s, other),
        "wrong purpose": _ask(s, card),
        "wrong purpose asked": _ask(s, card, purpose="mortgage"),
        "not yet valid": _ask(s, future),
        "another subject's consent": _ask(s, thin_consent),
        "unknown subject": _ask(s, 1, number=UNKNOWN),
        "unknown consent": _ask(s, 999_999),
        "other bank asks": _ask(s, _consent(s), bank="bank2"),
    }
    bodies = {}
    for name, r in cases.items():
        body = _problem(r, 403)
        body.pop("request_id")
        bodies[name] = body
    assert len({str(sorted(b.items())) for b in bodies.values()}) == 1, bodies
    assert bodies["unknown subject"]["type"] == "urn:problem:credit:no-consent"
    assert _queries(s, SCORED) == []  # nothing was read
    with s.engine.connect() as c:
        refused = c.execute(
            sa.text("SELECT COUNT(*) FROM audit_log WHERE action = 'bank.assessment.refused'")
        ).scalar()
        assert refused == len(cases)
        assert c.execute(sa.text("SELECT COUNT(*) FROM bank_assessments")).scalar() == 0
    bad = _problem(_ask(s, 1, number="110105198001010000"), 422)
    assert "110105198001010000" not in str(bad)
    _problem(s.client.post("/v1/bank/assessments", json={"x": 1}, headers=s.auth(s.keys["bank"])), 422)


def test_idempotent_retry_and_conflicting_retry(scored: Service) -> None:
    s = scored
    cid = _consent(s)
    first = _ask(s, cid, key="loan-42")
    again = _ask(s, cid, key="loan-42")
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json() and again.headers.get("Idempotent-Replayed") == "true"
    conflict = _problem(_ask(s, cid, key="loan-42", amount=60000), 422)
    assert conflict["type"] == "urn:problem:credit:idempotency-key-reused"
    fresh = _ask(s, cid, key="loan-43")
    assert fresh.json()["assessment_id"] != first.json()["assessment_id"]
    s.client.post("/v1/me/consents", json={"bank": "otherbank", "purpose": "credit_loan", **PERIOD},
                  headers=s.auth(s.citizen(SCORED)))  # fmt: skip
    with s.engine.connect() as c:
        rows = c.execute(sa.text("SELECT COUNT(*) FROM bank_assessments")).scalar()
    assert rows == 2
    assert len(_queries(s, SCORED)) == 3  # every answered call is on record, the retry included
    # A revoked consent does not stop a retry from getting the answer it already had.
    s.client.delete(f"/v1/me/consents/{cid}", headers=s.auth(s.citizen(SCORED)))
    assert _ask(s, cid, key="loan-42").json() == first.json()
    _problem(_ask(s, cid, key="loan-44"), 403)


def test_supervisor_classes_and_distribution(scored: Service) -> None:
    s = scored
    sup = s.auth(s.token("supervisor", "sup-1"))
    page = s.client.get("/v1/supervisor/enterprises", headers=sup).json()
    assert page["total"] == 2 and {i["code"] for i in page["items"]} == {LISTED, CLEAN}
    d_only = s.client.get("/v1/supervisor/enterprises?class=D", headers=sup).json()
    assert [i["code"] for i in d_only["items"]] == [LISTED]
    tech = s.client.get("/v1/supervisor/enterprises?sector=technology", headers=sup).json()
    assert [i["code"] for i in tech["items"]] == [CLEAN]
    none = s.client.get("/v1/supervisor/enterprises?district=110105", headers=sup).json()
    assert none == {"total": 0, "limit": 100, "offset": 0, "items": []}
    dist = s.client.get("/v1/supervisor/enterprises/distribution", headers=sup).json()
    assert (
        dist["total"] == 2
        and dist["by_class"]["D"] >= 1
        and set(dist["by_sector"]) == {"retail", "technology"}
    )
    _problem(s.client.get("/v1/supervisor/enterprises?class=E", headers=sup), 422)
    with s.engine.connect() as c:
        reads = c.execute(
            sa.text("SELECT COUNT(*) FROM query_register WHERE purpose = 'supervision'")
        ).scalar()
    assert reads == 4  # each organisation on each non-empty page


def test_reviewer_models_cards_drift_and_replay(scored: Service) -> None:
    s = scored
    rev = s.auth(s.token("reviewer", "rev-1"))
    card = s.settings.var_dir / "cards" / "credit-person-pd" / "1" / "model_card.md"
    card.parent.mkdir(parents=True)
    card.write_text("# Model card\n", encoding="utf-8")
    models = s.client.get("/v1/reviewer/models", headers=rev).json()
    assert models["person"]["champion"] == "1" and models["person"]["versions"][0]["card"] is True
    detail = s.client.get("/v1/reviewer/models/person/1", headers=rev).json()
    assert detail["metrics"]["oot_auc"] == 0.69 and detail["fairness"]["gender"]["passed"] is True
    assert detail["family"] == "lgbm" and "score" in detail["development_distribution"]
    r = s.client.get("/v1/reviewer/models/person/1/card", headers=rev)
    assert (
        r.status_code == 200
        and r.text == "# Model card\n"
        and r.headers["content-type"].startswith("text/markdown")
    )
    _problem(s.client.get("/v1/reviewer/models/enterprise/1/card", headers=rev), 404)
    _problem(s.client.get("/v1/reviewer/models/person/7", headers=rev), 404)
    _problem(s.client.get("/v1/reviewer/models/nobody/1", headers=rev), 422)
    drift = s.client.get("/v1/reviewer/drift", headers=rev).json()
    assert drift["person"]["reference"] == "development" and drift["person"]["psi"] >= 0
    assert drift["enterprise"]["reference"] is None  # no development distribution, one snapshot
    score_id = s.client.get("/v1/me/score", headers=s.auth(s.citizen(SCORED))).json()["score_id"]
    d = s.client.get(f"/v1/reviewer/decisions/{score_id}", headers=rev).json()
    assert d["replay"]["ok"] is True and d["replay"]["score"] == d["stored"]["score"]
    assert d["inputs"]["utility_late_12m"] == 4.0 and d["model_version"] == "1"
    assert "bias" in d["contributions"] and len(d["contributions"]) > 10
    _problem(s.client.get("/v1/reviewer/decisions/999999", headers=rev), 404)
    routes = [q["route"] for q in _queries(s, SCORED)]
    assert "/v1/reviewer/decisions/{score_id}" in routes
