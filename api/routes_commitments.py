"""Credit commitments (信用承诺) over HTTP: the items, signing by a citizen or an organisation's
representative, the supervising department's fulfilment decisions, and the public column.

A broken commitment becomes a ``credit_commitment`` record (``scoring.commitments.decide``) and,
when scores are published, the subject is rescored at once.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query, Request
from pydantic import BaseModel, ConfigDict, Field

from api import score_context as ctx
from api.problems import Problem
from api.routes_common import audit_of, now_utc, request_id
from api.routes_orgs import _org
from api.security import DbSession, require
from scoring.auth import Principal
from scoring.commitments import (
    CommitmentError,
    decide,
    due,
    load_templates,
    of_subject,
    publication,
    published,
    sign,
)
from scoring.credit_file import person
from scoring.db.tables import Subject
from scoring.identity import IdentityVault
from scoring.publish import PublishError, rescore_subject

__all__ = ["router"]

router = APIRouter(tags=["commitments"])
Citizen = Annotated[Principal, require("citizen")]
Rep = Annotated[Principal, require("enterprise_rep")]
Dept = Annotated[Principal, require("department")]
CommitmentNo = Annotated[str, Path(pattern=r"^CM[0-9A-F]{8,40}$", description="The commitment's number.")]


def _vault(request: Request) -> IdentityVault:
    vault: IdentityVault = request.app.state.vault
    return vault


class SignIn(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"item": "tax_notification"}]})
    item: str = Field(
        min_length=1, max_length=40, description="Commitment item code (GET /v1/commitments/items)."
    )


class DecisionIn(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"outcome": "fulfilled", "on": "2026-11-30", "note": "annual report filed"}]
        }
    )
    outcome: Literal["fulfilled", "broken"] = Field(description="Whether the commitment was kept.")
    on: dt.date = Field(description="Date of the decision.")
    note: str = Field(min_length=1, max_length=2000, description="What was checked.")


@router.get(
    "/v1/commitments/items", summary="Commitment items: standard texts, terms and supervising departments."
)
def items() -> list[dict[str, Any]]:
    return [
        {
            "item": t.code,
            "zh": t.zh,
            "en": t.en,
            "subject_types": sorted(t.subject_types),
            "department": t.department,
            "term_months": t.term_months,
            "legal_basis": t.legal_basis,
        }
        for t in load_templates().values()
    ]


@router.get(
    "/v1/commitments/published", summary="The public column: organisations' commitments (standard format)."
)
def public_column(
    session: DbSession,
    on: Annotated[dt.date | None, Query(description="Signed by this day (default today).")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[dict[str, Any]]:
    return published(session, on=on or dt.date.today(), limit=limit)


def _signed(
    request: Request, session: DbSession, subject: Subject, item: str, who: Principal
) -> dict[str, Any]:
    try:
        row = sign(session, subject, item, signed_by=who.actor, vault=_vault(request))
    except CommitmentError as exc:
        raise Problem(422, "refused", str(exc)) from None
    audit_of(request).append(
        session,
        actor=who.actor,
        action="commitment.sign",
        subject_ref=subject.subject_key,
        details={"commitment_no": row.commitment_no, "item": row.item},
        request_id=request_id(request),
        now=now_utc(),
    )
    view = publication(row, subject, vault=_vault(request))
    session.commit()
    return view


@router.post("/v1/me/commitments", status_code=201, summary="Sign a credit commitment (信用承诺).")
def sign_mine(request: Request, who: Citizen, session: DbSession, body: SignIn) -> dict[str, Any]:
    subject = person(session, who.id)
    if subject is None:
        raise Problem(404, "no-credit-file", "there is no credit file for this subject")
    return _signed(request, session, subject, body.item, who)


@router.get("/v1/me/commitments", summary="My commitments with their status.")
def list_mine(request: Request, who: Citizen, session: DbSession) -> list[dict[str, Any]]:
    subject = person(session, who.id)
    if subject is None:
        raise Problem(404, "no-credit-file", "there is no credit file for this subject")
    return [publication(c, subject, vault=_vault(request)) for c in of_subject(session, subject.id)]


@router.post(
    "/v1/orgs/{code}/commitments", status_code=201, summary="Sign a commitment for the organisation."
)
def sign_org(request: Request, who: Rep, session: DbSession, code: str, body: SignIn) -> dict[str, Any]:
    return _signed(request, session, _org(session, who, code), body.item, who)


@router.get("/v1/department/commitments/due", summary="Signed commitments this department has to decide.")
def due_here(
    who: Dept,
    session: DbSession,
    on: Annotated[dt.date | None, Query(description="Due by this day (default today).")] = None,
) -> list[dict[str, Any]]:
    rows = due(session, str(who.department), on or dt.date.today())
    return [
        {
            "commitment_no": c.commitment_no,
            "item": c.item,
            "signed_on": c.signed_at.date(),
            "due_date": c.due_date,
        }
        for c in rows
    ]


@router.post(
    "/v1/department/commitments/{commitment_no}/decision",
    summary="Record whether a commitment was kept; a broken one becomes a record, the subject rescored.",
)
def decide_here(
    request: Request, who: Dept, session: DbSession, commitment_no: CommitmentNo, body: DecisionIn
) -> dict[str, Any]:
    try:
        row = decide(
            session,
            commitment_no,
            body.outcome,
            by=who.actor,
            on=body.on,
            note=body.note,
            department=str(who.department),
        )
    except CommitmentError as exc:
        status = 404 if str(exc).startswith("no commitment") else 422
        raise Problem(status, "refused" if status == 422 else "not-found", str(exc)) from None
    subject = session.get(Subject, row.subject_id)
    assert subject is not None
    audit_of(request).append(
        session,
        actor=who.actor,
        action="commitment.decide",
        subject_ref=subject.subject_key,
        details={"commitment_no": row.commitment_no, "outcome": row.status, "record_uid": row.record_uid},
        request_id=request_id(request),
        now=now_utc(),
    )
    view = {**publication(row, subject, vault=_vault(request)), "record_uid": row.record_uid}
    subject_id = subject.id
    session.commit()
    rescored = None
    if row.status == "broken":
        try:
            result = rescore_subject(
                ctx.engine(request), ctx.settings(request), subject_id, cause="commitment broken"
            )
            rescored = result.changed
        except PublishError:
            rescored = None  # nothing published yet
    return {**view, "rescored": rescored}
