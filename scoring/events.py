"""Status changes of records (append-only ``record_events``): disputes and their outcomes,
repairs, withdrawals and expiries, each with the date it takes effect, who and why.

Objections, repairs and corrections (later issues) add events through :func:`append_event`; the
caller then rescores the subject (``scoring.publish.rescore_subject``) so the change is published.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Connection, Engine, text

from features.pointintime import EVENT_TYPES

__all__ = ["EventError", "append_event", "insert_event"]


class EventError(ValueError):
    """An event that cannot be recorded (unknown record, unknown type)."""


def append_event(
    engine: Engine,
    record_uid: str,
    event_type: str,
    effective_date: dt.date,
    *,
    actor: str,
    reason: str,
    reference: str | None = None,
    now: dt.datetime | None = None,
) -> int:
    """Record a status change of a logical record; returns the record's subject id."""
    with engine.begin() as conn:
        return insert_event(
            conn,
            record_uid,
            event_type,
            effective_date,
            actor=actor,
            reason=reason,
            reference=reference,
            now=now,
        )


def insert_event(
    conn: Connection,
    record_uid: str,
    event_type: str,
    effective_date: dt.date,
    *,
    actor: str,
    reason: str,
    reference: str | None = None,
    now: dt.datetime | None = None,
) -> int:
    """``append_event`` inside the caller's transaction (a case and its event commit together)."""
    if event_type not in EVENT_TYPES:
        raise EventError(f"unknown event type {event_type!r}; expected one of {', '.join(EVENT_TYPES)}")
    if not actor or not reason:
        raise EventError("an event needs who (actor) and why (reason)")
    recorded = now or dt.datetime.now(dt.UTC).replace(tzinfo=None)
    subject = conn.execute(
        text("SELECT subject_id FROM records WHERE record_uid = :u ORDER BY version DESC LIMIT 1"),
        {"u": record_uid},
    ).scalar()
    if subject is None:
        raise EventError(f"no record {record_uid}")
    conn.execute(
        text(
            "INSERT INTO record_events (record_uid, subject_id, event_type, effective_date, recorded_at,"
            " actor, reason, reference) VALUES (:u, :s, :t, :e, :r, :a, :why, :ref)"
        ),
        {
            "u": record_uid,
            "s": subject,
            "t": event_type,
            "e": effective_date,
            "r": recorded,
            "a": actor[:64],
            "why": reason,
            "ref": reference,
        },
    )
    return int(subject)
