"""``credit score`` (publish a snapshot), ``credit rescore``, ``credit replay`` and
``credit scores show`` (one subject's score, reasons, recourse and history).

Progress goes to stderr, results to stdout. ``scores show`` is an operator's read of someone's
credit: it is written to the query register and the audit log like any other read.
"""

from __future__ import annotations

import getpass
from typing import Annotated, Any

import typer
from sqlalchemy.orm import Session

from api.cli import app
from api.cli_common import migrated_engine, parse_date, parse_timestamp
from scoring.audit import AuditLog
from scoring.auth import Principal
from scoring.db.tables import Subject
from scoring.explanations import explain, recourse
from scoring.publish import (
    PublishError,
    ReplayError,
    current_score,
    publish_scores,
    replay,
    rescore_changed,
    rescore_subject,
    score_history,
)
from scoring.register import record_read
from scoring.settings import get_settings

__all__ = ["replay_cmd", "rescore_cmd", "score_cmd", "show_cmd"]

scores_app = typer.Typer(help="Published scores.", no_args_is_help=True)
app.add_typer(scores_app, name="scores")


@app.command("score")
def score_cmd(
    as_of: Annotated[str, typer.Option("--as-of", help="Score as of this date (YYYY-MM-DD).")],
    known_at: Annotated[
        str | None, typer.Option("--known-at", help="Use what the store knew at this time (default: now).")
    ] = None,
    group: Annotated[
        list[str] | None, typer.Option("--group", help="person and/or enterprise (default: both).")
    ] = None,
    actor: Annotated[
        str | None, typer.Option("--actor", help="Who publishes (default: the OS user).")
    ] = None,
) -> None:
    """Compute features, probabilities, scores, classes and reasons for every subject and publish
    them as a new snapshot (atomically: readers see the old snapshot until the new one is complete)."""
    settings = get_settings()
    engine = migrated_engine()
    groups = group or ["person", "enterprise"]
    bad = [g for g in groups if g not in ("person", "enterprise")]
    if bad:
        raise typer.BadParameter(f"unknown group {bad[0]!r}: person or enterprise")

    def progress(g: str, done: int, total: int) -> None:
        typer.echo(f"  {g}: {done:,}/{total:,}", err=True)

    try:
        pubs = publish_scores(
            engine,
            settings,
            parse_date(as_of),
            known_at=None if known_at is None else parse_timestamp(known_at),
            actor=actor or getpass.getuser(),
            groups=groups,
            progress=progress,
        )
    except PublishError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from None
    for p in pubs:
        states = ", ".join(f"{k} {v:,}" for k, v in sorted(p.states.items()))
        grades = ", ".join(f"{k} {v:,}" for k, v in sorted(p.grades.items()))
        typer.echo(
            f"{p.subject_type}: snapshot {p.snapshot_id} as of {p.as_of} published, {p.rows:,} subjects"
            f" (model {p.model_version}, registry {p.registry_version}) in {p.seconds:.1f} s"
        )
        typer.echo(f"  states: {states}")
        typer.echo(f"  {'tiers' if p.subject_type == 'person' else 'classes'}: {grades}")


@app.command("rescore")
def rescore_cmd(
    subject: Annotated[list[int] | None, typer.Option("--subject", help="Subject id(s) to rescore.")] = None,
    changed: Annotated[
        bool,
        typer.Option("--changed", help="Every subject whose records changed since the last publication."),
    ] = False,
    since: Annotated[
        str | None, typer.Option("--since", help="With --changed: changes after this time.")
    ] = None,
    cause: Annotated[str, typer.Option("--cause", help="Why (kept with the new score).")] = "records changed",
) -> None:
    """Rescore subjects against the snapshot in force and publish what changed."""
    if not subject and not changed:
        raise typer.BadParameter("give --subject ID or --changed")
    settings = get_settings()
    engine = migrated_engine()
    try:
        if changed:
            results = rescore_changed(
                engine, settings, since=None if since is None else parse_timestamp(since), cause=cause
            )
        else:
            results = [rescore_subject(engine, settings, sid, cause=cause) for sid in subject or []]
    except PublishError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from None
    for r in results:
        before = _label(r.previous)
        after = _label(r.current)
        typer.echo(
            f"subject {r.subject_id}: {before} -> {after}"
            if r.changed
            else f"subject {r.subject_id}: unchanged"
        )
    typer.echo(f"{sum(r.changed for r in results)} of {len(results)} rescored subjects changed")


def _label(row: dict[str, Any] | None) -> str:
    if row is None:
        return "(none)"
    if row["state"] != "scored":
        return f"{row['state']}{' ' + row['grade'] if row.get('grade') else ''}"
    return str(row["score"]) if row.get("score") is not None else str(row["grade"])


@app.command("replay")
def replay_cmd(score_id: Annotated[int, typer.Argument(help="The stored score's id.")]) -> None:
    """Rebuild a stored score's features as known when it was made and rescore them with its model."""
    settings = get_settings()
    try:
        r = replay(migrated_engine(), settings, score_id)
    except ReplayError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from None
    typer.echo(
        f"score {score_id}: stored {_label(r.stored)}, replayed {_label(r.replayed)};"
        f" feature hash {'matches' if r.hash_matches else 'DIFFERS'}"
    )
    if not r.ok:
        raise typer.Exit(1)


@scores_app.command("show")
def show_cmd(
    subject_id: Annotated[int, typer.Argument(help="Subject id.")],
    lang: Annotated[str, typer.Option("--lang", help="zh or en.")] = "zh",
    purpose: Annotated[
        str, typer.Option("--purpose", help="Why you look (kept in the query register).")
    ] = "support",
) -> None:
    """One subject's score in force with its reasons, recourse and history (registered as a read)."""
    settings = get_settings()
    engine = migrated_engine()
    with Session(engine) as session:
        subject = session.get(Subject, subject_id)
        if subject is None:
            typer.echo(f"error: no subject {subject_id}", err=True)
            raise typer.Exit(1)
        who = Principal(role="admin", id=f"cli:{getpass.getuser()}")
        record_read(
            session,
            AuditLog.from_settings(settings),
            who=who,
            subject=subject,
            purpose=purpose,
            route="cli scores show",
        )
        session.commit()
    row = current_score(engine, subject_id)
    if row is None:
        typer.echo(f"subject {subject_id}: no published score")
        raise typer.Exit(1)
    zh = lang == "zh"
    typer.echo(
        f"subject {subject_id} ({row['subject_type']}) as of {row['as_of']}: {_label(row)}"
        f"{' / ' + row['grade'] if row['state'] == 'scored' and row.get('score') is not None else ''}"
        f"  [model {row['model_version']}, score id {row['id']}]"
    )
    for reason in explain(engine, row):
        sign = "-" if reason.direction == "lowering" else "+"
        typer.echo(f"  {sign} {abs(reason.points):5.1f}  {reason.zh if zh else reason.en}")
    actions = recourse(engine, settings, row)
    if actions:
        typer.echo("  如何提升：" if zh else "  how to raise it:")
        for a in actions:
            typer.echo(f"    +{a.gain:3d} -> {a.projected_score}  {a.zh if zh else a.en}")
    history = score_history(engine, subject_id)
    typer.echo("  history: " + ", ".join(f"{h['as_of']} {_label(h)} ({h['origin']})" for h in history))
