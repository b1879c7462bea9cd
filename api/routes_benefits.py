"""Incentive routes: benefits (信易+), partners' eligibility checks and grants, 逢办必查 checks by
departments with their feedback, and the red/black list workflow. See docs/incentives.md.

* Citizen: ``GET /v1/me/benefits`` (every benefit, eligible or not, with reasons) and
  ``GET /v1/me/grants`` (grants with their history, obligations); both registered reads.
* Partner (API key named as in the benefit catalogue, e.g. ``city-library``): ``GET
  /v1/partner/eligibility?token=`` (only its own benefits, by citizen-card token; registered),
  ``POST /v1/partner/grants`` (``Idempotency-Key`` header: the same key returns the same grant),
  ``POST /v1/partner/obligations/{obligation_id}/settlement``.
* Department: ``POST /v1/department/checks`` (subject + scenario → applicable measures with
  their basis; registered and kept), ``POST /v1/department/checks/{check_id}/feedback``.
* Supervisor: ``POST /v1/lists`` (propose), ``POST /v1/lists/{listing_id}/verify`` (someone
  other than the proposer), ``/publish`` and ``/exit`` (the subject is rescored and its grants
  reconciled).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Header, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import Connection
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from api import score_context as ctx
from api.problems import Problem
from api.routes_common import audit_of, now_utc, request_id, route_of, vault_of
from api.security import DbSession, RowId, require
from features.ids import IdentifierError
from scoring.auth import Principal
from scoring.benefits import (
    BenefitError,
    IdempotencyConflict,
    NotEligible,
    QuotaExhausted,
    UnknownToken,
    citizen_benefits,
    grant_benefit,
    load_benefits,
    partner_check,
    reconcile_grants,
    resolve_card_token,
    settle_obligation,
)
from scoring.credit_file import person
from scoring.db.tables import Subject
from scoring.group_commit import Written
from scoring.lists import (
    ListingError,
    exit_listing,
    find_subject,
    listing_view,
    propose_listing,
    publish_listing,
    verify_listing,
)
from scoring.measures import MeasureError, check_application, record_feedback
from scoring.publish import PublishError, rescore_subject
from scoring.register import record_read, record_read_core

__all__ = ["router"]

router = APIRouter(tags=["incentives"])
Citizen = Annotated[Principal, require("citizen")]
Partner = Annotated[Principal, require("partner")]
Dept = Annotated[Principal, require("department")]
Supervisor = Annotated[Principal, require("supervisor")]
Lang = Annotated[Literal["zh", "en"], Query(description="Language of names and reasons.")]
Identifier = Annotated[
    str,
    Field(
        min_length=1,
        max_length=64,
        pattern=r"^[0-9A-Za-z]+$",
        description="Identity number, unified social credit code or pseudonym of the subject.",
    ),
]


def _me(session: Session, who: Principal) -> Subject:
    subject = person(session, who.id)
    if subject is None:
        raise Problem(404, "no-credit-file", "there is no credit file for this subject")
    return subject


def _subject(request: Request, session: Session, identifier: str) -> Subject:
    try:
        subject = find_subject(session, vault_of(request), identifier)
    except IdentifierError as exc:
        raise Problem(422, "invalid-identifier", str(exc)) from None
    if subject is None:
        raise Problem(404, "no-such-subject", "no such subject")
    return subject


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


# --- citizen --------------------------------------------------------------------------------------


@router.get("/v1/me/benefits", summary="Every benefit, eligible or not, with the reasons.")
def my_benefits(request: Request, who: Citizen, session: DbSession, lang: Lang = "zh") -> dict[str, Any]:
    subject = _me(session, who)
    view = citizen_benefits(session, subject.id, lang=lang)
    _register(request, session, who, subject, "benefits_view")
    session.commit()
    return {"catalogue_version": view["catalogue_version"], "benefits": view["benefits"]}


@router.get(
    "/v1/me/grants",
    summary="My grants (with their history: suspensions, reinstatements) and obligations.",
)
def my_grants(request: Request, who: Citizen, session: DbSession) -> dict[str, Any]:
    subject = _me(session, who)
    view = citizen_benefits(session, subject.id)
    _register(request, session, who, subject, "benefits_view")
    session.commit()
    suspended = [g for g in view["grants"] if g.get("status") == "suspended"]
    return {"grants": view["grants"], "obligations": view["obligations"], "suspensions": suspended}


# --- partners -------------------------------------------------------------------------------------


class GrantIn(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"token": "ct_...", "benefit": "library_deposit_waiver"}]}
    )
    token: str = Field(min_length=1, max_length=64, description="The citizen-card token presented.")
    benefit: str = Field(
        min_length=1, max_length=64, pattern=r"^[a-z0-9_]+$", description="One of this partner's benefits."
    )
    amount: float | None = Field(
        default=None, gt=0, le=1e9, description="Pay-later benefits only: the amount advanced."
    )


class SettlementIn(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"reference": "PAY-2025-0001"}]})
    reference: str = Field(min_length=1, max_length=128, description="The payment's reference.")


class GrantOut(BaseModel):
    replayed: bool = Field(description="True when this idempotency key was already used: the same grant.")
    grant: dict[str, Any] = Field(description="The grant: benefit, status, validity, credit line.")
    obligation: dict[str, Any] | None = Field(description="Pay-later: what the holder owes and when.")


def _benefit_problem(exc: BenefitError) -> Problem:
    if isinstance(exc, UnknownToken):
        return Problem(404, "unknown-token", "unknown card token")
    if isinstance(exc, NotEligible):
        return Problem(422, "not-eligible", str(exc))
    if isinstance(exc, QuotaExhausted):
        return Problem(409, "quota-exhausted", str(exc))
    if isinstance(exc, IdempotencyConflict):
        return Problem(409, "idempotency-conflict", str(exc))
    return Problem(422, "refused", str(exc))


def _own_benefit(who: Principal, code: str) -> None:
    benefit = load_benefits().benefits.get(code)
    if benefit is None or benefit.partner != who.id:
        raise Problem(404, "no-such-benefit", "no such benefit of this partner")


def _check(
    request: Request, who: Principal, token: str, benefit: str | None, today: dt.date
) -> tuple[list[dict[str, Any]], int, str] | None:
    """The partner's check, read in one statement (``None``: the partner has no benefits, so
    there is nothing to read)."""
    with ctx.read_engine(request).connect() as conn:
        try:
            if benefit is not None:
                own = load_benefits().benefits.get(benefit)
                if own is None or own.partner != who.id:
                    resolve_card_token(conn, who.id, token)  # an unknown token is the answer first
                    raise Problem(404, "no-such-benefit", "no such benefit of this partner")
                codes = [benefit]
            else:
                codes = [b.code for b in load_benefits().of_partner(who.id)]
            if not codes:
                resolve_card_token(conn, who.id, token)
                return None
            return partner_check(conn, partner=who.id, token=token, benefit_codes=codes, today=today)
        except UnknownToken:
            raise Problem(404, "unknown-token", "unknown card token") from None
        except BenefitError as exc:
            raise _benefit_problem(exc) from None


@router.get(
    "/v1/partner/eligibility",
    summary="Eligibility of a card holder for this partner's own benefits (a registered check).",
    response_model=dict[str, Any],
)
async def eligibility(
    request: Request,
    who: Partner,
    token: Annotated[str, Query(min_length=1, max_length=64, description="The citizen-card token.")],
    benefit: Annotated[
        str | None, Query(max_length=64, description="One benefit (default: all of this partner's).")
    ] = None,
) -> Response:
    now = now_utc()
    checked = await run_in_threadpool(_check, request, who, token, benefit, now.date())
    out: list[dict[str, Any]] = []
    if checked is not None:
        out, subject_id, subject_key = checked
        rid, route = request_id(request), route_of(request)

        def register(conn: Connection) -> Written[int]:
            register_id, entry = record_read_core(
                conn,
                who=Principal(role="partner", id=who.id),
                subject_id=subject_id,
                subject_key=subject_key,
                purpose="benefit_eligibility",
                route=route,
                request_id=rid,
                now=now,
            )
            return Written(register_id, (entry,))

        await ctx.group_commit(request).run_async(register)
    body = json.dumps({"partner": who.id, "benefits": out}, ensure_ascii=False, separators=(",", ":"))
    return Response(body, media_type="application/json")


@router.post(
    "/v1/partner/grants",
    status_code=201,
    summary="Grant one of this partner's benefits (201 new; 200 the same Idempotency-Key again).",
)
def grant(
    request: Request,
    response: Response,
    who: Partner,
    body: GrantIn,
    idempotency_key: Annotated[
        str,
        Header(
            min_length=1,
            max_length=128,
            pattern=r"^[\x21-\x7e]+$",
            description="Chosen by the partner; the same key returns the same grant.",
        ),
    ],
) -> GrantOut:
    _own_benefit(who, body.benefit)
    try:
        result = grant_benefit(
            ctx.engine(request),
            audit_of(request),
            partner=who.id,
            token=body.token,
            benefit_code=body.benefit,
            idempotency_key=idempotency_key,
            amount=body.amount,
            request_id=request_id(request),
        )
    except BenefitError as exc:
        raise _benefit_problem(exc) from None
    response.status_code = 200 if result.replayed else 201
    return GrantOut(replayed=result.replayed, grant=result.grant, obligation=result.obligation)


@router.post(
    "/v1/partner/obligations/{obligation_id}/settlement",
    summary="Report an obligation paid; the holder's grants are reconciled.",
)
def settlement(request: Request, who: Partner, obligation_id: RowId, body: SettlementIn) -> dict[str, Any]:
    try:
        return settle_obligation(
            ctx.engine(request),
            audit_of(request),
            partner=who.id,
            obligation_id=obligation_id,
            reference=body.reference,
        )
    except BenefitError as exc:
        if str(exc).startswith("no obligation"):
            raise Problem(404, "not-found", "no such obligation of this partner") from None
        raise _benefit_problem(exc) from None


# --- departments: 逢办必查 ------------------------------------------------------------------------


class CheckIn(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"subject": "91350102MA000001XX", "scenario": "government_procurement"}]
        }
    )
    subject: Identifier
    scenario: str = Field(
        min_length=1,
        max_length=48,
        pattern=r"^[a-z_]+$",
        description="The business applied for, e.g. government_procurement (docs/incentives.md).",
    )


class FeedbackIn(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"measure": "procurement_ban", "outcome": "applied"}]}
    )
    measure: str = Field(min_length=1, max_length=64, description="A measure code of the check.")
    outcome: Literal["applied", "not_applied", "exempted"] = Field(description="What the department did.")
    note: str | None = Field(default=None, max_length=2000, description="Why, when not applied or exempted.")


@router.post(
    "/v1/department/checks",
    status_code=201,
    summary="逢办必查: the joint measures that apply to this application, with their basis.",
)
def check(request: Request, who: Dept, session: DbSession, body: CheckIn) -> dict[str, Any]:
    subject = _subject(request, session, body.subject)
    try:
        result = check_application(
            session,
            audit_of(request),
            who=who,
            subject=subject,
            scenario=body.scenario,
            department=str(who.department),
            route=route_of(request),
            request_id=request_id(request),
        )
    except MeasureError as exc:
        raise Problem(422, "refused", str(exc)) from None
    session.commit()
    return result.view()


@router.post(
    "/v1/department/checks/{check_id}/feedback",
    status_code=201,
    summary="Feedback on one measure of this department's check (once per measure).",
)
def feedback(
    request: Request, who: Dept, session: DbSession, check_id: RowId, body: FeedbackIn
) -> dict[str, Any]:
    try:
        row = record_feedback(
            session,
            audit_of(request),
            check_id=check_id,
            measure_code=body.measure,
            outcome=body.outcome,
            department=str(who.department),
            actor=who.actor,
            note=body.note,
        )
    except MeasureError as exc:
        if str(exc).startswith("no check"):
            raise Problem(404, "not-found", "no such check of this department") from None
        raise Problem(422, "refused", str(exc)) from None
    session.commit()
    return {"id": row.id, "check_id": row.check_id, "measure": row.measure_code, "outcome": row.outcome}


# --- lists ----------------------------------------------------------------------------------------


class ListingIn(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "list_type": "black",
                    "subject": "91350102MA000001XX",
                    "department": "market_regulation",
                    "doc_no": "闽市监〔2025〕12号",
                    "area": "市场监管",
                    "legal_basis": "《市场监督管理严重违法失信名单管理办法》第二条",
                    "decided_on": "2025-06-01",
                    "valid_to": "2028-06-01",
                }
            ]
        }
    )
    list_type: Literal["red", "black", "watch", "serious_dishonesty"] = Field(description="The list.")
    subject: Identifier
    department: str = Field(
        min_length=1, max_length=48, pattern=r"^[a-z_]+$", description="The determining department."
    )
    doc_no: str = Field(min_length=1, max_length=128, description="The determination's document number.")
    area: str = Field(min_length=1, max_length=128, description="The field, e.g. 失信被执行人.")
    legal_basis: str = Field(min_length=1, max_length=2000, description="The legal basis.")
    decided_on: dt.date = Field(description="Date of the determination.")
    valid_to: dt.date = Field(description="End of the listing (exclusive).")


class ExitIn(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"reason": "fine paid", "commitment": "CN-1"}]})
    reason: str = Field(min_length=1, max_length=2000, description="Why the subject leaves the list.")
    commitment: str | None = Field(
        default=None, max_length=128, description="Punitive lists: the recorded credit commitment's number."
    )


def _after_change(request: Request, subject_id: int, cause: str) -> None:
    # When scores are not published (yet), grants follow the score in force.
    with contextlib.suppress(PublishError, LookupError, OSError):
        rescore_subject(ctx.engine(request), ctx.settings(request), subject_id, cause=cause)
    reconcile_grants(ctx.engine(request), subject_id)


@router.post("/v1/lists", status_code=201, summary="Propose a listing (state proposed).")
def propose(request: Request, who: Supervisor, session: DbSession, body: ListingIn) -> dict[str, Any]:
    subject = _subject(request, session, body.subject)
    try:
        row = propose_listing(
            session,
            audit_of(request),
            vault_of(request),
            list_type=body.list_type,
            subject=subject,
            department=body.department,
            doc_no=body.doc_no,
            area=body.area,
            legal_basis=body.legal_basis,
            decided_on=body.decided_on,
            valid_to=body.valid_to,
            actor=who.actor,
        )
    except ListingError as exc:
        raise Problem(422, "refused", str(exc)) from None
    view = listing_view(row)
    session.commit()
    return view


def _transition(
    request: Request, session: Session, who: Principal, listing_id: int, action: str, **kw: Any
) -> dict[str, Any]:
    try:
        if action == "verify":
            row = verify_listing(session, audit_of(request), listing_id, actor=who.actor)
        elif action == "publish":
            row = publish_listing(session, audit_of(request), vault_of(request), listing_id, actor=who.actor)
        else:
            row = exit_listing(session, audit_of(request), listing_id, actor=who.actor, **kw)
    except ListingError as exc:
        if str(exc).startswith("no listing"):
            raise Problem(404, "not-found", "no such listing") from None
        raise Problem(422, "refused", str(exc)) from None
    view, sid = listing_view(row), row.subject_id
    session.commit()
    if action != "verify":
        _after_change(request, sid, f"listing {listing_id} {action}")
    return view


@router.post("/v1/lists/{listing_id}/verify", summary="proposed → verified (not by the proposer).")
def verify(request: Request, who: Supervisor, session: DbSession, listing_id: RowId) -> dict[str, Any]:
    return _transition(request, session, who, listing_id, "verify")


@router.post("/v1/lists/{listing_id}/publish", summary="verified → published; the subject is rescored.")
def publish(request: Request, who: Supervisor, session: DbSession, listing_id: RowId) -> dict[str, Any]:
    return _transition(request, session, who, listing_id, "publish")


@router.post("/v1/lists/{listing_id}/exit", summary="published → exited; the subject is rescored.")
def leave(
    request: Request, who: Supervisor, session: DbSession, listing_id: RowId, body: ExitIn
) -> dict[str, Any]:
    return _transition(
        request, session, who, listing_id, "exit", reason=body.reason, commitment_no=body.commitment
    )
