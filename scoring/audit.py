"""The audit log: append-only, hash-chained, its head anchored under a key the database lacks.

Every read and change of personal credit data appends an entry (``seq``, time, actor, action,
subject pseudonym, SHA-256 digest of the details, request id, ``prev_hash``, ``hash``) in the
caller's transaction. ``hash = SHA-256`` of the entry's fields and ``prev_hash``, so editing an
entry breaks its own hash, and re-hashing it breaks the next entry's ``prev_hash``. The head
(last ``seq`` and ``hash``) is written in the same transaction to ``audit_anchor`` with an HMAC
under ``CREDIT_AUDIT_ANCHOR_KEY``: whoever can write the database but does not hold that key
cannot append, drop or rewrite entries at the end either. ``verify`` checks all of it.

Details are never stored, only their digest: they can hold personal data.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from scoring.db.tables import AuditAnchor, AuditEntry
from scoring.settings import Settings

__all__ = ["GENESIS", "AuditLog", "Verification", "details_digest", "entry_hash"]

GENESIS = "0" * 64
_ANCHOR_ID = 1
# pg_advisory_xact_lock key of the audit log: one appender at a time ("audit" folded to a bigint).
_LOCK_KEY = 0x6175646974
_MAX_PROBLEMS = 20
_log = AuditEntry.__table__
_anchor = AuditAnchor.__table__


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def details_digest(details: Mapping[str, Any]) -> str:
    text = json.dumps(details, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def entry_hash(
    seq: int,
    recorded_at: dt.datetime,
    actor: str,
    action: str,
    subject_ref: str | None,
    digest: str,
    request_id: str | None,
    prev_hash: str,
) -> str:
    fields = [seq, recorded_at.isoformat(), actor, action, subject_ref, digest, request_id, prev_hash]
    return hashlib.sha256(json.dumps(fields, ensure_ascii=False).encode()).hexdigest()


@dataclass
class Verification:
    entries: int = 0
    head_seq: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


class AuditLog:
    """Appends to and verifies the audit log; holds the anchor key."""

    def __init__(self, anchor_key: bytes) -> None:
        self._key = anchor_key

    @classmethod
    def from_settings(cls, settings: Settings) -> AuditLog:
        return cls(settings.audit_anchor_key.get_secret_value().encode())

    def _mac(self, seq: int, head: str) -> str:
        return hmac.new(self._key, f"audit-head|{seq}|{head}".encode(), hashlib.sha256).hexdigest()

    def append(
        self,
        session: Session,
        *,
        actor: str,
        action: str,
        subject_ref: str | None = None,
        details: Mapping[str, Any] | None = None,
        request_id: str | None = None,
        now: dt.datetime | None = None,
    ) -> AuditEntry:
        """Append one entry and move the anchor, in the session's transaction (the caller commits)."""
        bind = session.get_bind()
        anchor: AuditAnchor | None = None
        if bind.dialect.name == "postgresql":
            # The anchor row is the chain's lock: locking it reads the head as last committed
            # (one round trip). Only the very first entry, with no anchor yet, takes the advisory lock.
            lock_anchor = (
                sa.select(AuditAnchor)
                .where(AuditAnchor.id == _ANCHOR_ID)
                .with_for_update()
                .execution_options(populate_existing=True)
            )
            anchor = session.execute(lock_anchor).scalar_one_or_none()
            if anchor is None:
                session.execute(sa.text("SELECT pg_advisory_xact_lock(:k)"), {"k": _LOCK_KEY})
                anchor = session.execute(lock_anchor).scalar_one_or_none()
        else:  # SQLite: a write first takes the database's write lock before the head is read
            session.execute(sa.update(AuditAnchor).where(AuditAnchor.id == _ANCHOR_ID).values(id=_ANCHOR_ID))
        if anchor is not None:
            seq, prev = int(anchor.seq) + 1, str(anchor.hash)
        else:
            last = session.execute(
                sa.select(AuditEntry.seq, AuditEntry.hash).order_by(AuditEntry.seq.desc()).limit(1)
            ).first()
            seq, prev = (int(last[0]) + 1, str(last[1])) if last is not None else (1, GENESIS)
        when = now or _utcnow()
        digest = details_digest(details or {})
        entry = AuditEntry(
            seq=seq,
            recorded_at=when,
            actor=actor[:128],
            action=action[:64],
            subject_ref=subject_ref,
            details_digest=digest,
            request_id=request_id[:64] if request_id else None,
            prev_hash=prev,
        )
        entry.hash = entry_hash(
            seq, when, entry.actor, entry.action, subject_ref, digest, entry.request_id, prev
        )
        session.add(entry)
        if anchor is None:
            anchor = session.get(AuditAnchor, _ANCHOR_ID)
        if anchor is None:
            anchor = AuditAnchor(id=_ANCHOR_ID)
            session.add(anchor)
        anchor.seq, anchor.hash, anchor.mac, anchor.updated_at = (
            seq,
            entry.hash,
            self._mac(seq, entry.hash),
            when,
        )
        session.flush()
        return entry

    def verify(self, session: Session, *, chunk: int = 10_000) -> Verification:
        """Walk the chain: contiguous ``seq`` from 1, each hash recomputed, each ``prev_hash`` the
        previous hash, and the last entry equal to the signed anchor."""
        result = Verification()

        def problem(text: str) -> None:
            if len(result.problems) < _MAX_PROBLEMS:
                result.problems.append(text)

        expected_seq, prev = 1, GENESIS
        after = 0
        while True:
            rows = session.execute(
                sa.select(_log).where(_log.c.seq > after).order_by(_log.c.seq).limit(chunk)
            ).all()
            if not rows:
                break
            for e in rows:
                if e.seq != expected_seq:
                    problem(f"seq {e.seq}: expected seq {expected_seq} (entries missing or inserted)")
                if e.prev_hash != prev:
                    problem(f"seq {e.seq}: prev_hash does not match the previous entry's hash")
                recomputed = entry_hash(
                    e.seq,
                    e.recorded_at,
                    e.actor,
                    e.action,
                    e.subject_ref,
                    e.details_digest,
                    e.request_id,
                    e.prev_hash,
                )
                if recomputed != e.hash:
                    problem(f"seq {e.seq}: hash does not match the entry's contents (edited)")
                expected_seq, prev, after = e.seq + 1, e.hash, e.seq
                result.entries += 1
                result.head_seq = e.seq
        anchor = session.execute(sa.select(_anchor).where(_anchor.c.id == _ANCHOR_ID)).first()
        if anchor is None:
            if result.entries:
                problem("anchor missing while the log has entries")
            return result
        if not hmac.compare_digest(anchor.mac, self._mac(anchor.seq, anchor.hash)):
            problem("anchor signature invalid (anchor edited, or another key)")
        if anchor.seq != result.head_seq or anchor.hash != prev:
            problem(
                f"anchor names seq {anchor.seq} but the log ends at seq {result.head_seq} "
                "(entries deleted or appended outside the log)"
            )
        return result
