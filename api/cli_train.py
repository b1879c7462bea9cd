"""``credit train``: fit and compare the PD model families.

One command, several data sources ("modes"); exactly one must be chosen:

* ``--csv FILE --target COLUMN --bad VALUE`` — bring your own labelled table
  (:mod:`experiments.byod`): repeated stratified CV of the scorecard and LightGBM.
* the records store (``--subject person|enterprise --model scorecard|lgbm --as-of DATE``):
  :mod:`experiments.train` — out-of-time validation, MLflow run, registered version, model card.

``credit models list`` and ``credit models promote`` manage the registered versions.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated, Any

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
    subject: Annotated[
        list[str] | None,
        typer.Option(
            "--subject", help="Store mode: person or enterprise; repeatable (the store is read once)."
        ),
    ] = None,
    model: Annotated[
        list[str] | None,
        typer.Option("--model", help="Store mode: scorecard or lgbm (default lgbm); repeatable."),
    ] = None,
    as_of: Annotated[
        str | None,
        typer.Option("--as-of", help="Store mode: validation (out-of-time) as-of date, YYYY-MM-DD."),
    ] = None,
    train_as_of: Annotated[
        str | None,
        typer.Option("--train-as-of", help="Store mode: training as-of date (default as-of − 12 months)."),
    ] = None,
    truth: Annotated[
        Path | None,
        typer.Option(
            "--truth", help="Store mode: synthetic-city truth folder, for the oracle AUC.", file_okay=False
        ),
    ] = None,
    actor: Annotated[str, typer.Option("--actor", help="Who trains (recorded with the version).")] = "cli",
) -> None:
    """Train models: on a CSV (cross-validated comparison) or on the records store (registered)."""
    if csv is not None and subject:
        raise _usage_error("choose one data source: --csv or --subject")
    if csv is not None:
        if target is None or bad is None:
            raise _usage_error("--csv needs --target COLUMN and --bad VALUE")
        _train_csv(csv, target, bad, repeats, folds, seed, _parse_monotone(monotone or []), out)
        return
    if subject:
        if as_of is None:
            raise _usage_error("--subject needs --as-of DATE")
        _train_store(
            list(dict.fromkeys(subject)),
            list(dict.fromkeys(model or ["lgbm"])),
            _date(as_of),
            None if train_as_of is None else _date(train_as_of),
            truth,
            actor,
        )
        return
    raise _usage_error(
        "choose a data source: --csv FILE --target COLUMN --bad VALUE,"
        " or --subject person|enterprise --as-of DATE"
    )


def _date(value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise _usage_error(f"not a date (YYYY-MM-DD): {value!r}") from None


def _train_store(
    subjects: list[str],
    families: list[str],
    as_of: dt.date,
    train_as_of: dt.date | None,
    truth: Path | None,
    actor: str,
) -> None:
    """Every subject × family; the store is read once and each subject's frames built once."""
    import time

    from experiments.train import load_training_data
    from experiments.train import train as train_flow
    from scoring.settings import get_settings

    console = Console()
    settings = get_settings()
    started = time.perf_counter()
    console.print("[dim]reading the records store[/dim]")
    data = load_training_data(settings)
    console.print(f"[dim]read in {time.perf_counter() - started:.1f} s[/dim]")
    for subject in subjects:
        for family in families:
            began = time.perf_counter()
            try:
                result = train_flow(
                    settings,
                    subject=subject,
                    family=family,
                    as_of=as_of,
                    train_as_of=train_as_of,
                    truth_dir=truth,
                    actor=actor,
                    progress=lambda m: console.print(
                        f"[dim]{time.perf_counter() - started:7.1f} s  {m}[/dim]"
                    ),
                    data=data,
                )
            except ValueError as exc:
                raise _usage_error(str(exc)) from exc
            _show(console, subject, family, result, time.perf_counter() - began)
    runs = len(subjects) * len(families)
    if runs > 1:
        console.print(f"all {runs} trainings in {time.perf_counter() - started:.1f} s")


def _show(console: Console, subject: str, family: str, result: Any, seconds: float) -> None:
    m = result.metrics
    table = Table(title=f"{subject} {family}: registered version {result.version} ({result.alias})")
    table.add_column("metric")
    table.add_column("development", justify="right")
    table.add_column("out of time", justify="right")
    for key in ("auc", "ks", "gini", "brier", "ece", "bad_rate", "n"):
        table.add_row(key, f"{m[f'dev_{key}']:.4f}", f"{m[f'oot_{key}']:.4f}")
    console.print(table)
    console.print(f"score PSI development→validation: {m['score_psi']:.4f}")
    if "oracle_auc" in m:
        console.print(
            f"oracle AUC {m['oracle_auc']:.4f}; model/oracle = {m['auc_ratio_to_oracle']:.4f}"
            f" (model AUC on the same rows {m['oot_auc_on_truth_rows']:.4f})"
        )
    console.print(f"model card: {result.card_path} ({seconds:.1f} s)")


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


models_app = typer.Typer(help="Registered models: versions, aliases, promotion.", no_args_is_help=True)
app.add_typer(models_app, name="models")


@models_app.command("list")
def models_list() -> None:
    """Registered versions with their aliases and out-of-time metrics."""
    from experiments.tracking import REGISTERED_MODELS, client
    from scoring.settings import get_settings

    c = client(get_settings())
    table = Table(title="Registered models")
    for column in ("model", "version", "aliases", "family", "OOT AUC", "OOT ECE", "promotion"):
        table.add_column(column)
    for name in REGISTERED_MODELS.values():
        try:
            versions = c.search_model_versions(f"name='{name}'")
        except Exception:  # no such registered model yet
            continue
        aliases: dict[str, list[str]] = {}
        for alias, version in c.get_registered_model(name).aliases.items():
            aliases.setdefault(str(version), []).append(alias)
        for v in sorted(versions, key=lambda v: int(v.version)):
            t = v.tags
            table.add_row(
                name,
                str(v.version),
                ", ".join(sorted(aliases.get(str(v.version), []))),
                t.get("family", ""),
                t.get("oot_auc", "")[:6],
                t.get("oot_ece", "")[:6],
                t.get("promotion", ""),
            )
    Console().print(table)


@models_app.command("promote")
def models_promote(
    subject: Annotated[str, typer.Option("--subject", help="person or enterprise")],
    actor: Annotated[str, typer.Option("--actor", help="Who decides (recorded).")],
    reason: Annotated[str, typer.Option("--reason", help="Why (recorded).")],
) -> None:
    """Make the challenger champion if it is not worse out of time and passes the fairness gate."""
    from experiments.promotion import promote
    from scoring.settings import get_settings

    try:
        outcome = promote(get_settings(), subject, actor=actor, reason=reason)
    except (LookupError, ValueError) as exc:
        raise _usage_error(str(exc)) from exc
    ch, cv = outcome.champion_eval, outcome.challenger_eval
    typer.echo(
        f"challenger v{outcome.challenger}: AUC {cv.auc:.4f}, ECE {cv.ece:.4f}"
        + ("" if ch is None else f"; champion v{outcome.champion}: AUC {ch.auc:.4f}, ECE {ch.ece:.4f}")
    )
    if outcome.decision.accepted:
        typer.echo(f"promoted: v{outcome.challenger} is now champion")
        return
    typer.echo("refused:")
    for r in outcome.decision.reasons:
        typer.echo(f"  - {r}")
    raise typer.Exit(code=1)
