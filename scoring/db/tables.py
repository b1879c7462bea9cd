"""Database tables (SQLAlchemy 2 typed mapping). Same schema on SQLite and PostgreSQL.

Records are append-only: a correction is a new version of the same logical record
(``record_uid``), and every status change is a ``record_events`` row with the date it takes
effect and the time it was recorded. Timestamps are naive UTC.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    BigInteger,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

__all__ = [
    "ApiKey",
    "AuditAnchor",
    "AuditEntry",
    "Base",
    "Consent",
    "IngestBatch",
    "ModelPromotion",
    "QuarantinedRow",
    "QueryRegisterEntry",
    "Record",
    "RecordEvent",
    "Subject",
    "SubjectLink",
]

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# BIGINT primary keys on PostgreSQL, INTEGER (rowid alias) on SQLite.
BigId = BigInteger().with_variant(Integer(), "sqlite")


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class Subject(Base):
    """A person or organisation. Persons are keyed by the HMAC of their identity number."""

    __tablename__ = "subjects"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    subject_type: Mapped[str] = mapped_column(String(24))
    subject_key: Mapped[str] = mapped_column(String(64), unique=True)
    id_cipher: Mapped[str | None] = mapped_column(Text)
    key_version: Mapped[str | None] = mapped_column(String(8))
    # Kept for fairness audit only, never model inputs.
    birth_year: Mapped[int | None] = mapped_column(SmallInteger)
    gender: Mapped[str | None] = mapped_column(String(1))
    district_code: Mapped[str | None] = mapped_column(String(6))
    # Organisations (public information).
    name: Mapped[str | None] = mapped_column(String(200))
    sector: Mapped[str | None] = mapped_column(String(40))
    size: Mapped[str | None] = mapped_column(String(16))
    registered_on: Mapped[dt.date | None] = mapped_column(Date)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime)


class SubjectLink(Base):
    """An organisation's link to a person, e.g. its legal representative."""

    __tablename__ = "subject_links"
    __table_args__ = (UniqueConstraint("org_subject_id", "person_subject_id", "role", "valid_from"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    org_subject_id: Mapped[int] = mapped_column(ForeignKey("subjects.id"), index=True)
    person_subject_id: Mapped[int] = mapped_column(ForeignKey("subjects.id"), index=True)
    role: Mapped[str] = mapped_column(String(32))
    valid_from: Mapped[dt.date] = mapped_column(Date)
    valid_to: Mapped[dt.date | None] = mapped_column(Date)
    recorded_at: Mapped[dt.datetime] = mapped_column(DateTime)


class IngestBatch(Base):
    """One ingested file. Its counts reconcile: read = accepted + duplicate + correction + quarantined."""

    __tablename__ = "ingest_batches"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    source_name: Mapped[str] = mapped_column(String(300))
    file_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    file_format: Mapped[str] = mapped_column(String(16))
    encoding: Mapped[str | None] = mapped_column(String(16))
    channel: Mapped[str] = mapped_column(String(16), default="file")
    department: Mapped[str | None] = mapped_column(String(48))
    rows_read: Mapped[int] = mapped_column(Integer)
    accepted: Mapped[int] = mapped_column(Integer)
    duplicate: Mapped[int] = mapped_column(Integer)
    correction: Mapped[int] = mapped_column(Integer)
    quarantined: Mapped[int] = mapped_column(Integer)
    started_at: Mapped[dt.datetime] = mapped_column(DateTime)
    finished_at: Mapped[dt.datetime] = mapped_column(DateTime)


class QuarantinedRow(Base):
    """A row that was not accepted, with a machine-readable reason and the row itself (encrypted)."""

    __tablename__ = "quarantined_rows"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("ingest_batches.id"), index=True)
    line_no: Mapped[int] = mapped_column(Integer)
    reason_code: Mapped[str] = mapped_column(String(40))
    message: Mapped[str] = mapped_column(Text)
    kind: Mapped[str | None] = mapped_column(String(48))
    department: Mapped[str | None] = mapped_column(String(48))
    raw_cipher: Mapped[str] = mapped_column(Text)


class Record(Base):
    """One version of a record. Never updated: a correction appends version n+1."""

    __tablename__ = "records"
    __table_args__ = (
        UniqueConstraint("record_uid", "version"),
        Index("ix_records_subject_kind", "subject_id", "kind"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    # (record_uid, version) is unique and indexed; no separate index on record_uid is needed.
    record_uid: Mapped[str] = mapped_column(String(32))
    version: Mapped[int] = mapped_column(SmallInteger)
    # No foreign keys on records (migration 0004): PostgreSQL checked them row by row during COPY.
    # Ingestion writes only subject ids it looked up or created, and its own batch id, in the
    # batch's transaction (tests/scoring/test_ingest.py checks every record has its subject).
    subject_id: Mapped[int] = mapped_column(BigId)
    kind: Mapped[str] = mapped_column(String(48))
    department: Mapped[str] = mapped_column(String(48))
    event_date: Mapped[dt.date] = mapped_column(Date)
    publicity_end: Mapped[dt.date] = mapped_column(Date)
    severity: Mapped[str] = mapped_column(String(8))
    recorded_at: Mapped[dt.datetime] = mapped_column(DateTime)
    batch_id: Mapped[int | None] = mapped_column(BigId, index=True)
    content_hash: Mapped[str] = mapped_column(String(32))
    amount: Mapped[float | None] = mapped_column(Float)
    quantity: Mapped[float | None] = mapped_column(Float)
    outcome: Mapped[str | None] = mapped_column(String(80))
    payload: Mapped[str] = mapped_column(Text)


class RecordEvent(Base):
    """A status change of a logical record: disputed, dispute_upheld, dispute_rejected, repaired,
    withdrawn, expired. ``effective_date`` is valid time, ``recorded_at`` transaction time."""

    __tablename__ = "record_events"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    record_uid: Mapped[str] = mapped_column(String(32), index=True)
    subject_id: Mapped[int] = mapped_column(ForeignKey("subjects.id"), index=True)
    event_type: Mapped[str] = mapped_column(String(24))
    effective_date: Mapped[dt.date] = mapped_column(Date)
    recorded_at: Mapped[dt.datetime] = mapped_column(DateTime)
    actor: Mapped[str] = mapped_column(String(64))
    reason: Mapped[str] = mapped_column(Text)
    reference: Mapped[str | None] = mapped_column(String(64))


class ModelPromotion(Base):
    """A decision about a registered model version: initial champion, promotion or refusal."""

    __tablename__ = "model_promotions"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    registered_model: Mapped[str] = mapped_column(String(64), index=True)
    subject: Mapped[str] = mapped_column(String(16))
    candidate_version: Mapped[str] = mapped_column(String(16))
    previous_champion: Mapped[str | None] = mapped_column(String(16))
    outcome: Mapped[str] = mapped_column(String(16))  # initial | promoted | refused
    actor: Mapped[str] = mapped_column(String(64))
    reason: Mapped[str] = mapped_column(Text)
    evidence: Mapped[str] = mapped_column(Text)  # JSON: metrics compared, gate results
    decided_at: Mapped[dt.datetime] = mapped_column(DateTime)


# --- HTTP service: credentials, consents, query register, audit log (revision 0006) ---


class ApiKey(Base):
    """An API key of a bank, partner or department. Only the SHA-256 of the key is stored; the
    ``key_id`` (the public part of the key) finds the row."""

    __tablename__ = "api_keys"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    key_id: Mapped[str] = mapped_column(String(16), unique=True)
    key_hash: Mapped[str] = mapped_column(String(64))
    role: Mapped[str] = mapped_column(String(16))  # bank | partner | department
    name: Mapped[str] = mapped_column(String(64), index=True)  # the client's code, e.g. a bank's
    department: Mapped[str | None] = mapped_column(String(48))  # departments: catalogue code
    created_at: Mapped[dt.datetime] = mapped_column(DateTime)
    created_by: Mapped[str] = mapped_column(String(96))
    revoked_at: Mapped[dt.datetime | None] = mapped_column(DateTime)


class Consent(Base):
    """A subject's consent that a bank may read its credit for a purpose during [valid_from, valid_to)."""

    __tablename__ = "consents"
    __table_args__ = (Index("ix_consents_subject_bank_purpose", "subject_id", "bank", "purpose"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    subject_id: Mapped[int] = mapped_column(ForeignKey("subjects.id"))
    bank: Mapped[str] = mapped_column(String(64))
    purpose: Mapped[str] = mapped_column(String(32))
    valid_from: Mapped[dt.datetime] = mapped_column(DateTime)
    valid_to: Mapped[dt.datetime] = mapped_column(DateTime)
    granted_at: Mapped[dt.datetime] = mapped_column(DateTime)
    granted_by: Mapped[str] = mapped_column(String(96))
    revoked_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    revoked_by: Mapped[str | None] = mapped_column(String(96))


class QueryRegisterEntry(Base):
    """One read of a subject's credit data: who (role and id), why (purpose), where, when."""

    __tablename__ = "query_register"
    __table_args__ = (Index("ix_query_register_subject_time", "subject_id", "accessed_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    subject_id: Mapped[int] = mapped_column(ForeignKey("subjects.id"))
    accessor_role: Mapped[str] = mapped_column(String(16))
    accessor_id: Mapped[str] = mapped_column(String(96))
    purpose: Mapped[str] = mapped_column(String(48))
    route: Mapped[str] = mapped_column(String(200))
    accessed_at: Mapped[dt.datetime] = mapped_column(DateTime)
    request_id: Mapped[str | None] = mapped_column(String(64))


class AuditEntry(Base):
    """The append-only audit log: each entry's ``hash`` covers its fields and ``prev_hash``."""

    __tablename__ = "audit_log"

    seq: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=False)
    recorded_at: Mapped[dt.datetime] = mapped_column(DateTime)
    actor: Mapped[str] = mapped_column(String(128))
    action: Mapped[str] = mapped_column(String(64))
    subject_ref: Mapped[str | None] = mapped_column(String(64))  # a pseudonym, never a number
    details_digest: Mapped[str] = mapped_column(String(64))
    request_id: Mapped[str | None] = mapped_column(String(64))
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class AuditAnchor(Base):
    """The audit log's head (last seq and hash) with an HMAC under a key the database does not hold."""

    __tablename__ = "audit_anchor"

    id: Mapped[int] = mapped_column(SmallInteger, primary_key=True, autoincrement=False)
    seq: Mapped[int] = mapped_column(BigInteger)
    hash: Mapped[str] = mapped_column(String(64))
    mac: Mapped[str] = mapped_column(String(64))
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime)
