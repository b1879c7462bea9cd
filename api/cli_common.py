"""Helpers shared by the command groups: argument parsing and the database engine."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
import typer

from scoring.db.engine import make_engine
from scoring.db.tables import Record
from scoring.settings import get_settings

__all__ = ["migrated_engine", "parse_date", "parse_timestamp"]


def parse_date(value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter(f"not a date (YYYY-MM-DD): {value!r}") from None


def parse_timestamp(value: str) -> dt.datetime:
    """An ISO timestamp; one with a zone is converted to the store's naive UTC."""
    try:
        ts = dt.datetime.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter(f"not a timestamp (YYYY-MM-DDTHH:MM[:SS]): {value!r}") from None
    if ts.tzinfo is not None:
        ts = ts.astimezone(dt.UTC).replace(tzinfo=None)
    return ts


def migrated_engine(url: str | None = None) -> sa.Engine:
    """The configured database, or exit 2 with advice when its schema is missing."""
    engine = make_engine(url or get_settings().database_url)
    if not sa.inspect(engine).has_table(Record.__tablename__):
        engine.dispose()
        typer.echo("error: the database has no schema; run `credit db upgrade` first", err=True)
        raise typer.Exit(2)
    return engine
