"""Objections, credit repair, score reviews and expiry end to end on both databases: deadlines,
record events, the rescore and its effect on the published score, the subject's view, audit."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
import sqlalchemy as sa
from score_fixtures import D, late_bill, month, pension, record
from sqlalchemy.orm import Session

from scoring.audit import AuditLog
from scoring.db import rights_tables  # noqa: F401  (the engine fixture empties these tables)
from scoring.db.tables import Record, RecordEvent, Subject, SubjectLink
from scoring.expiry import expire_records
from scoring.objections import decide_objection, file_objection, overdue_objections
from scoring.publish import current_score, publish_scores, replay, score_history
from scoring.repair import accept_repair, apply_repair, decide_repair
from scoring.reviews import decide_review, request_review, review_case, review_queue
from scoring.rights import RightsError, subject_cases
from scoring.settings import Settings

KNOWN = dt.datetime(2026, 7, 1, 12)
T1 = dt.datetime(2026, 7, 10, 9)  # Friday
AUDIT = AuditLog(b"test-anchor-key")


def _late_water(uid: str, sid: int, k: int) -> dict:
    return late_bill(uid, sid, k, department="water")


@pytest.fixture
def settings(tmp_path: Path, bundle_dir: Path, db_url: str) -> Settings:
    return Settings(database_url=db_url, bundle_dir=bundle_dir, var_dir=tmp_path / "var", environment="test")


@pytest.fixture
def city(engine: sa.Engine, settings: Settings) -> sa.Engine:
    subjects = [
        {"id": 1, "subject_type": "person", "birth_year": 1980, "subject_key": "a" * 64},
        {"id": 2, "subject_type": "person", "birth_year": 1985, "subject_key": "b" * 64},
        {"id": 10, "subject_type": "enterprise", "birth_year": None, "subject_key": "91350102MA0000010X"},
    ]
    for s in subjects:
        s["created_at"] = dt.datetime(2020, 1, 1)
    records = [pension(f"p1-{k}", 1, k) for k in range(12)]
    records += [_late_water(f"u1-{k}", 1, k) for k in (1, 2, 4)]
    records += [
        record(
            "t1",
            1,
            "traffic_violation",
            month(10),
            severity="general",
            publicity_end=dt.date(2026, 12, 1),
            department="traffic_police",
        ),
        record(
            "t2",
            2,
            "traffic_violation",
            month(1),
            severity="serious",
            publicity_end=dt.date(2028, 5, 10),
            department="traffic_police",
        ),
        record(
            "j1",
            2,
            "judgment_defaulter",
            month(20),
            severity="serious",
            publicity_end=dt.date(2027, 1, 1),
            department="court",
        ),
        record(
            "t3",
            2,
            "administrative_penalty",
            month(6),
            severity="general",
            publicity_end=dt.date(2027, 6, 1),
            department="market_regulation",
        ),
        record(
            "t4",
            2,
            "administrative_penalty",
            month(5),
            severity="general",
            publicity_end=dt.date(2027, 6, 1),
            department="market_regulation",
        ),
        # Past its publicity period by the time the expiry job runs, still in force on D.
        record(
            "x1",
            1,
            "traffic_violation",
            month(2),
            severity="minor",
            publicity_end=dt.date(2026, 7, 1),
            department="traffic_police",
        ),
        record(
            "o10-reg",
            10,
            "org_registration",
            dt.date(2015, 3, 1),
            payload='{"registered_on":"2015-03-01"}',
            publicity_end=dt.date(2115, 1, 1),
            department="market_regulation",
        ),
        record("o10-tax", 10, "tax_credit_level", month(2), outcome="A", department="tax"),
    ]
    with engine.begin() as c:
        c.execute(sa.insert(Subject), subjects)
        c.execute(sa.insert(Record), records)
        c.execute(
            sa.insert(SubjectLink),
            [
                {
                    "org_subject_id": 10,
                    "person_subject_id": 1,
                    "role": "legal_representative",
                    "valid_from": dt.date(2015, 3, 1),
                    "valid_to": None,
                    "recorded_at": KNOWN,
                }
            ],
        )
    publish_scores(engine, settings, D, known_at=KNOWN, actor="tester")
    return engine


def _events(engine: sa.Engine, uid: str) -> list[tuple[str, dt.date]]:
    with engine.connect() as c:
        rows = c.execute(
            sa.select(RecordEvent.event_type, RecordEvent.effective_date)
            .where(RecordEvent.record_uid == uid)
            .order_by(RecordEvent.id)
        ).all()
    return [(t, e if isinstance(e, dt.date) else dt.date.fromisoformat(str(e))) for t, e in rows]


def _score(engine: sa.Engine, sid: int = 1) -> int:
    row = current_score(engine, sid)
    assert row is not None
    return int(row["score"])


def test_objection_marks_the_record_disputed_and_a_rejection_restores_it(
    city: sa.Engine, settings: Settings
) -> None:
    base = _score(city)
    org_before = current_score(city, 10)
    o = file_objection(
        city,
        settings,
        AUDIT,
        subject_id=1,
        record_uid="u1-1",
        reason="paid on time",
        evidence="bank receipt 2026-05-08",
        actor="citizen:" + "a" * 64,
        now=T1,
    )
    # Friday 10 July 2026: marked by Monday 13, decided by Tuesday 21 (7 working days).
    assert (o.status, o.mark_due, o.decide_due) == ("disputed", dt.date(2026, 7, 13), dt.date(2026, 7, 21))
    assert _events(city, "u1-1") == [("disputed", D)]  # effective for the score in force (as of D)
    disputed = _score(city)
    assert disputed > base and o.score_after_id != o.score_before_id
    assert current_score(city, 10)["id"] != org_before["id"]  # type: ignore[index]  # the org it represents
    with pytest.raises(RightsError, match="still open"):
        file_objection(
            city,
            settings,
            AUDIT,
            subject_id=1,
            record_uid="u1-1",
            reason="again",
            evidence=None,
            actor="c",
            now=T1,
        )
    with pytest.raises(RightsError, match="only the department"):
        decide_objection(
            city,
            settings,
            AUDIT,
            objection_id=o.id,
            upheld=False,
            reason="x",
            actor="d",
            department="tax",
            now=T1,
        )
    later = T1 + dt.timedelta(days=3)
    done = decide_objection(
        city,
        settings,
        AUDIT,
        objection_id=o.id,
        upheld=False,
        department="water",
        reason="meter reading confirmed late payment",
        actor="department:water",
        now=later,
    )
    assert done.status == "rejected" and done.decision_reason.startswith("meter")  # type: ignore[union-attr]
    assert [t for t, _ in _events(city, "u1-1")] == ["disputed", "dispute_rejected"]
    assert _score(city) == base
    with Session(city) as s:
        cases = subject_cases(s, 1, today=later.date())
        assert [(c["case"], c["status"], c["overdue"]) for c in cases] == [("objection", "rejected", False)]
        assert AUDIT.verify(s).ok
        actions = s.execute(sa.text("SELECT action FROM audit_log ORDER BY seq")).scalars().all()
    assert actions == ["objection.file", "objection.decide"]


def test_an_upheld_objection_withdraws_the_record_and_overdue_cases_are_listed(
    city: sa.Engine, settings: Settings
) -> None:
    base = current_score(city, 1)
    assert base is not None
    # Filed on Wednesday 30 September 2026: National Day follows; 10 October (Saturday) is worked.
    filed = dt.datetime(2026, 9, 30, 16)
    o = file_objection(
        city,
        settings,
        AUDIT,
        subject_id=1,
        record_uid="u1-2",
        reason="not my account",
        evidence=None,
        actor="c",
        now=filed,
    )
    assert (o.mark_due, o.decide_due) == (dt.date(2026, 10, 8), dt.date(2026, 10, 15))
    other = file_objection(
        city,
        settings,
        AUDIT,
        subject_id=1,
        record_uid="u1-4",
        reason="duplicate bill",
        evidence=None,
        actor="c",
        now=filed,
    )
    with Session(city) as s:
        assert overdue_objections(s, dt.date(2026, 10, 15)) == []
        assert [x.id for x in overdue_objections(s, dt.date(2026, 10, 16))] == [o.id, other.id]
        assert overdue_objections(s, dt.date(2026, 10, 16), department="tax") == []
    with pytest.raises(RightsError, match="no corrected version"):
        decide_objection(
            city,
            settings,
            AUDIT,
            objection_id=o.id,
            upheld=True,
            action="corrected",
            reason="amount fixed",
            actor="department:water",
            now=filed,
        )
    upheld = decide_objection(
        city,
        settings,
        AUDIT,
        objection_id=o.id,
        upheld=True,
        reason="wrong account",
        actor="department:water",
        now=dt.datetime(2026, 10, 9, 10),
    )
    assert (upheld.status, upheld.action) == ("upheld", "withdrawn")
    assert [t for t, _ in _events(city, "u1-2")] == ["disputed", "dispute_upheld", "withdrawn"]
    after = current_score(city, 1)
    # Disputed records were already out of the score: the withdrawal keeps it there (no new row).
    assert after is not None and after["score"] > base["score"] and upheld.score_after_id == after["id"]
    with Session(city) as s:
        view = {
            c["id"]: c for c in subject_cases(s, 1, today=dt.date(2026, 10, 16)) if c["case"] == "objection"
        }
    assert view[o.id]["status"] == "upheld" and not view[o.id]["overdue"] and view[other.id]["overdue"]
    # The batch score still replays as it was computed.
    assert replay(city, settings, int(base["id"])).ok


def test_credit_repair_lifecycle_rescores_and_keeps_the_original_replayable(
    city: sa.Engine, settings: Settings
) -> None:
    base = current_score(city, 1)
    assert base is not None
    # Not eligible: positive record, court list, serious record before 12 months.
    cases = ((1, "p1-1", "only negative"), (2, "j1", "not ended by credit repair"), (2, "t2", "12 months"))
    for sid, uid, match in cases:
        with pytest.raises(RightsError, match=match):
            apply_repair(
                city, AUDIT, subject_id=sid, record_uid=uid, proof="p", commitment="c", actor="c", now=T1
            )
    with pytest.raises(RightsError, match="credit commitment"):
        apply_repair(city, AUDIT, subject_id=1, record_uid="t1", proof="fine paid", commitment=" ", actor="c")
    a = apply_repair(
        city,
        AUDIT,
        subject_id=1,
        record_uid="t1",
        proof="fine paid 2025-09-01, receipt 88",
        commitment="我承诺遵守交通法规",
        actor="citizen:a",
        now=T1,
    )
    assert (a.status, a.severity, a.eligible_from, a.accept_due) == (
        "applied",
        "general",
        dt.date(2025, 11, 10),
        dt.date(2026, 7, 15),
    )
    with pytest.raises(RightsError, match="not accepted"):
        decide_repair(
            city, settings, AUDIT, application_id=a.id, approved=True, reason="ok", actor="d", now=T1
        )
    acc = accept_repair(
        city,
        AUDIT,
        application_id=a.id,
        accepted=True,
        complex_case=True,
        reason="complete",
        actor="department:traffic_police",
        department="traffic_police",
        now=dt.datetime(2026, 7, 13, 9),
    )
    assert (acc.status, acc.result_due) == ("accepted", dt.date(2026, 8, 5))  # 7 + 10 working days
    done = decide_repair(
        city,
        settings,
        AUDIT,
        application_id=a.id,
        approved=True,
        reason="conduct corrected",
        actor="department:traffic_police",
        now=dt.datetime(2026, 7, 20, 9),
    )
    assert done.status == "repaired" and [t for t, _ in _events(city, "t1")] == ["repaired"]
    after = current_score(city, 1)
    assert after is not None and after["id"] == done.score_after_id and after["score"] > base["score"]
    assert [r["id"] for r in score_history(city, 1)] == [base["id"], after["id"]]
    assert replay(city, settings, int(base["id"])).ok and replay(city, settings, int(after["id"])).ok
    with pytest.raises(RightsError, match="no longer in use"):
        apply_repair(city, AUDIT, subject_id=1, record_uid="t1", proof="p", commitment="c", actor="c")
    # False materials: rejected, and no repair for three years.
    b = apply_repair(
        city, AUDIT, subject_id=2, record_uid="t3", proof="forged receipt", commitment="c", actor="c", now=T1
    )
    accept_repair(city, AUDIT, application_id=b.id, accepted=True, reason="ok", actor="d", now=T1)
    rejected = decide_repair(
        city,
        settings,
        AUDIT,
        application_id=b.id,
        approved=False,
        false_materials=True,
        reason="receipt forged",
        actor="d",
        now=T1,
    )
    assert rejected.status == "rejected" and _events(city, "t3") == []
    with pytest.raises(RightsError, match="no repair until 2029-07-10"):
        apply_repair(city, AUDIT, subject_id=2, record_uid="t4", proof="p", commitment="c", actor="c", now=T1)
    with Session(city) as s:
        cases = subject_cases(s, 1, today=T1.date())
        assert [(c["id"], c["status"]) for c in cases] == [(a.id, "repaired")]
        assert [c["status"] for c in subject_cases(s, 2)] == ["rejected"]


def test_a_review_confirms_or_corrects_through_a_new_score_row(city: sa.Engine, settings: Settings) -> None:
    base = current_score(city, 1)
    assert base is not None
    r = request_review(city, AUDIT, subject_id=1, reason="my score dropped without reason", actor="c", now=T1)
    assert (r.status, r.score_id, r.due) == ("requested", base["id"], dt.date(2026, 7, 31))
    with Session(city) as s:
        assert [x.id for x in review_queue(s)] == [r.id]
    case = review_case(city, r.id, lang="en")
    assert case["score"]["id"] == base["id"] and case["reasons"]
    first = case["reasons"][0]
    assert first["feature"] == "utility_late_12m" and set(first["records"]) == {"u1-1", "u1-2", "u1-4"}
    assert {x["record_uid"] for x in case["records"]} >= {"u1-1", "t1", "x1"}
    with pytest.raises(RightsError, match="leaves the score as it is"):
        decide_review(
            city, settings, AUDIT, review_id=r.id, outcome="corrected", reason="x", reviewer="rv", now=T1
        )
    ok = decide_review(
        city,
        settings,
        AUDIT,
        review_id=r.id,
        outcome="confirmed",
        reviewer="reviewer:li",
        reason="the four late water bills are confirmed by the utility",
        now=T1,
    )
    assert (ok.status, ok.score_after, ok.new_score_id) == ("confirmed", base["score"], None)
    assert current_score(city, 1)["id"] == base["id"]  # type: ignore[index]
    r2 = request_review(city, AUDIT, subject_id=1, reason="bill u1-4 is my neighbour's", actor="c", now=T1)
    fixed = decide_review(
        city,
        settings,
        AUDIT,
        review_id=r2.id,
        outcome="corrected",
        withdraw_records=["u1-4"],
        reason="meter belongs to flat 402",
        reviewer="reviewer:li",
        now=T1,
    )
    now = current_score(city, 1)
    assert now is not None and fixed.new_score_id == now["id"] and now["cause"] == f"review {r2.id}"
    assert (fixed.score_before, fixed.score_after) == (base["score"], now["score"]) and now["score"] > base[
        "score"
    ]
    assert [t for t, _ in _events(city, "u1-4")] == ["withdrawn"]
    assert replay(city, settings, int(base["id"])).ok  # the reviewed score is untouched
    with Session(city) as s:
        views = [c for c in subject_cases(s, 1) if c["case"] == "review"]
        assert [(v["status"], v["score_after"]) for v in views] == [
            ("corrected", now["score"]),
            ("confirmed", base["score"]),
        ]
        assert AUDIT.verify(s).ok


def test_the_expiry_job_expires_once_and_rescores(city: sa.Engine, settings: Settings) -> None:
    base = current_score(city, 1)
    assert base is not None
    run = expire_records(city, settings, today=dt.date(2026, 7, 2), now=T1, audit=AUDIT)
    assert (run.expired, run.rescored) == (1, [1])
    assert _events(city, "x1") == [("expired", D)]
    assert current_score(city, 1)["cause"] == "records expired"  # type: ignore[index]
    again = expire_records(city, settings, today=dt.date(2026, 7, 2), now=T1)
    assert (again.expired, again.rescored) == (0, [])
