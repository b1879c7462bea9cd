"""``credit audit verify``: check the audit log's hash chain and its signed anchor."""

from __future__ import annotations

import typer

from api.cli import app
from scoring.settings import get_settings

audit_app = typer.Typer(help="The audit log.", no_args_is_help=True)
app.add_typer(audit_app, name="audit")


@audit_app.command("verify")
def verify() -> None:
    """Exit 0 when every entry hashes, chains and ends at the signed anchor; 1 otherwise."""
    from scoring.audit import AuditLog
    from scoring.db.engine import make_engine, make_sessionmaker

    settings = get_settings()
    engine = make_engine(settings.database_url)
    try:
        with make_sessionmaker(engine)() as session:
            result = AuditLog.from_settings(settings).verify(session)
    finally:
        engine.dispose()
    if result.ok:
        typer.echo(f"audit log intact: {result.entries} entries, head seq {result.head_seq}")
        return
    typer.echo(f"audit log TAMPERED ({result.entries} entries read):", err=True)
    for p in result.problems:
        typer.echo(f"  {p}", err=True)
    raise typer.Exit(1)
