"""The query register: who read a subject's credit data, when, why, through which route.

``record_read`` is the one call every read of a person's (or organisation's) credit data makes,
whoever reads it: it writes the register row and the audit entry in the caller's transaction, so
the read is on record exactly when the caller commits what it read. The subject sees its
register (``list_reads``): ``GET /v1/me/queries``.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy import Connection
from sqlalchemy.orm import Session

from scoring.audit import AuditLog, PendingEntry
from scoring.auth import Principal
from scoring.db.tables import QueryRegisterEntry, Subject

__all__ = ["list_reads", "read_entry", "record_read", "record_read_core", "register_values"]


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def record_read(
    session: Session,
    audit: AuditLog,
    *,
    who: Principal,
    subject: Subject,
    purpose: str,
    route: str,
    request_id: str | None = None,
    now: dt.datetime | None = None,
) -> QueryRegisterEntry:
    """Register one read of ``subject``'s credit data by ``who`` and audit it (caller commits)."""
    when = now or _utcnow()
    row = QueryRegisterEntry(
        subject_id=subject.id,
        accessor_role=who.role,
        accessor_id=who.id[:96],
        purpose=purpose[:48],
        route=route[:200],
        accessed_at=when,
        request_id=request_id[:64] if request_id else None,
    )
    session.add(row)
    session.flush()
    audit.append(
        session,
        actor=who.actor,
        action="credit.read",
        subject_ref=subject.subject_key,
        details={"purpose": purpose, "route": route, "register_id": row.id},
        request_id=request_id,
        now=when,
    )
    return row


def register_values(
    *, who: Principal, subject_id: int, purpose: str, route: str, request_id: str | None, when: dt.datetime
) -> dict[str, Any]:
    """The register row of one read (as :func:`record_read` writes it)."""
    return {
        "subject_id": subject_id,
        "accessor_role": who.role,
        "accessor_id": who.id[:96],
        "purpose": purpose[:48],
        "route": route[:200],
        "accessed_at": when,
        "request_id": request_id[:64] if request_id else None,
    }


def read_entry(
    *,
    who: Principal,
    subject_key: str,
    purpose: str,
    route: str,
    request_id: str | None,
    register_id: int,
    when: dt.datetime,
) -> PendingEntry:
    """The audit entry of one registered read (as :func:`record_read` appends it)."""
    details = {"purpose": purpose, "route": route, "register_id": register_id}
    return PendingEntry(who.actor, "credit.read", subject_key, details, request_id, when)


def record_read_core(
    conn: Connection,
    *,
    who: Principal,
    subject_id: int,
    subject_key: str,
    purpose: str,
    route: str,
    request_id: str | None = None,
    now: dt.datetime | None = None,
) -> tuple[int, PendingEntry]:
    """:func:`record_read` on a connection: the register row inserted, its audit entry returned
    for the caller to append (``AuditLog.append_many``, e.g. through ``scoring.group_commit``)."""
    when = now or _utcnow()
    values = register_values(
        who=who, subject_id=subject_id, purpose=purpose, route=route, request_id=request_id, when=when
    )
    register_id = int(conn.execute(_INSERT, values).scalar_one())
    entry = read_entry(
        who=who,
        subject_key=subject_key,
        purpose=purpose,
        route=route,
        request_id=request_id,
        register_id=register_id,
        when=when,
    )
    return register_id, entry


_register = cast(sa.Table, QueryRegisterEntry.__table__)
_INSERT = sa.insert(_register).returning(_register.c.id)  # one statement, compiled once


def list_reads(
    session: Session, subject_id: int, *, limit: int = 100, before_id: int | None = None
) -> list[QueryRegisterEntry]:
    """The subject's register, newest first; page with ``before_id`` (the last id seen)."""
    stmt = sa.select(QueryRegisterEntry).where(QueryRegisterEntry.subject_id == subject_id)
    if before_id is not None:
        stmt = stmt.where(QueryRegisterEntry.id < before_id)
    stmt = stmt.order_by(QueryRegisterEntry.id.desc()).limit(limit)
    return list(session.execute(stmt).scalars())
