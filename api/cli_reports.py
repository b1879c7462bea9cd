"""``credit bulletin`` (data-quality bulletin), ``credit coverage`` and ``credit warnings``
(early warning for supervisors)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated

import typer

from api.cli import app
from api.cli_common import migrated_engine
from scoring.bulletins import bulletin, write_bulletin
from scoring.coverage import coverage, coverage_trend
from scoring.early_warning import WarningPolicy, early_warnings
from scoring.settings import get_settings

__all__ = ["bulletin_cmd", "coverage_cmd", "warnings_cmd"]


@app.command("bulletin")
def bulletin_cmd(
    period: Annotated[str, typer.Option("--period", help="2026-Q3 or 2026-09 (batches received then).")],
    out: Annotated[Path | None, typer.Option("--out", help="Folder (default: <var>/bulletins).")] = None,
) -> None:
    """Data-quality bulletin per department: volume, outcomes, quarantine reasons, timeliness,
    completeness, conflicts (HTML with charts, and CSV)."""
    try:
        b = bulletin(migrated_engine(), period)
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from None
    html_path, csv_path = write_bulletin(b, out or get_settings().var_dir / "bulletins")
    typer.echo(
        f"{period}: {len(b.departments)} departments, {b.total('rows_read'):,} rows read ="
        f" {b.total('accepted'):,} accepted + {b.total('duplicate'):,} duplicate +"
        f" {b.total('correction'):,} correction + {b.total('quarantined'):,} quarantined"
    )
    for d in b.departments:
        typer.echo(
            f"  {d.department:<20} {d.rows_read:>9,} rows  quarantined {d.share('quarantined'):6.2%}"
            f"  conflicts {d.conflicts:>4}  median days to receipt"
            f" {'-' if d.timeliness_median_days is None else f'{d.timeliness_median_days:.0f}'}"
        )
    typer.echo(f"written {html_path} and {csv_path}")


@app.command("coverage")
def coverage_cmd(
    trend: Annotated[bool, typer.Option("--trend", help="Every published snapshot, oldest first.")] = False,
) -> None:
    """Share of adult residents with a score (not 'insufficient record'), by district and age band."""
    engine = migrated_engine()
    try:
        items = coverage_trend(engine) if trend else [coverage(engine)]
    except LookupError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from None
    for c in items:
        mark = "meets" if c.meets_target else "below"
        typer.echo(
            f"snapshot {c.snapshot_id} as of {c.as_of}: {c.scored:,} of {c.adults:,} adults scored"
            f" = {c.share:.1%} ({mark} the {c.target:.0%} target)"
        )
    last = items[-1]
    typer.echo("  by age band: " + ", ".join(f"{r[0]} {r[3]:.0%}" for r in last.by_age_band.iter_rows()))
    lowest = last.by_district.sort("share").head(5)
    typer.echo("  lowest districts: " + ", ".join(f"{r[0]} {r[3]:.0%} of {r[1]}" for r in lowest.iter_rows()))


def _when(value: str) -> dt.datetime:
    try:
        return dt.datetime.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter(f"not a date or timestamp: {value!r}") from None


@app.command("warnings")
def warnings_cmd(
    start: Annotated[str, typer.Option("--from", help="Period start (date or timestamp).")],
    end: Annotated[str | None, typer.Option("--to", help="Period end (default: now).")] = None,
    class_drop: Annotated[int, typer.Option(help="Class steps that ring.")] = 2,
    pd_ratio: Annotated[float, typer.Option(help="PD multiple that rings (with --pd-increase).")] = 2.0,
    pd_increase: Annotated[float, typer.Option(help="PD points that ring (with --pd-ratio).")] = 0.05,
    lang: Annotated[str, typer.Option("--lang", help="zh or en.")] = "zh",
) -> None:
    """Organisations whose class or probability deteriorated sharply, or that collected new serious
    records, in the period."""
    until = _when(end) if end else dt.datetime.now(dt.UTC).replace(tzinfo=None)
    policy = WarningPolicy(class_drop=class_drop, pd_ratio=pd_ratio, pd_increase=pd_increase)
    found = early_warnings(migrated_engine(), _when(start), until, policy)
    for w in found:
        reasons = "；".join(w.reasons_zh) if lang == "zh" else "; ".join(w.reasons_en)
        typer.echo(f"{w.code}  {w.name or ''}  {w.class_before or '-'}→{w.class_after or '-'}  {reasons}")
    typer.echo(f"{len(found)} organisations")
