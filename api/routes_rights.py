"""Rights and supervision routes: objections, credit repair, human review of a score, the
citizen's cases, and random inspection plans (双随机、一公开). See docs/rights-and-supervision.md.

* Citizen: ``POST /v1/me/objections``, ``POST /v1/me/repairs``, ``POST /v1/me/reviews``,
  ``GET /v1/me/cases``. Only the citizen's own records and score.
* Department: ``POST /v1/department/objections/{objection_id}/decision``, only for objections to
  records the department reported.
* Reviewer: ``GET /v1/reviewer/reviews`` (the open queue), ``POST .../{review_id}/decision``.
* Supervisor: ``POST /v1/supervisor/plans`` (draw and publish), ``GET .../{plan_no}`` (the plan
  with its drawn organisations, inspectors and results), ``GET .../{plan_no}/verify``,
  ``GET .../{plan_no}/export`` (CSV, cells safe against formula injection), ``POST
  .../{plan_no}/results``.

Every change is written to the audit log by the library; the reviewer's queue, a plan and its
export are reads of subjects' data and are audited here.
"""

from __future__ import annotations

import datetime as dt
import tempfile
from pathlib import Path as FsPath
from typing import Annotated, Any, Literal

import sqlalchemy as sa
from fastapi import APIRouter, Path, Request, Response
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session

from api import score_context as ctx
from api.problems import Problem
from api.routes_common import audit_of, request_id, route_of
from api.security import DbSession, RowId, require
from scoring.auth import Principal
from scoring.credit_file import person
from scoring.db.rights_tables import InspectionResult, Inspector, Objection, ScoreReview
from scoring.db.tables import Subject
from scoring.inspections import (
    PlanError,
    export_plan,
    generate_plan,
    get_plan,
    plan_header,
    plan_selection,
    record_result,
    verify_plan,
)
from scoring.objections import decide_objection, file_objection
from scoring.register import record_read
from scoring.repair import apply_repair
from scoring.reviews import decide_review, request_review, review_queue
from scoring.rights import RightsError, objection_view, repair_view, review_view, subject_cases

__all__ = ["router"]

router = APIRouter(tags=["rights and supervision"])
Citizen = Annotated[Principal, require("citizen")]
Dept = Annotated[Principal, require("department")]
Reviewer = Annotated[Principal, require("reviewer")]
Supervisor = Annotated[Principal, require("supervisor")]
PlanNo = Annotated[str, Path(pattern=r"^[A-Za-z0-9_.-]{1,64}$", description="The plan's number.")]
Text = Annotated[str, Field(min_length=1, max_length=2000)]
RecordUid = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:-]+$")]


def _refused(exc: Exception) -> Problem:
    return Problem(422, "refused", str(exc))


def _me(session: Session, who: Principal) -> Subject:
    subject = person(session, who.id)
    if subject is None:
        raise Problem(404, "no-credit-file", "there is no credit file for this subject")
    return subject


# --- citizen --------------------------------------------------------------------------------------


class ObjectionIn(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"record_uid": "3f2a9c...", "reason": "paid on time", "evidence": "receipt 42"}]
        }
    )
    record_uid: RecordUid = Field(description="The record objected to (its uid in my credit file).")
    reason: Text = Field(description="Why the record is wrong.")
    evidence: str | None = Field(
        default=None, max_length=2000, description="Evidence, e.g. a receipt number."
    )


class RepairIn(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"record_uid": "3f2a9c...", "proof": "fine paid", "commitment": "CN-1"}]
        }
    )
    record_uid: RecordUid = Field(description="The negative record to repair.")
    proof: Text = Field(description="Proof that the conduct was corrected.")
    commitment: Text = Field(description="The credit commitment (信用承诺) signed for the repair.")


class ReviewIn(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"reason": "my score ignores my new job"}]})
    reason: Text = Field(description="Why a person should review my score in force.")


class CaseOut(BaseModel):
    """One objection, repair application or review (fields by ``case``)."""

    model_config = ConfigDict(extra="allow")
    case: Literal["objection", "repair", "review"] = Field(description="The kind of case.")
    id: int = Field(description="The case's id.")
    status: str = Field(description="Where the case stands.")
    overdue: bool = Field(description="Past its deadline and not yet decided.")


@router.post("/v1/me/objections", status_code=201, summary="Object to one of my records (异议).")
def my_objection(request: Request, who: Citizen, session: DbSession, body: ObjectionIn) -> dict[str, Any]:
    subject = _me(session, who)
    session.close()
    try:
        o = file_objection(
            ctx.engine(request),
            ctx.settings(request),
            audit_of(request),
            subject_id=subject.id,
            record_uid=body.record_uid,
            reason=body.reason,
            evidence=body.evidence,
            actor=who.actor,
            request_id=request_id(request),
        )
    except RightsError as exc:
        raise _refused(exc) from None
    return objection_view(o)


@router.post("/v1/me/repairs", status_code=201, summary="Apply for repair of a negative record (信用修复).")
def my_repair(request: Request, who: Citizen, session: DbSession, body: RepairIn) -> dict[str, Any]:
    subject = _me(session, who)
    session.close()
    try:
        a = apply_repair(
            ctx.engine(request),
            audit_of(request),
            subject_id=subject.id,
            record_uid=body.record_uid,
            proof=body.proof,
            commitment=body.commitment,
            actor=who.actor,
            request_id=request_id(request),
        )
    except RightsError as exc:
        raise _refused(exc) from None
    return repair_view(a)


@router.post("/v1/me/reviews", status_code=201, summary="Ask for a person to review my score in force.")
def my_review(request: Request, who: Citizen, session: DbSession, body: ReviewIn) -> dict[str, Any]:
    subject = _me(session, who)
    session.close()
    try:
        r = request_review(
            ctx.engine(request),
            audit_of(request),
            subject_id=subject.id,
            reason=body.reason,
            actor=who.actor,
            request_id=request_id(request),
        )
    except RightsError as exc:
        raise _refused(exc) from None
    return review_view(r)


@router.get("/v1/me/cases", summary="My objections, repair applications and reviews, with deadlines.")
def my_cases(who: Citizen, session: DbSession) -> list[CaseOut]:
    return [CaseOut(**c) for c in subject_cases(session, _me(session, who).id)]


# --- department -----------------------------------------------------------------------------------


class ObjectionDecisionIn(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"upheld": True, "action": "withdrawn", "reason": "payment found"}]}
    )
    upheld: bool = Field(description="True: the objection is right; false: the record stands.")
    reason: Text = Field(description="The written reason of the decision.")
    action: Literal["withdrawn", "corrected"] = Field(
        default="withdrawn",
        description="Upheld: withdraw the record, or keep the corrected version already pushed.",
    )


@router.post(
    "/v1/department/objections/{objection_id}/decision",
    summary="Decide an objection to one of this department's records; the subject is rescored.",
)
def decide_my_objection(
    request: Request, who: Dept, session: DbSession, objection_id: RowId, body: ObjectionDecisionIn
) -> dict[str, Any]:
    o = session.get(Objection, objection_id)
    if o is None or o.department != who.department:
        raise Problem(404, "not-found", "no such objection to this department's records")
    session.close()
    try:
        decided = decide_objection(
            ctx.engine(request),
            ctx.settings(request),
            audit_of(request),
            objection_id=objection_id,
            upheld=body.upheld,
            reason=body.reason,
            action=body.action,
            department=who.department,
            actor=who.actor,
            request_id=request_id(request),
        )
    except RightsError as exc:
        raise _refused(exc) from None
    return objection_view(decided)


# --- reviewer -------------------------------------------------------------------------------------


class ReviewDecisionIn(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"outcome": "confirmed", "reason": "records are right"}]}
    )
    outcome: Literal["confirmed", "corrected"] = Field(description="Confirm the score, or correct it.")
    reason: Text = Field(description="The written reason of the decision.")
    withdraw_records: list[RecordUid] = Field(
        default_factory=list,
        max_length=100,
        description="Corrected: the uids of the wrong records to withdraw.",
    )


@router.get("/v1/reviewer/reviews", summary="Open score reviews, earliest due first.")
def reviews_queue(request: Request, who: Reviewer, session: DbSession) -> list[dict[str, Any]]:
    rows = review_queue(session)
    subjects = {r.subject_id: session.get(Subject, r.subject_id) for r in rows}
    out = []
    for r in rows:
        subject = subjects[r.subject_id]
        out.append({**review_view(r), "subject_key": subject.subject_key if subject else None})
    for subject in subjects.values():  # the queue shows each subject's score: a read of it
        if subject is not None:
            record_read(
                session,
                audit_of(request),
                who=who,
                subject=subject,
                purpose="score_review",
                route=route_of(request),
                request_id=request_id(request),
            )
    audit_of(request).append(
        session,
        actor=who.actor,
        action="review.queue",
        details={"open": len(out)},
        request_id=request_id(request),
    )
    session.commit()
    return out


@router.post(
    "/v1/reviewer/reviews/{review_id}/decision",
    summary="Decide a review: confirm, or correct by withdrawing wrong records and rescoring.",
)
def decide_a_review(
    request: Request, who: Reviewer, session: DbSession, review_id: RowId, body: ReviewDecisionIn
) -> dict[str, Any]:
    if session.get(ScoreReview, review_id) is None:
        raise Problem(404, "not-found", "no such review")
    session.close()
    try:
        r = decide_review(
            ctx.engine(request),
            ctx.settings(request),
            audit_of(request),
            review_id=review_id,
            outcome=body.outcome,
            reason=body.reason,
            reviewer=who.actor,
            withdraw_records=body.withdraw_records,
            request_id=request_id(request),
        )
    except RightsError as exc:
        raise _refused(exc) from None
    return review_view(r)


# --- supervisor: inspection plans -----------------------------------------------------------------


class PlanIn(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"sector": "retail", "period": "2025Q3", "department": "market_regulation"}]
        }
    )
    sector: str = Field(min_length=1, max_length=48, pattern=r"^[a-z0-9_]+$", description="Sector code.")
    period: str = Field(
        pattern=r"^[0-9]{4}(-[0-9]{2}|Q[1-4]|H[12])?$", description="YYYY, YYYY-MM, YYYYQn or YYYYHn."
    )
    department: str = Field(
        default="market_regulation",
        max_length=48,
        pattern=r"^[a-z0-9_]+$",
        description="Inspecting department.",
    )
    seed: str | None = Field(
        default=None,
        max_length=128,
        pattern=r"^[A-Za-z0-9_.:-]+$",
        description="Published seed (default: random).",
    )
    seed_source: str | None = Field(default=None, max_length=200, description="Where the seed comes from.")


class ResultIn(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"org_code": "91350102MA000001XX", "result": "compliant", "inspected_on": "2025-07-10"}
            ]
        }
    )
    org_code: str = Field(
        min_length=18, max_length=18, description="The inspected organisation's credit code."
    )
    result: Literal["compliant", "issues_corrected", "non_compliant", "not_found"] = Field(
        description="The inspection's result."
    )
    inspected_on: dt.date = Field(description="Inspection date.")


class VerificationOut(BaseModel):
    plan_no: str = Field(description="The plan's number.")
    ok: bool = Field(description="Recomputing the draw from its seed and inputs gives the published plan.")
    problems: list[str] = Field(description="What differs, if anything.")


def _plan_problem(exc: PlanError) -> Problem:
    if str(exc).startswith("no plan"):
        return Problem(404, "not-found", str(exc))
    return _refused(exc)


@router.post("/v1/supervisor/plans", status_code=201, summary="Draw and publish a random inspection plan.")
def new_plan(request: Request, response: Response, who: Supervisor, body: PlanIn) -> dict[str, Any]:
    try:
        plan = generate_plan(
            ctx.engine(request),
            audit_of(request),
            sector=body.sector,
            period=body.period,
            seed=body.seed,
            seed_source=body.seed_source,
            department=body.department,
            actor=who.actor,
        )
    except PlanError as exc:
        raise _refused(exc) from None
    header = plan_header(plan)
    response.headers["Location"] = f"/v1/supervisor/plans/{header['plan_no']}/verify"
    return header


@router.get(
    "/v1/supervisor/plans/{plan_no}",
    summary="A plan: its header and the drawn organisations with names, inspectors and results.",
)
def plan_detail(request: Request, who: Supervisor, session: DbSession, plan_no: PlanNo) -> dict[str, Any]:
    try:
        plan = get_plan(session, plan_no)
    except PlanError as exc:
        raise _plan_problem(exc) from None
    drawn = plan_selection(plan)
    codes = [d["credit_code"] for d in drawn]
    names: dict[str, str | None] = {}
    for start in range(0, len(codes), 5000):
        q = sa.select(Subject.subject_key, Subject.name).where(
            Subject.subject_key.in_(codes[start : start + 5000])
        )
        names.update({str(k): n for k, n in session.execute(q)})
    inspectors = {str(c): str(n) for c, n in session.execute(sa.select(Inspector.code, Inspector.name))}
    results = {
        r.org_code: r
        for r in session.execute(
            sa.select(InspectionResult).where(InspectionResult.plan_id == plan.id)
        ).scalars()
    }
    selection = []
    for d in drawn:
        done = results.get(d["credit_code"])
        selection.append(
            {
                "position": d["position"],
                "code": d["credit_code"],
                "name": names.get(d["credit_code"]),
                "class": d["class"],
                "inspectors": [{"code": c, "name": inspectors.get(c)} for c in d["inspectors"] if c],
                "result": done.result if done else None,
                "inspected_on": done.inspected_on.isoformat() if done else None,
            }
        )
    body = {**plan_header(plan), "selection": selection}
    audit_of(request).append(
        session,
        actor=who.actor,
        action="plan.read",
        details={"plan_no": plan_no},
        request_id=request_id(request),
    )
    session.commit()
    return body


@router.get("/v1/supervisor/plans/{plan_no}/verify", summary="Recompute a plan from its seed and inputs.")
def check_plan(request: Request, who: Supervisor, plan_no: PlanNo) -> VerificationOut:
    try:
        v = verify_plan(ctx.engine(request), plan_no)
    except PlanError as exc:
        raise _plan_problem(exc) from None
    return VerificationOut(plan_no=v.plan_no, ok=v.ok, problems=v.problems)


@router.get(
    "/v1/supervisor/plans/{plan_no}/export",
    summary="The plan for people as CSV (names, inspectors, results); cells safe against formulas.",
    response_class=Response,
    responses={200: {"content": {"text/csv": {}}}},
)
def plan_csv(request: Request, who: Supervisor, session: DbSession, plan_no: PlanNo) -> Response:
    try:
        with tempfile.TemporaryDirectory() as tmp:
            export_plan(ctx.engine(request), plan_no, tmp)
            data = (FsPath(tmp) / "plan.csv").read_bytes()
    except PlanError as exc:
        raise _plan_problem(exc) from None
    audit_of(request).append(
        session,
        actor=who.actor,
        action="plan.export",
        details={"plan_no": plan_no},
        request_id=request_id(request),
    )
    session.commit()
    return Response(
        data,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{plan_no}.csv"'},
    )


@router.post(
    "/v1/supervisor/plans/{plan_no}/results",
    status_code=201,
    summary="Record an inspection result (a record for the next scoring).",
)
def plan_result(
    request: Request, who: Supervisor, session: DbSession, plan_no: PlanNo, body: ResultIn
) -> dict[str, Any]:
    try:
        department = get_plan(session, plan_no).department
    except PlanError as exc:
        raise _plan_problem(exc) from None
    session.close()
    try:
        row = record_result(
            ctx.engine(request),
            ctx.settings(request),
            audit_of(request),
            plan_no=plan_no,
            org_code=body.org_code,
            result=body.result,
            inspected_on=body.inspected_on,
            department=department,
            actor=who.actor,
        )
    except PlanError as exc:
        raise _refused(exc) from None
    return {"plan_no": plan_no, "org_code": body.org_code, "result": row.result, "record_uid": row.record_uid}
