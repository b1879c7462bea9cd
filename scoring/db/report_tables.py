"""Credit reports issued (their numbers and integrity codes) and credit commitments (revision 0010).

A report's content is never stored: only the SHA-256 of its canonical JSON and the integrity
code (an HMAC of number and digest under ``CREDIT_REPORT_KEY``), enough to tell a printout
from a forgery (``scoring.reports.verify_report``). Commitments are the subjects' signed
credit commitments with their fulfilment decision (``scoring.commitments``).
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Date, DateTime, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from scoring.db.tables import Base, BigId

__all__ = ["CreditCommitment", "CreditReport"]


class CreditReport(Base):
    """One credit report issued: to whom, for whom, which part, and what proves it."""

    __tablename__ = "credit_reports"
    __table_args__ = (Index("ix_credit_reports_subject", "subject_id", "issued_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    number: Mapped[str] = mapped_column(String(32), unique=True)
    subject_id: Mapped[int] = mapped_column(BigId)
    audience: Mapped[str] = mapped_column(String(16))  # self | authorised | public | full
    content_digest: Mapped[str] = mapped_column(String(64))
    code: Mapped[str] = mapped_column(String(32))
    issued_at: Mapped[dt.datetime] = mapped_column(DateTime)
    issued_to: Mapped[str] = mapped_column(String(96))
    purpose: Mapped[str] = mapped_column(String(48))


class CreditCommitment(Base):
    """A credit commitment signed by a subject for an item, and its fulfilment."""

    __tablename__ = "credit_commitments"
    __table_args__ = (Index("ix_credit_commitments_subject", "subject_id", "signed_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    commitment_no: Mapped[str] = mapped_column(String(40), unique=True)
    subject_id: Mapped[int] = mapped_column(BigId)
    item: Mapped[str] = mapped_column(String(48))
    template_version: Mapped[str] = mapped_column(String(16))
    department: Mapped[str] = mapped_column(String(48), index=True)
    text: Mapped[str] = mapped_column(Text)
    signed_at: Mapped[dt.datetime] = mapped_column(DateTime)
    signed_by: Mapped[str] = mapped_column(String(96))
    due_date: Mapped[dt.date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(12))  # signed | fulfilled | broken
    decided_on: Mapped[dt.date | None] = mapped_column(Date)
    decided_by: Mapped[str | None] = mapped_column(String(96))
    decision_note: Mapped[str | None] = mapped_column(Text)
    record_uid: Mapped[str | None] = mapped_column(String(32))  # the credit_commitment record, if broken
