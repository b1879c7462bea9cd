"""``credit report`` (credit reports and their verification), ``credit disclosure`` (双公示 feed and
department metrics) and ``credit commitments`` (信用承诺)."""

from __future__ import annotations

import getpass
import json
from pathlib import Path
from typing import Annotated

import sqlalchemy as sa
import typer
from sqlalchemy.orm import Session

from api.cli import app
from api.cli_common import migrated_engine, parse_date
from scoring.audit import AuditLog
from scoring.auth import Principal
from scoring.commitments import CommitmentError, decide, due, load_templates, published, sign
from scoring.db.tables import Subject
from scoring.disclosure import department_metrics, disclosure_feed
from scoring.identity import IdentityVault
from scoring.reports import ReportError, issue_report, render_html, render_pdf, verify_document, verify_report
from scoring.settings import get_settings

__all__ = ["commitments_app", "disclosure_app", "report_app"]

report_app = typer.Typer(help="Credit reports (信用报告): issue one, verify one.")
disclosure_app = typer.Typer(
    help="Public disclosure of licences and penalties (双公示).", no_args_is_help=True
)
commitments_app = typer.Typer(help="Credit commitments (信用承诺).", no_args_is_help=True)
app.add_typer(report_app, name="report")
app.add_typer(disclosure_app, name="disclosure")
app.add_typer(commitments_app, name="commitments")


def _operator() -> Principal:
    return Principal(role="admin", id=f"cli:{getpass.getuser()}")


def _subject(session: Session, ref: str) -> Subject:
    """A subject by id, or an organisation by its unified social credit code."""
    subject = None
    if ref.isdigit():
        subject = session.get(Subject, int(ref))
    else:
        subject = session.execute(
            sa.select(Subject).where(
                Subject.subject_key == ref.strip().upper(), Subject.subject_type != "person"
            )
        ).scalar_one_or_none()
    if subject is None:
        typer.echo(f"error: no subject {ref}", err=True)
        raise typer.Exit(1)
    return subject


@report_app.callback(invoke_without_command=True)
def report_cmd(
    ctx: typer.Context,
    subject_ref: Annotated[
        str | None, typer.Option("--subject", help="Subject id, or an organisation's credit code.")
    ] = None,
    fmt: Annotated[str, typer.Option("--format", help="pdf or html.")] = "pdf",
    out: Annotated[Path | None, typer.Option("--out", help="File to write.")] = None,
    audience: Annotated[
        str | None,
        typer.Option("--audience", help="self | authorised (persons), public | full (organisations)."),
    ] = None,
    purpose: Annotated[
        str, typer.Option("--purpose", help="Why (kept with the report and the register).")
    ] = "counter",
) -> None:
    """Issue a credit report (stored, registered) and write it as PDF or HTML."""
    if ctx.invoked_subcommand is not None:
        return
    if subject_ref is None or out is None:
        typer.echo("error: --subject and --out are needed (or: credit report verify NUMBER CODE)", err=True)
        raise typer.Exit(2)
    if fmt not in ("pdf", "html"):
        raise typer.BadParameter("--format is pdf or html")
    settings = get_settings()
    engine = migrated_engine()
    with Session(engine) as session:
        subject = _subject(session, subject_ref)
        part = audience or ("self" if subject.subject_type == "person" else "public")
        try:
            report = issue_report(
                engine,
                session,
                subject,
                part,
                who=_operator(),
                purpose=purpose,
                settings=settings,
                vault=IdentityVault.from_settings(settings),
                audit=AuditLog.from_settings(settings),
            )
        except ReportError as exc:
            typer.echo(f"error: {exc}", err=True)
            raise typer.Exit(2) from None
        data = render_pdf(report) if fmt == "pdf" else render_html(report).encode()
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_bytes(data)
        session.commit()
    typer.echo(f"report {report.number} ({part}) code {report.printed_code} -> {out}")
    typer.echo(f"verify: {report.verify_url}")


@report_app.command("verify")
def verify_cmd(
    number: Annotated[str, typer.Argument(help="The report number.")],
    code: Annotated[str, typer.Argument(help="The integrity code printed on the report.")],
    file: Annotated[
        Path | None, typer.Option("--file", help="Also check this PDF or HTML file is the report as issued.")
    ] = None,
) -> None:
    """Was this report issued with this code (and is this file that report)? Exit 1 if not."""
    settings = get_settings()
    engine = migrated_engine()
    with Session(engine) as session:
        result = verify_report(session, number, code, settings=settings)
        if result.valid and file is not None:
            doc = verify_document(session, file.read_bytes(), settings=settings)
            if doc.valid and doc.number != result.number:
                doc.valid, doc.reason = False, "another_report"
            result = doc if not doc.valid else result
    typer.echo(json.dumps(result.as_dict(), ensure_ascii=False, indent=2))
    if not result.valid:
        raise typer.Exit(1)


@disclosure_app.command("feed")
def feed_cmd(
    on: Annotated[str, typer.Option("--on", help="The day (YYYY-MM-DD).")],
    out: Annotated[Path | None, typer.Option("--out", help="Write the feed as JSON here.")] = None,
) -> None:
    """The public feed on a day: entries in force and entries withdrawn that day."""
    feed = disclosure_feed(migrated_engine(), parse_date(on))
    doc = {"on": feed.on.isoformat(), "entries": feed.entries, "withdrawn": feed.withdrawn}
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(doc, ensure_ascii=False, indent=1), encoding="utf-8")
    late = sum(1 for e in feed.entries if not e["on_time"])
    typer.echo(
        f"{feed.on}: {len(feed.entries)} entries ({late} published after 7 days),"
        f" {len(feed.withdrawn)} withdrawn"
    )
    if out is None:
        for e in feed.entries[:50]:
            flag = "" if e["on_time"] else "  [late]"
            typer.echo(
                f"  {e['decision_date']} {e['kind_zh']} {e['subject_code']} {e['subject_name'] or ''}"
                f" {e['decision_no'] or ''} ({e['department_zh']}){flag}"
            )
        for w in feed.withdrawn:
            typer.echo(
                f"  withdrawn: {w['kind_zh']} {w['subject_code']} {w['decision_no'] or ''} ({w['reason']})"
            )


@disclosure_app.command("metrics")
def metrics_cmd(
    start: Annotated[str, typer.Option("--from", help="First decision date (YYYY-MM-DD).")],
    end: Annotated[str, typer.Option("--to", help="Last decision date (YYYY-MM-DD).")],
    expected: Annotated[
        list[str] | None,
        typer.Option(
            "--expected", help="DEPARTMENT=N: decisions the department made (for the submission rate)."
        ),
    ] = None,
) -> None:
    """Per department: submission rate, compliance, timeliness."""
    exp: dict[str, int] = {}
    for item in expected or []:
        dept, _, n = item.partition("=")
        if not n.isdigit():
            raise typer.BadParameter(f"--expected takes DEPARTMENT=N, got {item!r}")
        exp[dept] = int(n)
    rows = department_metrics(migrated_engine(), parse_date(start), parse_date(end), expected=exp)

    def pct(v: float | None) -> str:
        return "   -" if v is None else f"{v:4.0%}"

    typer.echo(f"{'department':<20} {'submitted':>9} {'on time':>7} {'subm.':>5} {'compl.':>6} {'timely':>6}")
    for m in rows:
        typer.echo(
            f"{m.department:<20} {m.submitted:>9} {m.on_time:>7} {pct(m.submission_rate):>5}"
            f" {pct(m.compliance):>6} {pct(m.timeliness):>6}"
        )


@commitments_app.command("items")
def items_cmd() -> None:
    """The commitment items and their supervising departments."""
    for t in load_templates().values():
        typer.echo(f"{t.code:<22} {t.zh} / {t.en}  [{t.department}, {t.term_months} months]")


@commitments_app.command("sign")
def sign_cmd(
    subject_ref: Annotated[
        str, typer.Option("--subject", help="Subject id, or an organisation's credit code.")
    ],
    item: Annotated[str, typer.Option("--item", help="Item code (credit commitments items).")],
    by: Annotated[str, typer.Option("--by", help="Who signs (the subject or its representative).")],
) -> None:
    """Sign an item's standard text for a subject."""
    settings = get_settings()
    with Session(migrated_engine()) as session:
        subject = _subject(session, subject_ref)
        try:
            row = sign(session, subject, item, signed_by=by, vault=IdentityVault.from_settings(settings))
        except CommitmentError as exc:
            typer.echo(f"error: {exc}", err=True)
            raise typer.Exit(2) from None
        session.commit()
        typer.echo(
            f"commitment {row.commitment_no} signed, due {row.due_date}, supervised by {row.department}"
        )
        typer.echo(row.text)


@commitments_app.command("due")
def due_cmd(
    department: Annotated[str, typer.Option("--department", help="Supervising department code.")],
    on: Annotated[str, typer.Option("--on", help="Due by this day (YYYY-MM-DD).")],
) -> None:
    """Signed commitments a department has to decide."""
    with Session(migrated_engine()) as session:
        for c in due(session, department, parse_date(on)):
            typer.echo(f"{c.commitment_no} subject {c.subject_id} {c.item} due {c.due_date}")


@commitments_app.command("decide")
def decide_cmd(
    commitment_no: Annotated[str, typer.Argument(help="Commitment number.")],
    outcome: Annotated[str, typer.Option("--outcome", help="fulfilled or broken.")],
    by: Annotated[str, typer.Option("--by", help="Who decides (department staff).")],
    on: Annotated[str, typer.Option("--on", help="Date of the decision (YYYY-MM-DD).")],
    note: Annotated[str, typer.Option("--note", help="What was checked.")],
    department: Annotated[str | None, typer.Option("--department", help="Deciding department.")] = None,
) -> None:
    """Record whether a commitment was kept; a broken one becomes a credit_commitment record."""
    with Session(migrated_engine()) as session:
        try:
            row = decide(
                session, commitment_no, outcome, by=by, on=parse_date(on), note=note, department=department
            )
        except CommitmentError as exc:
            typer.echo(f"error: {exc}", err=True)
            raise typer.Exit(2) from None
        session.commit()
        extra = f", record {row.record_uid}" if row.record_uid else ""
        typer.echo(f"commitment {row.commitment_no}: {row.status}{extra}")


@commitments_app.command("published")
def published_cmd(
    on: Annotated[str, typer.Option("--on", help="The day (YYYY-MM-DD).")],
) -> None:
    """The public column: organisations' commitments, as JSON."""
    with Session(migrated_engine()) as session:
        rows = published(session, on=parse_date(on))
    typer.echo(json.dumps(rows, ensure_ascii=False, indent=1))
