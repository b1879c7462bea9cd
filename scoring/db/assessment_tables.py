"""Credit-loan assessments answered to banks (信易贷), kept for the bank's retries and for review.

One row per assessment. ``(bank, idempotency_key)`` is unique: a retry with the same key and
the same request (``request_hash``, an HMAC of the canonical request under the identity pepper,
so the identity number it names cannot be recovered from it) is answered with the stored
``response``; the same key with another request is refused. Rows are never updated.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import DateTime, Float, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from scoring.db.tables import Base, BigId

__all__ = ["BankAssessment"]


class BankAssessment(Base):
    __tablename__ = "bank_assessments"
    __table_args__ = (
        UniqueConstraint("bank", "idempotency_key", name="uq_bank_assessments_bank_key"),
        Index("ix_bank_assessments_subject", "subject_id", "id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    bank: Mapped[str] = mapped_column(String(64))
    idempotency_key: Mapped[str | None] = mapped_column(String(128))
    request_hash: Mapped[str] = mapped_column(String(64))
    subject_id: Mapped[int] = mapped_column(BigId)
    purpose: Mapped[str] = mapped_column(String(32))
    amount: Mapped[float] = mapped_column(Float)
    consent_id: Mapped[int] = mapped_column(BigId)
    score_id: Mapped[int | None] = mapped_column(BigId)
    model_version: Mapped[str | None] = mapped_column(String(16))
    suggested_limit: Mapped[float | None] = mapped_column(Float)
    response: Mapped[str] = mapped_column(Text)  # the JSON answered (no identity number in clear)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime)
    request_id: Mapped[str | None] = mapped_column(String(64))
