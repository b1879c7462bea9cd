"""A subject's credit file as the service shows it: the subject and the latest version of each
of its records with its latest status.

Identity numbers are masked (``3201**********123X``) unless ``reveal_identity`` (the citizen's
own file), and always in record details, which can name other people. Reading a file is a read
of credit data: callers register it with ``scoring.register.record_read``.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from features.catalogue import load_catalogue
from features.fieldtypes import mask_id_numbers
from scoring.db.tables import Record, RecordEvent, Subject
from scoring.identity import IdentityVault

__all__ = ["credit_file", "identity_number", "organisation", "person", "subject_view"]


def person(session: Session, subject_key: str) -> Subject | None:
    """The person whose pseudonym (``subject_key``) this is."""
    stmt = sa.select(Subject).where(Subject.subject_key == subject_key, Subject.subject_type == "person")
    return session.execute(stmt).scalar_one_or_none()


def organisation(session: Session, code: str) -> Subject | None:
    """The organisation with this unified social credit code (public, its ``subject_key``)."""
    stmt = sa.select(Subject).where(
        Subject.subject_key == code.strip().upper(), Subject.subject_type != "person"
    )
    return session.execute(stmt).scalar_one_or_none()


def identity_number(subject: Subject, vault: IdentityVault, *, reveal: bool) -> str | None:
    """A person's identity number: in clear only with ``reveal``; organisations' codes are public."""
    if subject.subject_type != "person":
        return subject.subject_key
    if subject.id_cipher is None:
        return None
    return vault.decrypt(subject.id_cipher) if reveal else vault.masked(subject.id_cipher)


def subject_view(subject: Subject, vault: IdentityVault, *, reveal_identity: bool) -> dict[str, Any]:
    view: dict[str, Any] = {
        "subject_key": subject.subject_key,
        "subject_type": subject.subject_type,
        "identity_number": identity_number(subject, vault, reveal=reveal_identity),
        "district_code": subject.district_code,
    }
    if subject.subject_type == "person":
        view["birth_year"] = subject.birth_year
    else:
        view.update(
            name=subject.name,
            sector=subject.sector,
            size=subject.size,
            registered_on=subject.registered_on.isoformat() if subject.registered_on else None,
        )
    return view


def _kind_name(kinds: Any, code: str) -> dict[str, str]:
    """The record kind's name in both languages (the code itself for a kind the catalogue lost)."""
    kind = kinds.get(code)
    return {"zh": kind.zh, "en": kind.en} if kind is not None else {"zh": code, "en": code}


def credit_file(
    session: Session,
    subject: Subject,
    vault: IdentityVault,
    *,
    reveal_identity: bool = False,
    today: dt.date | None = None,
) -> dict[str, Any]:
    today = today or dt.datetime.now(dt.UTC).date()
    rows = session.execute(
        sa.select(Record).where(Record.subject_id == subject.id).order_by(Record.record_uid, Record.version)
    ).scalars()
    latest: dict[str, Record] = {}
    for r in rows:
        latest[r.record_uid] = r  # ordered by version: the last one wins
    status: dict[str, str] = {}
    events = session.execute(
        sa.select(RecordEvent.record_uid, RecordEvent.event_type)
        .where(RecordEvent.subject_id == subject.id, RecordEvent.effective_date <= today)
        .order_by(RecordEvent.effective_date, RecordEvent.recorded_at, RecordEvent.id)
    )
    for uid, event_type in events:
        status[uid] = event_type
    catalogue = load_catalogue()
    kinds, departments = catalogue.kinds, catalogue.departments
    records = [
        {
            "record_uid": r.record_uid,
            "version": r.version,
            "kind": r.kind,
            "kind_name": _kind_name(kinds, r.kind),
            "polarity": kinds[r.kind].polarity if r.kind in kinds else None,
            "department": r.department,
            "department_name": dict(
                departments.get(r.department) or {"zh": r.department, "en": r.department}
            ),
            "event_date": r.event_date.isoformat(),
            "publicity_end": r.publicity_end.isoformat(),
            "in_publicity": r.event_date <= today < r.publicity_end,
            "severity": r.severity,
            "status": status.get(r.record_uid, "recorded"),
            "amount": r.amount,
            "quantity": r.quantity,
            "outcome": r.outcome,
            "details": json.loads(mask_id_numbers(r.payload)),
        }
        for r in sorted(latest.values(), key=lambda r: (r.event_date, r.record_uid), reverse=True)
    ]
    return {"subject": subject_view(subject, vault, reveal_identity=reveal_identity), "records": records}
