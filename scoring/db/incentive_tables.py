"""Incentives (信易+) and joint reward and punishment (联合奖惩): tables of revision 0008.

* ``benefit_quotas``: one counter row per benefit with a quota; a grant takes a unit with an
  atomic conditional ``UPDATE ... SET used = used + 1 WHERE used < quota`` in its transaction.
* ``citizen_card_tokens``: the SHA-256 of each partner-specific card token and the subject it
  stands for (the token itself is an HMAC of the subject's pseudonym; see ``scoring.benefits``).
* ``benefit_grants``: a benefit granted by a partner to a subject, unique per
  ``(partner, idempotency_key)``; its status (``active``/``suspended``/``ended``) follows the rule,
  the subject's listings and its overdue obligations (``benefit_grant_events`` keep every change).
* ``benefit_obligations``: what a pay-later benefit leaves the subject to pay, with due date,
  grace period and settlement.
* ``listings``: red, black, watch and serious-dishonesty list entries with their workflow
  (``proposed`` → ``verified`` → ``published`` → ``exited``); ``listing_imports`` and
  ``listing_import_rows`` keep national-platform imports and their quarantined rows.
* ``measure_checks`` and ``measure_feedback``: every check on an application (逢办必查) with the
  measures found, and the executing department's feedback on each.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Date, DateTime, Float, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from scoring.db.tables import Base, BigId

__all__ = [
    "BenefitGrant",
    "BenefitGrantEvent",
    "BenefitObligation",
    "BenefitQuota",
    "CardToken",
    "Listing",
    "ListingImport",
    "ListingImportRow",
    "MeasureCheck",
    "MeasureFeedback",
]


class BenefitQuota(Base):
    """How many grants a benefit with a quota has given (never more than ``quota``)."""

    __tablename__ = "benefit_quotas"

    benefit_code: Mapped[str] = mapped_column(String(48), primary_key=True)
    quota: Mapped[int] = mapped_column(Integer)
    used: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime)


class CardToken(Base):
    """A partner-specific citizen-card token (stored as its SHA-256) and its subject."""

    __tablename__ = "citizen_card_tokens"
    __table_args__ = (UniqueConstraint("partner", "subject_id"),)

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    partner: Mapped[str] = mapped_column(String(64))
    subject_id: Mapped[int] = mapped_column(BigId)
    key_version: Mapped[str] = mapped_column(String(8))
    issued_at: Mapped[dt.datetime] = mapped_column(DateTime)


class BenefitGrant(Base):
    """One benefit granted to one subject by one partner."""

    __tablename__ = "benefit_grants"
    __table_args__ = (
        UniqueConstraint("partner", "idempotency_key"),
        Index("ix_benefit_grants_subject", "subject_id", "id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    benefit_code: Mapped[str] = mapped_column(String(48))
    catalogue_version: Mapped[str] = mapped_column(String(32))
    subject_id: Mapped[int] = mapped_column(BigId)
    partner: Mapped[str] = mapped_column(String(64))
    idempotency_key: Mapped[str] = mapped_column(String(128))
    status: Mapped[str] = mapped_column(String(12))  # active | suspended | ended
    status_reason: Mapped[str | None] = mapped_column(String(200))
    amount: Mapped[float | None] = mapped_column(Float)  # pay-later: the amount advanced
    credit_line: Mapped[float | None] = mapped_column(Float)
    granted_at: Mapped[dt.datetime] = mapped_column(DateTime)
    valid_to: Mapped[dt.date] = mapped_column(Date)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime)


class BenefitGrantEvent(Base):
    """A status change of a grant: granted, suspended, reinstated, ended; with why."""

    __tablename__ = "benefit_grant_events"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    grant_id: Mapped[int] = mapped_column(BigId, index=True)
    status: Mapped[str] = mapped_column(String(12))
    reason: Mapped[str] = mapped_column(String(200))
    recorded_at: Mapped[dt.datetime] = mapped_column(DateTime)


class BenefitObligation(Base):
    """What a pay-later grant leaves to pay: due on ``due_on``, overdue after ``grace_days``."""

    __tablename__ = "benefit_obligations"
    __table_args__ = (Index("ix_benefit_obligations_subject", "subject_id", "status"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    grant_id: Mapped[int] = mapped_column(BigId, unique=True)
    subject_id: Mapped[int] = mapped_column(BigId)
    partner: Mapped[str] = mapped_column(String(64))
    amount: Mapped[float] = mapped_column(Float)
    due_on: Mapped[dt.date] = mapped_column(Date)
    grace_days: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(12))  # open | settled
    settled_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    settlement_ref: Mapped[str | None] = mapped_column(String(128))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime)


class Listing(Base):
    """A subject's entry on a red, black, watch or serious-dishonesty list."""

    __tablename__ = "listings"
    __table_args__ = (
        UniqueConstraint("list_type", "department", "doc_no", "subject_id"),
        Index("ix_listings_subject", "subject_id", "status"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    list_type: Mapped[str] = mapped_column(String(24))  # red | black | watch | serious_dishonesty
    subject_id: Mapped[int] = mapped_column(BigId)
    department: Mapped[str] = mapped_column(String(48))  # the determining department
    doc_no: Mapped[str] = mapped_column(String(64))
    area: Mapped[str] = mapped_column(String(80))  # the field, e.g. 失信被执行人, 纳税信用A级
    legal_basis: Mapped[str] = mapped_column(Text)
    decided_on: Mapped[dt.date] = mapped_column(Date)
    valid_to: Mapped[dt.date] = mapped_column(Date)
    source: Mapped[str] = mapped_column(String(16))  # local | national
    status: Mapped[str] = mapped_column(String(12))  # proposed | verified | published | exited
    proposed_by: Mapped[str] = mapped_column(String(128))
    proposed_at: Mapped[dt.datetime] = mapped_column(DateTime)
    verified_by: Mapped[str | None] = mapped_column(String(128))
    verified_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    published_by: Mapped[str | None] = mapped_column(String(128))
    published_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    exited_by: Mapped[str | None] = mapped_column(String(128))
    exited_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    exit_commitment: Mapped[str | None] = mapped_column(String(64))  # the credit commitment's number
    exit_reason: Mapped[str | None] = mapped_column(Text)
    record_uid: Mapped[str | None] = mapped_column(String(32))  # the records-store record, if any
    import_id: Mapped[int | None] = mapped_column(BigId)


class ListingImport(Base):
    """One file of lists from the national platform (idempotent by content hash)."""

    __tablename__ = "listing_imports"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    source_name: Mapped[str] = mapped_column(String(300))
    file_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    rows_read: Mapped[int] = mapped_column(Integer)
    accepted: Mapped[int] = mapped_column(Integer)
    duplicate: Mapped[int] = mapped_column(Integer)
    quarantined: Mapped[int] = mapped_column(Integer)
    imported_by: Mapped[str] = mapped_column(String(128))
    imported_at: Mapped[dt.datetime] = mapped_column(DateTime)


class ListingImportRow(Base):
    """A row of a national import that was not accepted, with why (identity numbers masked)."""

    __tablename__ = "listing_import_rows"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    import_id: Mapped[int] = mapped_column(BigId, index=True)
    line_no: Mapped[int] = mapped_column(Integer)
    reason_code: Mapped[str] = mapped_column(String(40))
    message: Mapped[str] = mapped_column(Text)


class MeasureCheck(Base):
    """One check on an application (逢办必查): who asked, for which scenario, what was found."""

    __tablename__ = "measure_checks"
    __table_args__ = (Index("ix_measure_checks_subject", "subject_id", "id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    subject_id: Mapped[int] = mapped_column(BigId)
    scenario: Mapped[str] = mapped_column(String(48))
    department: Mapped[str] = mapped_column(String(48))  # the executing department
    actor: Mapped[str] = mapped_column(String(128))
    catalogue_version: Mapped[str] = mapped_column(String(32))
    measures: Mapped[str] = mapped_column(Text)  # JSON: [{code, type, basis, listings}]
    checked_at: Mapped[dt.datetime] = mapped_column(DateTime)
    request_id: Mapped[str | None] = mapped_column(String(64))


class MeasureFeedback(Base):
    """The executing department's feedback on one measure of a check."""

    __tablename__ = "measure_feedback"
    __table_args__ = (UniqueConstraint("check_id", "measure_code"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    check_id: Mapped[int] = mapped_column(BigId)
    measure_code: Mapped[str] = mapped_column(String(48))
    outcome: Mapped[str] = mapped_column(String(16))  # applied | not_applied | exempted
    note: Mapped[str | None] = mapped_column(Text)
    department: Mapped[str] = mapped_column(String(48))
    actor: Mapped[str] = mapped_column(String(128))
    recorded_at: Mapped[dt.datetime] = mapped_column(DateTime)
    exported_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
