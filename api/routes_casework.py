"""The reporting department's casework over HTTP: the objections and repair applications about
its own records (overdue ones flagged), accepting a repair application, and deciding it. Deciding
an objection is ``POST /v1/department/objections/{id}/decision`` (``api/routes_rights.py``).

A department sees only cases about records it reported (others are 404, as if they did not
exist); the list is a read of each subject's credit data and is written to the query register
and the audit log. Deadlines follow the working-day calendar (docs/rights-and-supervision.md).
"""

from __future__ import annotations

from typing import Annotated, Any

import sqlalchemy as sa
from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, ConfigDict, Field

from api import score_context as ctx
from api.problems import Problem
from api.routes_common import audit_of, request_id, route_of
from api.security import DbSession, RowId, require
from scoring.auth import Principal
from scoring.db.rights_tables import Objection, RepairApplication
from scoring.db.tables import Subject
from scoring.register import record_read
from scoring.repair import accept_repair, decide_repair
from scoring.rights import RightsError, objection_view, repair_view

__all__ = ["router"]

router = APIRouter(tags=["rights and supervision"])
Dept = Annotated[Principal, require("department")]
Text = Annotated[str, Field(min_length=1, max_length=2000)]
OPEN_OBJECTIONS = ("filed", "disputed")
OPEN_REPAIRS = ("applied", "accepted")


class AcceptanceIn(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"accepted": True, "reason": "materials complete", "complex": False}]}
    )
    accepted: bool = Field(description="Accept the application, or not (saying everything that is missing).")
    reason: Text = Field(description="The written reason.")
    complex: bool = Field(default=False, description="A complex case: 10 more working days for the result.")


class RepairDecisionIn(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"approved": True, "reason": "fine paid, commitment signed"}]}
    )
    approved: bool = Field(description="Approve (the record is repaired, the subject rescored) or reject.")
    reason: Text = Field(description="The written reason.")
    false_materials: bool = Field(
        default=False, description="The materials were found false (no new application for a period)."
    )


def _refused(exc: Exception) -> Problem:
    return Problem(422, "refused", str(exc))


@router.get(
    "/v1/department/cases",
    summary="Open objections and repair applications about this department's records, earliest due first.",
)
def department_cases(
    request: Request,
    who: Dept,
    session: DbSession,
    overdue: Annotated[bool, Query(description="Only the cases past their deadline.")] = False,
) -> dict[str, Any]:
    objections = session.execute(
        sa.select(Objection)
        .where(Objection.department == who.department, Objection.status.in_(OPEN_OBJECTIONS))
        .order_by(Objection.decide_due, Objection.id)
    ).scalars()
    repairs = session.execute(
        sa.select(RepairApplication)
        .where(RepairApplication.department == who.department, RepairApplication.status.in_(OPEN_REPAIRS))
        .order_by(RepairApplication.id)
    ).scalars()
    keys: dict[int, Subject] = {}

    def subject(subject_id: int) -> Subject:
        if subject_id not in keys:
            s = session.get(Subject, subject_id)
            assert s is not None
            keys[subject_id] = s
        return keys[subject_id]

    out_objections = [
        {**objection_view(o), "evidence": o.evidence, "subject_key": subject(o.subject_id).subject_key}
        for o in objections
    ]
    out_repairs = [
        {
            **repair_view(a),
            "proof": a.proof,
            "commitment": a.commitment,
            "subject_key": subject(a.subject_id).subject_key,
        }
        for a in repairs
    ]
    if overdue:
        out_objections = [o for o in out_objections if o["overdue"]]
        out_repairs = [a for a in out_repairs if a["overdue"]]
    out_repairs.sort(key=lambda a: (a["accept_due"] if a["status"] == "applied" else a["result_due"]) or "")
    shown = {o["subject_key"] for o in out_objections} | {a["subject_key"] for a in out_repairs}
    for s in keys.values():
        if s.subject_key in shown:
            record_read(
                session,
                audit_of(request),
                who=who,
                subject=s,
                purpose="casework",
                route=route_of(request),
                request_id=request_id(request),
            )
    session.commit()
    return {"objections": out_objections, "repairs": out_repairs}


def _own_application(session: DbSession, who: Principal, application_id: int) -> None:
    a = session.get(RepairApplication, application_id)
    if a is None or a.department != who.department:
        raise Problem(404, "not-found", "no such repair application about this department's records")
    session.close()


@router.post(
    "/v1/department/repairs/{application_id}/acceptance",
    summary="Accept a repair application (result due in 7 working days, 17 if complex) or not.",
)
def accept_application(
    request: Request, who: Dept, session: DbSession, application_id: RowId, body: AcceptanceIn
) -> dict[str, Any]:
    _own_application(session, who, application_id)
    try:
        a = accept_repair(
            ctx.engine(request),
            audit_of(request),
            application_id=application_id,
            accepted=body.accepted,
            reason=body.reason,
            complex_case=body.complex,
            department=who.department,
            actor=who.actor,
            request_id=request_id(request),
        )
    except RightsError as exc:
        raise _refused(exc) from None
    return repair_view(a)


@router.post(
    "/v1/department/repairs/{application_id}/decision",
    summary="Decide an accepted repair application; approved: record repaired, subject rescored.",
)
def decide_application(
    request: Request, who: Dept, session: DbSession, application_id: RowId, body: RepairDecisionIn
) -> dict[str, Any]:
    _own_application(session, who, application_id)
    try:
        a = decide_repair(
            ctx.engine(request),
            ctx.settings(request),
            audit_of(request),
            application_id=application_id,
            approved=body.approved,
            reason=body.reason,
            false_materials=body.false_materials,
            department=who.department,
            actor=who.actor,
            request_id=request_id(request),
        )
    except RightsError as exc:
        raise _refused(exc) from None
    return repair_view(a)
