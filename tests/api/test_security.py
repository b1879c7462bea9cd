"""Problem details, request ids, JSON logs without personal data, credentials, rate limits, metrics."""

from __future__ import annotations

import datetime as dt
import io
import json
import logging
from typing import Any

import jwt
import pytest
import sqlalchemy as sa
from api_service import P1, P2, Service, sic

from api.logs import configure_logging
from scoring.settings import Settings, SettingsError

PROBLEM_FIELDS = {"type", "title", "status", "detail", "instance", "request_id"}


def assert_problem(r: Any, status: int) -> dict[str, Any]:
    assert r.status_code == status, r.text
    assert r.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = r.json()
    assert set(body) >= PROBLEM_FIELDS and body["status"] == status
    assert body["request_id"] == r.headers["x-request-id"]
    return body


def test_every_error_is_problem_json_with_the_request_id(service: Service) -> None:
    c = service.client
    body = assert_problem(c.get("/nowhere", headers={"x-request-id": "req-1"}), 404)
    assert body["request_id"] == "req-1" and body["instance"] == "/nowhere"
    assert_problem(c.post("/healthz"), 405)
    assert_problem(c.get("/v1/me"), 401)
    assert_problem(c.get("/v1/me", headers=service.auth("not-a-token")), 401)
    assert_problem(c.get("/v1/me", headers=service.auth(service.admin)), 403)
    body = assert_problem(
        c.post("/v1/admin/api-keys", json={"role": P1, "name": "x"}, headers=service.auth(service.admin)),
        422,
    )
    assert P1 not in json.dumps(body)  # validation errors say where and what, never the value
    r = c.get("/v1/me")
    assert r.headers["www-authenticate"].startswith("Bearer")

    def boom() -> None:
        raise RuntimeError("kaput " + P1)

    c.app.add_api_route("/boom", boom)  # type: ignore[attr-defined]
    body = assert_problem(c.get("/boom"), 500)
    assert "kaput" not in body["detail"]
    # A request id that could forge log lines is replaced.
    r = c.get("/healthz", headers={"x-request-id": 'x"\n{'})
    assert len(r.headers["x-request-id"]) == 32


def test_logs_are_json_lines_with_request_ids_and_no_identity_numbers(service: Service) -> None:
    buf = io.StringIO()
    handler = configure_logging(logging.DEBUG, stream=buf)
    try:
        key = service.key("department", "hrss-feed", "hrss")
        bad = {**sic(P2), "amount": "-1"}
        r = service.client.post(
            "/v1/department/batches",
            json={"records": [sic(P1), bad]},
            headers={**service.auth(key), "x-request-id": "push-1"},
        )
        assert r.status_code == 201
        me = service.client.get("/v1/me", headers=service.auth(service.citizen(P1)))
        assert me.json()["identity_number"] == P1  # the citizen sees its own number
        service.client.get(f"/v1/subjects/{P1}/file?purpose=supervision", headers=service.auth(service.admin))
        logging.getLogger("somewhere").warning("a careless message about %s", P2)
    finally:
        logging.getLogger().removeHandler(handler)
    lines = [json.loads(line) for line in buf.getvalue().splitlines()]
    assert lines, "nothing was logged"
    text = buf.getvalue()
    assert P1 not in text and P2 not in text
    assert all({"time", "level", "logger", "message", "request_id"} <= set(x) for x in lines)
    access = [x for x in lines if x["logger"] == "api.access"]
    assert {x["route"] for x in access} >= {"/v1/department/batches", "/v1/me"}
    assert all(x["request_id"] for x in access)
    assert any(x["request_id"] == "push-1" and x["logger"] != "api.access" for x in lines)  # ingestion's own


def test_tokens_expired_wrong_audience_unknown_key_or_role_are_refused(service: Service) -> None:
    s, c = service.settings, service.client
    old = dt.datetime.now(dt.UTC).replace(tzinfo=None) - dt.timedelta(hours=2)
    assert c.get("/v1/whoami", headers=service.auth(service.token("admin", "a", now=old))).status_code == 401
    claims = {"iss": s.jwt_issuer, "sub": "a", "aud": "elsewhere", "iat": 0, "exp": 2**33, "role": "admin"}
    secret = s.jwt_secret.get_secret_value()
    for token in (
        jwt.encode(claims, secret, algorithm="HS256", headers={"kid": s.jwt_key_id}),
        jwt.encode(
            {**claims, "aud": s.jwt_audience}, "x" * 40, algorithm="HS256", headers={"kid": s.jwt_key_id}
        ),
        jwt.encode({**claims, "aud": s.jwt_audience}, secret, algorithm="HS256", headers={"kid": "other"}),
        jwt.encode(
            {**claims, "aud": s.jwt_audience, "role": "bank"},
            secret,
            algorithm="HS256",
            headers={"kid": s.jwt_key_id},
        ),
        jwt.encode({**claims, "aud": s.jwt_audience}, None, algorithm="none"),
    ):
        assert_problem(c.get("/v1/whoami", headers=service.auth(token)), 401)
    ok = c.get("/v1/whoami", headers=service.auth(service.token("reviewer", "r-7")))
    assert ok.json() == {"role": "reviewer", "id": "r-7", "orgs": [], "department": None}


def test_a_citizen_token_names_a_pseudonym_never_a_number(service: Service) -> None:
    from scoring.auth import CredentialError

    with pytest.raises(CredentialError):
        service.token("citizen", P1)
    assert jwt.decode(service.citizen(P1), options={"verify_signature": False})["sub"] == service.pseudonym(
        P1
    )


def test_previous_signing_keys_are_accepted_during_rotation(service_factory: Any) -> None:
    old = service_factory(jwt_key_id="k1", jwt_secret="a" * 40)
    token = old.token("admin", "a")
    new = service_factory(
        jwt_key_id="k2", jwt_secret="b" * 40, jwt_previous_keys=json.dumps({"k1": "a" * 40})
    )
    assert new.client.get("/v1/whoami", headers=new.auth(token)).status_code == 200
    gone = service_factory(jwt_key_id="k2", jwt_secret="b" * 40)
    assert gone.client.get("/v1/whoami", headers=gone.auth(token)).status_code == 401


def test_api_keys_are_stored_hashed_checked_and_revocable(service: Service) -> None:
    key = service.key("bank", "citybank")
    with service.engine.connect() as conn:
        row = conn.execute(sa.text("SELECT key_id, key_hash FROM api_keys")).one()
    assert key.startswith(f"ck_{row.key_id}_") and row.key_hash not in key and key not in row.key_hash
    c = service.client
    assert c.get("/v1/whoami", headers={"X-API-Key": key}).json()["id"] == "citybank"
    forged = key[:-4] + ("AAAA" if not key.endswith("AAAA") else "BBBB")
    assert_problem(c.get("/v1/whoami", headers=service.auth(forged)), 401)
    listed = c.get("/v1/admin/api-keys", headers=service.auth(service.admin)).json()
    assert key not in json.dumps(listed) and listed[0]["key_id"] == row.key_id
    assert (
        c.delete(f"/v1/admin/api-keys/{row.key_id}", headers=service.auth(service.admin)).status_code == 200
    )
    assert_problem(c.get("/v1/whoami", headers=service.auth(key)), 401)


def test_rate_limit_per_api_key(service_factory: Any) -> None:
    service = service_factory(rate_limit_per_minute=1.0, rate_limit_burst=3)
    one, two = service.key("partner", "metro"), service.key("partner", "bus")
    statuses = [service.client.get("/v1/whoami", headers=service.auth(one)).status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    r = service.client.get("/v1/whoami", headers=service.auth(one))
    assert_problem(r, 429)
    assert 1 <= int(r.headers["retry-after"]) <= 60
    assert service.client.get("/v1/whoami", headers=service.auth(two)).status_code == 200  # its own bucket


def test_metrics_count_requests_by_route_and_status(service: Service) -> None:
    service.client.get("/healthz")
    service.client.get("/v1/me")
    text = service.client.get("/metrics").text
    assert 'http_requests_total{method="GET",route="/healthz",status="200"}' in text
    assert 'http_requests_total{method="GET",route="/v1/me",status="401"}' in text
    assert 'http_request_duration_seconds_bucket{le="0.005",method="GET",route="/healthz"}' in text


def test_development_secrets_are_refused_outside_development() -> None:
    with pytest.raises(ValueError) as err:  # pydantic wraps the SettingsError
        Settings(environment="production")
    assert "CREDIT_JWT_SECRET" in str(err.value) and "CREDIT_AUDIT_ANCHOR_KEY" in str(err.value)
    with pytest.raises(SettingsError):
        Settings(environment="test", jwt_secret="short").jwt_keys()
