"""Supervisors' and reviewers' reads of any subject's credit file, for a stated purpose
(registered and audited; identity numbers masked)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request

from api.problems import Problem
from api.routes_common import audit_of, request_id, route_of, vault_of
from api.security import DbSession, require
from scoring.auth import Principal
from scoring.credit_file import credit_file, organisation, person
from scoring.register import record_read

__all__ = ["router"]

router = APIRouter(tags=["supervision"])
STAFF_PURPOSES = Literal["supervision", "dispute_review", "repair_review", "complaint"]


@router.get("/v1/subjects/{subject_key}/file", summary="A subject's credit file (identity numbers masked).")
def subject_file(
    request: Request,
    who: Annotated[Principal, require("supervisor", "reviewer")],
    session: DbSession,
    subject_key: str,
    purpose: Annotated[STAFF_PURPOSES, Query(description="Why the file is read (registered).")],
) -> dict[str, Any]:
    subject = person(session, subject_key) or organisation(session, subject_key)
    if subject is None:
        raise Problem(404, "no-credit-file", "there is no credit file for this subject")
    body = credit_file(session, subject, vault_of(request), reveal_identity=False)
    record_read(
        session,
        audit_of(request),
        who=who,
        subject=subject,
        purpose=purpose,
        route=route_of(request),
        request_id=request_id(request),
    )
    session.commit()
    return body
