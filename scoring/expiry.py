"""The daily expiry job (``credit expire``): records past their publicity period stop being used.

A record whose latest version's ``publicity_end`` is on or before today and that has no
``withdrawn``, ``repaired`` or ``expired`` event gets an ``expired`` event (actor ``system:expiry``).
Its effective date follows ``scoring.rights.effective_date``: the publicity end, or the as-of
date of the snapshot in force when that is earlier — so the score in force stops using the record
at once. Subjects with a score in force that still used such a record (its publicity end after
the snapshot's as-of date) are rescored. Running the job twice appends nothing the second time.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

from scoring.audit import AuditLog
from scoring.publish import score_group
from scoring.rights import rescore_after, snapshot_as_of, utcnow

__all__ = ["ExpiryRun", "expire_records"]

_CANDIDATES = text(
    "SELECT r.record_uid, r.subject_id, r.event_date, r.publicity_end, s.subject_type"
    " FROM records r JOIN subjects s ON s.id = r.subject_id"
    " WHERE r.publicity_end <= :today"
    " AND r.version = (SELECT MAX(v.version) FROM records v WHERE v.record_uid = r.record_uid)"
    " AND NOT EXISTS (SELECT 1 FROM record_events e WHERE e.record_uid = r.record_uid"
    " AND e.event_type IN ('withdrawn', 'repaired', 'expired'))"
    " ORDER BY r.subject_id, r.record_uid"
)
_INSERT = text(
    "INSERT INTO record_events (record_uid, subject_id, event_type, effective_date, recorded_at, actor,"
    " reason, reference) VALUES (:u, :s, 'expired', :e, :r, 'system:expiry', :why, NULL)"
)


@dataclass
class ExpiryRun:
    expired: int = 0
    subjects: int = 0
    rescored: list[int] = field(default_factory=list)


def _day(value: Any) -> dt.date:
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value))


def expire_records(
    engine: Engine,
    settings: Any,
    *,
    today: dt.date | None = None,
    now: dt.datetime | None = None,
    rescore: bool = True,
    chunk: int = 10_000,
    audit: AuditLog | None = None,
) -> ExpiryRun:
    """Append ``expired`` events for records past their publicity end; rescore those affected."""
    when = now or utcnow()
    day = today or when.date()
    run = ExpiryRun()
    touched: set[int] = set()
    with engine.begin() as conn:
        as_of = {g: snapshot_as_of(conn, g) for g in ("person", "enterprise")}
        rows = conn.execute(_CANDIDATES, {"today": day}).all()
        batch: list[dict[str, Any]] = []
        subjects: set[int] = set()
        for uid, sid, event_date, end, subject_type in rows:
            end_day = _day(end)
            snap = as_of[score_group(str(subject_type))]
            effective = end_day if snap is None else min(end_day, max(snap, _day(event_date)))
            batch.append(
                {"u": uid, "s": sid, "e": effective, "r": when, "why": f"publicity period ended {end_day}"}
            )
            subjects.add(int(sid))
            if snap is not None and end_day > snap:
                touched.add(int(sid))  # the score in force still used it
            if len(batch) >= chunk:
                conn.execute(_INSERT, batch)
                batch = []
        if batch:
            conn.execute(_INSERT, batch)
        run.expired = len(rows)
        run.subjects = len(subjects)
    if rescore:
        for sid in sorted(touched):
            rescore_after(engine, settings, sid, cause="records expired", now=when)
            run.rescored.append(sid)
    if audit is not None:
        with Session(engine) as session, session.begin():
            audit.append(
                session,
                actor="system:expiry",
                action="records.expire",
                details={"today": day.isoformat(), "expired": run.expired, "rescored": run.rescored},
                now=when,
            )
    return run
