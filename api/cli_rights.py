"""``credit plan`` / ``credit inspectors`` (random inspection plans), ``credit objections``,
``credit repair``, ``credit review``, ``credit cases`` and ``credit expire`` (the daily job).

Operators act under their OS user name (``--actor`` to name someone else); every step is written
to the audit log. Results go to stdout, errors to stderr with exit status 1.
"""

from __future__ import annotations

import datetime as dt
import getpass
import json
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, TypeVar

import sqlalchemy as sa
import typer
from sqlalchemy.orm import Session

from api.cli import app
from api.cli_common import migrated_engine, parse_date
from scoring.audit import AuditLog
from scoring.expiry import expire_records
from scoring.inspections import (
    PlanError,
    add_exclusion,
    add_inspector,
    export_plan,
    generate_plan,
    plan_header,
    record_result,
    verify_export,
    verify_plan,
)
from scoring.objections import decide_objection, file_objection, overdue_objections
from scoring.repair import accept_repair, apply_repair, decide_repair
from scoring.reviews import decide_review, request_review, review_case, review_queue
from scoring.rights import RightsError, objection_view, subject_cases
from scoring.settings import get_settings

__all__ = ["expire_cmd"]

plan_app = typer.Typer(help="Random inspection plans (双随机、一公开).", no_args_is_help=True)
inspectors_app = typer.Typer(help="Inspectors and their conflicts of interest.", no_args_is_help=True)
objections_app = typer.Typer(help="Objections to records (异议).", no_args_is_help=True)
repair_app = typer.Typer(help="Credit repair (信用修复).", no_args_is_help=True)
review_app = typer.Typer(help="Human review of a score (申诉和复核).", no_args_is_help=True)
for sub, name in (
    (plan_app, "plan"),
    (inspectors_app, "inspectors"),
    (objections_app, "objections"),
    (repair_app, "repair"),
    (review_app, "review"),
):
    app.add_typer(sub, name=name)

T = TypeVar("T")
Actor = Annotated[str | None, typer.Option("--actor", help="Who acts (default: operator:<OS user>).")]


def _actor(actor: str | None) -> str:
    return actor or f"operator:{getpass.getuser()}"


def _engine() -> sa.Engine:
    engine = migrated_engine(get_settings().database_url)
    if not sa.inspect(engine).has_table("objections"):
        engine.dispose()
        typer.echo("error: the database schema is not current; run `credit db upgrade` first", err=True)
        raise typer.Exit(2)
    return engine


def _audit() -> AuditLog:
    return AuditLog.from_settings(get_settings())


def _run(step: Callable[[], T]) -> T:
    try:
        return step()
    except (RightsError, PlanError) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from None


def _date(value: str | None) -> dt.date | None:
    return None if value is None else parse_date(value)


def _show(value: Any) -> None:
    typer.echo(json.dumps(value, ensure_ascii=False, indent=2, default=str))


# --- plans and inspectors -------------------------------------------------------------------------


@plan_app.command("generate")
def plan_generate(
    sector: Annotated[str, typer.Option("--sector", help="Sector code (org_registration's sector).")],
    period: Annotated[str, typer.Option("--period", help="YYYY, YYYY-MM, YYYYQn or YYYYHn.")],
    seed: Annotated[
        str | None, typer.Option("--seed", help="Published seed (default: 128 random bits).")
    ] = None,
    seed_source: Annotated[
        str | None, typer.Option("--seed-source", help="Where the seed comes from.")
    ] = None,
    department: Annotated[str, typer.Option("--department")] = "market_regulation",
    actor: Actor = None,
) -> None:
    """Draw and publish a plan from the enterprise snapshot in force."""
    plan = _run(
        lambda: generate_plan(
            _engine(),
            _audit(),
            sector=sector,
            period=period,
            seed=seed,
            seed_source=seed_source,
            department=department,
            actor=_actor(actor),
        )
    )
    _show(plan_header(plan))


@plan_app.command("verify")
def plan_verify(
    plan_no: Annotated[str | None, typer.Argument(help="A stored plan.")] = None,
    files: Annotated[Path | None, typer.Option("--files", help="An exported plan's folder instead.")] = None,
) -> None:
    """Recompute a plan from its seed and inputs; exit 1 if anything differs."""
    if (plan_no is None) == (files is None):
        raise typer.BadParameter("give PLAN_NO or --files DIR")
    result = _run(lambda: verify_export(files) if files is not None else verify_plan(_engine(), str(plan_no)))
    for p in result.problems:
        typer.echo(f"problem: {p}", err=True)
    typer.echo(f"plan {result.plan_no}: {'verified' if result.ok else 'DOES NOT VERIFY'}")
    if not result.ok:
        raise typer.Exit(1)


@plan_app.command("export")
def plan_export(
    plan_no: Annotated[str, typer.Argument()],
    out: Annotated[Path, typer.Option("--out", help="Folder to write.")],
) -> None:
    """Write plan.json, the canonical CSV files and plan.csv (safe to open in a spreadsheet)."""
    for path in _run(lambda: export_plan(_engine(), plan_no, out)):
        typer.echo(str(path))


@plan_app.command("result")
def plan_result(
    plan_no: Annotated[str, typer.Argument()],
    org_code: Annotated[str, typer.Argument(help="The inspected organisation's credit code.")],
    result: Annotated[
        str, typer.Option("--result", help="compliant, issues_corrected, non_compliant, not_found.")
    ],
    inspected_on: Annotated[str, typer.Option("--date", help="Inspection date (YYYY-MM-DD).")],
    department: Annotated[str, typer.Option("--department")] = "market_regulation",
    actor: Actor = None,
) -> None:
    """Record an inspection result (an inspection_result record for the next scoring)."""
    day = _date(inspected_on)
    assert day is not None
    row = _run(
        lambda: record_result(
            _engine(),
            get_settings(),
            _audit(),
            plan_no=plan_no,
            org_code=org_code,
            result=result,
            inspected_on=day,
            department=department,
            actor=_actor(actor),
        )
    )
    typer.echo(f"{plan_no} {org_code}: {row.result} (record {row.record_uid})")


@inspectors_app.command("add")
def inspectors_add(
    code: Annotated[str, typer.Option("--code", help="Enforcement certificate number.")],
    name: Annotated[str, typer.Option("--name")],
    department: Annotated[str, typer.Option("--department")] = "market_regulation",
    sectors: Annotated[str, typer.Option("--sectors", help="Comma-separated sectors, or *.")] = "*",
    person_key: Annotated[
        str | None, typer.Option("--person-key", help="The officer's subject pseudonym.")
    ] = None,
    actor: Actor = None,
) -> None:
    """Add an inspector to the roster."""
    with Session(_engine()) as s, s.begin():
        row = add_inspector(
            s, code=code, name=name, department=department, sectors=sectors, person_key=person_key
        )
        _audit().append(
            s, actor=_actor(actor), action="inspector.add", details={"code": code, "department": department}
        )
        typer.echo(f"inspector {row.code} added")


@inspectors_app.command("exclude")
def inspectors_exclude(
    inspector: Annotated[str, typer.Option("--inspector", help="Inspector code.")],
    org: Annotated[str, typer.Option("--org", help="Organisation credit code.")],
    relation: Annotated[
        str, typer.Option("--relation", help="employment, family, shareholding, prior_case, declared.")
    ],
    note: Annotated[str | None, typer.Option("--note")] = None,
    until: Annotated[
        str | None, typer.Option("--until", help="Last day + 1 of the link (default: open).")
    ] = None,
    actor: Actor = None,
) -> None:
    """Record a conflict of interest: the inspector is never sent to the organisation."""
    who = _actor(actor)
    with Session(_engine()) as s, s.begin():
        _run(
            lambda: add_exclusion(
                s,
                inspector_code=inspector,
                org_code=org,
                relation=relation,
                note=note,
                valid_to=_date(until),
                recorded_by=who,
            )
        )
        _audit().append(
            s, actor=who, action="inspector.exclude", subject_ref=org, details={"inspector": inspector}
        )
    typer.echo(f"{inspector} excluded from {org}")


# --- objections, repair, reviews --------------------------------------------------------------------


@objections_app.command("file")
def objections_file(
    subject: Annotated[int, typer.Option("--subject", help="Subject id.")],
    record: Annotated[str, typer.Option("--record", help="The record's uid.")],
    reason: Annotated[str, typer.Option("--reason")],
    evidence: Annotated[str | None, typer.Option("--evidence")] = None,
    actor: Actor = None,
) -> None:
    """File an objection (marks the record disputed and rescores the subject)."""
    o = _run(
        lambda: file_objection(
            _engine(),
            get_settings(),
            _audit(),
            subject_id=subject,
            record_uid=record,
            reason=reason,
            evidence=evidence,
            actor=_actor(actor),
        )
    )
    _show(objection_view(o))


@objections_app.command("decide")
def objections_decide(
    objection_id: Annotated[int, typer.Argument()],
    reason: Annotated[str, typer.Option("--reason")],
    uphold: Annotated[bool, typer.Option("--uphold/--reject")] = False,
    action: Annotated[str, typer.Option("--action", help="Upheld: withdrawn or corrected.")] = "withdrawn",
    department: Annotated[str | None, typer.Option("--department", help="The deciding department.")] = None,
    actor: Actor = None,
) -> None:
    """Uphold (record withdrawn, or corrected by a new version) or reject an objection; rescore."""
    o = _run(
        lambda: decide_objection(
            _engine(),
            get_settings(),
            _audit(),
            objection_id=objection_id,
            upheld=uphold,
            reason=reason,
            action=action,
            department=department,
            actor=_actor(actor),
        )
    )
    _show(objection_view(o))


@objections_app.command("overdue")
def objections_overdue(
    today: Annotated[str | None, typer.Option("--today")] = None,
    department: Annotated[str | None, typer.Option("--department")] = None,
) -> None:
    """Objections not marked or not decided by their deadline."""
    day = _date(today)
    with Session(_engine()) as s:
        rows = overdue_objections(s, day, department=department)
        _show([objection_view(o, day) for o in rows])


@repair_app.command("apply")
def repair_apply(
    subject: Annotated[int, typer.Option("--subject")],
    record: Annotated[str, typer.Option("--record")],
    proof: Annotated[str, typer.Option("--proof", help="Proof the conduct was corrected.")],
    commitment: Annotated[str, typer.Option("--commitment", help="The credit commitment (信用承诺).")],
    actor: Actor = None,
) -> None:
    """Apply for repair of a negative record."""
    a = _run(
        lambda: apply_repair(
            _engine(),
            _audit(),
            subject_id=subject,
            record_uid=record,
            proof=proof,
            commitment=commitment,
            actor=_actor(actor),
        )
    )
    typer.echo(f"application {a.id}: {a.status}, acceptance due {a.accept_due}")


@repair_app.command("accept")
def repair_accept(
    application_id: Annotated[int, typer.Argument()],
    reason: Annotated[str, typer.Option("--reason")],
    accept: Annotated[bool, typer.Option("--accept/--refuse")] = True,
    complex_case: Annotated[bool, typer.Option("--complex", help="10 more working days.")] = False,
    department: Annotated[str | None, typer.Option("--department")] = None,
    actor: Actor = None,
) -> None:
    """Accept an application (or not, saying what is missing)."""
    a = _run(
        lambda: accept_repair(
            _engine(),
            _audit(),
            application_id=application_id,
            accepted=accept,
            reason=reason,
            complex_case=complex_case,
            department=department,
            actor=_actor(actor),
        )
    )
    typer.echo(f"application {a.id}: {a.status}, result due {a.result_due}")


@repair_app.command("decide")
def repair_decide(
    application_id: Annotated[int, typer.Argument()],
    reason: Annotated[str, typer.Option("--reason")],
    approve: Annotated[bool, typer.Option("--approve/--reject")] = False,
    false_materials: Annotated[bool, typer.Option("--false-materials")] = False,
    department: Annotated[str | None, typer.Option("--department")] = None,
    actor: Actor = None,
) -> None:
    """Approve (record repaired, subject rescored) or reject an accepted application."""
    a = _run(
        lambda: decide_repair(
            _engine(),
            get_settings(),
            _audit(),
            application_id=application_id,
            approved=approve,
            reason=reason,
            false_materials=false_materials,
            department=department,
            actor=_actor(actor),
        )
    )
    typer.echo(f"application {a.id}: {a.status}")


@review_app.command("request")
def review_request(
    subject: Annotated[int, typer.Option("--subject")],
    reason: Annotated[str, typer.Option("--reason")],
    actor: Actor = None,
) -> None:
    """Ask for a person to review the subject's score in force."""
    r = _run(
        lambda: request_review(_engine(), _audit(), subject_id=subject, reason=reason, actor=_actor(actor))
    )
    typer.echo(f"review {r.id}: score {r.score_id}, due {r.due}")


@review_app.command("queue")
def review_queue_cmd() -> None:
    """Open reviews, earliest due first."""
    with Session(_engine()) as s:
        for r in review_queue(s):
            typer.echo(f"review {r.id}: subject {r.subject_id}, score {r.score_id}, due {r.due}")


@review_app.command("show")
def review_show(
    review_id: Annotated[int, typer.Argument()], lang: Annotated[str, typer.Option("--lang")] = "zh"
) -> None:
    """The case: request, score, reasons with their records, the subject's records."""
    _show(_run(lambda: review_case(_engine(), review_id, lang=lang)))


@review_app.command("decide")
def review_decide(
    review_id: Annotated[int, typer.Argument()],
    outcome: Annotated[str, typer.Option("--outcome", help="confirmed or corrected.")],
    reason: Annotated[str, typer.Option("--reason")],
    withdraw: Annotated[list[str] | None, typer.Option("--withdraw", help="A wrong record's uid.")] = None,
    actor: Actor = None,
) -> None:
    """Confirm the score, or correct it: withdraw the wrong records and rescore."""
    r = _run(
        lambda: decide_review(
            _engine(),
            get_settings(),
            _audit(),
            review_id=review_id,
            outcome=outcome,
            reason=reason,
            reviewer=_actor(actor),
            withdraw_records=withdraw or [],
        )
    )
    typer.echo(f"review {r.id}: {r.status}, score {r.score_before} -> {r.score_after}")


@app.command("cases")
def cases_cmd(subject: Annotated[int, typer.Argument(help="Subject id.")]) -> None:
    """A subject's objections, repair applications and reviews with status and deadlines."""
    with Session(_engine()) as s:
        _show(subject_cases(s, subject))


@app.command("expire")
def expire_cmd(
    today: Annotated[str | None, typer.Option("--today", help="Run as of this day (default: today).")] = None,
    rescore: Annotated[bool, typer.Option("--rescore/--no-rescore")] = True,
) -> None:
    """Daily job: expire records past their publicity period and rescore those affected."""
    run = expire_records(_engine(), get_settings(), today=_date(today), rescore=rescore, audit=_audit())
    typer.echo(
        f"{run.expired} records expired ({run.subjects} subjects); {len(run.rescored)} subjects rescored"
    )
