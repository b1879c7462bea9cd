"""Supervisors' monitoring: data-quality bulletins, score coverage and early warning.

Bulletins and coverage are aggregates (no one's credit data). The early-warning list names
organisations with their class and reasons: the page is written to the audit log.
"""

from __future__ import annotations

import datetime as dt
import tempfile
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, Request, Response

from api.routes_common import audit_of, now_utc, request_id, route_of
from api.security import DbSession, require
from scoring.auth import Principal
from scoring.bulletins import bulletin, parse_period, write_bulletin
from scoring.coverage import coverage, coverage_trend
from scoring.early_warning import WarningPolicy, early_warnings

__all__ = ["router"]

router = APIRouter(tags=["supervision"])
Supervisor = Annotated[Principal, require("supervisor")]


@router.get(
    "/v1/supervisor/bulletins/{period}",
    summary="Data-quality bulletin per department for a period (2026-Q3 or 2026-09): JSON, CSV or HTML.",
)
def bulletin_route(
    period: str,
    request: Request,
    who: Supervisor,
    session: DbSession,
    format: Annotated[str, Query(pattern="^(json|csv|html)$", description="json, csv or html.")] = "json",
) -> Any:
    try:
        parse_period(period)
    except ValueError as exc:
        raise HTTPException(status_code=422, detail=str(exc)) from None
    b = bulletin(session.get_bind(), period)  # type: ignore[arg-type]
    if format != "json":
        with tempfile.TemporaryDirectory() as tmp:
            html_path, csv_path = write_bulletin(b, Path(tmp))
            path = html_path if format == "html" else csv_path
            body = path.read_bytes()
        media = "text/html; charset=utf-8" if format == "html" else "text/csv; charset=utf-8"
        return Response(body, media_type=media)
    return {
        "period": b.period,
        "start": b.start.isoformat(),
        "end": (b.end - dt.timedelta(days=1)).isoformat(),
        "departments": [
            {
                "department": d.department,
                "batches": d.batches,
                "rows_read": d.rows_read,
                "accepted": d.accepted,
                "duplicate": d.duplicate,
                "correction": d.correction,
                "quarantined": d.quarantined,
                "conflicts": d.conflicts,
                "quarantined_by_reason": d.reasons,
                "timeliness_median_days": d.timeliness_median_days,
                "timeliness_p90_days": d.timeliness_p90_days,
                "received_within_30_days": d.received_within_30_days,
                "completeness": d.completeness,
            }
            for d in b.departments
        ],
    }


@router.get(
    "/v1/supervisor/coverage", summary="Share of adult residents with a score, by district and age band."
)
def coverage_route(
    who: Supervisor,
    session: DbSession,
    trend: Annotated[bool, Query(description="Every published snapshot, oldest first.")] = False,
) -> dict[str, Any]:
    engine = session.get_bind()
    try:
        items = coverage_trend(engine) if trend else [coverage(engine)]  # type: ignore[arg-type]
    except LookupError as exc:
        raise HTTPException(status_code=404, detail=str(exc)) from None
    return {
        "target": items[-1].target if items else None,
        "snapshots": [
            {
                "snapshot_id": c.snapshot_id,
                "as_of": c.as_of.isoformat(),
                "adults": c.adults,
                "scored": c.scored,
                "share": c.share,
                "meets_target": c.meets_target,
                "by_district": c.by_district.to_dicts(),
                "by_age_band": c.by_age_band.to_dicts(),
            }
            for c in items
        ],
    }


@router.get(
    "/v1/supervisor/warnings",
    summary="Early warning: organisations that deteriorated or collected new serious records.",
)
def warnings_route(
    request: Request,
    who: Supervisor,
    session: DbSession,
    start: Annotated[dt.date, Query(alias="from", description="Period start (date).")],
    end: Annotated[dt.date | None, Query(alias="to", description="Period end (date, default today).")] = None,
    class_drop: Annotated[int, Query(ge=1, le=3)] = 2,
    pd_ratio: Annotated[float, Query(gt=1, le=100)] = 2.0,
    pd_increase: Annotated[float, Query(ge=0, le=1)] = 0.05,
) -> dict[str, Any]:
    until = dt.datetime.combine(end, dt.time.max) if end else now_utc()
    since = dt.datetime.combine(start, dt.time())
    if until < since:
        raise HTTPException(status_code=422, detail="the period ends before it starts")
    found = early_warnings(
        session.get_bind(),  # type: ignore[arg-type]
        since,
        until,
        WarningPolicy(class_drop=class_drop, pd_ratio=pd_ratio, pd_increase=pd_increase),
    )
    audit_of(request).append(
        session,
        actor=who.actor,
        action="credit.read.list",
        details={"purpose": "early_warning", "route": route_of(request), "organisations": len(found)},
        request_id=request_id(request),
        now=now_utc(),
    )
    session.commit()
    return {
        "from": since.isoformat(),
        "to": until.isoformat(),
        "organisations": [
            {
                "code": w.code,
                "name": w.name,
                "sector": w.sector,
                "district": w.district,
                "class_before": w.class_before,
                "class_after": w.class_after,
                "pd_before": w.pd_before,
                "pd_after": w.pd_after,
                "serious_records": w.serious_records,
                "reasons_zh": w.reasons_zh,
                "reasons_en": w.reasons_en,
            }
            for w in found
        ],
    }
