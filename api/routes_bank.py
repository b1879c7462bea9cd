"""Banks' credit-loan assessments (信易贷): ``POST /v1/bank/assessments``.

The bank names the subject (a person by identity number, an organisation by unified social
credit code), the subject's consent (its id), a purpose and an amount. Without a consent of that
subject to this bank, for this purpose, in force now — or when there is no such subject — the
answer is the same 403 ``no-consent`` problem. See ``scoring.assessments`` for what is answered
and the limit policy, docs/api.md for idempotency.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Header, Request, Response
from pydantic import BaseModel, Field
from sqlalchemy import Connection
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from api import score_context as ctx
from api.problems import Problem
from api.routes_common import audit_of, now_utc, request_id, route_of, vault_of
from api.security import require
from features.ids import IdentifierError
from scoring.assessments import (
    AssessmentInputs,
    AssessmentRequest,
    assessment_inputs,
    previous_assessment,
    write_assessment,
)
from scoring.audit import PendingEntry
from scoring.auth import Principal
from scoring.consents import PURPOSES
from scoring.db.assessment_tables import BankAssessment
from scoring.db.tables import Subject
from scoring.group_commit import Written
from scoring.publish import score_group
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


def _answer(row: BankAssessment) -> dict[str, Any]:
    return {"assessment_id": row.id, **json.loads(row.response)}


def _register(request: Request, session: Session, who: Principal, subject: Subject, purpose: str) -> None:
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
    request: Request, session: Session, who: Principal, previous: BankAssessment, fingerprint: str
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


def _response(body: str, status: int, replayed: bool) -> Response:
    headers = {"Idempotent-Replayed": "true"} if replayed else None
    return Response(body, status_code=status, headers=headers, media_type="application/json")


def _dump(value: Any) -> str:
    """JSON as stored and as answered (Starlette's JSONResponse writes the same bytes)."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _replay_answer(
    request: Request, who: Principal, idempotency_key: str, fingerprint: str
) -> Response | None:
    """The stored answer to this key (registered again), or ``None`` when the key is new."""
    with ctx.sessionmaker(request)() as session:
        previous = previous_assessment(session, who.id, idempotency_key)
        if previous is None:
            return None
        row = _replay(request, session, who, previous, fingerprint)
        return _response(_dump(_answer(row)), 201, True)


@dataclass(frozen=True)
class _Prepared:
    """An answer ready to be stored (``subject`` None: a refusal to audit)."""

    subject: AssessmentInputs | None
    subject_ref: str | None = None
    answer: str = ""
    score_id: int | None = None
    model_version: str | None = None
    suggested_limit: float | None = None


def _prepare(request: Request, who: Principal, req: AssessmentRequest, now: dt.datetime) -> _Prepared:
    """One read (subject, consent, score in force), then the answer built (no write)."""
    with ctx.read_engine(request).connect() as conn:
        try:
            found = assessment_inputs(conn, vault_of(request), req, bank=who.id, at=now)
        except IdentifierError:
            raise Problem(
                422, "invalid-identifier", f"the {req.subject_type}'s identifier is malformed"
            ) from None
        if found is None or not found.allowed:
            return _Prepared(None, found.subject_key if found is not None else None)
        row = found.score
        group = score_group(found.subject_type)
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
            pd = row.get("pd") if row["state"] == "scored" or group == "enterprise" else None
            suggestion = limits.suggest(group, row.get("grade"), pd, req.amount)
    answer["suggested_limit"] = suggestion.view(limits)
    return _Prepared(
        found,
        answer=_dump(answer),
        score_id=int(row["id"]) if row is not None else None,
        model_version=row.get("model_version") if row is not None else None,
        suggested_limit=suggestion.limit,
    )


@router.post(
    "/v1/bank/assessments",
    status_code=201,
    summary="Assess a subject for a credit loan, with the subject's consent.",
    response_model=dict[str, Any],
    responses={403: {"description": "No such subject, or no valid consent (one answer for both)."}},
)
async def assess(
    request: Request,
    who: Bank,
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
) -> Response:
    """PD, score and tier (persons) or class (organisations), active listings, the principal
    reasons stored with the published score, a suggested limit (policy table, capped by the
    amount asked) and the model version. Every answered call is written to the subject's query
    register and the audit log; refusals are audited."""
    req = AssessmentRequest(
        body.subject.type, body.subject.identifier, body.consent_id, body.purpose, body.amount
    )
    fingerprint = req.fingerprint(who.id, vault_of(request))
    if idempotency_key is not None:
        replayed = await run_in_threadpool(_replay_answer, request, who, idempotency_key, fingerprint)
        if replayed is not None:
            return replayed
    now = now_utc()
    prepared = await run_in_threadpool(_prepare, request, who, req, now)
    rid, route = request_id(request), route_of(request)
    found = prepared.subject
    if found is None:
        refused = PendingEntry(
            who.actor,
            "bank.assessment.refused",
            prepared.subject_ref,
            {"purpose": req.purpose, "consent_id": req.consent_id},
            rid,
            now,
        )
        await ctx.group_commit(request).run_async(lambda conn: Written(None, (refused,)))
        raise Problem(403, "no-consent", NO_CONSENT)

    def write(conn: Connection) -> Written[tuple[int, int]]:
        return write_assessment(
            conn,
            who=who,
            key=idempotency_key,
            fingerprint=fingerprint,
            subject_id=found.subject_id,
            subject_key=found.subject_key,
            req=req,
            score_id=prepared.score_id,
            model_version=prepared.model_version,
            suggested_limit=prepared.suggested_limit,
            response=prepared.answer,
            now=now,
            route=route,
            request_id=rid,
        )

    try:
        assessment_id, _ = await ctx.group_commit(request).run_async(write)
    except IntegrityError:  # the same key, committed meanwhile by a concurrent retry
        replayed = await run_in_threadpool(_replay_answer, request, who, idempotency_key or "", fingerprint)
        if replayed is None:
            raise
        return replayed
    return _response(f'{{"assessment_id":{assessment_id},{prepared.answer[1:]}', 201, False)
