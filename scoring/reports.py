"""Credit reports (信用报告) in one format, as HTML and PDF, each with a number and an integrity code.

Audiences:

* a person's report — ``self`` (to the person) or ``authorised`` (to a party the person
  authorised): identity masked, score or tier with reasons, listings, records in their publicity
  period, commitments, repairs;
* an organisation's report — ``public`` (to anyone: the public credit information, i.e.
  registration, listings, licences and penalties on the disclosure feed, published commitments,
  and its class without reasons) or ``full`` (when authorised: everything, as for a person).

Records are those the point-in-time selection uses on the report date
(``features.pointintime.usable_records``): in their publicity period, not withdrawn, repaired or
expired, not under an open dispute. An organisation's report never shows the records of the
persons linked to it. Routine payment records (contributions, bills, tax payments, repayments)
are summarised per kind; other records are listed one by one.

Integrity: the content is a JSON document; ``content_digest = SHA-256`` of its canonical form
(sorted keys, no spaces, UTF-8) and the integrity code is the first 80 bits of
``HMAC-SHA256(CREDIT_REPORT_KEY, "credit-report|number|digest")``, printed in five groups of
four. Every report issued is stored (``credit_reports``: number, subject, audience, digest, code,
issue time, recipient) and, for persons and full organisation reports, registered as a read of
credit data (query register and audit log). ``verify_report(number, code)`` tells a procurement
office whether a printout's number and code were issued together and by whom for whom;
``verify_document`` checks a PDF or HTML file itself: the content embedded in it must have the
stored digest, and the file must be exactly what the service renders from that content (PDFs
are rendered with reportlab's invariant mode, so the same content gives the same bytes).

* ``ReportError`` (a ``ValueError``): an audience the subject type does not have.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import html
import io
import json
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import polars as pl
import sqlalchemy as sa
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from features.catalogue import Catalogue, load_catalogue
from features.pointintime import usable_records
from features.registry import Registry, load_registry
from scoring.audit import AuditLog
from scoring.auth import Principal
from scoring.commitments import of_subject, publication
from scoring.db.report_tables import CreditReport
from scoring.db.tables import Subject
from scoring.disclosure import DISCLOSURE
from scoring.identity import IdentityVault
from scoring.publish import current_score, feature_values
from scoring.register import record_read
from scoring.score_views import brief_reasons, score_summary
from scoring.scores import ScoringPolicy
from scoring.store import read_subject

__all__ = [
    "AUDIENCES",
    "FORMAT",
    "IssuedReport",
    "ReportError",
    "ReportVerification",
    "build_content",
    "canonical",
    "integrity_code",
    "issue_report",
    "render_html",
    "render_pdf",
    "verify_document",
    "verify_report",
]

FORMAT = "credit-report/1"
PERSON_AUDIENCES = ("self", "authorised")
ORG_AUDIENCES = ("public", "full")
AUDIENCES = PERSON_AUDIENCES + ORG_AUDIENCES
_CODE_HEX = 20  # 80 bits of the HMAC, printed as five groups of four
_ROUTINE = (
    "social_insurance_contribution",
    "medical_insurance_contribution",
    "tax_payment",
    "utility_bill",
    "loan_repayment",
)
_AUDIENCE_ZH = {
    "self": "本人查询版",
    "authorised": "授权查询版",
    "public": "公开版",
    "full": "授权完整版",
}
_TYPE_NAMES = {
    "enterprise": "企业 Enterprise",
    "individual_business": "个体工商户 Individual business",
    "social_organization": "社会组织 Social organisation",
    "public_institution": "事业单位 Public institution",
    "government_body": "机关 Government body",
}
_NUMBER_FIELDS = ("doc_no", "licence_no", "notice_no", "case_no", "plan_no", "commitment_no")


class ReportError(ValueError):
    """A report the rules do not allow."""


@dataclass(frozen=True)
class IssuedReport:
    number: str
    code: str  # 20 hex characters, upper case
    content: dict[str, Any]
    digest: str
    verify_url: str

    @property
    def printed_code(self) -> str:
        return "-".join(self.code[i : i + 4] for i in range(0, len(self.code), 4))


def canonical(content: Mapping[str, Any]) -> bytes:
    return json.dumps(content, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode()


def content_digest(content: Mapping[str, Any]) -> str:
    return hashlib.sha256(canonical(content)).hexdigest()


def integrity_code(key: bytes, number: str, digest: str) -> str:
    mac = hmac.new(key, f"credit-report|{number}|{digest}".encode(), hashlib.sha256).hexdigest()
    return mac[:_CODE_HEX].upper()


def _key(settings: Any) -> bytes:
    return str(settings.report_key.get_secret_value()).encode()


def _normal_code(code: str) -> str:
    return re.sub(r"[^0-9A-Fa-f]", "", code).upper()


def verify_url(settings: Any, number: str, code: str) -> str:
    base = str(settings.public_base_url).rstrip("/")
    return f"{base}/v1/reports/{number}/verify?code={code}"


# --- content -------------------------------------------------------------------------------------


def _iso(value: Any) -> Any:
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    return value


def _subject_part(subject: Subject, vault: IdentityVault) -> dict[str, Any]:
    if subject.subject_type == "person":
        masked = vault.masked(subject.id_cipher) if subject.id_cipher else None
        return {"type": "person", "identity": masked, "district_code": subject.district_code}
    return {
        "type": subject.subject_type,
        "name": subject.name,
        "credit_code": subject.subject_key,
        "sector": subject.sector,
        "registered_on": _iso(subject.registered_on),
        "district_code": subject.district_code,
    }


def _assessment(
    engine: Engine, subject: Subject, with_reasons: bool, registry: Registry, settings: Any, cat: Catalogue
) -> dict[str, Any] | None:
    row = current_score(engine, subject.id)
    if row is None:
        return None
    summary = score_summary(row, ScoringPolicy.from_settings(settings), cat)
    out: dict[str, Any] = {
        "state": summary["state"],
        "message": summary["message"],
        "as_of": summary["as_of"],
    }
    if subject.subject_type == "person":
        out.update(score=summary.get("score"), tier=summary.get("tier"))
    else:
        out.update({"class": summary.get("class"), "downgrades": summary.get("downgrades", [])})
    if with_reasons:
        out["model_version"] = summary["model_version"]
        reasons = (
            brief_reasons(row, registry, feature_values(engine, row)) if row["state"] == "scored" else []
        )
        out["reasons"] = [
            {"direction": r["direction"], "points": r["points"], "zh": r["zh"], "en": r["en"]}
            for r in reasons
        ]
    return out


def _record_item(r: Mapping[str, Any], cat: Catalogue) -> dict[str, Any]:
    spec = cat.kinds.get(r["kind"])
    payload = json.loads(r.get("payload") or "{}")
    dept = cat.departments.get(r["department"], {})
    return {
        "kind": r["kind"],
        "zh": spec.zh if spec else r["kind"],
        "en": spec.en if spec else r["kind"],
        "polarity": spec.polarity if spec else None,
        "severity": r["severity"],
        "department": dept.get("zh", r["department"]),
        "event_date": _iso(r["event_date"]),
        "publicity_end": _iso(r["publicity_end"]),
        "reference": next((str(payload[f]) for f in _NUMBER_FIELDS if payload.get(f)), None),
        "outcome": r.get("outcome"),
        "amount": r.get("amount"),
    }


def _summary_item(kind: str, rows: pl.DataFrame, cat: Catalogue) -> dict[str, Any]:
    spec = cat.kinds[kind]
    outcomes = rows["outcome"].fill_null("—").value_counts(sort=True)
    return {
        "kind": kind,
        "zh": spec.zh,
        "en": spec.en,
        "count": rows.height,
        "first": _iso(rows["event_date"].min()),
        "last": _iso(rows["event_date"].max()),
        "outcomes": {str(o): int(n) for o, n in outcomes.iter_rows()},
    }


def build_content(
    engine: Engine,
    session: Session,
    subject: Subject,
    audience: str,
    *,
    number: str,
    issued_at: dt.datetime,
    settings: Any,
    vault: IdentityVault,
    catalogue: Catalogue | None = None,
    registry: Registry | None = None,
) -> dict[str, Any]:
    """The report's content: a JSON-ready dict (dates as ISO text)."""
    person = subject.subject_type == "person"
    allowed = PERSON_AUDIENCES if person else ORG_AUDIENCES
    if audience not in allowed:
        raise ReportError(f"a {subject.subject_type} report is for {' or '.join(allowed)}, not {audience}")
    cat = catalogue or load_catalogue()
    reg = registry or load_registry(catalogue=cat)
    public = audience == "public"
    day = issued_at.date()
    snap = read_subject(engine, subject.id, known_at=issued_at)
    own = snap.records.filter(pl.col("subject_id") == subject.id)
    events = snap.events.filter(pl.col("subject_id") == subject.id)
    usable = usable_records(own, events, as_of=day, known_at=issued_at, catalogue=cat).sort(
        ["event_date", "record_uid"], descending=True
    )
    if public:
        shown = {k for k, s in cat.kinds.items() if s.listing or s.disclosure == DISCLOSURE}
        shown |= {"org_registration", "credit_commitment", "inspection_result"}
        usable = usable.filter(pl.col("kind").is_in(sorted(shown)))
    listing_kinds = {k for k, s in cat.kinds.items() if s.listing}
    listings = [
        _record_item(r, cat) for r in usable.filter(pl.col("kind").is_in(listing_kinds)).iter_rows(named=True)
    ]
    rest = usable.filter(~pl.col("kind").is_in(listing_kinds))
    routine = rest.filter(pl.col("kind").is_in(_ROUTINE))
    records = [
        _record_item(r, cat) for r in rest.filter(~pl.col("kind").is_in(_ROUTINE)).iter_rows(named=True)
    ]
    summaries = [
        _summary_item(k, routine.filter(pl.col("kind") == k), cat)
        for k in _ROUTINE
        if k in set(routine["kind"])
    ]
    commitments = [
        publication(c, subject, vault=vault, catalogue=cat)
        for c in of_subject(session, subject.id)
        if c.signed_at <= issued_at
    ]
    for c in commitments:
        c.pop("text", None)
    content: dict[str, Any] = {
        "format": FORMAT,
        "number": number,
        "issued_at": issued_at.replace(microsecond=0).isoformat(),
        "as_of": day.isoformat(),
        "audience": audience,
        "catalogue_version": cat.version,
        "subject": _subject_part(subject, vault),
        "assessment": _assessment(engine, subject, not public, reg, settings, cat),
        "listings": listings,
        "records": records,
        "routine": summaries,
        "commitments": commitments,
    }
    if not public:
        repaired = snap.events.filter(
            (pl.col("subject_id") == subject.id)
            & (pl.col("event_type") == "repaired")
            & (pl.col("effective_date") <= day)
        )
        kinds = dict(zip(own["record_uid"].to_list(), own["kind"].to_list(), strict=True))
        content["repairs"] = [
            {
                "kind": kinds.get(e["record_uid"]),
                "zh": cat.kinds[kinds[e["record_uid"]]].zh if e["record_uid"] in kinds else None,
                "repaired_on": _iso(e["effective_date"]),
            }
            for e in repaired.sort("effective_date").iter_rows(named=True)
        ]
    return content


# --- issuing and verifying -----------------------------------------------------------------------


def _new_number(day: dt.date) -> str:
    alphabet = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"
    tail = "".join(secrets.choice(alphabet) for _ in range(10))
    return f"CR{day:%Y%m%d}{tail}"


def issue_report(
    engine: Engine,
    session: Session,
    subject: Subject,
    audience: str,
    *,
    who: Principal,
    purpose: str,
    settings: Any,
    vault: IdentityVault,
    audit: AuditLog,
    route: str = "cli:credit report",
    request_id: str | None = None,
    now: dt.datetime | None = None,
) -> IssuedReport:
    """Build, store and register one report (in ``session``; the caller commits)."""
    # Read as known at this very moment (a record stored a moment ago is in); print to the second.
    when = now or dt.datetime.now(dt.UTC).replace(tzinfo=None)
    number = _new_number(when.date())
    content = build_content(
        engine, session, subject, audience, number=number, issued_at=when, settings=settings, vault=vault
    )
    digest = content_digest(content)
    code = integrity_code(_key(settings), number, digest)
    session.add(
        CreditReport(
            number=number,
            subject_id=subject.id,
            audience=audience,
            content_digest=digest,
            code=code,
            issued_at=when.replace(microsecond=0),
            issued_to=who.actor[:96],
            purpose=purpose[:48],
        )
    )
    if subject.subject_type == "person" or audience == "full":
        record_read(
            session,
            audit,
            who=who,
            subject=subject,
            purpose=f"credit_report:{purpose}",
            route=route,
            request_id=request_id,
            now=when,
        )
    session.flush()
    return IssuedReport(number, code, content, digest, verify_url(settings, number, code))


@dataclass
class ReportVerification:
    valid: bool
    number: str
    reason: str | None = None  # unknown_number | code_mismatch | record_altered | content_altered | ...
    details: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {"valid": self.valid, "number": self.number, "reason": self.reason, **self.details}


def verify_report(session: Session, number: str, code: str, *, settings: Any) -> ReportVerification:
    """Were this number and code issued together? Says for whom and when, when they were."""
    row = session.execute(
        sa.select(CreditReport).where(CreditReport.number == number.strip().upper())
    ).scalar_one_or_none()
    if row is None:
        return ReportVerification(False, number, "unknown_number")
    if not hmac.compare_digest(_normal_code(code), row.code):
        return ReportVerification(False, number, "code_mismatch")
    if not hmac.compare_digest(row.code, integrity_code(_key(settings), row.number, row.content_digest)):
        return ReportVerification(False, number, "record_altered")
    subject = session.get(Subject, row.subject_id)
    who: dict[str, Any] = {}
    if subject is not None and subject.subject_type != "person":
        who = {"subject_name": subject.name, "subject_code": subject.subject_key}
    elif subject is not None:
        who = {"subject_type": "person"}  # the printout shows the masked number; nothing more here
    return ReportVerification(
        True,
        row.number,
        None,
        {
            **who,
            "audience": row.audience,
            "issued_at": row.issued_at.isoformat(),
            "content_digest": row.content_digest,
        },
    )


# --- rendering -----------------------------------------------------------------------------------


def _bundle(report: IssuedReport) -> str:
    """What a rendered file embeds: content, code and verify URL (base64 of canonical JSON)."""
    body = {"content": report.content, "code": report.code, "verify_url": report.verify_url}
    return base64.b64encode(canonical(body)).decode()


def _from_bundle(text: str) -> IssuedReport:
    body = json.loads(base64.b64decode(text, validate=True))
    content = body["content"]
    return IssuedReport(
        str(content["number"]), str(body["code"]), content, content_digest(content), str(body["verify_url"])
    )


def _lines(content: Mapping[str, Any]) -> list[tuple[str, list[list[str]] | str]]:
    """The report as titled sections, each a table (rows of cells) or a sentence: the same for
    HTML and PDF."""
    s = content["subject"]
    if s["type"] == "person":
        who = [
            ["主体类型 Subject", "自然人 Person"],
            ["身份证号码（脱敏） ID (masked)", s.get("identity") or "—"],
        ]
    else:
        who = [
            ["名称 Name", s.get("name") or "—"],
            ["统一社会信用代码 Credit code", s["credit_code"]],
            ["主体类型 Subject", _TYPE_NAMES.get(s["type"], s["type"])],
            ["成立日期 Registered", s.get("registered_on") or "—"],
        ]
    out: list[tuple[str, list[list[str]] | str]] = [("一、主体信息 Subject", who)]
    a = content["assessment"]
    if a is None:
        out.append(("二、信用评价 Assessment", "暂无评价结果 No published assessment"))
    else:
        rows = [["评价日期 As of", str(a.get("as_of") or "—")]]
        if s["type"] == "person":
            tier = a.get("tier") or {}
            score = a.get("score")
            rows.append(["信用分 Score", str(score) if score is not None else "—"])
            rows.append(["信用等级 Tier", f"{tier.get('zh', '')} {tier.get('en', '')}".strip() or "—"])
        else:
            rows.append(["信用类别 Class", str(a.get("class") or "—")])
            for d in a.get("downgrades") or []:
                rows.append(["降级原因 Downgrade", f"{d['zh']} {d['en']}"])
        if a.get("message"):
            rows.append(["说明 Note", f"{a['message']['zh']} / {a['message']['en']}"])
        for r in a.get("reasons") or []:
            arrow = "↓" if r["direction"] == "lowering" else "↑"
            rows.append([f"主要原因 Reason {arrow}", f"{r['zh']} / {r['en']}"])
        out.append(("二、信用评价 Assessment", rows))

    def table(items: list[dict[str, Any]]) -> list[list[str]] | str:
        if not items:
            return "无 None"
        head = ["类别 Kind", "部门 Department", "日期 Date", "公示期至 Until", "文号 Reference"]
        return [head] + [
            [i["zh"], i["department"], i["event_date"], i["publicity_end"], i.get("reference") or "—"]
            for i in items
        ]

    out.append(("三、名单信息 Listings", table(content["listings"])))
    out.append(("四、公示期内信用记录 Records in publicity", table(content["records"])))
    if content["routine"]:
        rows = [["类别 Kind", "条数 Count", "期间 Period", "结果 Outcomes"]]
        for r in content["routine"]:
            outcomes = ", ".join(f"{k} {v}" for k, v in r["outcomes"].items())
            rows.append([r["zh"], str(r["count"]), f"{r['first']} — {r['last']}", outcomes])
        out.append(("五、缴费与还款记录汇总 Payments", rows))
    if content["commitments"]:
        rows = [["承诺事项 Item", "编号 No.", "签署 Signed", "履约期 Due", "状态 Status"]]
        for c in content["commitments"]:
            rows.append([c["item_zh"], c["commitment_no"], c["signed_on"], c["due_date"], c["status"]])
        out.append(("六、信用承诺 Commitments", rows))
    else:
        out.append(("六、信用承诺 Commitments", "无 None"))
    if "repairs" in content:
        reps = content["repairs"]
        rows2: list[list[str]] | str = (
            [["类别 Kind", "修复日期 Repaired on"]] + [[r.get("zh") or "—", r["repaired_on"]] for r in reps]
            if reps
            else "无 None"
        )
        out.append(("七、信用修复 Repairs", rows2))
    return out


_NOTICE = (
    "本报告依据公共信用信息出具，仅反映报告日已归集且在公示期内的信息。"
    "可凭报告编号和校验码在线核验真伪。"
    " This report reflects the public credit information held on its date, within publicity periods;"
    " verify it online with its number and integrity code."
)


def render_html(report: IssuedReport) -> str:
    """A standalone HTML page (inline CSS); the content is embedded for ``verify_document``."""
    c = report.content
    esc = html.escape
    parts = [
        "<!doctype html><html lang='zh'><head><meta charset='utf-8'>",
        f"<title>信用报告 {esc(report.number)}</title>",
        "<style>body{font-family:'Noto Sans CJK SC','Source Han Sans SC',sans-serif;max-width:820px;"
        "margin:2em auto;color:#222}h1{text-align:center;margin-bottom:.2em}.meta{text-align:center;"
        "color:#555}table{border-collapse:collapse;width:100%;margin:.5em 0 1.2em}"
        "td,th{border:1px solid #999;padding:4px 6px;font-size:13px;text-align:left;vertical-align:top}"
        "h2{font-size:16px;border-bottom:2px solid #b22;padding-bottom:2px}"
        ".code{font-family:monospace;font-size:15px}</style></head><body>",
        "<h1>信用报告 Credit Report</h1>",
        f"<p class='meta'>{esc(_AUDIENCE_ZH[c['audience']])} | 报告编号 No. <b>{esc(report.number)}</b>"
        f" | 出具时间 Issued {esc(c['issued_at'])}</p>",
    ]
    for title, body in _lines(c):
        parts.append(f"<h2>{esc(title)}</h2>")
        if isinstance(body, str):
            parts.append(f"<p>{esc(body)}</p>")
            continue
        parts.append("<table>")
        for row in body:
            parts.append("<tr>" + "".join(f"<td>{esc(str(cell))}</td>" for cell in row) + "</tr>")
        parts.append("</table>")
    parts += [
        "<h2>核验 Verification</h2>",
        f"<p>校验码 Integrity code: <span class='code'>{esc(report.printed_code)}</span><br>",
        f"内容摘要 Content digest (SHA-256): <span class='code'>{esc(report.digest)}</span><br>",
        f"核验地址 Verify: <a href='{esc(report.verify_url)}'>{esc(report.verify_url)}</a></p>",
        f"<p>{esc(_NOTICE)}</p>",
        f"<script type='application/json' id='credit-report'>{_bundle(report)}</script>",
        "</body></html>",
    ]
    return "\n".join(parts) + "\n"


def render_pdf(report: IssuedReport) -> bytes:
    """A4 PDF with the built-in CID font STSong-Light (no font file), a QR code of the verify URL,
    and the content embedded in the document's keywords. Invariant: same report, same bytes."""
    import qrcode
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import mm
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

    font = "STSong-Light"
    if font not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(UnicodeCIDFont(font))
    c = report.content
    body = ParagraphStyle("body", fontName=font, fontSize=9, leading=12, wordWrap="CJK")
    title = ParagraphStyle("title", parent=body, fontSize=18, leading=24, alignment=1)
    meta = ParagraphStyle("meta", parent=body, alignment=1, textColor=colors.HexColor("#555555"))
    h2 = ParagraphStyle(
        "h2", parent=body, fontSize=11.5, leading=16, spaceBefore=6, textColor=colors.HexColor("#aa2222")
    )
    esc = html.escape
    story: list[Any] = [
        Paragraph("信用报告 Credit Report", title),
        Paragraph(
            f"{esc(_AUDIENCE_ZH[c['audience']])} | 报告编号 No. {esc(report.number)}"
            f" | 出具时间 Issued {esc(c['issued_at'])}",
            meta,
        ),
        Spacer(1, 4 * mm),
    ]
    width = A4[0] - 36 * mm
    for head, part in _lines(c):
        story.append(Paragraph(esc(head), h2))
        if isinstance(part, str):
            story.append(Paragraph(esc(part), body))
            continue
        cols = len(part[0])
        widths = [width * 0.34, width * 0.66] if cols == 2 else [width / cols] * cols
        t = Table(
            [[Paragraph(esc(str(x)), body) for x in row] for row in part], colWidths=widths, repeatRows=0
        )
        t.setStyle(
            TableStyle(
                [
                    ("GRID", (0, 0), (-1, -1), 0.4, colors.HexColor("#999999")),
                    ("VALIGN", (0, 0), (-1, -1), "TOP"),
                    ("BACKGROUND", (0, 0), (-1, 0) if cols > 2 else (0, -1), colors.HexColor("#f2f2f2")),
                ]
            )
        )
        story.append(t)
    story += [
        Paragraph("核验 Verification", h2),
        Paragraph(f"校验码 Integrity code: {esc(report.printed_code)}", body),
        Paragraph(f"内容摘要 Content digest (SHA-256): {esc(report.digest)}", body),
        Paragraph(f"核验地址 Verify: {esc(report.verify_url)}", body),
        Spacer(1, 2 * mm),
        Paragraph(esc(_NOTICE), body),
    ]
    qr = qrcode.QRCode(border=0, error_correction=qrcode.constants.ERROR_CORRECT_M)
    qr.add_data(report.verify_url)
    qr.make(fit=True)
    matrix = qr.get_matrix()

    def first_page(canvas: Any, doc: Any) -> None:
        size = 24 * mm
        cell = size / len(matrix)
        x0, y0 = A4[0] - 18 * mm - size, A4[1] - 14 * mm - size
        canvas.saveState()
        canvas.setFillColor(colors.black)
        for i, row in enumerate(matrix):
            for j, dark in enumerate(row):
                if dark:
                    canvas.rect(
                        x0 + j * cell, y0 + (len(matrix) - 1 - i) * cell, cell, cell, stroke=0, fill=1
                    )
        canvas.restoreState()
        later_pages(canvas, doc)

    def later_pages(canvas: Any, doc: Any) -> None:
        canvas.saveState()
        canvas.setFont(font, 8)
        canvas.drawString(
            18 * mm, 10 * mm, f"报告编号 {report.number}  校验码 {report.printed_code}  第 {doc.page} 页"
        )
        canvas.restoreState()

    buf = io.BytesIO()
    doc = SimpleDocTemplate(
        buf,
        pagesize=A4,
        leftMargin=18 * mm,
        rightMargin=18 * mm,
        topMargin=40 * mm,
        bottomMargin=18 * mm,
        title=f"信用报告 {report.number}",
        author="public credit service",
        subject=f"credit-report {report.number}",
        keywords=_bundle(report),
        creator="credit-service",
        invariant=1,
    )
    doc.build(story, onFirstPage=first_page, onLaterPages=later_pages)
    return buf.getvalue()


_PDF_BUNDLE = re.compile(rb"/Keywords \(([A-Za-z0-9+/=]+)\)")
_HTML_BUNDLE = re.compile(r"<script type='application/json' id='credit-report'>([A-Za-z0-9+/=]+)</script>")


def verify_document(session: Session, data: bytes, *, settings: Any) -> ReportVerification:
    """Check a rendered report file (PDF or HTML): number and code issued together, embedded
    content with the stored digest, and the file exactly as rendered from it."""
    is_pdf = data.startswith(b"%PDF")
    try:
        if is_pdf:
            m = _PDF_BUNDLE.search(data)
            text = m.group(1).decode() if m else None
        else:
            mh = _HTML_BUNDLE.search(data.decode("utf-8"))
            text = mh.group(1) if mh else None
        if text is None:
            return ReportVerification(False, "", "not_a_report")
        report = _from_bundle(text)
    except (ValueError, KeyError, TypeError):
        return ReportVerification(False, "", "not_a_report")
    result = verify_report(session, report.number, report.code, settings=settings)
    if not result.valid:
        return result
    if result.details["content_digest"] != report.digest:
        return ReportVerification(False, report.number, "content_altered")
    rendered = render_pdf(report) if is_pdf else render_html(report).encode()
    if rendered != data:
        return ReportVerification(False, report.number, "document_altered")
    return result
