"""Objections (异议): a subject contests a record; it is marked disputed, then decided.

1. :func:`file_objection` — the subject (or someone acting for it) names a record, a reason and
   evidence. The objection is stored with its deadlines (marked within 1 working day, decided
   within 7 — ``scoring/rights.yaml``) and the record is marked disputed at once (a ``disputed``
   event in the same transaction): until the decision it is not used against the subject, who is
   rescored.
2. :func:`decide_objection` — the department that reported the record decides:

   * **upheld**: ``dispute_upheld`` and then either ``withdrawn`` (the record was wrong) or, for
     ``action="corrected"``, nothing more — the department has sent a corrected version of the
     record (a new version recorded after the objection was filed, which is checked);
   * **rejected**: ``dispute_rejected`` with the reason; the record is used again.

   Either way the subject is rescored and the score before and after are kept on the case.
3. :func:`overdue_objections` — objections not marked or not decided by their deadline.

Every step is an audit-log entry naming the subject's pseudonym.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from scoring.audit import AuditLog
from scoring.db.rights_tables import Objection
from scoring.db.tables import Subject
from scoring.events import insert_event
from scoring.publish import current_score
from scoring.rights import (
    RightsError,
    RightsPolicy,
    default_policy,
    effective_date,
    latest_record,
    record_events,
    rescore_after,
    score_ref,
    utcnow,
)

__all__ = ["decide_objection", "file_objection", "get_objection", "overdue_objections"]

ACTIONS = ("withdrawn", "corrected")


def _subject(session: Session, subject_id: int) -> Subject:
    subject = session.get(Subject, subject_id)
    if subject is None:
        raise RightsError(f"no subject {subject_id}")
    return subject


def get_objection(session: Session, objection_id: int) -> Objection:
    o = session.get(Objection, objection_id)
    if o is None:
        raise RightsError(f"no objection {objection_id}")
    return o


def file_objection(
    engine: Engine,
    settings: Any,
    audit: AuditLog,
    *,
    subject_id: int,
    record_uid: str,
    reason: str,
    evidence: str | None,
    actor: str,
    now: dt.datetime | None = None,
    policy: RightsPolicy | None = None,
    request_id: str | None = None,
) -> Objection:
    """File an objection to one of the subject's records, mark the record disputed and rescore."""
    pol = policy or default_policy()
    when = now or utcnow()
    if not reason.strip():
        raise RightsError("an objection needs a reason")
    with Session(engine, expire_on_commit=False) as session, session.begin():
        subject = _subject(session, subject_id)
        record = latest_record(session, record_uid)
        if record is None or int(record["subject_id"]) != subject_id:
            raise RightsError("no such record in this subject's credit file")
        events = [t for t, _ in record_events(session, record_uid)]
        if any(t in ("withdrawn", "repaired", "expired") for t in events):
            raise RightsError("the record is no longer in use (withdrawn, repaired or expired)")
        pending = session.execute(
            sa.select(Objection.id).where(
                Objection.record_uid == record_uid, Objection.status.in_(("filed", "disputed"))
            )
        ).first()
        if pending is not None:
            raise RightsError(f"objection {pending[0]} to this record is still open")
        before = score_ref(current_score(engine, subject_id))
        today = when.date()
        o = Objection(
            subject_id=subject_id,
            record_uid=record_uid,
            record_version=int(record["version"]),
            department=str(record["department"]),
            reason=reason.strip(),
            evidence=(evidence or "").strip() or None,
            filed_by=actor[:128],
            filed_at=when,
            mark_due=pol.due(today, pol.objection_mark_days),
            decide_due=pol.due(today, pol.objection_decide_days),
            status="disputed",
            marked_at=when,
            score_before_id=before,
        )
        session.add(o)
        session.flush()
        insert_event(
            session.connection(),
            record_uid,
            "disputed",
            effective_date(session, subject_id, record["event_date"], today),
            actor=actor,
            reason=f"objection {o.id}: {reason.strip()}"[:2000],
            reference=f"objection:{o.id}",
            now=when,
        )
        audit.append(
            session,
            actor=actor,
            action="objection.file",
            subject_ref=subject.subject_key,
            details={"objection": o.id, "record_uid": record_uid, "reason": o.reason, "evidence": o.evidence},
            request_id=request_id,
            now=when,
        )
    after = rescore_after(engine, settings, subject_id, cause=f"objection {o.id}: record disputed", now=when)
    with Session(engine, expire_on_commit=False) as session, session.begin():
        row = get_objection(session, o.id)
        row.score_after_id = score_ref(after)
        o = row
    return o


def decide_objection(
    engine: Engine,
    settings: Any,
    audit: AuditLog,
    *,
    objection_id: int,
    upheld: bool,
    reason: str,
    actor: str,
    department: str | None = None,
    action: str = "withdrawn",
    now: dt.datetime | None = None,
    request_id: str | None = None,
) -> Objection:
    """Decide an open objection (``department``: when given, it must be the record's)."""
    when = now or utcnow()
    if not reason.strip():
        raise RightsError("a decision needs a written reason")
    if upheld and action not in ACTIONS:
        raise RightsError(f"an upheld objection is followed by one of {', '.join(ACTIONS)}")
    with Session(engine, expire_on_commit=False) as session, session.begin():
        o = get_objection(session, objection_id)
        if department is not None and department != o.department:
            raise RightsError("only the department that reported the record decides the objection")
        if o.status not in ("filed", "disputed"):
            raise RightsError(f"objection {objection_id} is already {o.status}")
        subject = _subject(session, o.subject_id)
        record = latest_record(session, o.record_uid)
        assert record is not None
        if upheld and action == "corrected":
            recorded = record["recorded_at"]
            recorded = (
                recorded if isinstance(recorded, dt.datetime) else dt.datetime.fromisoformat(str(recorded))
            )
            if int(record["version"]) <= o.record_version or recorded < o.filed_at:
                raise RightsError(
                    "no corrected version of the record was received after the objection: send the"
                    " correction first, or withdraw the record"
                )
        eff = effective_date(session, o.subject_id, record["event_date"], when.date())
        conn = session.connection()
        why = f"objection {o.id}: {reason.strip()}"[:2000]
        ref = f"objection:{o.id}"
        if upheld:
            insert_event(
                conn, o.record_uid, "dispute_upheld", eff, actor=actor, reason=why, reference=ref, now=when
            )
            if action == "withdrawn":
                insert_event(
                    conn, o.record_uid, "withdrawn", eff, actor=actor, reason=why, reference=ref, now=when
                )
        else:
            insert_event(
                conn, o.record_uid, "dispute_rejected", eff, actor=actor, reason=why, reference=ref, now=when
            )
        o.status = "upheld" if upheld else "rejected"
        o.action = action if upheld else None
        o.decided_at = when
        o.decided_by = actor[:128]
        o.decision_reason = reason.strip()
        audit.append(
            session,
            actor=actor,
            action="objection.decide",
            subject_ref=subject.subject_key,
            details={"objection": o.id, "outcome": o.status, "action": o.action, "reason": o.decision_reason},
            request_id=request_id,
            now=when,
        )
    after = rescore_after(engine, settings, o.subject_id, cause=f"objection {o.id} {o.status}", now=when)
    with Session(engine, expire_on_commit=False) as session, session.begin():
        row = get_objection(session, o.id)
        row.score_after_id = score_ref(after)
        o = row
    return o


def overdue_objections(
    session: Session, today: dt.date | None = None, *, department: str | None = None
) -> list[Objection]:
    """Open objections past their deadline: not marked by ``mark_due`` or not decided by ``decide_due``."""
    day = today or utcnow().date()
    stmt = sa.select(Objection).where(
        sa.or_(
            sa.and_(Objection.status == "filed", Objection.mark_due < day),
            sa.and_(Objection.status.in_(("filed", "disputed")), Objection.decide_due < day),
        )
    )
    if department is not None:
        stmt = stmt.where(Objection.department == department)
    return list(session.execute(stmt.order_by(Objection.decide_due, Objection.id)).scalars())
