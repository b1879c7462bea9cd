"""Department pushes: JSON and file bodies, ingestion outcomes, idempotency, own kinds only."""

from __future__ import annotations

from typing import Any

import polars as pl
from api_service import P1, P2, Service, sic


def test_push_json_then_again_is_idempotent(service: Service) -> None:
    key = service.key("department", "hrss-feed", "hrss")
    body = {"records": [sic(P1), sic(P1), sic(P2, amount="-5")]}
    r = service.client.post("/v1/department/batches", json=body, headers=service.auth(key))
    assert r.status_code == 201, r.text
    out = r.json()
    assert (out["rows_read"], out["accepted"], out["duplicate"], out["quarantined"]) == (3, 1, 1, 1)
    assert out["reconciles"] and not out["already_ingested"]
    assert r.headers["location"] == f"/v1/department/batches/{out['batch_id']}"
    again = service.client.post("/v1/department/batches", json=body, headers=service.auth(key))
    assert again.status_code == 200
    assert again.json()["already_ingested"] and again.json()["batch_id"] == out["batch_id"]

    status = service.client.get(f"/v1/department/batches/{out['batch_id']}", headers=service.auth(key)).json()
    assert status["channel"] == "api" and status["reconciles"] and status["quarantined"] == 1
    q = service.client.get(f"/v1/department/batches/{out['batch_id']}/quarantine", headers=service.auth(key))
    assert q.status_code == 200
    [row] = q.json()["rows"]
    assert row["line_no"] == 3 and row["reason_code"]
    assert row["row"]["subject_id"] != P2 and row["row"]["subject_id"].startswith(P2[:4])  # masked
    assert P2 not in q.text and P1 not in q.text
    listed = service.client.get("/v1/department/batches", headers=service.auth(key)).json()
    assert [b["batch_id"] for b in listed] == [out["batch_id"]]


def test_kinds_of_other_departments_are_quarantined_with_a_reason(service: Service) -> None:
    key = service.key("department", "hrss-feed", "hrss")
    kinds = service.client.get("/v1/department/kinds", headers=service.auth(key)).json()
    assert "social_insurance_contribution" in kinds["kinds"] and "tax_payment" not in kinds["kinds"]
    tax: dict[str, Any] = {"kind": "tax_payment", "subject_id": P1, "event_date": "2024-01-05",
                           "tax_type": "other", "period": "2024-01", "amount": "10", "days_late": "0",
                           "status": "on_time"}  # fmt: skip
    r = service.client.post(
        "/v1/department/batches", json={"records": [sic(P1), tax]}, headers=service.auth(key)
    )
    assert r.status_code == 201, r.text
    assert r.json()["quarantine_by_reason"] == {"department_not_allowed": 1}
    rows = service.client.get(
        f"/v1/department/batches/{r.json()['batch_id']}/quarantine", headers=service.auth(key)
    ).json()["rows"]
    assert rows[0]["message"] == "department hrss does not report kind tax_payment"


def test_rows_naming_another_department_refuse_the_push(service: Service) -> None:
    key = service.key("department", "hrss-feed", "hrss")
    other = {**sic(P1), "department": "tax"}
    r = service.client.post(
        "/v1/department/batches", json={"records": [sic(P1), other]}, headers=service.auth(key)
    )
    assert r.status_code == 422
    assert r.headers["content-type"] == "application/problem+json"
    assert r.json()["type"].endswith("foreign-department") and r.json()["lines"] == [2]
    with service.engine.connect() as c:
        assert c.exec_driver_sql("SELECT count(*) FROM ingest_batches").scalar_one() == 0


def test_file_upload_csv_and_parquet(service: Service, tmp_path: Any) -> None:
    key = service.key("department", "hrss-feed", "hrss")
    frame = pl.DataFrame([sic(P1), sic(P1, "2024-02")])
    csv = frame.write_csv().encode()
    r = service.client.post(
        "/v1/department/batches/file", params={"filename": "jan.csv"}, content=csv, headers=service.auth(key)
    )
    assert r.status_code == 201, r.text
    assert (r.json()["file_format"], r.json()["accepted"]) == ("csv", 2)
    frame.write_parquet(tmp_path / "x.parquet")
    r = service.client.post(
        "/v1/department/batches/file",
        params={"filename": "feb.parquet"},
        content=(tmp_path / "x.parquet").read_bytes(),
        headers=service.auth(key),
    )
    assert r.status_code == 201 and r.json()["duplicate"] == 2
    bad = service.client.post(
        "/v1/department/batches/file",
        params={"filename": "x.csv"},
        content=b"\x00\x01",
        headers=service.auth(key),
    )
    assert bad.status_code == 422 and bad.json()["type"].endswith("unreadable-file")
    wrong = service.client.post(
        "/v1/department/batches/file", params={"filename": "x.txt"}, content=csv, headers=service.auth(key)
    )
    assert wrong.status_code == 422


def test_a_department_sees_only_its_own_batches(seeded: Service) -> None:
    hrss, samr = seeded.keys["hrss"], seeded.keys["market_regulation"]
    mine = seeded.client.get("/v1/department/batches", headers=seeded.auth(hrss)).json()
    [batch] = mine
    other = seeded.client.get(f"/v1/department/batches/{batch['batch_id']}", headers=seeded.auth(samr))
    assert other.status_code == 404
    other = seeded.client.get(
        f"/v1/department/batches/{batch['batch_id']}/quarantine", headers=seeded.auth(samr)
    )
    assert other.status_code == 404
