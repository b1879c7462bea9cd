"""``credit synth``: write a synthetic city (department files, ground truth, defect manifest)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import typer

from api.cli import app
from api.cli_common import parse_date

__all__ = ["synth"]


@app.command("synth")
def synth(
    people: Annotated[int, typer.Option("--people", min=1, help="Number of people.")],
    enterprises: Annotated[
        int, typer.Option("--enterprises", min=0, help="Number of organisations (all types).")
    ],
    out: Annotated[
        Path, typer.Option("--out", help="Output folder (files/, truth/, manifest.csv, volumes.json).")
    ],
    months: Annotated[
        int, typer.Option("--months", help="History before the last as-of date (x12, >= 36).")
    ] = 36,
    as_of: Annotated[
        str, typer.Option("--as-of", help="Last labelled as-of date D (a month end).")
    ] = "2025-06-30",
    seed: Annotated[int, typer.Option("--seed", help="Random seed: same arguments, same bytes.")] = 0,
    defect_rate: Annotated[
        float, typer.Option("--defect-rate", min=0.0, max=0.19, help="Share of defective rows.")
    ] = 0.005,
) -> None:
    """Generate a synthetic city. Records cover (D - months, D + 12 months]; labelled as-of dates
    are D, D - 12 months, D - 24 months, ... (see docs/synthetic-city.md)."""
    from synth import CityConfig, TimelineError, generate_city

    config = CityConfig(
        people=people,
        enterprises=enterprises,
        months=months,
        as_of=parse_date(as_of),
        seed=seed,
        defect_rate=defect_rate,
    )
    started = time.perf_counter()
    try:
        summary = generate_city(config, out)
    except (TimelineError, ValueError) as exc:
        raise typer.BadParameter(str(exc)) from None
    seconds = time.perf_counter() - started
    vol = summary.volumes
    formats = ", ".join(f"{k} {v}" for k, v in vol["files_per_format"].items())
    typer.echo(
        f"synthetic city: {summary.people:,} people, {summary.organisations:,} organisations, "
        f"records after {vol['window']['after']} through {vol['window']['through']}"
    )
    for group, rates in summary.base_rates.items():
        shown = ", ".join(f"{d} {r:.1%}" for d, r in rates.items())
        typer.echo(f"  outcome rate ({group}) by as-of date: {shown}")
    typer.echo(
        f"  rows: {summary.rows:,} in {summary.files} files ({formats}); "
        f"{vol['rows_per_person_month']} rows per person-month"
    )
    defects = sum(summary.defects.values())
    detail = ", ".join(f"{k} {v:,}" for k, v in sorted(summary.defects.items()))
    typer.echo(f"  defective rows: {defects:,} ({detail}) -> manifest.csv")
    typer.echo(f"  written to {out} in {seconds:.1f} s")
