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
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy import Connection
from sqlalchemy.orm import Session

from scoring.db.tables import AuditAnchor, AuditEntry
from scoring.settings import Settings

__all__ = ["GENESIS", "AuditLog", "PendingEntry", "Verification", "details_digest", "entry_hash"]

GENESIS = "0" * 64
_ANCHOR_ID = 1
# pg_advisory_xact_lock key of the audit log: one appender at a time ("audit" folded to a bigint).
_LOCK_KEY = 0x6175646974
_MAX_PROBLEMS = 20
_log = cast(sa.Table, AuditEntry.__table__)
_anchor = cast(sa.Table, AuditAnchor.__table__)


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


@dataclass(frozen=True)
class PendingEntry:
    """An entry to append: what happened, to whom, when (``AuditLog.append_many``)."""

    actor: str
    action: str
    subject_ref: str | None
    details: Mapping[str, Any]
    request_id: str | None
    when: dt.datetime


_COLUMNS = (
    "seq", "recorded_at", "actor", "action", "subject_ref", "details_digest", "request_id", "prev_hash",
    "hash",
)  # fmt: skip
# The entries (one array per column: the statement is the same for any number of entries) and
# the new head, in one statement.
_PG_ENTRIES = (
    "WITH e AS (INSERT INTO audit_log (" + ", ".join(_COLUMNS) + ") SELECT * FROM unnest("
    "CAST(:seq AS bigint[]), CAST(:recorded_at AS timestamp[]), CAST(:actor AS varchar[]),"
    " CAST(:action AS varchar[]), CAST(:subject_ref AS varchar[]), CAST(:details_digest AS varchar[]),"
    " CAST(:request_id AS varchar[]), CAST(:prev_hash AS varchar[]), CAST(:hash AS varchar[])))"
)
_PG_APPEND_UPDATE = sa.text(
    _PG_ENTRIES
    + f" UPDATE audit_anchor SET seq = :seq_head, hash = :hash_head, mac = :mac, updated_at = :updated_at"
    f" WHERE id = {_ANCHOR_ID}"
)
_PG_APPEND_INSERT = sa.text(
    _PG_ENTRIES + " INSERT INTO audit_anchor (id, seq, hash, mac, updated_at)"
    f" VALUES ({_ANCHOR_ID}, :seq_head, :hash_head, :mac, :updated_at)"
)
_PG_LOCK_HEAD = sa.text(f"SELECT seq, hash FROM audit_anchor WHERE id = {_ANCHOR_ID} FOR UPDATE")


def _lock_head(conn: Connection) -> tuple[int, str, bool]:
    """The chain's head (last seq and hash) locked until the transaction ends, and whether the
    anchor row exists."""
    if conn.dialect.name == "postgresql":
        # The anchor row is the chain's lock: locking it reads the head as last committed (one
        # round trip). Only the very first entry, with no anchor yet, takes the advisory lock.
        row = conn.execute(_PG_LOCK_HEAD).first()
        if row is None:
            conn.execute(sa.text("SELECT pg_advisory_xact_lock(:k)"), {"k": _LOCK_KEY})
            row = conn.execute(_PG_LOCK_HEAD).first()
    else:  # SQLite: a write first takes the database's write lock before the head is read
        conn.execute(sa.update(_anchor).where(_anchor.c.id == _ANCHOR_ID).values(id=_ANCHOR_ID))
        row = conn.execute(sa.select(_anchor.c.seq, _anchor.c.hash).where(_anchor.c.id == _ANCHOR_ID)).first()
    if row is not None:
        return int(row[0]), str(row[1]), True
    last = conn.execute(sa.select(_log.c.seq, _log.c.hash).order_by(_log.c.seq.desc()).limit(1)).first()
    return (int(last[0]), str(last[1]), False) if last is not None else (0, GENESIS, False)


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
    ) -> int:
        """Append one entry and move the anchor, in the session's transaction (the caller
        commits). Returns the entry's ``seq``."""
        entry = PendingEntry(actor, action, subject_ref, details or {}, request_id, now or _utcnow())
        session.flush()  # what the caller added is written first, with its ids, as before
        return self.append_many(session.connection(), [entry])[0]

    def append_many(self, conn: Connection, entries: Sequence[PendingEntry]) -> list[int]:
        """Append ``entries`` in order and move the anchor, in ``conn``'s transaction (the caller
        commits); their ``seq`` numbers. PostgreSQL: one locking read of the head (the anchor
        row is the chain's lock, held to the commit) and one statement writing the entries and
        the anchor."""
        if not entries:
            return []
        seq, prev, anchored = _lock_head(conn)
        rows: list[dict[str, Any]] = []
        for e in entries:
            seq += 1
            actor, action = e.actor[:128], e.action[:64]
            rid = e.request_id[:64] if e.request_id else None
            digest = details_digest(e.details)
            h = entry_hash(seq, e.when, actor, action, e.subject_ref, digest, rid, prev)
            rows.append(
                {
                    "seq": seq,
                    "recorded_at": e.when,
                    "actor": actor,
                    "action": action,
                    "subject_ref": e.subject_ref,
                    "details_digest": digest,
                    "request_id": rid,
                    "prev_hash": prev,
                    "hash": h,
                }
            )
            prev = h
        head = {"seq": seq, "hash": prev, "mac": self._mac(seq, prev), "updated_at": entries[-1].when}
        if conn.dialect.name == "postgresql":
            params: dict[str, Any] = {k: [r[k] for r in rows] for k in _COLUMNS}
            params.update(seq_head=seq, hash_head=prev, mac=head["mac"], updated_at=head["updated_at"])
            conn.execute(_PG_APPEND_UPDATE if anchored else _PG_APPEND_INSERT, params)
        else:
            conn.execute(sa.insert(_log), rows)
            if anchored:
                conn.execute(sa.update(_anchor).where(_anchor.c.id == _ANCHOR_ID).values(**head))
            else:
                conn.execute(sa.insert(_anchor).values(id=_ANCHOR_ID, **head))
        return [int(r["seq"]) for r in rows]

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
