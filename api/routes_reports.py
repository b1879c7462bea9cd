"""Credit reports and the public disclosure feed.

* ``GET /v1/me/report`` — the citizen's own report (audience ``self``), PDF or HTML;
* ``GET /v1/orgs/{code}/report`` — an organisation's full report, for its representative;
* ``GET /v1/orgs/{code}/public-report`` — the public part of an organisation's report, to anyone;
* ``GET /v1/reports/{number}/verify?code=`` — public: was this report issued with this code;
* ``GET /v1/disclosure/feed?on=`` — public: licences and penalties on the 双公示 feed that day.

Every report issued is stored and, for persons and full organisation reports, registered
(``scoring.reports.issue_report``). The public routes that issue or check reports are rate
limited per client address with the API keys' bucket.
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from api import score_context as ctx
from api.problems import Problem
from api.routes_bank import _PURPOSE_PATTERN, NO_CONSENT, SubjectIn
from api.routes_common import audit_of, now_utc, request_id, route_of, vault_of
from api.security import DbSession, require
from features.ids import IdentifierError
from scoring.assessments import AssessmentRequest, consent_in_force, find_subject
from scoring.auth import Principal
from scoring.consents import PURPOSES
from scoring.credit_file import organisation, person
from scoring.db.tables import Subject
from scoring.disclosure import department_metrics, disclosure_feed
from scoring.reports import issue_report, render_html, render_pdf, verify_report

__all__ = ["router"]

router = APIRouter(tags=["reports"])
Citizen = Annotated[Principal, require("citizen")]
Bank = Annotated[Principal, require("bank")]
Supervisor = Annotated[Principal, require("supervisor")]
Rep = Annotated[Principal, require("enterprise_rep")]
Format = Annotated[Literal["pdf", "html"], Query(description="pdf or html")]
Purpose = Annotated[str, Query(min_length=1, max_length=40, pattern=r"^[a-z0-9_]+$")]
OrgCode = Annotated[str, Path(min_length=18, max_length=18, pattern=r"^[0-9A-Za-z]{18}$")]
_FILE = {200: {"content": {"application/pdf": {}, "text/html": {}}, "description": "The report file."}}
_FIRST_DAY, _LAST_DAY = dt.date(1990, 1, 1), dt.date(2100, 12, 31)
ANONYMOUS = Principal(role="anonymous", id="public")  # issued_to of public reports


def _throttle(request: Request) -> None:
    client = request.client.host if request.client else "unknown"
    wait = request.app.state.limiter.take(f"ip:{client}")
    if wait > 0:
        raise Problem(
            429,
            "rate-limited",
            "too many requests from this address; retry later",
            headers={"Retry-After": str(max(1, math.ceil(wait)))},
        )


def _issue(
    request: Request,
    session: DbSession,
    subject: Subject,
    audience: str,
    who: Principal,
    purpose: str,
    fmt: str,
) -> Response:
    settings = ctx.settings(request)
    report = issue_report(
        ctx.engine(request),
        session,
        subject,
        audience,
        who=who,
        purpose=purpose,
        settings=settings,
        vault=vault_of(request),
        audit=audit_of(request),
        route=route_of(request),
        request_id=request_id(request),
    )
    body = render_pdf(report) if fmt == "pdf" else render_html(report).encode()
    session.commit()
    return Response(
        body,
        media_type="application/pdf" if fmt == "pdf" else "text/html; charset=utf-8",
        headers={
            "X-Report-Number": report.number,
            "X-Report-Code": report.printed_code,
            "Content-Disposition": f'attachment; filename="{report.number}.{fmt}"',
        },
    )


@router.get(
    "/v1/me/report",
    summary="Issue my credit report (registered in my query register).",
    response_class=Response,
    responses=_FILE,  # type: ignore[arg-type]
)
def my_report(
    request: Request,
    who: Citizen,
    session: DbSession,
    format: Format = "pdf",
    purpose: Purpose = "self_service",
) -> Response:
    subject = person(session, who.id)
    if subject is None:
        raise Problem(404, "no-credit-file", "there is no credit file for this subject")
    return _issue(request, session, subject, "self", who, purpose, format)


@router.get(
    "/v1/orgs/{code}/report",
    summary="Issue the organisation's full credit report, for its representative.",
    response_class=Response,
    responses=_FILE,  # type: ignore[arg-type]
)
def org_report(
    request: Request,
    who: Rep,
    session: DbSession,
    code: OrgCode,
    format: Format = "pdf",
    purpose: Purpose = "self_service",
) -> Response:
    code = code.upper()
    if code not in who.orgs:
        raise Problem(403, "not-your-organisation", "this representative does not act for that organisation")
    subject = organisation(session, code)
    if subject is None:
        raise Problem(404, "no-credit-file", "there is no credit file for this organisation")
    return _issue(request, session, subject, "full", who, purpose, format)


@router.get(
    "/v1/orgs/{code}/public-report",
    summary="Issue the public part of an organisation's credit report (anyone).",
    response_class=Response,
    responses=_FILE,  # type: ignore[arg-type]
)
def org_public_report(
    request: Request, session: DbSession, code: OrgCode, format: Format = "pdf"
) -> Response:
    _throttle(request)
    subject = organisation(session, code)
    if subject is None:
        raise Problem(404, "no-credit-file", "there is no credit file for this organisation")
    return _issue(request, session, subject, "public", ANONYMOUS, "public", format)


@router.get(
    "/v1/reports/{number}/verify", summary="Was this report issued with this integrity code? (public)"
)
def verify(
    request: Request,
    session: DbSession,
    number: Annotated[str, Path(min_length=8, max_length=32, pattern=r"^[0-9A-Za-z]+$")],
    code: Annotated[str, Query(min_length=1, max_length=64)],
) -> dict[str, Any]:
    _throttle(request)
    return verify_report(session, number, code, settings=ctx.settings(request)).as_dict()


@router.get(
    "/v1/disclosure/feed", summary="Licences and penalties on the public feed on a day (双公示, public)."
)
def feed(request: Request, on: dt.date | None = None) -> dict[str, Any]:
    day = on or dt.datetime.now(dt.UTC).date()
    if not _FIRST_DAY <= day <= _LAST_DAY:
        raise Problem(422, "date-out-of-range", f"the day must lie between {_FIRST_DAY} and {_LAST_DAY}")
    result = disclosure_feed(ctx.engine(request), day, catalogue=ctx.catalogue(request))
    return {"on": result.on.isoformat(), "entries": result.entries, "withdrawn": result.withdrawn}


@router.get(
    "/v1/disclosure/metrics",
    summary="Per department: submission rate, compliance and timeliness of public disclosure (supervisor).",
)
def disclosure_metrics(
    request: Request,
    who: Supervisor,
    start: Annotated[dt.date, Query(alias="from", description="First decision day of the period.")],
    end: Annotated[dt.date, Query(alias="to", description="Last decision day of the period.")],
) -> dict[str, Any]:
    if not (_FIRST_DAY <= start <= end <= _LAST_DAY):
        raise Problem(422, "bad-period", f"the period must run forwards between {_FIRST_DAY} and {_LAST_DAY}")
    rows = department_metrics(ctx.engine(request), start, end, catalogue=ctx.catalogue(request))
    return {"from": start.isoformat(), "to": end.isoformat(), "departments": [m.as_dict() for m in rows]}


# --- an authorised party: a bank with the subject's consent ----------------------------------------


class AuthorisedReportIn(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "subject": {"type": "person", "identifier": "110105198001010019"},
                    "consent_id": 1,
                    "purpose": "credit_loan",
                    "format": "pdf",
                }
            ]
        }
    )
    subject: SubjectIn
    consent_id: int = Field(ge=1, le=2**62, description="The subject's consent to this bank (its id).")
    purpose: str = Field(pattern=_PURPOSE_PATTERN, description=f"One of: {', '.join(PURPOSES)}.")
    format: Literal["pdf", "html"] = Field(default="pdf", description="pdf or html.")


@router.post(
    "/v1/bank/reports",
    summary="Issue a subject's full credit report to a bank holding the subject's consent.",
    response_class=Response,
    responses=_FILE,  # type: ignore[arg-type]
)
def authorised_report(request: Request, who: Bank, session: DbSession, body: AuthorisedReportIn) -> Response:
    req = AssessmentRequest(body.subject.type, body.subject.identifier, body.consent_id, body.purpose, 1.0)
    try:
        subject = find_subject(session, vault_of(request), req)
    except IdentifierError:
        raise Problem(
            422, "invalid-identifier", f"the {req.subject_type}'s identifier is malformed"
        ) from None
    now = now_utc()
    allowed = subject is not None and consent_in_force(
        session, consent_id=req.consent_id, bank=who.id, subject_id=subject.id, purpose=req.purpose, at=now
    )
    if subject is None or not allowed:
        audit_of(request).append(
            session,
            actor=who.actor,
            action="bank.report.refused",
            subject_ref=subject.subject_key if subject is not None else None,
            details={"purpose": req.purpose, "consent_id": req.consent_id},
            request_id=request_id(request),
            now=now,
        )
        session.commit()
        raise Problem(403, "no-consent", NO_CONSENT)  # the same answer whether or not the subject exists
    audience = "authorised" if subject.subject_type == "person" else "full"
    return _issue(request, session, subject, audience, who, req.purpose, body.format)
