"""Consents: a subject lets a bank read its credit for one purpose during a period.

A person grants consent as a citizen; an organisation through its representative. A consent
is never deleted: revoking stamps ``revoked_at``. Every grant and revocation is audited by the
caller (``scoring.audit``) in the same transaction.

``check_consent(session, bank_id, subject_id, purpose, at)`` is what a bank's read asks: a
consent to that bank, for that purpose, with ``valid_from <= at < valid_to``, granted by then
and not revoked by then.

* ``ConsentError`` (a ``ValueError``): a grant that cannot be made (unknown bank or purpose, an
  empty or past period, one longer than ``MAX_PERIOD``).
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.orm import Session

from scoring.db.tables import ApiKey, Consent

__all__ = [
    "MAX_PERIOD",
    "PURPOSES",
    "ConsentError",
    "check_consent",
    "grant_consent",
    "known_bank",
    "list_consents",
    "revoke_consent",
]

# What a bank may read credit for.
PURPOSES = ("credit_loan", "credit_card", "mortgage", "guarantee", "account_opening")
MAX_PERIOD = dt.timedelta(days=366 * 3)


class ConsentError(ValueError):
    """A consent that cannot be granted."""


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def known_bank(session: Session, bank: str) -> bool:
    """A bank is known once it has been issued an API key (revoked or not)."""
    stmt = sa.select(ApiKey.id).where(ApiKey.role == "bank", ApiKey.name == bank).limit(1)
    return session.execute(stmt).first() is not None


def grant_consent(
    session: Session,
    *,
    subject_id: int,
    bank: str,
    purpose: str,
    valid_from: dt.datetime,
    valid_to: dt.datetime,
    granted_by: str,
    now: dt.datetime | None = None,
) -> Consent:
    """Record a consent (naive UTC times); the caller commits."""
    now = now or _utcnow()
    if purpose not in PURPOSES:
        raise ConsentError(f"unknown purpose {purpose!r} (one of {', '.join(PURPOSES)})")
    if valid_to <= valid_from:
        raise ConsentError("the period ends before it starts")
    if valid_to <= now:
        raise ConsentError("the period has already ended")
    if valid_to - valid_from > MAX_PERIOD:
        raise ConsentError(f"a consent lasts at most {MAX_PERIOD.days} days")
    if not known_bank(session, bank):
        raise ConsentError(f"unknown bank {bank!r}")
    row = Consent(
        subject_id=subject_id,
        bank=bank,
        purpose=purpose,
        valid_from=valid_from,
        valid_to=valid_to,
        granted_at=now,
        granted_by=granted_by[:96],
    )
    session.add(row)
    session.flush()
    return row


def list_consents(session: Session, subject_id: int) -> list[Consent]:
    stmt = sa.select(Consent).where(Consent.subject_id == subject_id).order_by(Consent.id)
    return list(session.execute(stmt).scalars())


def revoke_consent(
    session: Session, *, subject_id: int, consent_id: int, revoked_by: str, now: dt.datetime | None = None
) -> Consent | None:
    """Revoke one of the subject's consents (``None``: it has no such consent). Revoking twice
    keeps the first revocation."""
    row = session.execute(
        sa.select(Consent).where(Consent.id == consent_id, Consent.subject_id == subject_id)
    ).scalar_one_or_none()
    if row is not None and row.revoked_at is None:
        row.revoked_at = now or _utcnow()
        row.revoked_by = revoked_by[:96]
        session.flush()
    return row


def check_consent(session: Session, bank_id: str, subject_id: int, purpose: str, at: dt.datetime) -> bool:
    """Whether ``bank_id`` may read ``subject_id``'s credit for ``purpose`` at ``at`` (naive UTC)."""
    stmt = (
        sa.select(Consent.id)
        .where(
            Consent.subject_id == subject_id,
            Consent.bank == bank_id,
            Consent.purpose == purpose,
            Consent.valid_from <= at,
            Consent.valid_to > at,
            Consent.granted_at <= at,
            sa.or_(Consent.revoked_at.is_(None), Consent.revoked_at > at),
        )
        .limit(1)
    )
    return session.execute(stmt).first() is not None
