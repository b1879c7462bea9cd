"""The ``credit`` command-line program. Each command group lives in its own ``api/cli_*.py``."""

from __future__ import annotations

import logging

import typer

from scoring.settings import get_settings

app = typer.Typer(
    help="Public credit-score and incentive service.",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,  # locals can hold personal data
)
db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
app.add_typer(db_app, name="db")


@app.callback()
def _main(verbose: bool = typer.Option(False, "--verbose", "-v", help="Debug logging.")) -> None:
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO, format="%(levelname)s %(name)s: %(message)s"
    )


@db_app.command("upgrade")
def db_upgrade(revision: str = typer.Argument("head")) -> None:
    """Apply migrations up to REVISION (default: head)."""
    from scoring.db.migrate import upgrade

    settings = get_settings()
    upgrade(settings.database_url, revision)
    typer.echo(f"database at {revision}")


@db_app.command("downgrade")
def db_downgrade(revision: str = typer.Argument(...)) -> None:
    """Revert migrations down to REVISION ('base' for an empty schema)."""
    from scoring.db.migrate import downgrade

    downgrade(get_settings().database_url, revision)
    typer.echo(f"database at {revision}")


def _register() -> None:
    # Command groups register themselves on ``app``; import order is the help order.
    import importlib

    for name in (
        "api.cli_ingest",
        "api.cli_synth",
        "api.cli_train",
        "api.cli_serve",
        "api.cli_features",
        "api.cli_score",
        "api.cli_reports",
        "api.cli_credentials",
        "api.cli_audit",
        "api.cli_disclosure",
        "api.cli_incentives",
        "api.cli_rights",
        "api.cli_demo",
    ):
        try:
            importlib.import_module(name)
        except ModuleNotFoundError as exc:  # a group not yet present in this checkout
            if exc.name != name:
                raise


_register()

if __name__ == "__main__":
    app()
