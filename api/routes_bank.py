"""Banks' credit-loan assessments (信易贷): ``POST /v1/bank/assessments``.

The bank names the subject (a person by identity number, an organisation by unified social
credit code), the subject's consent (its id), a purpose and an amount. Without a consent of that
subject to this bank, for this purpose, in force now — or when there is no such subject — the
answer is the same 403 ``no-consent`` problem. See ``scoring.assessments`` for what is answered
and the limit policy, docs/api.md for idempotency.
"""

from __future__ import annotations

import json
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Header, Request, Response
from pydantic import BaseModel, Field
from sqlalchemy.exc import IntegrityError

from api import score_context as ctx
from api.problems import Problem
from api.routes_common import audit_of, now_utc, request_id, route_of, vault_of
from api.security import DbSession, require
from features.ids import IdentifierError
from scoring.assessments import (
    AssessmentRequest,
    consent_in_force,
    find_subject,
    previous_assessment,
    store_assessment,
)
from scoring.auth import Principal
from scoring.consents import PURPOSES
from scoring.db.assessment_tables import BankAssessment
from scoring.db.tables import Subject
from scoring.publish import current_score, score_group
from scoring.register import record_read
from scoring.score_views import brief_reasons, score_summary

__all__ = ["router"]

router = APIRouter(tags=["bank"])
Bank = Annotated[Principal, require("bank")]
_PURPOSE_PATTERN = "^(" + "|".join(PURPOSES) + ")$"
NO_CONSENT = "no valid consent of this subject for this bank and purpose"


class SubjectIn(BaseModel):
    type: Literal["person", "organisation"]
    identifier: str = Field(
        min_length=1,
        max_length=32,
        description="A person's identity number, or an organisation's unified social credit code.",
    )


class AssessmentIn(BaseModel):
    subject: SubjectIn
    consent_id: int = Field(ge=1, le=2**62, description="The subject's consent to this bank (its id).")
    purpose: str = Field(pattern=_PURPOSE_PATTERN, description=f"One of: {', '.join(PURPOSES)}.")
    amount: float = Field(gt=0, le=1e10, description="The amount asked (CNY).")


def _answer(row: BankAssessment, response: Response, replayed: bool) -> dict[str, Any]:
    body: dict[str, Any] = {"assessment_id": row.id, **json.loads(row.response)}
    if replayed:
        response.headers["Idempotent-Replayed"] = "true"
    return body


def _register(request: Request, session: DbSession, who: Principal, subject: Subject, purpose: str) -> None:
    record_read(
        session,
        audit_of(request),
        who=who,
        subject=subject,
        purpose=purpose,
        route=route_of(request),
        request_id=request_id(request),
    )


def _replay(
    request: Request, session: DbSession, who: Principal, previous: BankAssessment, fingerprint: str
) -> BankAssessment:
    if previous.request_hash != fingerprint:
        raise Problem(
            422,
            "idempotency-key-reused",
            "this Idempotency-Key was used for a different request; use a new key",
        )
    subject = session.get(Subject, previous.subject_id)
    if subject is not None:  # the answer is read again: on record again
        _register(request, session, who, subject, previous.purpose)
        session.commit()
    return previous


@router.post(
    "/v1/bank/assessments",
    status_code=201,
    summary="Assess a subject for a credit loan, with the subject's consent.",
    responses={403: {"description": "No such subject, or no valid consent (one answer for both)."}},
)
def assess(
    request: Request,
    response: Response,
    who: Bank,
    session: DbSession,
    body: AssessmentIn,
    idempotency_key: Annotated[
        str | None,
        Header(
            alias="Idempotency-Key",
            min_length=1,
            max_length=128,
            description="A retry with the same key and body returns the same assessment.",
        ),
    ] = None,
) -> dict[str, Any]:
    """PD, score and tier (persons) or class (organisations), active listings, the principal
    reasons stored with the published score, a suggested limit (policy table, capped by the
    amount asked) and the model version. Every answered call is written to the subject's query
    register and the audit log; refusals are audited."""
    req = AssessmentRequest(
        body.subject.type, body.subject.identifier, body.consent_id, body.purpose, body.amount
    )
    vault = vault_of(request)
    fingerprint = req.fingerprint(who.id, vault)
    if idempotency_key is not None:
        previous = previous_assessment(session, who.id, idempotency_key)
        if previous is not None:
            return _answer(_replay(request, session, who, previous, fingerprint), response, True)
    try:
        subject = find_subject(session, vault, req)
    except IdentifierError:
        raise Problem(
            422, "invalid-identifier", f"the {req.subject_type}'s identifier is malformed"
        ) from None
    now = now_utc()
    allowed = consent_in_force(
        session,
        consent_id=req.consent_id,
        bank=who.id,
        subject_id=subject.id if subject is not None else -1,
        purpose=req.purpose,
        at=now,
    )
    if subject is None or not allowed:
        audit_of(request).append(
            session,
            actor=who.actor,
            action="bank.assessment.refused",
            subject_ref=subject.subject_key if subject is not None else None,
            details={"purpose": req.purpose, "consent_id": req.consent_id},
            request_id=request_id(request),
            now=now,
        )
        session.commit()
        raise Problem(403, "no-consent", NO_CONSENT)
    conn = session.connection()
    row = current_score(conn, subject.id)
    group = score_group(subject.subject_type)
    answer: dict[str, Any] = {
        "subject": {"type": req.subject_type, "identifier": req.masked()},
        "purpose": req.purpose,
        "amount": float(req.amount),
        "consent_id": req.consent_id,
        "assessed_at": now.isoformat(),
    }
    limits = ctx.limits(request)
    if row is None:
        answer.update(state="not_published", pd=None, model_version=None, reasons=[], flags=[])
        suggestion = limits.suggest(group, None, None, req.amount)
    else:
        answer.update(score_summary(row, ctx.policy(request), ctx.catalogue(request), with_pd=True))
        values = ctx.feature_names(request).values(conn, row)
        answer["reasons"] = brief_reasons(row, ctx.registry(request), values)
        scored = row["state"] == "scored"
        suggestion = limits.suggest(
            group, row.get("grade"), row.get("pd") if scored or group == "enterprise" else None, req.amount
        )
    answer["suggested_limit"] = suggestion.view(limits)
    try:
        stored = store_assessment(
            session,
            bank=who.id,
            key=idempotency_key,
            fingerprint=fingerprint,
            subject_id=subject.id,
            req=req,
            score_id=int(row["id"]) if row is not None else None,
            model_version=row.get("model_version") if row is not None else None,
            suggested_limit=suggestion.limit,
            response=answer,
            now=now,
            request_id=request_id(request),
        )
        _register(request, session, who, subject, req.purpose)
        session.commit()
    except IntegrityError:  # the same key, committed meanwhile by a concurrent retry
        session.rollback()
        previous = previous_assessment(session, who.id, idempotency_key or "")
        if previous is None:
            raise
        return _answer(_replay(request, session, who, previous, fingerprint), response, True)
    return _answer(stored, response, False)
