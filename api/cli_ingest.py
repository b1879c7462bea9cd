"""``credit ingest``, ``credit batches`` and ``credit ingest-status``: department files in, counts out.

Progress goes to stderr (``<file>: inserting N records`` when the insert phase starts, then a
progress bar on a terminal); results go to stdout. Identity numbers are never printed.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from api.cli import app
from api.cli_common import migrated_engine
from features.catalogue import load_catalogue
from features.validate import RecordValidator
from scoring.db import ingest_repository as repo
from scoring.identity import IdentityVault
from scoring.ingest import BatchResult, IngestError, discover_files, ingest_file
from scoring.publish import rescore_after_change
from scoring.settings import get_settings

__all__ = ["ingest", "ingest_status", "list_batches"]

_BAR_FROM = 20_000  # rows; smaller files finish before a bar would help


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def reconciliation(r: BatchResult | dict[str, int]) -> str:
    get: Any = r.get if isinstance(r, dict) else (lambda k: getattr(r, k))
    return (
        f"read {get('rows_read')} = accepted {get('accepted')} + duplicate {get('duplicate')}"
        f" + correction {get('correction')} + quarantined {get('quarantined')}"
    )


class _Reporter:
    """Turns ingestion progress into stderr lines and, on a terminal, a bar."""

    def __init__(self, console: Console) -> None:
        self.console = console
        self.name = ""
        self.bar: Progress | None = None
        self.task: Any = None

    def __call__(self, phase: str, done: int, total: int) -> None:
        if phase == "validating":
            typer.echo(f"{self.name}: validating {total} rows", err=True)
        elif phase == "inserting" and done == 0:
            typer.echo(f"{self.name}: inserting the valid rows of {total}", err=True)
            if total >= _BAR_FROM and self.console.is_terminal:
                self.bar = Progress(
                    TextColumn("{task.description}"),
                    BarColumn(),
                    MofNCompleteColumn(),
                    TimeRemainingColumn(),
                    console=self.console,
                    transient=True,
                )
                self.bar.start()
                self.task = self.bar.add_task(self.name, total=total)
        elif phase == "inserting" and self.bar is not None:
            self.bar.update(self.task, completed=done)
        elif phase == "done":
            self.stop()

    def stop(self) -> None:
        if self.bar is not None:
            self.bar.stop()
            self.bar = None


@app.command("ingest")
def ingest(
    path: Annotated[
        Path, typer.Argument(exists=True, help="A file, or a folder of .csv/.jsonl/.parquet files.")
    ],
    encoding: Annotated[
        str | None, typer.Option("--encoding", "-e", help="CSV text encoding (default: detect).")
    ] = None,
    rescore: Annotated[
        bool,
        typer.Option(
            "--rescore/--no-rescore",
            help="When scores are published, rescore the subjects whose records changed.",
        ),
    ] = True,
    rescore_limit: Annotated[
        int, typer.Option(help="Above this many changed subjects, advise `credit score` instead.")
    ] = 5000,
) -> None:
    """Ingest department files; each file is one batch, stored entirely or not at all."""
    run_started = _utcnow() - dt.timedelta(microseconds=1)
    settings = get_settings()
    engine = migrated_engine(get_settings().database_url)
    catalogue = load_catalogue()
    vault = IdentityVault.from_settings(settings)
    reporter = _Reporter(Console(stderr=True))
    validator = RecordValidator(catalogue, now=_utcnow(), person_key=vault.lookup_key)
    totals = dict.fromkeys(("rows_read", "accepted", "duplicate", "correction", "quarantined"), 0)
    reasons: dict[str, int] = {}
    failed: list[str] = []
    files = discover_files(path)
    if not files:
        typer.echo(f"error: no .csv, .jsonl or .parquet files under {path}", err=True)
        raise typer.Exit(1)
    for file, name in files:
        reporter.name = name
        try:
            result = ingest_file(
                engine,
                file,
                catalogue=catalogue,
                vault=vault,
                encoding=encoding,
                progress=reporter,
                source_name=name,
                validator=validator,
            )
        except IngestError as exc:
            reporter.stop()
            typer.echo(f"error: {exc}; nothing stored from this file", err=True)
            failed.append(name)
            continue
        note = f" (already ingested as batch {result.batch_id})" if result.already_ingested else ""
        typer.echo(f"{name}: {reconciliation(result)}{note}")
        if result.quarantine_by_reason:
            parts = ", ".join(f"{k} {v}" for k, v in result.quarantine_by_reason.items())
            typer.echo(f"  quarantined by reason: {parts}")
        for k in totals:
            totals[k] += getattr(result, k)
        for k, v in result.quarantine_by_reason.items():
            reasons[k] = reasons.get(k, 0) + v
    ok = len(files) - len(failed)
    typer.echo(f"total ({ok} file{'s' if ok != 1 else ''}): {reconciliation(totals)}")
    if reasons:
        typer.echo("  quarantined by reason: " + ", ".join(f"{k} {v}" for k, v in sorted(reasons.items())))
    if rescore and totals["accepted"] + totals["correction"] > 0:
        after = rescore_after_change(
            engine, settings, run_started, cause="records ingested", limit=rescore_limit
        )
        if after.skipped_over_limit:
            typer.echo(
                f"{after.changed_subjects:,} subjects changed (over {rescore_limit:,}):"
                " publish a new snapshot with `credit score`"
            )
        elif after.published:
            moved = sum(r.changed for r in after.rescored)
            typer.echo(f"rescored {len(after.rescored)} changed subjects: {moved} published scores changed")
    engine.dispose()
    if failed:
        typer.echo(f"error: {len(failed)} file(s) could not be parsed: {', '.join(failed)}", err=True)
        raise typer.Exit(1)


@app.command("batches")
def list_batches(limit: Annotated[int, typer.Option(help="Most recent batches to show.")] = 50) -> None:
    """List ingested batches, most recent first, with their counts."""
    engine = migrated_engine(get_settings().database_url)
    with engine.connect() as conn:
        rows = repo.list_batches(conn, limit)
    for r in rows:
        typer.echo(
            f"batch {r['id']}: {r['source_name']} ({r['file_format']}) {reconciliation(r)}"
            f" at {r['finished_at']:%Y-%m-%d %H:%M:%S}"
        )
    engine.dispose()


@app.command("ingest-status")
def ingest_status(
    batch_id: Annotated[int, typer.Argument(help="Batch id (see `credit batches`).")],
    limit: Annotated[int, typer.Option(help="Quarantined rows to list.")] = 100,
) -> None:
    """Show one batch: counts and quarantined rows (line, reason, message)."""
    engine = migrated_engine(get_settings().database_url)
    with engine.connect() as conn:
        batch = repo.get_batch(conn, batch_id)
        if batch is None:
            typer.echo(f"error: no batch {batch_id}", err=True)
            raise typer.Exit(1)
        rows = repo.quarantined_rows(conn, batch_id, limit)
    typer.echo(
        f"batch {batch_id}: {batch['source_name']} ({batch['file_format']}, {batch['encoding'] or '-'})"
    )
    typer.echo(f"  {reconciliation(dict(batch))}")
    for line, reason, message, kind in rows:
        typer.echo(f"  line {line}: {reason}: {message} [{kind or '-'}]")
    if batch["quarantined"] > len(rows):
        typer.echo(f"  ... {batch['quarantined'] - len(rows)} more")
    engine.dispose()
