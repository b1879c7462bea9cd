"""Group commit of registered reads, on both databases: concurrent bank assessments and partner
eligibility checks each leave their stored answer, register row and audit entry in one unbroken
chain; a job that fails in a batch fails alone; the chain written in batches still finds edits,
insertions and deletions."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
import sqlalchemy as sa
from api_service import Service
from score_service import SCORED
from sqlalchemy import Connection
from sqlalchemy.orm import Session

from scoring.audit import AuditLog, PendingEntry
from scoring.auth import Principal
from scoring.benefits import issue_card_token
from scoring.db.tables import Subject
from scoring.group_commit import GroupCommit, Written
from scoring.register import record_read_core

N = 24
PERIOD = {"valid_from": "2026-01-01T00:00:00", "valid_to": "2028-12-31T00:00:00"}


def _verify(s: Service) -> Any:
    with Session(s.engine) as session:
        return AuditLog.from_settings(s.settings).verify(session)


def _count(engine: sa.Engine, sql: str) -> int:
    with engine.connect() as c:
        return int(c.execute(sa.text(sql)).scalar_one())


def _parallel(calls: list[Callable[[], Any]]) -> list[Any]:
    start = threading.Barrier(len(calls))

    def run(call: Callable[[], Any]) -> Any:
        start.wait()
        return call()

    with ThreadPoolExecutor(len(calls)) as pool:
        return list(pool.map(run, calls))


def test_concurrent_assessments_each_leave_their_rows_in_one_chain(scored: Service) -> None:
    s = scored
    r = s.client.post(
        "/v1/me/consents", json={"bank": "citybank", "purpose": "credit_loan", **PERIOD},
        headers=s.auth(s.citizen(SCORED)),
    )  # fmt: skip
    assert r.status_code == 201, r.text
    consent = r.json()["id"]
    entries_before = _verify(s).entries
    headers = s.auth(s.keys["bank"])

    def ask(i: int) -> Any:
        body = {"subject": {"type": "person", "identifier": SCORED}, "consent_id": consent,
                "purpose": "credit_loan", "amount": 1000 + i}  # fmt: skip
        return s.client.post("/v1/bank/assessments", json=body, headers=headers)

    answers = _parallel([lambda i=i: ask(i) for i in range(N)])
    assert [a.status_code for a in answers] == [201] * N, answers[0].text
    ids = sorted(a.json()["assessment_id"] for a in answers)
    assert len(set(ids)) == N
    assert sorted(a.json()["amount"] for a in answers) == [1000.0 + i for i in range(N)]
    assert _count(s.engine, "SELECT COUNT(*) FROM bank_assessments") == N
    assert _count(s.engine, "SELECT COUNT(*) FROM query_register WHERE accessor_id = 'citybank'") == N
    check = _verify(s)
    assert check.ok, check.problems
    assert check.entries == entries_before + N
    with s.engine.connect() as c:
        reads = c.execute(sa.text("SELECT COUNT(*) FROM audit_log WHERE action = 'credit.read'")).scalar()
    assert reads == N
    # Each stored answer is the answer given.
    with s.engine.connect() as c:
        stored = dict(c.execute(sa.text("SELECT id, amount FROM bank_assessments")).all())
    assert {a.json()["assessment_id"]: a.json()["amount"] for a in answers} == stored


def test_concurrent_refusals_are_audited(scored: Service) -> None:
    s = scored
    headers = s.auth(s.keys["bank"])
    body = {"subject": {"type": "person", "identifier": SCORED}, "consent_id": 999,
            "purpose": "credit_loan", "amount": 1000}  # fmt: skip
    before = _verify(s).entries
    answers = _parallel(
        [lambda: s.client.post("/v1/bank/assessments", json=body, headers=headers) for _ in range(8)]
    )
    assert {a.status_code for a in answers} == {403}
    check = _verify(s)
    assert check.ok and check.entries == before + 8
    assert _count(s.engine, "SELECT COUNT(*) FROM query_register") == 0


def test_concurrent_eligibility_checks_are_each_registered(scored: Service) -> None:
    s = scored
    with Session(s.engine) as session, session.begin():
        subject = session.execute(
            sa.select(Subject).where(Subject.subject_key == s.pseudonym(SCORED))
        ).scalar_one()
        token = issue_card_token(session, s.settings, subject, "city-library")
    library = s.auth(s.key("partner", "city-library"))
    before = _verify(s).entries
    answers = _parallel(
        [lambda: s.client.get(f"/v1/partner/eligibility?token={token}", headers=library) for _ in range(N)]
    )
    assert {a.status_code for a in answers} == {200}
    assert {a.text for a in answers} == {answers[0].text}
    rows = _count(s.engine, "SELECT COUNT(*) FROM query_register WHERE purpose = 'benefit_eligibility'")
    assert rows == N
    check = _verify(s)
    assert check.ok and check.entries == before + N


def _register(who: Principal, subject_id: int, key: str) -> Callable[[Connection], Written[int]]:
    def job(conn: Connection) -> Written[int]:
        rid, entry = record_read_core(
            conn, who=who, subject_id=subject_id, subject_key=key, purpose="test", route="test"
        )
        return Written(rid, (entry,))

    return job


def _failing(conn: Connection) -> Written[None]:
    conn.execute(sa.text("SELECT 1"))
    raise ValueError("this job fails")


def test_a_failing_job_fails_alone_and_the_chain_holds(scored: Service) -> None:
    s = scored
    audit = AuditLog.from_settings(s.settings)
    with s.engine.connect() as c:
        sid, key = c.execute(sa.text("SELECT id, subject_key FROM subjects ORDER BY id LIMIT 1")).one()
    who = Principal(role="bank", id="citybank")
    writer = GroupCommit(s.engine, audit, max_batch=8)
    try:
        gate = threading.Event()
        # The first job holds the writer until every other job is queued: they share batches.
        writer_jobs: list[Callable[[Connection], Written[Any]]] = [
            lambda conn: (gate.wait(10), _register(who, sid, key)(conn))[1]
        ]
        for i in range(15):
            writer_jobs.append(_failing if i == 5 else _register(who, sid, key))

        def submit(job: Callable[[Connection], Written[Any]]) -> Any:
            try:
                return writer.run(job)
            except ValueError as exc:
                return exc

        with ThreadPoolExecutor(len(writer_jobs)) as pool:
            futures = [pool.submit(submit, job) for job in writer_jobs]
            gate.set()
            results = [f.result() for f in futures]
    finally:
        writer.close()
    failed = [r for r in results if isinstance(r, ValueError)]
    assert len(failed) == 1
    ids = [r for r in results if isinstance(r, int)]
    assert len(set(ids)) == 15
    assert _count(s.engine, "SELECT COUNT(*) FROM query_register WHERE purpose = 'test'") == 15
    with Session(s.engine) as session:
        check = audit.verify(session)
    assert check.ok, check.problems


@pytest.mark.parametrize("tamper", ["edit", "insert", "delete"])
def test_batched_entries_still_show_tampering(scored: Service, tamper: str) -> None:
    s = scored
    audit = AuditLog.from_settings(s.settings)
    writer = GroupCommit(s.engine, audit)
    try:
        entries = [
            PendingEntry("bank:citybank", "test.batch", None, {"i": i}, None, _now()) for i in range(6)
        ]
        _parallel([lambda e=e: writer.run(lambda conn, e=e: Written(None, (e,))) for e in entries])
    finally:
        writer.close()
    with Session(s.engine) as session:
        assert audit.verify(session).ok
    with s.engine.begin() as c:
        seq = c.execute(sa.text("SELECT MAX(seq) - 2 FROM audit_log")).scalar_one()
        if tamper == "edit":
            c.execute(sa.text("UPDATE audit_log SET actor = 'bank:other' WHERE seq = :s"), {"s": seq})
        elif tamper == "delete":
            c.execute(sa.text("DELETE FROM audit_log WHERE seq = :s"), {"s": seq})
        else:
            c.execute(sa.text("UPDATE audit_log SET seq = seq + 1000000 WHERE seq > :s"), {"s": seq})
            c.execute(
                sa.text(
                    "INSERT INTO audit_log (seq, recorded_at, actor, action, subject_ref, details_digest,"
                    " request_id, prev_hash, hash) SELECT seq + 1, recorded_at, actor, action, subject_ref,"
                    " details_digest, request_id, hash, hash FROM audit_log WHERE seq = :s"
                ),
                {"s": seq},
            )
            c.execute(sa.text("UPDATE audit_log SET seq = seq - 1000000 + 1 WHERE seq > 1000000"))
    with Session(s.engine) as session:
        check = audit.verify(session)
    assert not check.ok


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)
