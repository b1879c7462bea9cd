"""``credit benefits ...`` (信易+), ``credit lists ...`` (红黑名单), ``credit check`` (逢办必查) and
``credit feedback ...`` (execution feedback for the national platform).

Subjects are named by identity number, unified social credit code or pseudonym; identity
numbers are never printed. Every change is audited; every check is registered as a read.
"""

from __future__ import annotations

import datetime as dt
import getpass
import json
from pathlib import Path
from typing import Annotated, Any

import typer
from sqlalchemy.orm import Session

from api.cli import app
from api.cli_common import migrated_engine, parse_date
from features.ids import IdentifierError
from scoring.audit import AuditLog
from scoring.auth import Principal
from scoring.benefits import (
    BenefitError,
    citizen_benefits,
    grant_benefit,
    issue_card_token,
    load_benefits,
    partner_eligibility,
    reconcile_grants,
    settle_obligation,
    subjects_with_grants,
)
from scoring.db.tables import Subject
from scoring.identity import IdentityVault
from scoring.lists import (
    ListingError,
    exit_listing,
    find_subject,
    import_national,
    listing_view,
    listings_of,
    propose_listing,
    publish_listing,
    quarantined_import_rows,
    record_commitment,
    verify_listing,
)
from scoring.measure_catalogue import load_measures
from scoring.measures import MeasureError, check_application, export_feedback, record_feedback
from scoring.settings import get_settings

__all__ = ["benefits_app", "feedback_app", "lists_app"]

benefits_app = typer.Typer(
    help="Benefits (信易+): catalogue, eligibility, tokens, grants.", no_args_is_help=True
)
lists_app = typer.Typer(help="Red, black, watch and serious-dishonesty lists.", no_args_is_help=True)
feedback_app = typer.Typer(
    help="Feedback on joint measures, for the national platform.", no_args_is_help=True
)
app.add_typer(benefits_app, name="benefits")
app.add_typer(lists_app, name="lists")
app.add_typer(feedback_app, name="feedback")

Actor = Annotated[str | None, typer.Option("--actor", help="Who acts (default: the OS user).")]


def _actor(actor: str | None) -> str:
    return actor or f"operator:{getpass.getuser()}"


def _echo(value: Any) -> None:
    typer.echo(json.dumps(value, ensure_ascii=False, indent=2, default=str))


def _fail(exc: Exception) -> typer.Exit:
    typer.echo(f"error: {exc}", err=True)
    return typer.Exit(1)


class _Ctx:
    def __enter__(self) -> _Ctx:
        self.settings = get_settings()
        self.engine = migrated_engine(self.settings.database_url)
        self.vault = IdentityVault.from_settings(self.settings)
        self.audit = AuditLog.from_settings(self.settings)
        return self

    def __exit__(self, *exc: object) -> None:
        self.engine.dispose()

    def subject(self, session: Session, identifier: str) -> Subject:
        try:
            subject = find_subject(session, self.vault, identifier)
        except IdentifierError as exc:
            raise _fail(exc) from None
        if subject is None:
            raise _fail(ValueError("no such subject"))
        return subject


def _after_change(ctx: _Ctx, subject_id: int, cause: str) -> None:
    """Rescore the subject if scores are published (which reconciles its grants); otherwise
    reconcile the grants against the score in force."""
    from scoring.publish import PublishError, rescore_subject

    try:
        rescore_subject(ctx.engine, ctx.settings, subject_id, cause=cause)
    except (PublishError, LookupError, OSError) as exc:
        typer.echo(f"note: not rescored ({exc})", err=True)
    reconcile_grants(ctx.engine, subject_id)


# --- benefits ------------------------------------------------------------------------------------


@benefits_app.command("list")
def benefits_list(
    subject: Annotated[str | None, typer.Option(help="Show this subject's eligibility and grants.")] = None,
    lang: Annotated[str, typer.Option(help="zh or en")] = "zh",
    actor: Actor = None,
) -> None:
    """The catalogue; with --subject, the subject's benefits with reasons (a registered read)."""
    cat = load_benefits()
    if subject is None:
        _echo(
            {
                "version": cat.version,
                "benefits": [
                    {
                        "code": b.code,
                        "name": b.zh if lang == "zh" else b.en,
                        "provider": b.partner,
                        "subject_types": b.subject_types,
                        "min_score": b.min_score,
                        "min_class": b.min_class,
                        "quota": b.quota,
                        "validity_months": b.validity_months,
                    }
                    for b in cat.benefits.values()
                ],
            }
        )
        return
    from scoring.register import record_read

    with _Ctx() as ctx, Session(ctx.engine) as session, session.begin():
        who = ctx.subject(session, subject)
        view = citizen_benefits(session, who.id, lang=lang)
        record_read(
            session,
            ctx.audit,
            who=Principal(role="admin", id=_actor(actor).split(":")[-1][:96] or "operator"),
            subject=who,
            purpose="benefits_view",
            route="cli:benefits list",
        )
        _echo(view)


@benefits_app.command("token")
def benefits_token(
    subject: Annotated[str, typer.Option(help="Identity number, credit code or pseudonym.")],
    partner: Annotated[str, typer.Option(help="The partner the token is for.")],
) -> None:
    """Issue the subject's citizen-card token for one partner (what the card presents)."""
    with _Ctx() as ctx, Session(ctx.engine) as session, session.begin():
        typer.echo(issue_card_token(session, ctx.settings, ctx.subject(session, subject), partner))


@benefits_app.command("check")
def benefits_check(
    partner: Annotated[str, typer.Option()],
    token: Annotated[str, typer.Option()],
    benefit: Annotated[str, typer.Option()],
) -> None:
    """What the partner learns: eligible or not for one of its benefits."""
    with _Ctx() as ctx, Session(ctx.engine) as session, session.begin():
        try:
            _echo(
                partner_eligibility(
                    session,
                    ctx.audit,
                    partner=partner,
                    token=token,
                    benefit_code=benefit,
                    route="cli:benefits check",
                )
            )
        except BenefitError as exc:
            raise _fail(exc) from None


@benefits_app.command("grant")
def benefits_grant(
    partner: Annotated[str, typer.Option()],
    token: Annotated[str, typer.Option()],
    benefit: Annotated[str, typer.Option()],
    key: Annotated[str, typer.Option("--key", help="Idempotency key (the same key returns the same grant).")],
    amount: Annotated[float | None, typer.Option(help="Pay-later: the amount advanced.")] = None,
) -> None:
    """Record a grant by the partner (exit 1 when not eligible, quota used up, ...)."""
    with _Ctx() as ctx:
        try:
            result = grant_benefit(
                ctx.engine,
                ctx.audit,
                partner=partner,
                token=token,
                benefit_code=benefit,
                idempotency_key=key,
                amount=amount,
            )
        except BenefitError as exc:
            raise _fail(exc) from None
        _echo({"replayed": result.replayed, "grant": result.grant, "obligation": result.obligation})


@benefits_app.command("settle")
def benefits_settle(
    partner: Annotated[str, typer.Option()],
    obligation: Annotated[int, typer.Option(help="Obligation id.")],
    reference: Annotated[str, typer.Option(help="The payment's reference.")],
) -> None:
    """The partner reports an obligation paid; the subject's grants are reconciled."""
    with _Ctx() as ctx:
        try:
            _echo(
                settle_obligation(
                    ctx.engine, ctx.audit, partner=partner, obligation_id=obligation, reference=reference
                )
            )
        except BenefitError as exc:
            raise _fail(exc) from None


@benefits_app.command("reconcile")
def benefits_reconcile(
    subject: Annotated[
        str | None, typer.Option(help="One subject; default: every subject with grants.")
    ] = None,
    on: Annotated[str | None, typer.Option(help="As of this date (default today).")] = None,
) -> None:
    """Suspend, reinstate or end grants (run daily: overdue obligations start on a date)."""
    day = parse_date(on) if on else None
    with _Ctx() as ctx:
        if subject is not None:
            with Session(ctx.engine) as session:
                ids = [ctx.subject(session, subject).id]
        else:
            ids = subjects_with_grants(ctx.engine)
        changes = [c for sid in ids for c in reconcile_grants(ctx.engine, sid, today=day)]
    _echo({"subjects": len(ids), "changes": [c.__dict__ for c in changes]})


# --- lists ---------------------------------------------------------------------------------------


@lists_app.command("propose")
def lists_propose(
    list_type: Annotated[str, typer.Option("--list", help="red | black | watch | serious_dishonesty")],
    subject: Annotated[str, typer.Option(help="Identity number or credit code.")],
    department: Annotated[str, typer.Option(help="The determining department (catalogue code).")],
    doc_no: Annotated[str, typer.Option("--doc", help="The determination's document number.")],
    area: Annotated[str, typer.Option(help="The field, e.g. 失信被执行人.")],
    basis: Annotated[str, typer.Option(help="The legal basis.")],
    decided_on: Annotated[str, typer.Option("--decided", help="YYYY-MM-DD")],
    valid_to: Annotated[str, typer.Option("--until", help="YYYY-MM-DD (exclusive)")],
    actor: Actor = None,
) -> None:
    """Propose a listing (state proposed)."""
    with _Ctx() as ctx, Session(ctx.engine) as session, session.begin():
        try:
            row = propose_listing(
                session,
                ctx.audit,
                ctx.vault,
                list_type=list_type,
                subject=ctx.subject(session, subject),
                department=department,
                doc_no=doc_no,
                area=area,
                legal_basis=basis,
                decided_on=parse_date(decided_on),
                valid_to=parse_date(valid_to),
                actor=_actor(actor),
            )
        except ListingError as exc:
            raise _fail(exc) from None
        _echo(listing_view(row))


def _transition(listing_id: int, actor: str | None, action: str, **kw: Any) -> None:
    with _Ctx() as ctx:
        with Session(ctx.engine) as session, session.begin():
            try:
                if action == "verify":
                    row = verify_listing(session, ctx.audit, listing_id, actor=_actor(actor))
                elif action == "publish":
                    row = publish_listing(session, ctx.audit, ctx.vault, listing_id, actor=_actor(actor))
                else:
                    row = exit_listing(session, ctx.audit, listing_id, actor=_actor(actor), **kw)
            except ListingError as exc:
                raise _fail(exc) from None
            view, sid = listing_view(row), row.subject_id
        if action != "verify":
            _after_change(ctx, sid, f"listing {listing_id} {action}")
    _echo(view)


@lists_app.command("verify")
def lists_verify(listing_id: int, actor: Actor = None) -> None:
    """proposed → verified (by someone other than the proposer)."""
    _transition(listing_id, actor, "verify")


@lists_app.command("publish")
def lists_publish(listing_id: int, actor: Actor = None) -> None:
    """verified → published (and a record where the catalogue has the kind); rescore, reconcile."""
    _transition(listing_id, actor, "publish")


@lists_app.command("exit")
def lists_exit(
    listing_id: int,
    reason: Annotated[str, typer.Option()],
    commitment: Annotated[str | None, typer.Option(help="The recorded credit commitment's number.")] = None,
    actor: Actor = None,
) -> None:
    """published → exited; a punitive list needs a recorded credit commitment."""
    _transition(listing_id, actor, "exit", reason=reason, commitment_no=commitment)


@lists_app.command("commit")
def lists_commitment(
    subject: Annotated[str, typer.Option()],
    number: Annotated[str, typer.Option("--number", help="The commitment's number.")],
    item: Annotated[str, typer.Option(help="What the subject commits to.")],
    department: Annotated[str, typer.Option()] = "credit_office",
    signed_on: Annotated[str | None, typer.Option("--signed")] = None,
) -> None:
    """Record a credit commitment (信用承诺) in the records store."""
    with _Ctx() as ctx, Session(ctx.engine) as session, session.begin():
        try:
            uid = record_commitment(
                session,
                subject=ctx.subject(session, subject),
                commitment_no=number,
                item=item,
                department=department,
                signed_on=parse_date(signed_on) if signed_on else dt.date.today(),
            )
        except ListingError as exc:
            raise _fail(exc) from None
        typer.echo(uid)


@lists_app.command("import")
def lists_import(
    path: Path,
    publish: Annotated[bool, typer.Option(help="Publish accepted rows at once.")] = False,
    actor: Actor = None,
) -> None:
    """Import a national-platform list file (.csv or .jsonl); idempotent."""
    with _Ctx() as ctx:
        with Session(ctx.engine) as session, session.begin():
            res = import_national(
                session,
                ctx.audit,
                ctx.vault,
                path.read_bytes(),
                source_name=path.name,
                actor=_actor(actor),
                publish=publish,
            )
            rows = [
                (q.line_no, q.reason_code, q.message) for q in quarantined_import_rows(session, res.import_id)
            ]
            listed = [lid for lid in res.listing_ids]
        if publish:
            with Session(ctx.engine) as session:
                subjects = {r.subject_id for r in listings_of(session) if r.id in set(listed)}
            for sid in sorted(subjects):
                _after_change(ctx, sid, f"national import {res.import_id}")
    _echo({**res.__dict__, "quarantine": rows[:50]})


@lists_app.command("show")
def lists_show(
    subject: Annotated[str | None, typer.Option()] = None,
    status: Annotated[str | None, typer.Option()] = None,
) -> None:
    """Listings (of one subject, in one state)."""
    with _Ctx() as ctx, Session(ctx.engine) as session:
        sid = ctx.subject(session, subject).id if subject else None
        cat = load_measures()
        _echo([listing_view(r, cat) for r in listings_of(session, sid, status)])


# --- checks and feedback -------------------------------------------------------------------------


@app.command("check")
def check_cmd(
    subject: Annotated[str, typer.Option(help="Identity number or credit code of the applicant.")],
    scenario: Annotated[str, typer.Option(help="The business, e.g. government_procurement.")],
    department: Annotated[str, typer.Option(help="The executing department.")],
    actor: Actor = None,
) -> None:
    """逢办必查: the joint reward and punishment measures for this application (registered)."""
    with _Ctx() as ctx, Session(ctx.engine) as session, session.begin():
        who = Principal(role="department", id=_actor(actor)[:96], department=department)
        try:
            result = check_application(
                session,
                ctx.audit,
                who=who,
                subject=ctx.subject(session, subject),
                scenario=scenario,
                department=department,
                route="cli:check",
            )
        except MeasureError as exc:
            raise _fail(exc) from None
        _echo(result.view())


@feedback_app.command("record")
def feedback_record(
    check: Annotated[int, typer.Option(help="The check's id.")],
    measure: Annotated[str, typer.Option()],
    outcome: Annotated[str, typer.Option(help="applied | not_applied | exempted")],
    department: Annotated[str, typer.Option()],
    note: Annotated[str | None, typer.Option()] = None,
    actor: Actor = None,
) -> None:
    """The executing department's feedback on one measure of its check."""
    with _Ctx() as ctx, Session(ctx.engine) as session, session.begin():
        try:
            row = record_feedback(
                session,
                ctx.audit,
                check_id=check,
                measure_code=measure,
                outcome=outcome,
                department=department,
                actor=_actor(actor),
                note=note,
            )
        except MeasureError as exc:
            raise _fail(exc) from None
        _echo({"id": row.id, "check": row.check_id, "measure": row.measure_code, "outcome": row.outcome})


@feedback_app.command("export")
def feedback_export(
    out: Annotated[Path, typer.Option(help="CSV file to write.")],
    all_rows: Annotated[
        bool, typer.Option("--all", help="Every row, not only those not yet exported.")
    ] = False,
) -> None:
    """Write the feedback for the national platform (CSV); rows are marked exported."""
    with _Ctx() as ctx, Session(ctx.engine) as session, session.begin():
        text, n = export_feedback(session, ctx.vault, only_new=not all_rows)
        out.write_text(text, encoding="utf-8")
    typer.echo(f"{n} feedback rows written to {out}")
