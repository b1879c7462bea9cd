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
from typing import Any, cast

import sqlalchemy as sa
import yaml
from sqlalchemy import Connection
from sqlalchemy.orm import Session

from features.ids import mask_identifier, parse_org_code, parse_person_id
from scoring.auth import Principal
from scoring.db.assessment_tables import BankAssessment
from scoring.db.score_tables import ScorePublication, ScoreRow
from scoring.db.tables import Consent, QueryRegisterEntry, Subject
from scoring.group_commit import Written
from scoring.identity import IdentityVault
from scoring.register import read_entry, register_values

__all__ = [
    "DEFAULT_LIMITS_FILE",
    "AssessmentInputs",
    "AssessmentRequest",
    "LimitPolicy",
    "Suggestion",
    "assessment_inputs",
    "consent_in_force",
    "find_subject",
    "previous_assessment",
    "store_assessment",
    "write_assessment",
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


@dataclass(frozen=True)
class AssessmentInputs:
    """What one read tells about the subject a request names: who it is, whether the consent
    allows the read, and its score in force (``None``: not published)."""

    subject_id: int
    subject_key: str
    subject_type: str
    allowed: bool
    score: dict[str, Any] | None


_scores = cast(sa.Table, ScoreRow.__table__)
_subjects = cast(sa.Table, Subject.__table__)
_consents = cast(sa.Table, Consent.__table__)


def _inputs_statement(person: bool) -> sa.Select[Any]:
    latest = _scores.alias("latest")
    current = (
        sa.select(latest.c.id)
        .where(
            latest.c.subject_id == _subjects.c.id,
            latest.c.snapshot_id.in_(sa.select(ScorePublication.__table__.c.snapshot_id)),
        )
        .order_by(latest.c.snapshot_id.desc(), latest.c.id.desc())  # the (subject, snapshot, id) index
        .limit(1)
        .correlate(_subjects)
        .scalar_subquery()
    )
    at = sa.bindparam("at", type_=sa.DateTime())
    allowed = (
        sa.exists()
        .where(
            _consents.c.id == sa.bindparam("consent_id"),
            _consents.c.subject_id == _subjects.c.id,
            _consents.c.bank == sa.bindparam("bank"),
            _consents.c.purpose == sa.bindparam("purpose"),
            _consents.c.valid_from <= at,
            _consents.c.valid_to > at,
            _consents.c.granted_at <= at,
            sa.or_(_consents.c.revoked_at.is_(None), _consents.c.revoked_at > at),
        )
        .correlate(_subjects)
    )
    kind = _subjects.c.subject_type == "person" if person else _subjects.c.subject_type != "person"
    return (
        sa.select(
            _subjects.c.id.label("subject_id_"),
            _subjects.c.subject_key.label("subject_key_"),
            _subjects.c.subject_type.label("subject_type_"),
            allowed.label("allowed_"),
            *_scores.c,
        )
        .select_from(_subjects.outerjoin(_scores, _scores.c.id == current))
        .where(_subjects.c.subject_key == sa.bindparam("key"), kind)
    )


_INPUTS = {True: _inputs_statement(True), False: _inputs_statement(False)}


def assessment_inputs(
    conn: Connection, vault: IdentityVault, req: AssessmentRequest, *, bank: str, at: dt.datetime
) -> AssessmentInputs | None:
    """Subject, consent check (as :func:`consent_in_force`) and score in force (as
    ``scoring.publish.current_score``) in one statement; ``None``: no such subject.
    ``IdentifierError`` if the identifier is malformed."""
    number = req.normalised_identifier()
    person = req.subject_type == "person"
    params = {
        "key": vault.lookup_key(number) if person else number,
        "consent_id": req.consent_id,
        "bank": bank,
        "purpose": req.purpose,
        "at": at,
    }
    row = conn.execute(_INPUTS[person], params).first()
    if row is None:
        return None
    m = row._mapping
    score = {c.name: m[c] for c in _scores.c} if m[_scores.c.id] is not None else None
    return AssessmentInputs(
        int(m["subject_id_"]), str(m["subject_key_"]), str(m["subject_type_"]), bool(m["allowed_"]), score
    )


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


_assessments = cast(sa.Table, BankAssessment.__table__)
_register = cast(sa.Table, QueryRegisterEntry.__table__)


_A_COLUMNS = (
    "bank", "idempotency_key", "request_hash", "subject_id", "purpose", "amount", "consent_id", "score_id",
    "model_version", "suggested_limit", "response", "created_at", "request_id",
)  # fmt: skip
_R_COLUMNS = ("subject_id", "accessor_role", "accessor_id", "purpose", "route", "accessed_at", "request_id")
# Both rows in one statement (a constant text: built once, prepared by the driver once per connection).
_INSERT_ASSESSMENT = sa.insert(_assessments).returning(_assessments.c.id)
_INSERT_REGISTER = sa.insert(_register).returning(_register.c.id)
_PG_WRITE = sa.text(
    f"WITH a AS (INSERT INTO bank_assessments ({', '.join(_A_COLUMNS)})"
    f" VALUES ({', '.join(':' + c for c in _A_COLUMNS)}) RETURNING id),"
    f" r AS (INSERT INTO query_register ({', '.join(_R_COLUMNS)})"
    f" VALUES ({', '.join(':r_' + c for c in _R_COLUMNS)}) RETURNING id)"
    " SELECT a.id, r.id FROM a, r"
).bindparams(
    sa.bindparam("created_at", type_=sa.DateTime()), sa.bindparam("r_accessed_at", type_=sa.DateTime())
)


def write_assessment(
    conn: Connection,
    *,
    who: Principal,
    key: str | None,
    fingerprint: str,
    subject_id: int,
    subject_key: str,
    req: AssessmentRequest,
    score_id: int | None,
    model_version: str | None,
    suggested_limit: float | None,
    response: str,
    now: dt.datetime,
    route: str,
    request_id: str | None,
) -> Written[tuple[int, int]]:
    """Insert the assessment (``response``: the answer's JSON) and its query-register row (one
    statement on PostgreSQL); the read's audit entry to append. ``IntegrityError`` if the key
    was taken meanwhile. The result: (assessment id, register id)."""
    rid = request_id[:64] if request_id else None
    assessment = {
        "bank": who.id, "idempotency_key": key, "request_hash": fingerprint, "subject_id": subject_id,
        "purpose": req.purpose, "amount": float(req.amount), "consent_id": req.consent_id,
        "score_id": score_id, "model_version": model_version, "suggested_limit": suggested_limit,
        "response": response, "created_at": now, "request_id": rid,
    }  # fmt: skip
    register = register_values(
        who=who, subject_id=subject_id, purpose=req.purpose, route=route, request_id=request_id, when=now
    )
    if conn.dialect.name == "postgresql":
        ids = conn.execute(_PG_WRITE, {**assessment, **{f"r_{k}": v for k, v in register.items()}}).one()
        assessment_id, register_id = int(ids[0]), int(ids[1])
    else:
        assessment_id = int(conn.execute(_INSERT_ASSESSMENT, assessment).scalar_one())
        register_id = int(conn.execute(_INSERT_REGISTER, register).scalar_one())
    entry = read_entry(
        who=who,
        subject_key=subject_key,
        purpose=req.purpose,
        route=route,
        request_id=request_id,
        register_id=register_id,
        when=now,
    )
    return Written((assessment_id, register_id), (entry,))
