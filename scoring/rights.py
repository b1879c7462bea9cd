"""What the subject's rights share: deadlines and repair rules, the date a change takes effect,
rescoring after a decision, and the subject's own view of its cases.

Objections (``scoring/objections.py``), credit repair (``scoring/repair.py``), score reviews
(``scoring/reviews.py``) and expiry (``scoring/expiry.py``) use these.

**When a change takes effect for the score in force.** The published score of a subject is
computed as of the snapshot's date D (data arrive with a lag, so D lies in the past). A decision
taken on day T (a record marked disputed, withdrawn after an upheld objection, repaired,
expired) must change the score in force at once — a rescore against that snapshot only sees
events effective by D. The event is therefore dated ``min(T, max(D, event date of the record))``
(:func:`effective_date`): T when no snapshot is in force or D is later. The true day T stays
on the case (``decided_at``) and in the event's ``recorded_at``; replay of any earlier score is
unaffected (it only sees events recorded before that score was made).

* ``RightsError`` (a ``ValueError``): a step that is not allowed (wrong state, not eligible, not
  the deciding department), with a reason fit to show the subject.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import sqlalchemy as sa
import yaml
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy import Connection, Engine, text
from sqlalchemy.orm import Session

from scoring.calendar import WorkCalendar, default_calendar, load_calendar
from scoring.db import rights_tables  # noqa: F401  (registers the tables)
from scoring.db.rights_tables import Objection, RepairApplication, ScoreReview
from scoring.publish import PublishError, current_score, rescore_subject, score_group

__all__ = [
    "DEFAULT_RIGHTS_FILE",
    "RightsError",
    "RightsFiles",
    "RightsPolicy",
    "effective_date",
    "load_policy",
    "rescore_after",
    "subject_cases",
    "utcnow",
]

logger = logging.getLogger(__name__)
DEFAULT_RIGHTS_FILE = Path(__file__).with_name("rights.yaml")
SEVERITIES = ("minor", "general", "serious")


class RightsError(ValueError):
    """A step of an objection, repair or review that is not allowed."""


class RightsFiles(BaseSettings):
    """Optional replacements of the shipped data files (``CREDIT_`` environment variables)."""

    model_config = SettingsConfigDict(env_prefix="CREDIT_", env_file=".env", extra="ignore")

    holiday_calendar_file: Path | None = None
    rights_file: Path | None = None
    supervision_file: Path | None = None


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


@dataclass(frozen=True)
class RepairPeriod:
    min_months: int
    max_months: int


@dataclass(frozen=True)
class RightsPolicy:
    """Deadlines in working days and the repair rules, with the working-day calendar."""

    calendar: WorkCalendar
    objection_mark_days: int = 1
    objection_decide_days: int = 7
    repair_accept_days: int = 3
    repair_result_days: int = 7
    repair_complex_extra_days: int = 10
    repair_periods: dict[str, RepairPeriod] = field(default_factory=dict)
    false_materials_ban_months: int = 36
    not_repairable: dict[str, str] = field(default_factory=dict)
    review_days: int = 15
    version: str = ""

    def due(self, start: dt.date, working_days: int) -> dt.date:
        return self.calendar.add_working_days(start, working_days)


def load_policy(path: str | Path | None = None, calendar: WorkCalendar | None = None) -> RightsPolicy:
    raw = yaml.safe_load(Path(path or DEFAULT_RIGHTS_FILE).read_text(encoding="utf-8"))
    o, r, v = raw["objections"], raw["repair"], raw["reviews"]
    periods = {k: RepairPeriod(int(p["min_months"]), int(p["max_months"])) for k, p in r["periods"].items()}
    if set(periods) != set(SEVERITIES):
        raise ValueError(f"repair periods are needed for exactly {SEVERITIES}")
    for name, p in periods.items():
        if not 0 <= p.min_months <= p.max_months:
            raise ValueError(f"repair period {name}: 0 <= min_months <= max_months")
    numbers = {
        "objection_mark_days": int(o["mark_within_working_days"]),
        "objection_decide_days": int(o["decide_within_working_days"]),
        "repair_accept_days": int(r["accept_within_working_days"]),
        "repair_result_days": int(r["result_within_working_days"]),
        "repair_complex_extra_days": int(r["complex_extra_working_days"]),
        "false_materials_ban_months": int(r["false_materials_ban_months"]),
        "review_days": int(v["decide_within_working_days"]),
    }
    if any(n < 0 for n in numbers.values()):
        raise ValueError("deadlines and periods cannot be negative")
    return RightsPolicy(
        calendar=calendar or default_calendar(),
        repair_periods=periods,
        not_repairable={str(k): str(t) for k, t in (r.get("not_repairable") or {}).items()},
        version=str(raw.get("version", "")),
        **numbers,
    )


@lru_cache
def _default_policy() -> RightsPolicy:
    files = RightsFiles()
    calendar = load_calendar(files.holiday_calendar_file) if files.holiday_calendar_file else None
    return load_policy(files.rights_file, calendar)


def default_policy() -> RightsPolicy:
    """The shipped policy, or the files named by ``CREDIT_RIGHTS_FILE`` / ``CREDIT_HOLIDAY_CALENDAR_FILE``."""
    return _default_policy()


# --- records, effective dates, rescoring --------------------------------------------------------


def latest_record(conn: Connection | Session, record_uid: str) -> dict[str, Any] | None:
    row = conn.execute(
        text(
            "SELECT record_uid, version, subject_id, kind, department, event_date, publicity_end, severity,"
            " recorded_at FROM records WHERE record_uid = :u ORDER BY version DESC LIMIT 1"
        ),
        {"u": record_uid},
    ).first()
    if row is None:
        return None
    out = dict(row._mapping)
    for key in ("event_date", "publicity_end"):
        if isinstance(out[key], str):
            out[key] = dt.date.fromisoformat(out[key])
    return out


def record_events(conn: Connection | Session, record_uid: str) -> list[tuple[str, dt.date]]:
    rows = conn.execute(
        text(
            "SELECT event_type, effective_date FROM record_events WHERE record_uid = :u"
            " ORDER BY effective_date, recorded_at, id"
        ),
        {"u": record_uid},
    ).all()
    return [(str(t), d if isinstance(d, dt.date) else dt.date.fromisoformat(str(d))) for t, d in rows]


def snapshot_as_of(conn: Connection | Session, subject_type: str) -> dt.date | None:
    """The as-of date of the snapshot in force for the subject's group (None: nothing published)."""
    value = conn.execute(
        text(
            "SELECT n.as_of FROM score_publications p JOIN score_snapshots n ON n.id = p.snapshot_id"
            " WHERE p.subject_type = :g"
        ),
        {"g": score_group(subject_type)},
    ).scalar()
    if value is None:
        return None
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value))


def effective_date(
    conn: Connection | Session, subject_id: int, event_date: dt.date, today: dt.date
) -> dt.date:
    """``min(today, max(D, event_date))``, D the as-of date of the snapshot in force (module doc)."""
    kind = conn.execute(text("SELECT subject_type FROM subjects WHERE id = :i"), {"i": subject_id}).scalar()
    as_of = snapshot_as_of(conn, str(kind)) if kind is not None else None
    if as_of is None:
        return today
    return min(today, max(as_of, event_date))


def represented_orgs(conn: Connection | Session, person_id: int, on: dt.date) -> list[int]:
    """Organisations the person represents on ``on``: their features include the person's records."""
    rows = conn.execute(
        text(
            "SELECT DISTINCT org_subject_id FROM subject_links WHERE person_subject_id = :p"
            " AND valid_from <= :d AND (valid_to IS NULL OR valid_to > :d)"
        ),
        {"p": person_id, "d": on},
    ).all()
    return sorted(int(r[0]) for r in rows)


def rescore_after(
    engine: Engine, settings: Any, subject_id: int, *, cause: str, now: dt.datetime
) -> dict[str, Any] | None:
    """Rescore the subject (and the organisations it represents) after a decision; the subject's
    score in force afterwards (None when nothing is published for its group)."""
    with engine.connect() as conn:
        orgs = represented_orgs(conn, subject_id, now.date())
    for sid in (subject_id, *orgs):
        try:
            rescore_subject(engine, settings, sid, cause=cause, known_at=now)
        except PublishError as exc:  # nothing published for this group: the next publication sees it
            logger.info("no rescore of subject %s: %s", sid, exc)
    return current_score(engine, subject_id)


def score_ref(row: dict[str, Any] | None) -> int | None:
    return None if row is None else int(row["id"])


# --- the subject's view --------------------------------------------------------------------------


def _iso(value: Any) -> str | None:
    return None if value is None else value.isoformat()


def objection_view(o: Objection, today: dt.date | None = None) -> dict[str, Any]:
    today = today or utcnow().date()
    open_ = o.status in ("filed", "disputed")
    return {
        "case": "objection",
        "id": o.id,
        "record_uid": o.record_uid,
        "status": o.status,
        "reason": o.reason,
        "filed_at": _iso(o.filed_at),
        "mark_due": _iso(o.mark_due),
        "decide_due": _iso(o.decide_due),
        "overdue": open_ and today > o.decide_due,
        "decided_at": _iso(o.decided_at),
        "action": o.action,
        "decision_reason": o.decision_reason,
        "score_before_id": o.score_before_id,
        "score_after_id": o.score_after_id,
    }


def repair_view(a: RepairApplication, today: dt.date | None = None) -> dict[str, Any]:
    today = today or utcnow().date()
    due = a.accept_due if a.status == "applied" else a.result_due
    return {
        "case": "repair",
        "id": a.id,
        "record_uid": a.record_uid,
        "kind": a.kind,
        "severity": a.severity,
        "status": a.status,
        "applied_at": _iso(a.applied_at),
        "eligible_from": _iso(a.eligible_from),
        "accept_due": _iso(a.accept_due),
        "result_due": _iso(a.result_due),
        "complex": bool(a.complex),
        "overdue": a.status in ("applied", "accepted") and due is not None and today > due,
        "accept_reason": a.accept_reason,
        "decided_at": _iso(a.decided_at),
        "decision_reason": a.decision_reason,
        "score_before_id": a.score_before_id,
        "score_after_id": a.score_after_id,
    }


def review_view(r: ScoreReview, today: dt.date | None = None) -> dict[str, Any]:
    today = today or utcnow().date()
    return {
        "case": "review",
        "id": r.id,
        "score_id": r.score_id,
        "status": r.status,
        "reason": r.reason,
        "requested_at": _iso(r.requested_at),
        "due": _iso(r.due),
        "overdue": r.status == "requested" and today > r.due,
        "decided_at": _iso(r.decided_at),
        "decision_reason": r.decision_reason,
        "score_before": r.score_before,
        "grade_before": r.grade_before,
        "score_after": r.score_after,
        "grade_after": r.grade_after,
        "new_score_id": r.new_score_id,
    }


def subject_cases(session: Session, subject_id: int, *, today: dt.date | None = None) -> list[dict[str, Any]]:
    """The subject's objections, repair applications and score reviews, each with its status and
    deadlines, newest first within each kind."""
    out: list[dict[str, Any]] = []
    cases: Iterable[Any]
    cases = session.execute(
        sa.select(Objection).where(Objection.subject_id == subject_id).order_by(Objection.id.desc())
    ).scalars()
    out += [objection_view(o, today) for o in cases]
    cases = session.execute(
        sa.select(RepairApplication)
        .where(RepairApplication.subject_id == subject_id)
        .order_by(RepairApplication.id.desc())
    ).scalars()
    out += [repair_view(a, today) for a in cases]
    cases = session.execute(
        sa.select(ScoreReview).where(ScoreReview.subject_id == subject_id).order_by(ScoreReview.id.desc())
    ).scalars()
    out += [review_view(r, today) for r in cases]
    return out
