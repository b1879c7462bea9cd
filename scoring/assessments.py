"""Credit-loan assessments for banks (信易贷): who may ask, what they get, what is kept.

A bank names the subject (a person by identity number — found by its keyed hash, never stored
or logged in clear — or an organisation by unified social credit code), a consent of that
subject (its id), a purpose and an amount. The assessment is given only when that consent is
the subject's, to this bank, for this purpose, and in force now (``consent_in_force``); an
unknown subject and a missing, expired, revoked, foreign or wrong-purpose consent are one and
the same refusal (the route answers both with one problem), so a bank cannot probe who has a
credit file.

The answer is read from the published score row (no model runs on the request path): PD,
score and tier or class, active listings, the stored principal reasons in words, the model
version, and a suggested limit from the policy table (:class:`LimitPolicy`, default
``scoring/credit_limits.yaml``; ``CREDIT_CREDIT_LIMITS_FILE`` names another).

Assessments are stored (``bank_assessments``) with the bank's ``Idempotency-Key``: a retry with
the same key and request gets the stored answer; the same key with another request is refused
by the route. Refusals are not stored: a retry after one is decided afresh.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlalchemy as sa
import yaml
from sqlalchemy.orm import Session

from features.ids import mask_identifier, parse_org_code, parse_person_id
from scoring.db.assessment_tables import BankAssessment
from scoring.db.tables import Consent, Subject
from scoring.identity import IdentityVault

__all__ = [
    "DEFAULT_LIMITS_FILE",
    "AssessmentRequest",
    "LimitPolicy",
    "Suggestion",
    "consent_in_force",
    "find_subject",
    "previous_assessment",
    "store_assessment",
]

DEFAULT_LIMITS_FILE = Path(__file__).with_name("credit_limits.yaml")


@dataclass(frozen=True)
class AssessmentRequest:
    subject_type: str  # person | organisation
    identifier: str  # identity number or credit code, as sent
    consent_id: int
    purpose: str
    amount: float

    def normalised_identifier(self) -> str:
        """The identifier checked and upper-cased (``IdentifierError`` if malformed)."""
        if self.subject_type == "person":
            return parse_person_id(self.identifier).number
        return parse_org_code(self.identifier).code

    def masked(self) -> str:
        return mask_identifier(self.identifier.strip().upper())

    def fingerprint(self, bank: str, vault: IdentityVault) -> str:
        """HMAC (identity pepper) of the canonical request: comparable, not reversible."""
        canonical = json.dumps(
            [bank, self.subject_type, self.identifier.strip().upper(), self.consent_id, self.purpose,
             round(float(self.amount), 2)],
            separators=(",", ":"),
        )  # fmt: skip
        return vault.lookup_key(canonical)


def find_subject(session: Session, vault: IdentityVault, req: AssessmentRequest) -> Subject | None:
    """The subject the request names (``None``: no such subject). ``IdentifierError`` when the
    identifier is malformed (which says nothing about who has a file)."""
    number = req.normalised_identifier()
    if req.subject_type == "person":
        stmt = sa.select(Subject).where(
            Subject.subject_key == vault.lookup_key(number), Subject.subject_type == "person"
        )
    else:
        stmt = sa.select(Subject).where(Subject.subject_key == number, Subject.subject_type != "person")
    return session.execute(stmt).scalar_one_or_none()


def consent_in_force(
    session: Session, *, consent_id: int, bank: str, subject_id: int, purpose: str, at: dt.datetime
) -> bool:
    """The consent ``consent_id`` is the subject's, to ``bank``, for ``purpose``, and in force at
    ``at`` (granted by then, ``valid_from <= at < valid_to``, not revoked by then)."""
    stmt = sa.select(Consent.id).where(
        Consent.id == consent_id,
        Consent.subject_id == subject_id,
        Consent.bank == bank,
        Consent.purpose == purpose,
        Consent.valid_from <= at,
        Consent.valid_to > at,
        Consent.granted_at <= at,
        sa.or_(Consent.revoked_at.is_(None), Consent.revoked_at > at),
    )
    return session.execute(stmt).first() is not None


# --- the limit policy ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Suggestion:
    limit: float | None
    decision: str  # offer | decline | refer
    base: float | None
    factor: float | None

    def view(self, policy: LimitPolicy) -> dict[str, Any]:
        return {
            "amount": self.limit,
            "currency": policy.currency,
            "decision": self.decision,
            "base_limit": self.base,
            "pd_factor": self.factor,
            "policy_version": policy.version,
        }


@dataclass(frozen=True)
class LimitPolicy:
    """Base limit by tier (persons) or class (organisations) × a factor by PD band, capped by the
    amount asked, rounded down to ``round_to``."""

    version: str
    currency: str
    round_to: float
    base: Mapping[str, Mapping[str, float]]  # group -> tier or class -> base limit
    bands: Mapping[str, tuple[tuple[float, float], ...]]  # group -> ((max_pd, factor), ...)

    @classmethod
    def load(cls, path: str | Path | None = None) -> LimitPolicy:
        raw = yaml.safe_load(Path(path or DEFAULT_LIMITS_FILE).read_text(encoding="utf-8"))
        base: dict[str, dict[str, float]] = {}
        bands: dict[str, tuple[tuple[float, float], ...]] = {}
        for group in ("person", "enterprise"):
            spec = raw[group]
            base[group] = {str(k): float(v) for k, v in spec["base"].items()}
            rows = tuple((float(b["max_pd"]), float(b["factor"])) for b in spec["pd_bands"])
            if [r[0] for r in rows] != sorted(r[0] for r in rows) or rows[-1][0] <= 1.0:
                raise ValueError(f"{group}: PD bands must increase and end above 1")
            if any(not 0.0 <= f <= 1.0 for _, f in rows) or any(v < 0 for v in base[group].values()):
                raise ValueError(f"{group}: factors lie in [0, 1] and limits are not negative")
            bands[group] = rows
        return cls(str(raw["version"]), str(raw["currency"]), float(raw["round_to"]), base, bands)

    def suggest(self, group: str, grade: str | None, pd: float | None, amount: float) -> Suggestion:
        if grade is None or pd is None or grade not in self.base[group]:
            return Suggestion(None, "refer", None, None)
        base = self.base[group][grade]
        factor = next(f for max_pd, f in self.bands[group] if pd < max_pd)
        limit = min(float(amount), base * factor)
        limit = math.floor(limit / self.round_to) * self.round_to if self.round_to > 0 else limit
        return Suggestion(limit, "offer" if limit > 0 else "decline", base, factor)


# --- storage -------------------------------------------------------------------------------------


def previous_assessment(session: Session, bank: str, key: str) -> BankAssessment | None:
    stmt = sa.select(BankAssessment).where(BankAssessment.bank == bank, BankAssessment.idempotency_key == key)
    return session.execute(stmt).scalar_one_or_none()


def store_assessment(
    session: Session,
    *,
    bank: str,
    key: str | None,
    fingerprint: str,
    subject_id: int,
    req: AssessmentRequest,
    score_id: int | None,
    model_version: str | None,
    suggested_limit: float | None,
    response: Mapping[str, Any],
    now: dt.datetime,
    request_id: str | None,
) -> BankAssessment:
    """Insert the assessment (flushed, not committed). ``IntegrityError`` if the key was taken
    meanwhile (the caller rolls back and answers from :func:`previous_assessment`)."""
    row = BankAssessment(
        bank=bank,
        idempotency_key=key,
        request_hash=fingerprint,
        subject_id=subject_id,
        purpose=req.purpose,
        amount=float(req.amount),
        consent_id=req.consent_id,
        score_id=score_id,
        model_version=model_version,
        suggested_limit=suggested_limit,
        response=json.dumps(response, ensure_ascii=False, separators=(",", ":")),
        created_at=now,
        request_id=request_id[:64] if request_id else None,
    )
    session.add(row)
    session.flush()
    return row
