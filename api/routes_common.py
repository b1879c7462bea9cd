"""Shared pieces of the route modules: request context, consent bodies and views."""

from __future__ import annotations

import datetime as dt
from typing import Any

from fastapi import Request
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from api.problems import Problem
from scoring.audit import AuditLog
from scoring.auth import Principal
from scoring.consents import PURPOSES, ConsentError, grant_consent, list_consents, revoke_consent
from scoring.db.tables import Consent, QueryRegisterEntry, Subject
from scoring.identity import IdentityVault
from scoring.register import list_reads

__all__ = [
    "ConsentIn",
    "audit_of",
    "consent_view",
    "do_grant",
    "do_list_consents",
    "do_revoke",
    "query_view",
    "request_id",
    "route_of",
    "utc_naive",
    "vault_of",
]


def request_id(request: Request) -> str | None:
    return getattr(request.state, "request_id", None)


def route_of(request: Request) -> str:
    """The route template (``/v1/subjects/{subject_key}/file``), not the path with its values."""
    route = request.scope.get("route")
    return str(getattr(route, "path", request.url.path))


def audit_of(request: Request) -> AuditLog:
    audit: AuditLog = request.app.state.audit
    return audit


def vault_of(request: Request) -> IdentityVault:
    vault: IdentityVault = request.app.state.vault
    return vault


def utc_naive(value: dt.datetime) -> dt.datetime:
    """Aware times to naive UTC (the store's convention); naive ones are taken as UTC."""
    if value.tzinfo is not None:
        value = value.astimezone(dt.UTC).replace(tzinfo=None)
    return value


def now_utc() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


class ConsentIn(BaseModel):
    bank: str = Field(min_length=2, max_length=64, description="The bank's code.")
    purpose: str = Field(description=f"One of: {', '.join(PURPOSES)}.")
    valid_from: dt.datetime = Field(
        description="Start of the period (inclusive); ISO 8601, UTC if no offset."
    )
    valid_to: dt.datetime = Field(description="End of the period (exclusive).")


def consent_view(c: Consent, at: dt.datetime) -> dict[str, Any]:
    active = c.revoked_at is None and c.valid_from <= at < c.valid_to
    return {
        "id": c.id,
        "bank": c.bank,
        "purpose": c.purpose,
        "valid_from": c.valid_from.isoformat(),
        "valid_to": c.valid_to.isoformat(),
        "granted_at": c.granted_at.isoformat(),
        "revoked_at": c.revoked_at.isoformat() if c.revoked_at else None,
        "active": active,
    }


def query_view(q: QueryRegisterEntry) -> dict[str, Any]:
    return {
        "id": q.id,
        "accessor_role": q.accessor_role,
        "accessor_id": q.accessor_id,
        "purpose": q.purpose,
        "route": q.route,
        "accessed_at": q.accessed_at.isoformat(),
        "request_id": q.request_id,
    }


def do_grant(request: Request, session: Session, who: Principal, subject: Subject, body: ConsentIn) -> Any:
    now = now_utc()
    try:
        c = grant_consent(
            session,
            subject_id=subject.id,
            bank=body.bank,
            purpose=body.purpose,
            valid_from=utc_naive(body.valid_from),
            valid_to=utc_naive(body.valid_to),
            granted_by=who.actor,
            now=now,
        )
    except ConsentError as exc:
        raise Problem(422, "consent-refused", str(exc)) from None
    audit_of(request).append(
        session,
        actor=who.actor,
        action="consent.grant",
        subject_ref=subject.subject_key,
        details={"consent_id": c.id, "bank": c.bank, "purpose": c.purpose},
        request_id=request_id(request),
        now=now,
    )
    session.commit()
    return consent_view(c, now)


def do_list_consents(session: Session, subject: Subject) -> list[dict[str, Any]]:
    now = now_utc()
    return [consent_view(c, now) for c in list_consents(session, subject.id)]


def do_revoke(request: Request, session: Session, who: Principal, subject: Subject, consent_id: int) -> Any:
    now = now_utc()
    c = revoke_consent(session, subject_id=subject.id, consent_id=consent_id, revoked_by=who.actor, now=now)
    if c is None:
        raise Problem(404, "not-found", "no such consent")
    audit_of(request).append(
        session,
        actor=who.actor,
        action="consent.revoke",
        subject_ref=subject.subject_key,
        details={"consent_id": c.id},
        request_id=request_id(request),
        now=now,
    )
    session.commit()
    return consent_view(c, now)


def do_list_reads(
    request: Request, session: Session, who: Principal, subject: Subject, limit: int, before_id: int | None
) -> dict[str, Any]:
    rows = list_reads(session, subject.id, limit=limit, before_id=before_id)
    audit_of(request).append(
        session,
        actor=who.actor,
        action="register.read",
        subject_ref=subject.subject_key,
        details={"route": route_of(request), "rows": len(rows)},
        request_id=request_id(request),
    )
    session.commit()
    return {"queries": [query_view(q) for q in rows], "next_before_id": rows[-1].id if rows else None}
