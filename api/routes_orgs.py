"""An enterprise representative's routes for the organisations its token names (``orgs``):
the organisation's credit file, who read it, and its consents to banks."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request

from api import score_context as ctx
from api.problems import Problem
from api.routes_common import (
    ConsentIn,
    audit_of,
    do_grant,
    do_list_consents,
    do_list_reads,
    do_revoke,
    request_id,
    route_of,
    vault_of,
)
from api.security import DbSession, RowId, require
from scoring.auth import Principal
from scoring.credit_file import credit_file, organisation
from scoring.db.tables import Subject
from scoring.explanations import explain
from scoring.publish import current_score
from scoring.register import record_read
from scoring.score_views import reason_view, score_summary

__all__ = ["router"]

router = APIRouter(tags=["enterprise"])
Rep = Annotated[Principal, require("enterprise_rep")]


def _org(session: DbSession, who: Principal, code: str) -> Subject:
    code = code.strip().upper()
    if code not in who.orgs:
        raise Problem(403, "not-your-organisation", "this representative does not act for that organisation")
    subject = organisation(session, code)
    if subject is None:
        raise Problem(404, "no-credit-file", "there is no credit file for this organisation")
    return subject


@router.get("/v1/orgs/{code}/file", summary="The organisation's credit file.")
def org_file(request: Request, who: Rep, session: DbSession, code: str) -> dict[str, Any]:
    subject = _org(session, who, code)
    body = credit_file(session, subject, vault_of(request))
    record_read(
        session,
        audit_of(request),
        who=who,
        subject=subject,
        purpose="self_service",
        route=route_of(request),
        request_id=request_id(request),
    )
    session.commit()
    return body


@router.get("/v1/orgs/{code}/queries", summary="Who read the organisation's credit data.")
def org_queries(
    request: Request,
    who: Rep,
    session: DbSession,
    code: str,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    before_id: Annotated[int | None, Query(ge=1)] = None,
) -> dict[str, Any]:
    return do_list_reads(request, session, who, _org(session, who, code), limit, before_id)


@router.get("/v1/orgs/{code}/consents", summary="The organisation's consents to banks.")
def org_consents(who: Rep, session: DbSession, code: str) -> list[dict[str, Any]]:
    return do_list_consents(session, _org(session, who, code))


@router.post(
    "/v1/orgs/{code}/consents", status_code=201, summary="Let a bank read the organisation's credit."
)
def grant_org_consent(request: Request, who: Rep, session: DbSession, code: str, body: ConsentIn) -> Any:
    return do_grant(request, session, who, _org(session, who, code), body)


@router.delete("/v1/orgs/{code}/consents/{consent_id}", summary="Revoke one of the organisation's consents.")
def revoke_org_consent(request: Request, who: Rep, session: DbSession, code: str, consent_id: RowId) -> Any:
    return do_revoke(request, session, who, _org(session, who, code), consent_id)


@router.get(
    "/v1/orgs/{code}/score",
    summary="The organisation's class (A–D), its model class, listing downgrades and reasons.",
)
def org_score(request: Request, who: Rep, session: DbSession, code: str) -> dict[str, Any]:
    """``class`` is the class in force: the model's class (from the PD) capped by active
    listings (serious dishonesty → D, judgment defaulter → C, abnormal operation → B), which
    are named in ``downgrades``. An organisation with a thin file and no listing has no class
    (``insufficient_record``)."""
    subject = _org(session, who, code)
    row = current_score(session.connection(), subject.id)
    if row is None:
        raise Problem(404, "no-score", "no class has been published for this organisation yet")
    body = score_summary(row, ctx.policy(request), ctx.catalogue(request), with_pd=True)
    reasons = explain(
        ctx.engine(request), row, registry=ctx.registry(request), catalogue=ctx.catalogue(request)
    )
    body["reasons"] = [reason_view(r) for r in reasons]
    record_read(
        session,
        audit_of(request),
        who=who,
        subject=subject,
        purpose="self_service",
        route=route_of(request),
        request_id=request_id(request),
    )
    session.commit()
    return body
