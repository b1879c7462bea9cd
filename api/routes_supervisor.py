"""Supervisors' views of enterprise classes: the organisations in force by class, with filters
(sector, district, class), and the class distributions (overall, by sector, by district).

Listing organisations reads their credit data: each organisation on the page is written to the
query register (purpose ``supervision``) and the page to the audit log. Distributions are counts.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request

from api import score_context as ctx
from api.routes_common import audit_of, now_utc, request_id, route_of
from api.security import DbSession, require
from scoring.auth import Principal
from scoring.db.tables import QueryRegisterEntry
from scoring.monitoring import class_distribution, enterprise_classes

__all__ = ["router"]

router = APIRouter(tags=["supervision"])
Supervisor = Annotated[Principal, require("supervisor")]
Sector = Annotated[str | None, Query(max_length=40, description="Sector code, e.g. retail.")]
District = Annotated[str | None, Query(pattern="^[0-9]{6}$", description="6-digit district code.")]
Grade = Annotated[str | None, Query(alias="class", pattern="^[A-D]$", description="Class A–D.")]


def _listing(kinds: str | None) -> list[str]:
    return [k for k in (kinds or "").split(",") if k]


@router.get("/v1/supervisor/enterprises", summary="Organisations by class in force, filtered, one page.")
def enterprises(
    request: Request,
    who: Supervisor,
    session: DbSession,
    sector: Sector = None,
    district: District = None,
    grade: Grade = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
) -> dict[str, Any]:
    total, rows = enterprise_classes(
        session.connection(), sector=sector, district=district, grade=grade, limit=limit, offset=offset
    )
    now = now_utc()
    route, rid = route_of(request), request_id(request)
    entries = [
        QueryRegisterEntry(
            subject_id=int(r["subject_id"]),
            accessor_role=who.role,
            accessor_id=who.id[:96],
            purpose="supervision",
            route=route,
            accessed_at=now,
            request_id=rid,
        )
        for r in rows
    ]
    session.add_all(entries)
    session.flush()
    audit_of(request).append(
        session,
        actor=who.actor,
        action="credit.read.list",
        details={
            "purpose": "supervision",
            "route": route,
            "register_ids": [e.id for e in entries],
            "filters": {"sector": sector, "district": district, "class": grade},
        },
        request_id=rid,
        now=now,
    )
    session.commit()
    catalogue = ctx.catalogue(request)

    def words(kind: str) -> dict[str, str]:
        spec = catalogue.kinds.get(kind)
        return {"kind": kind, "zh": spec.zh if spec else kind, "en": spec.en if spec else kind}

    items = [
        {
            "code": r["code"],
            "name": r["name"],
            "org_type": r["org_type"],
            "sector": r["sector"],
            "district_code": r["district_code"],
            "state": r["state"],
            "class": r["grade"],
            "model_class": r["model_grade"],
            "pd": r["pd"],
            "downgrades": [words(k) for k in _listing(r["downgrades"])],
            "flags": [words(k) for k in _listing(r["flags"])],
            "as_of": str(r["as_of"]),
            "model_version": r["model_version"],
            "score_id": int(r["score_id"]),
        }
        for r in rows
    ]
    return {"total": total, "limit": limit, "offset": offset, "items": items}


@router.get(
    "/v1/supervisor/enterprises/distribution",
    summary="How many organisations are in each class: overall, by sector and by district.",
)
def distribution(
    who: Supervisor, session: DbSession, sector: Sector = None, district: District = None
) -> dict[str, Any]:
    return class_distribution(session.connection(), sector=sector, district=district)
