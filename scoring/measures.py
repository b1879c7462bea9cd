"""Check on every application (逢办必查): measures, registered checks, feedback, export.

:func:`applicable_measures` matches a subject's listings in force (``scoring.lists``), its
published score or class, and the scenario of the application against the measures catalogue
(``scoring/measures.yaml``): punishments apply to listings only (a model never punishes), rewards
to red lists, scores or classes, and never to a subject on a list in ``rewards_blocked_by``.

:func:`check_application` is what a department calls when it handles an application: it
returns the measures with their basis and the listings that trigger them, registers the read in
the query register and the audit log (``scoring.register.record_read``; the subject sees who
checked) and keeps the check (``measure_checks``). The department then reports what it did
with each measure (:func:`record_feedback`: applied, not_applied or exempted, with a note), and
:func:`export_feedback` writes the feedback for the national platform as CSV (columns
``FEEDBACK_COLUMNS``), marking exported rows so the next export carries only new ones.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from scoring.audit import AuditLog
from scoring.auth import Principal
from scoring.db.incentive_tables import MeasureCheck, MeasureFeedback
from scoring.db.tables import Subject
from scoring.identity import IdentityVault
from scoring.lists import ActiveListing, active_listings
from scoring.measure_catalogue import Measure, MeasureCatalogue, load_measures
from scoring.publish import current_score
from scoring.register import record_read

__all__ = [
    "FEEDBACK_COLUMNS",
    "OUTCOMES",
    "CheckResult",
    "MeasureError",
    "applicable_measures",
    "check_application",
    "export_feedback",
    "record_feedback",
]

OUTCOMES = ("applied", "not_applied", "exempted")
FEEDBACK_COLUMNS = (
    "check_id",
    "checked_at",
    "scenario",
    "executing_department",
    "subject_type",
    "subject_code",
    "measure_code",
    "measure_type",
    "mandatory",
    "basis",
    "list_type",
    "list_doc_no",
    "list_department",
    "outcome",
    "note",
    "feedback_at",
)


class MeasureError(ValueError):
    """A check or feedback that cannot be recorded."""


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def _triggers(m: Measure, listings: list[ActiveListing]) -> list[ActiveListing]:
    return [
        a for a in listings if (a.list_type in m.lists) or (a.kind is not None and a.kind in m.record_kinds)
    ]


def applicable_measures(
    session: Session,
    subject: Subject,
    scenario: str,
    *,
    today: dt.date | None = None,
    catalogue: MeasureCatalogue | None = None,
) -> list[dict[str, Any]]:
    """The reward and punishment measures that apply to ``subject`` in ``scenario``, punishments
    first, each with its basis and what triggers it."""
    cat = catalogue or load_measures()
    if scenario not in cat.scenarios:
        raise MeasureError(f"unknown scenario {scenario!r}; expected one of {', '.join(cat.scenarios)}")
    day = today or _now().date()
    stype = "person" if subject.subject_type == "person" else "org"
    listings = active_listings(session, subject.id, day, catalogue=cat)
    blocked = any(
        a.list_type in cat.rewards_blocked_lists
        or (a.kind is not None and a.kind in cat.rewards_blocked_kinds)
        for a in listings
    )
    row = current_score(session.connection(), subject.id)
    scored = row is not None and row["state"] == "scored"
    out: list[dict[str, Any]] = []
    for m in cat.measures:
        if scenario not in m.scenarios or stype not in m.subject_types:
            continue
        triggers = _triggers(m, listings)
        because: list[str] = [f"{a.list_type or a.kind}:{a.doc_no or ''}" for a in triggers]
        if m.type == "reward":
            if blocked:
                continue
            if scored and row is not None:
                if stype == "person" and m.min_score is not None and (row["score"] or 0) >= m.min_score:
                    because.append(f"score>={m.min_score}")
                if stype == "org" and row["grade"] in m.classes:
                    because.append(f"class {row['grade']}")
        if not because:
            continue
        out.append(
            {
                "code": m.code,
                "type": m.type,
                "zh": m.zh,
                "en": m.en,
                "mandatory": m.mandatory,
                "basis": m.basis,
                "because": because,
                "listings": [
                    {
                        "list_type": a.list_type,
                        "kind": a.kind,
                        "doc_no": a.doc_no,
                        "department": a.department,
                        "valid_to": a.valid_to.isoformat(),
                    }
                    for a in triggers
                ],
            }
        )
    out.sort(key=lambda x: (x["type"] != "punishment", x["code"]))
    return out


@dataclass(frozen=True)
class CheckResult:
    check_id: int
    subject_key: str
    scenario: str
    department: str
    catalogue_version: str
    measures: list[dict[str, Any]]

    def view(self) -> dict[str, Any]:
        return {
            "check_id": self.check_id,
            "scenario": self.scenario,
            "department": self.department,
            "catalogue_version": self.catalogue_version,
            "measures": self.measures,
        }


def check_application(
    session: Session,
    audit: AuditLog,
    *,
    who: Principal,
    subject: Subject,
    scenario: str,
    department: str,
    route: str = "cli",
    request_id: str | None = None,
    today: dt.date | None = None,
    now: dt.datetime | None = None,
    catalogue: MeasureCatalogue | None = None,
) -> CheckResult:
    """逢办必查: the measures for this application, registered as a read and kept (caller commits)."""
    cat = catalogue or load_measures()
    when = now or _now()
    measures = applicable_measures(session, subject, scenario, today=today or when.date(), catalogue=cat)
    record_read(
        session,
        audit,
        who=who,
        subject=subject,
        purpose=f"joint_measures:{scenario}",
        route=route,
        request_id=request_id,
        now=when,
    )
    row = MeasureCheck(
        subject_id=subject.id,
        scenario=scenario,
        department=department[:48],
        actor=who.actor[:128],
        catalogue_version=cat.version,
        measures=json.dumps(measures, ensure_ascii=False, sort_keys=True),
        checked_at=when,
        request_id=request_id[:64] if request_id else None,
    )
    session.add(row)
    session.flush()
    return CheckResult(row.id, subject.subject_key, scenario, row.department, cat.version, measures)


def record_feedback(
    session: Session,
    audit: AuditLog,
    *,
    check_id: int,
    measure_code: str,
    outcome: str,
    department: str,
    actor: str,
    note: str | None = None,
    now: dt.datetime | None = None,
) -> MeasureFeedback:
    """The executing department's feedback on one measure of its check (once per measure)."""
    if outcome not in OUTCOMES:
        raise MeasureError(f"outcome must be one of {', '.join(OUTCOMES)}")
    check = session.get(MeasureCheck, check_id)
    if check is None or check.department != department:
        raise MeasureError(f"no check {check_id} by {department}")
    codes = {m["code"] for m in json.loads(check.measures)}
    if measure_code not in codes:
        raise MeasureError(f"measure {measure_code} was not found by check {check_id}")
    exists = session.execute(
        sa.select(MeasureFeedback.id).where(
            MeasureFeedback.check_id == check_id, MeasureFeedback.measure_code == measure_code
        )
    ).first()
    if exists is not None:
        raise MeasureError(f"feedback on {measure_code} for check {check_id} is already recorded")
    when = now or _now()
    row = MeasureFeedback(
        check_id=check_id,
        measure_code=measure_code,
        outcome=outcome,
        note=note,
        department=department,
        actor=actor[:128],
        recorded_at=when,
    )
    session.add(row)
    session.flush()
    subject_key = session.execute(
        sa.select(Subject.subject_key).where(Subject.id == check.subject_id)
    ).scalar()
    audit.append(
        session,
        actor=actor,
        action="measure.feedback",
        subject_ref=subject_key,
        details={"check": check_id, "measure": measure_code, "outcome": outcome},
        now=when,
    )
    return row


def export_feedback(
    session: Session,
    vault: IdentityVault,
    *,
    only_new: bool = True,
    mark: bool = True,
    now: dt.datetime | None = None,
) -> tuple[str, int]:
    """Feedback rows as CSV for the national platform, and how many. Organisations by credit code;
    persons by their masked identity number (the platform matches them by list document number)."""
    stmt = (
        sa.select(MeasureFeedback, MeasureCheck, Subject)
        .join(MeasureCheck, MeasureCheck.id == MeasureFeedback.check_id)
        .join(Subject, Subject.id == MeasureCheck.subject_id)
        .order_by(MeasureFeedback.id)
    )
    if only_new:
        stmt = stmt.where(MeasureFeedback.exported_at.is_(None))
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(FEEDBACK_COLUMNS)
    n = 0
    when = now or _now()
    for fb, check, subject in session.execute(stmt).all():
        measure: dict[str, Any] = next(
            (m for m in json.loads(check.measures) if m["code"] == fb.measure_code), {}
        )
        listings = measure.get("listings") or [{}]
        if subject.subject_type == "person":
            code = vault.masked(subject.id_cipher) if subject.id_cipher else ""
        else:
            code = subject.subject_key
        for lst in listings:
            writer.writerow(
                [
                    check.id,
                    check.checked_at.isoformat(timespec="seconds"),
                    check.scenario,
                    check.department,
                    "person" if subject.subject_type == "person" else "org",
                    code,
                    fb.measure_code,
                    measure.get("type", ""),
                    "1" if measure.get("mandatory") else "0",
                    measure.get("basis", ""),
                    lst.get("list_type") or lst.get("kind") or "",
                    lst.get("doc_no") or "",
                    lst.get("department") or "",
                    fb.outcome,
                    fb.note or "",
                    fb.recorded_at.isoformat(timespec="seconds"),
                ]
            )
        n += 1
        if mark:
            fb.exported_at = when
    session.flush()
    return buf.getvalue(), n
