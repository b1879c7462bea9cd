"""``credit features build`` (point-in-time feature tables for every person and organisation) and
``credit features snapshot`` (a Parquet snapshot of the store for big builds).

Progress goes to stderr; the summary (rows per table, files, registry version) to stdout.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from api.cli import app
from api.cli_common import migrated_engine, parse_date, parse_timestamp
from features.pipelines import PAYLOAD_KINDS
from scoring.features import build_feature_tables
from scoring.settings import get_settings
from scoring.store import StoreError, export_snapshot, scan_snapshot

__all__ = ["build", "snapshot_cmd"]

features_app = typer.Typer(help="Point-in-time feature tables.", no_args_is_help=True)
app.add_typer(features_app, name="features")


@features_app.command("snapshot")
def snapshot_cmd(
    out: Annotated[Path, typer.Option("--out", help="Folder for the snapshot (replaced).")],
    known_at: Annotated[
        str | None, typer.Option("--known-at", help="Only what the store held at this time (ISO timestamp).")
    ] = None,
    part: Annotated[int, typer.Option("--part", min=1000, help="Subject ids per records part.")] = 100_000,
) -> None:
    """Export the records store as a Parquet snapshot (one pass) for big feature builds."""
    known = parse_timestamp(known_at) if known_at is not None else None
    engine = migrated_engine(get_settings().database_url)
    try:
        path = export_snapshot(engine, out, known_at=known, subjects_per_part=part, payload=PAYLOAD_KINDS)
    finally:
        engine.dispose()
    counts = scan_snapshot(path).manifest["counts"]
    typer.echo(", ".join(f"{name}: {n}" for name, n in counts.items()) + f" -> {path}")


@features_app.command("build")
def build(
    as_of: Annotated[str, typer.Option("--as-of", help="As-of date D (YYYY-MM-DD).")],
    out: Annotated[
        Path | None, typer.Option("--out", help="Output folder (default: <var dir>/features).")
    ] = None,
    known_at: Annotated[
        str | None,
        typer.Option(
            "--known-at",
            help="Use only what the store held at this time (ISO timestamp, UTC unless an offset is"
            " given). Default: the end of the as-of date.",
        ),
    ] = None,
    chunk: Annotated[int, typer.Option("--chunk", min=1000, help="Subject ids per chunk.")] = 100_000,
    snapshot: Annotated[
        Path | None,
        typer.Option(
            "--snapshot", help="Read a Parquet snapshot (`credit features snapshot`), not the database."
        ),
    ] = None,
) -> None:
    """Build the person and enterprise feature tables as of a date and write them as Parquet."""
    day = parse_date(as_of)
    known = parse_timestamp(known_at) if known_at is not None else None
    settings = get_settings()
    folder = out if out is not None else settings.var_dir / "features"

    def progress(done: int, total: int) -> None:
        typer.echo(f"subjects {done}/{total} (ids)", err=True)

    if snapshot is not None:
        try:
            result = build_feature_tables(
                None, day, folder, known_at=known, snapshot=snapshot, progress=progress
            )
        except (ValueError, StoreError) as exc:
            typer.echo(f"error: {exc}", err=True)
            raise typer.Exit(2) from None
    else:
        engine = migrated_engine(settings.database_url)
        try:
            result = build_feature_tables(
                engine, day, folder, known_at=known, subjects_per_chunk=chunk, progress=progress
            )
        finally:
            engine.dispose()
    typer.echo(f"features as of {result.as_of} known at {result.known_at.isoformat()}")
    typer.echo(f"registry {result.registry_version} (catalogue {result.catalogue_version})")
    for subject, rows in result.rows.items():
        typer.echo(f"{subject}: {rows} rows -> {result.paths[subject]}")
    typer.echo(f"took {result.seconds:.1f} s")
