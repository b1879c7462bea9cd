"""The citizen's own routes: profile and credit file, who read it, consents to banks.

A citizen's token names its subject by pseudonym (``sub``); the identity number is shown in
clear only here, to the citizen it belongs to.
"""

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
from scoring.auth import ROLES, Principal
from scoring.credit_file import credit_file, person, subject_view
from scoring.db.tables import Subject
from scoring.explanations import explain, recourse
from scoring.publish import current_score, score_history
from scoring.register import record_read
from scoring.score_views import STATE_MESSAGES, action_view, history_view, reason_view, score_summary

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
def revoke_my_consent(request: Request, who: Citizen, session: DbSession, consent_id: RowId) -> Any:
    return do_revoke(request, session, who, _me(session, who), consent_id)


def _register(request: Request, session: DbSession, who: Principal, subject: Subject) -> None:
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


def _current(session: DbSession, subject: Subject) -> dict[str, Any]:
    row = current_score(session.connection(), subject.id)
    if row is None:
        raise Problem(404, "no-score", "no score has been published for this subject yet")
    return row


@router.get(
    "/v1/me/score",
    summary="My score (350–950), tier, date and state, reasons in plain words, model version.",
)
def my_score(request: Request, who: Citizen, session: DbSession) -> dict[str, Any]:
    """``state`` is ``scored``, ``insufficient_record`` (信用记录不足: no score) or ``minor``
    (not scored); only ``scored`` has a score, a tier of 较差…极好 and reasons. Each reason names
    the records behind it."""
    subject = _me(session, who)
    row = _current(session, subject)
    body = score_summary(row, ctx.policy(request), ctx.catalogue(request))
    reasons = explain(
        ctx.engine(request), row, registry=ctx.registry(request), catalogue=ctx.catalogue(request)
    )
    body["reasons"] = [reason_view(r) for r in reasons]
    _register(request, session, who, subject)
    return body


@router.get(
    "/v1/me/recourse", summary="What would raise my score most: actions and records leaving publicity."
)
def my_recourse(request: Request, who: Citizen, session: DbSession) -> dict[str, Any]:
    """Up to three changes, best first, each rescored by the model version that made the score:
    actionable conduct (debts and late payments to zero, full contribution months, ...) and
    negative records whose publicity period ends on a known date."""
    subject = _me(session, who)
    row = _current(session, subject)
    actions = recourse(
        ctx.engine(request),
        ctx.settings(request),
        row,
        registry=ctx.registry(request),
        catalogue=ctx.catalogue(request),
        cache=ctx.bundles(request),
    )
    body = {
        "score_id": int(row["id"]),
        "state": row["state"],
        "score": row["score"] if row["state"] == "scored" else None,
        "message": STATE_MESSAGES.get(row["state"]),
        "actions": [action_view(a) for a in actions],
    }
    _register(request, session, who, subject)
    return body


@router.get("/v1/me/history", summary="My published scores over time, oldest first.")
def my_history(request: Request, who: Citizen, session: DbSession) -> dict[str, Any]:
    subject = _me(session, who)
    rows = score_history(session.connection(), subject.id)
    policy, catalogue = ctx.policy(request), ctx.catalogue(request)
    body = {"scores": [history_view(r, policy, catalogue) for r in rows]}
    _register(request, session, who, subject)
    return body
