"""Administration: API keys of banks, partners and departments; audit log verification."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

from api.problems import Problem
from api.routes_common import audit_of, request_id
from api.security import DbSession, require
from scoring.auth import CredentialError, Principal, issue_api_key, list_api_keys, revoke_api_key
from scoring.db.tables import ApiKey

__all__ = ["router"]

router = APIRouter(tags=["administration"])
Admin = Annotated[Principal, require("admin")]


class ApiKeyIn(BaseModel):
    role: Literal["bank", "partner", "department"]
    name: str = Field(min_length=2, max_length=64, description="The client's code, e.g. a bank's.")
    department: str | None = Field(default=None, description="A department key: its catalogue code.")


def _key_view(k: ApiKey) -> dict[str, Any]:
    return {
        "key_id": k.key_id,
        "role": k.role,
        "name": k.name,
        "department": k.department,
        "created_at": k.created_at.isoformat(),
        "created_by": k.created_by,
        "revoked_at": k.revoked_at.isoformat() if k.revoked_at else None,
    }


@router.post("/v1/admin/api-keys", status_code=201, summary="Issue an API key (shown once).")
def create_api_key(request: Request, who: Admin, session: DbSession, body: ApiKeyIn) -> dict[str, Any]:
    try:
        key, row = issue_api_key(
            session,
            role=body.role,
            name=body.name,
            department=body.department,
            departments=request.app.state.catalogue.departments,
            created_by=who.actor,
        )
    except CredentialError as exc:
        raise Problem(422, "credential-refused", str(exc)) from None
    audit_of(request).append(
        session,
        actor=who.actor,
        action="api_key.issue",
        details=_key_view(row),
        request_id=request_id(request),
    )
    session.commit()
    return {**_key_view(row), "api_key": key}


@router.get("/v1/admin/api-keys", summary="API keys (never the keys themselves).")
def api_keys(who: Admin, session: DbSession) -> list[dict[str, Any]]:
    return [_key_view(k) for k in list_api_keys(session)]


@router.delete("/v1/admin/api-keys/{key_id}", summary="Revoke an API key.")
def delete_api_key(request: Request, who: Admin, session: DbSession, key_id: str) -> dict[str, Any]:
    row = revoke_api_key(session, key_id)
    if row is None:
        raise Problem(404, "not-found", "no such API key")
    audit_of(request).append(
        session,
        actor=who.actor,
        action="api_key.revoke",
        details={"key_id": key_id},
        request_id=request_id(request),
    )
    session.commit()
    request.app.state.key_cache.clear()  # after the commit: no request can re-cache the key as valid
    return _key_view(row)


@router.get("/v1/admin/audit/verify", summary="Verify the audit log's hash chain and its signed anchor.")
def verify_audit(
    request: Request, who: Annotated[Principal, require("admin", "supervisor")], session: DbSession
) -> dict[str, Any]:
    result = audit_of(request).verify(session)
    return {
        "ok": result.ok,
        "entries": result.entries,
        "head_seq": result.head_seq,
        "problems": result.problems,
    }
