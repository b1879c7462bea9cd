"""Credit repair (信用修复): after correcting the conduct, a subject asks that a negative record
stop being published and used.

Rules (``scoring/rights.yaml``, from the national 《信用修复管理办法》, in force 2026-04-01):

* only negative records in use (not withdrawn, repaired or expired) can be repaired, and not the
  kinds that end only by the deciding body's own act (court lists: ``not_repairable``);
* by severity, the application is possible ``min_months`` after the record's event date (minor:
  at once, once the duty is fulfilled; general: 3 months; serious: 12 months);
* the application carries proof of correction and a credit commitment (信用承诺);
* a subject whose materials were found false may not apply again for 3 years.

Steps and deadlines (working days): :func:`apply_repair` → :func:`accept_repair` (accepted, or
not accepted with what is missing, within 3 days) → :func:`decide_repair` (within 7 days of
acceptance, 17 when complex). Approval appends a ``repaired`` event (the record is no longer
published or used) and rescores the subject. Every step is audited.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from features.catalogue import add_months, load_catalogue
from scoring.audit import AuditLog
from scoring.db.rights_tables import RepairApplication
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

__all__ = ["accept_repair", "apply_repair", "decide_repair", "get_application", "repair_eligibility"]


def get_application(session: Session, application_id: int) -> RepairApplication:
    a = session.get(RepairApplication, application_id)
    if a is None:
        raise RightsError(f"no repair application {application_id}")
    return a


def repair_eligibility(
    session: Session, subject_id: int, record_uid: str, today: dt.date, policy: RightsPolicy
) -> tuple[dict[str, Any], dt.date]:
    """The record and the first day it may be repaired; ``RightsError`` with the reason otherwise."""
    record = latest_record(session, record_uid)
    if record is None or int(record["subject_id"]) != subject_id:
        raise RightsError("no such record in this subject's credit file")
    kind = load_catalogue().kinds.get(str(record["kind"]))
    if kind is None or kind.polarity != "negative":
        raise RightsError("only negative records can be repaired")
    if record["kind"] in policy.not_repairable:
        raise RightsError(
            f"this record is not ended by credit repair: {policy.not_repairable[record['kind']]}"
        )
    if any(t in ("withdrawn", "repaired", "expired") for t, _ in record_events(session, record_uid)):
        raise RightsError("the record is no longer in use (withdrawn, repaired or expired)")
    if record["publicity_end"] <= today:
        raise RightsError("the record's publicity period has ended; it is no longer used")
    severity = str(record["severity"])
    period = policy.repair_periods.get(severity)
    if period is None:
        raise RightsError(f"unknown severity {severity!r}")
    eligible = add_months(record["event_date"], period.min_months)
    if today < eligible:
        raise RightsError(
            f"a {severity} record can be repaired {period.min_months} months after its date:"
            f" from {eligible.isoformat()}"
        )
    ban = session.execute(
        sa.select(sa.func.max(RepairApplication.decided_at)).where(
            RepairApplication.subject_id == subject_id, RepairApplication.false_materials.is_(True)
        )
    ).scalar()
    if ban is not None:
        ban_day = ban.date() if isinstance(ban, dt.datetime) else dt.datetime.fromisoformat(str(ban)).date()
        until = add_months(ban_day, policy.false_materials_ban_months)
        if today < until:
            raise RightsError(f"materials found false: no repair until {until.isoformat()}")
    return record, eligible


def apply_repair(
    engine: Engine,
    audit: AuditLog,
    *,
    subject_id: int,
    record_uid: str,
    proof: str,
    commitment: str,
    actor: str,
    now: dt.datetime | None = None,
    policy: RightsPolicy | None = None,
    request_id: str | None = None,
) -> RepairApplication:
    """Apply for repair of a record; refused at once (``RightsError``) when it is not eligible."""
    pol = policy or default_policy()
    when = now or utcnow()
    if not proof.strip():
        raise RightsError("an application needs proof that the conduct was corrected")
    if not commitment.strip():
        raise RightsError("an application needs a credit commitment (信用承诺)")
    with Session(engine, expire_on_commit=False) as session, session.begin():
        subject = session.get(Subject, subject_id)
        if subject is None:
            raise RightsError(f"no subject {subject_id}")
        record, eligible = repair_eligibility(session, subject_id, record_uid, when.date(), pol)
        pending = session.execute(
            sa.select(RepairApplication.id).where(
                RepairApplication.record_uid == record_uid,
                RepairApplication.status.in_(("applied", "accepted")),
            )
        ).first()
        if pending is not None:
            raise RightsError(f"repair application {pending[0]} for this record is still open")
        a = RepairApplication(
            subject_id=subject_id,
            record_uid=record_uid,
            kind=str(record["kind"]),
            severity=str(record["severity"]),
            department=str(record["department"]),
            proof=proof.strip(),
            commitment=commitment.strip(),
            applied_by=actor[:128],
            applied_at=when,
            eligible_from=eligible,
            accept_due=pol.due(when.date(), pol.repair_accept_days),
            status="applied",
            complex=False,
            false_materials=False,
        )
        session.add(a)
        session.flush()
        audit.append(
            session,
            actor=actor,
            action="repair.apply",
            subject_ref=subject.subject_key,
            details={
                "application": a.id,
                "record_uid": record_uid,
                "proof": a.proof,
                "commitment": a.commitment,
            },
            request_id=request_id,
            now=when,
        )
    return a


def accept_repair(
    engine: Engine,
    audit: AuditLog,
    *,
    application_id: int,
    accepted: bool,
    reason: str,
    actor: str,
    complex_case: bool = False,
    department: str | None = None,
    now: dt.datetime | None = None,
    policy: RightsPolicy | None = None,
    request_id: str | None = None,
) -> RepairApplication:
    """Accept an application (the result is then due in 7 working days, 17 if complex) or not
    accept it, saying at once everything that is missing."""
    pol = policy or default_policy()
    when = now or utcnow()
    if not reason.strip():
        raise RightsError("the acceptance decision needs a written reason")
    with Session(engine, expire_on_commit=False) as session, session.begin():
        a = get_application(session, application_id)
        if department is not None and department != a.department:
            raise RightsError("only the department that reported the record decides the application")
        if a.status != "applied":
            raise RightsError(f"application {application_id} is already {a.status}")
        a.status = "accepted" if accepted else "not_accepted"
        a.accepted_at = when
        a.accept_by = actor[:128]
        a.accept_reason = reason.strip()
        a.complex = bool(complex_case and accepted)
        if accepted:
            days = pol.repair_result_days + (pol.repair_complex_extra_days if complex_case else 0)
            a.result_due = pol.due(when.date(), days)
        subject = session.get(Subject, a.subject_id)
        assert subject is not None
        audit.append(
            session,
            actor=actor,
            action="repair.accept",
            subject_ref=subject.subject_key,
            details={
                "application": a.id,
                "status": a.status,
                "complex": a.complex,
                "reason": a.accept_reason,
            },
            request_id=request_id,
            now=when,
        )
    return a


def decide_repair(
    engine: Engine,
    settings: Any,
    audit: AuditLog,
    *,
    application_id: int,
    approved: bool,
    reason: str,
    actor: str,
    false_materials: bool = False,
    department: str | None = None,
    now: dt.datetime | None = None,
    request_id: str | None = None,
) -> RepairApplication:
    """Decide an accepted application. Approval: a ``repaired`` event and a rescore."""
    when = now or utcnow()
    if not reason.strip():
        raise RightsError("the result needs a written reason")
    if approved and false_materials:
        raise RightsError("an application with false materials cannot be approved")
    with Session(engine, expire_on_commit=False) as session, session.begin():
        a = get_application(session, application_id)
        if department is not None and department != a.department:
            raise RightsError("only the department that reported the record decides the application")
        if a.status != "accepted":
            raise RightsError(f"application {application_id} is {a.status}, not accepted")
        subject = session.get(Subject, a.subject_id)
        assert subject is not None
        a.score_before_id = score_ref(current_score(engine, a.subject_id))
        if approved:
            record = latest_record(session, a.record_uid)
            assert record is not None
            insert_event(
                session.connection(),
                a.record_uid,
                "repaired",
                effective_date(session, a.subject_id, record["event_date"], when.date()),
                actor=actor,
                reason=f"repair {a.id}: {reason.strip()}"[:2000],
                reference=f"repair:{a.id}",
                now=when,
            )
        a.status = "repaired" if approved else "rejected"
        a.decided_at = when
        a.decided_by = actor[:128]
        a.decision_reason = reason.strip()
        a.false_materials = bool(false_materials)
        audit.append(
            session,
            actor=actor,
            action="repair.decide",
            subject_ref=subject.subject_key,
            details={"application": a.id, "status": a.status, "false_materials": a.false_materials},
            request_id=request_id,
            now=when,
        )
    if approved:
        after = rescore_after(engine, settings, a.subject_id, cause=f"repair {a.id} approved", now=when)
        with Session(engine, expire_on_commit=False) as session, session.begin():
            row = get_application(session, a.id)
            row.score_after_id = score_ref(after)
            a = row
    return a
