"""The citizen's own routes: profile and credit file, who read it, consents to banks.

A citizen's token names its subject by pseudonym (``sub``); the identity number is shown in
clear only here, to the citizen it belongs to.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request

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
from api.security import DbSession, require
from scoring.auth import ROLES, Principal
from scoring.credit_file import credit_file, person, subject_view
from scoring.db.tables import Subject
from scoring.register import record_read

__all__ = ["router"]

router = APIRouter(tags=["citizen"])
Citizen = Annotated[Principal, require("citizen")]


def _me(session: DbSession, who: Principal) -> Subject:
    subject = person(session, who.id)
    if subject is None:
        raise Problem(404, "no-credit-file", "there is no credit file for this subject")
    return subject


@router.get("/v1/whoami", tags=["operations"], summary="The authenticated caller (any role).")
def whoami(who: Annotated[Principal, require(*ROLES)]) -> dict[str, Any]:
    return {"role": who.role, "id": who.id, "orgs": list(who.orgs), "department": who.department}


@router.get("/v1/me", summary="My profile, with my identity number in clear.")
def me(request: Request, who: Citizen, session: DbSession) -> dict[str, Any]:
    subject = _me(session, who)
    view = subject_view(subject, vault_of(request), reveal_identity=True)
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
    return view


@router.get("/v1/me/file", summary="My credit file: my records, their publicity and status.")
def my_file(request: Request, who: Citizen, session: DbSession) -> dict[str, Any]:
    subject = _me(session, who)
    body = credit_file(session, subject, vault_of(request), reveal_identity=True)
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


@router.get("/v1/me/queries", summary="Who read my credit data, when and why (newest first).")
def my_queries(
    request: Request,
    who: Citizen,
    session: DbSession,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    before_id: Annotated[int | None, Query(ge=1)] = None,
) -> dict[str, Any]:
    return do_list_reads(request, session, who, _me(session, who), limit, before_id)


@router.get("/v1/me/consents", summary="My consents to banks.")
def my_consents(who: Citizen, session: DbSession) -> list[dict[str, Any]]:
    return do_list_consents(session, _me(session, who))


@router.post(
    "/v1/me/consents", status_code=201, summary="Let a bank read my credit for a purpose and period."
)
def grant_my_consent(request: Request, who: Citizen, session: DbSession, body: ConsentIn) -> Any:
    return do_grant(request, session, who, _me(session, who), body)


@router.delete("/v1/me/consents/{consent_id}", summary="Revoke one of my consents.")
def revoke_my_consent(request: Request, who: Citizen, session: DbSession, consent_id: int) -> Any:
    return do_revoke(request, session, who, _me(session, who), consent_id)
