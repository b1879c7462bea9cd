"""Human review of a score (申诉和复核): a person asks that a person look at their score.

* :func:`request_review` — the subject names its score in force and why it thinks it is wrong;
  the review is due in 15 working days (``scoring/rights.yaml``).
* :func:`review_case` — what the reviewer sees: the score row, its reasons in words with the
  records behind each (``scoring.explanations.explain``), and the subject's credit records with
  their status.
* :func:`decide_review` — the reviewer **confirms** the score with a written reason, or
  **corrects** it. A reviewer never types a number: a correction names the records that are
  wrong (they are withdrawn, citing the review) and the subject is rescored by the model in
  force. The corrected score is a new ``scores`` row (origin ``rescore``, cause ``review N``),
  so the reviewed row is untouched and still replays; the review keeps both (``score_id``,
  ``new_score_id``) and the citizen sees the outcome with both scores.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from scoring.audit import AuditLog
from scoring.db.rights_tables import ScoreReview
from scoring.db.tables import Record, RecordEvent, Subject
from scoring.events import insert_event
from scoring.explanations import explain
from scoring.publish import current_score, score_row
from scoring.rights import (
    RightsError,
    RightsPolicy,
    default_policy,
    effective_date,
    latest_record,
    record_events,
    rescore_after,
    review_view,
    utcnow,
)

__all__ = ["decide_review", "get_review", "request_review", "review_case", "review_queue"]


def get_review(session: Session, review_id: int) -> ScoreReview:
    r = session.get(ScoreReview, review_id)
    if r is None:
        raise RightsError(f"no review {review_id}")
    return r


def request_review(
    engine: Engine,
    audit: AuditLog,
    *,
    subject_id: int,
    reason: str,
    actor: str,
    now: dt.datetime | None = None,
    policy: RightsPolicy | None = None,
    request_id: str | None = None,
) -> ScoreReview:
    """Ask for a person to review the subject's score in force."""
    pol = policy or default_policy()
    when = now or utcnow()
    if not reason.strip():
        raise RightsError("a review request needs a reason")
    row = current_score(engine, subject_id)
    if row is None:
        raise RightsError("there is no published score to review")
    with Session(engine, expire_on_commit=False) as session, session.begin():
        subject = session.get(Subject, subject_id)
        if subject is None:
            raise RightsError(f"no subject {subject_id}")
        pending = session.execute(
            sa.select(ScoreReview.id).where(
                ScoreReview.subject_id == subject_id, ScoreReview.status == "requested"
            )
        ).first()
        if pending is not None:
            raise RightsError(f"review {pending[0]} is still open")
        r = ScoreReview(
            subject_id=subject_id,
            score_id=int(row["id"]),
            reason=reason.strip(),
            requested_by=actor[:128],
            requested_at=when,
            due=pol.due(when.date(), pol.review_days),
            status="requested",
            score_before=row.get("score"),
            grade_before=row.get("grade"),
        )
        session.add(r)
        session.flush()
        audit.append(
            session,
            actor=actor,
            action="review.request",
            subject_ref=subject.subject_key,
            details={"review": r.id, "score_id": r.score_id, "reason": r.reason},
            request_id=request_id,
            now=when,
        )
    return r


def review_queue(session: Session) -> list[ScoreReview]:
    """Open reviews, the earliest due first."""
    stmt = sa.select(ScoreReview).where(ScoreReview.status == "requested")
    return list(session.execute(stmt.order_by(ScoreReview.due, ScoreReview.id)).scalars())


def review_case(engine: Engine, review_id: int, *, lang: str = "zh") -> dict[str, Any]:
    """The case as the reviewer sees it: request, score, reasons with their records, records."""
    with Session(engine) as session:
        r = get_review(session, review_id)
        view = review_view(r)
        subject_id = r.subject_id
        score_id = r.score_id
        records = session.execute(
            sa.select(Record)
            .where(Record.subject_id == subject_id)
            .order_by(Record.record_uid, Record.version)
        ).scalars()
        latest: dict[str, Record] = {}
        for rec in records:
            latest[rec.record_uid] = rec
        events: dict[str, list[str]] = {}
        for uid, kind in session.execute(
            sa.select(RecordEvent.record_uid, RecordEvent.event_type)
            .where(RecordEvent.subject_id == subject_id)
            .order_by(RecordEvent.effective_date, RecordEvent.recorded_at, RecordEvent.id)
        ):
            events.setdefault(uid, []).append(kind)
    row = score_row(engine, score_id)
    assert row is not None
    reasons = [
        {
            "feature": x.feature,
            "direction": x.direction,
            "points": x.points,
            "text": x.zh if lang == "zh" else x.en,
            "records": list(x.records),
        }
        for x in explain(engine, row)
    ]
    return {
        "review": view,
        "score": {
            k: (v.isoformat() if isinstance(v, dt.date) else v)
            for k, v in row.items()
            if k
            in (
                "id",
                "state",
                "score",
                "grade",
                "pd",
                "as_of",
                "known_at",
                "model_version",
                "origin",
                "cause",
            )
        },
        "reasons": reasons,
        "records": [
            {
                "record_uid": rec.record_uid,
                "version": rec.version,
                "kind": rec.kind,
                "department": rec.department,
                "event_date": rec.event_date.isoformat(),
                "publicity_end": rec.publicity_end.isoformat(),
                "severity": rec.severity,
                "events": events.get(rec.record_uid, []),
            }
            for rec in sorted(latest.values(), key=lambda x: (x.event_date, x.record_uid), reverse=True)
        ],
    }


def decide_review(
    engine: Engine,
    settings: Any,
    audit: AuditLog,
    *,
    review_id: int,
    outcome: str,
    reason: str,
    reviewer: str,
    withdraw_records: Sequence[str] = (),
    now: dt.datetime | None = None,
    request_id: str | None = None,
) -> ScoreReview:
    """Confirm the score, or correct it by withdrawing the wrong records and rescoring."""
    when = now or utcnow()
    if outcome not in ("confirmed", "corrected"):
        raise RightsError("the outcome is confirmed or corrected")
    if not reason.strip():
        raise RightsError("a review decision needs a written reason")
    if outcome == "confirmed" and withdraw_records:
        raise RightsError("a confirmed score withdraws no records")
    early: dict[str, Any] | None = None
    if outcome == "corrected" and not withdraw_records:
        # No record named: the correction is a rescore that the score in force had missed.
        with Session(engine) as session:
            pending = get_review(session, review_id)
            if pending.status != "requested":
                raise RightsError(f"review {review_id} is already {pending.status}")
            reviewed_id, sid = pending.score_id, pending.subject_id
        early = rescore_after(engine, settings, sid, cause=f"review {review_id}", now=when)
        if early is None or int(early["id"]) == reviewed_id:
            raise RightsError("a rescore leaves the score as it is: confirm it, or name the wrong records")
    with Session(engine, expire_on_commit=False) as session, session.begin():
        r = get_review(session, review_id)
        if r.status != "requested":
            raise RightsError(f"review {review_id} is already {r.status}")
        subject = session.get(Subject, r.subject_id)
        assert subject is not None
        why = f"review {r.id}: {reason.strip()}"[:2000]
        for uid in withdraw_records:
            record = latest_record(session, uid)
            if record is None or int(record["subject_id"]) != r.subject_id:
                raise RightsError(f"record {uid} is not in this subject's credit file")
            if any(t in ("withdrawn", "repaired", "expired") for t, _ in record_events(session, uid)):
                raise RightsError(f"record {uid} is no longer in use")
            insert_event(
                session.connection(),
                uid,
                "withdrawn",
                effective_date(session, r.subject_id, record["event_date"], when.date()),
                actor=reviewer,
                reason=why,
                reference=f"review:{r.id}",
                now=when,
            )
        r.reviewer = reviewer[:128]
        r.decided_at = when
        r.decision_reason = reason.strip()
        r.fixed_records = json.dumps(list(withdraw_records)) if withdraw_records else None
        r.status = outcome
        subject_id, reviewed = r.subject_id, r.score_id
    after: dict[str, Any] | None
    if outcome == "corrected":
        after = early or rescore_after(engine, settings, subject_id, cause=f"review {review_id}", now=when)
    else:
        after = score_row(engine, reviewed)
    with Session(engine, expire_on_commit=False) as session, session.begin():
        r = get_review(session, review_id)
        if after is not None:
            r.new_score_id = int(after["id"]) if outcome == "corrected" else None
            r.score_after = after.get("score")
            r.grade_after = after.get("grade")
        audit.append(
            session,
            actor=reviewer,
            action="review.decide",
            subject_ref=subject.subject_key,
            details={
                "review": r.id,
                "outcome": r.status,
                "reason": r.decision_reason,
                "withdrawn": list(withdraw_records),
                "new_score_id": r.new_score_id,
            },
            request_id=request_id,
            now=when,
        )
    return r
