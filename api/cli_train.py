"""``credit train``: fit and compare the PD model families.

One command, several data sources ("modes"); exactly one must be chosen:

* ``--csv FILE --target COLUMN --bad VALUE`` — bring your own labelled table
  (:mod:`experiments.byod`): repeated stratified CV of the scorecard and LightGBM.
* the synthetic city (``--subject person|enterprise --model scorecard|lgbm --as-of DATE``) — to be
  added next to the CSV mode in :func:`train`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from api.cli import app

__all__ = ["train"]


def _parse_monotone(items: list[str]) -> dict[str, int]:
    out: dict[str, int] = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or value.strip() not in {"+1", "1", "-1", "0"}:
            raise typer.BadParameter(f"expected FEATURE=+1|-1|0, got {item!r}", param_hint="--monotone")
        out[name.strip()] = int(value)
    return out


def _usage_error(message: str) -> typer.Exit:
    typer.echo(f"Error: {message}", err=True)
    return typer.Exit(code=2)


@app.command("train")
def train(
    csv: Annotated[
        Path | None,
        typer.Option("--csv", help="Bring your own data: a labelled CSV file.", exists=True, dir_okay=False),
    ] = None,
    target: Annotated[str | None, typer.Option("--target", help="CSV mode: the target column.")] = None,
    bad: Annotated[
        str | None, typer.Option("--bad", help="CSV mode: the target value meaning 'bad'.")
    ] = None,
    repeats: Annotated[int, typer.Option("--repeats", min=1, help="CV repetitions.")] = 3,
    folds: Annotated[int, typer.Option("--folds", min=2, help="CV folds per repetition.")] = 5,
    seed: Annotated[int, typer.Option("--seed", help="Seed of the fold assignment.")] = 42,
    monotone: Annotated[
        list[str] | None,
        typer.Option(
            "--monotone", help="FEATURE=+1 (more is better) or FEATURE=-1 (more is worse); repeatable."
        ),
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option(
            "--out", help="Also fit calibrated models on all rows; write a serving bundle per family here."
        ),
    ] = None,
) -> None:
    """Train and cross-validate both model families, print AUC, KS and Gini."""
    if csv is not None:
        if target is None or bad is None:
            raise _usage_error("--csv needs --target COLUMN and --bad VALUE")
        _train_csv(csv, target, bad, repeats, folds, seed, _parse_monotone(monotone or []), out)
        return
    # Synthetic-city mode (--subject/--model/--as-of) is dispatched here once it exists.
    raise _usage_error("choose a data source: --csv FILE --target COLUMN --bad VALUE")


def _train_csv(
    csv: Path,
    target: str,
    bad: str,
    repeats: int,
    folds: int,
    seed: int,
    monotone: dict[str, int],
    out: Path | None,
) -> None:
    from experiments.byod import run_byod

    try:
        result = run_byod(
            csv,
            target,
            bad,
            n_splits=folds,
            n_repeats=repeats,
            random_state=seed,
            monotone=monotone or None,
            bundle_dir=out,
        )
    except ValueError as exc:
        raise _usage_error(str(exc)) from exc
    data = result.data
    console = Console()
    console.print(
        f"{csv.name}: {len(data.X)} rows, {len(data.X.columns)} features "
        f"({len(data.categorical)} categorical), bad rate {data.bad_rate:.3f}"
    )
    if data.dropped:
        console.print("dropped: " + ", ".join(f"{k} ({v})" for k, v in data.dropped.items()))
    table = Table(title=f"Repeated stratified CV ({repeats}x{folds}, seed {seed})")
    for column in ("model", "AUC", "KS", "Gini", "folds"):
        table.add_column(column, justify="left" if column == "model" else "right")
    for family, row in result.cv.summary.iterrows():
        table.add_row(
            str(family),
            f"{row['auc_mean']:.3f} ± {row['auc_std']:.3f}",
            f"{row['ks_mean']:.3f} ± {row['ks_std']:.3f}",
            f"{row['gini_mean']:.3f} ± {row['gini_std']:.3f}",
            str(int(row["n_folds"])),
        )
    console.print(table)
    for family, path in result.bundles.items():
        console.print(f"bundle {family}: {path}")
