"""``credit credentials issue``: a bearer token (development and test only) or an API key."""

from __future__ import annotations

from typing import Annotated

import typer

from api.cli import app
from scoring.settings import get_settings

credentials_app = typer.Typer(help="Tokens and API keys of the HTTP service.", no_args_is_help=True)
app.add_typer(credentials_app, name="credentials")


ROLE_HELP = "citizen, enterprise_rep, supervisor, reviewer, admin (tokens); bank, partner, department (keys)."
SUBJECT_HELP = "Token subject: a citizen's pseudonym (its subject_key), or a staff id."
ORG_HELP = "enterprise_rep: a credit code of an organisation it acts for (repeatable)."
NAME_HELP = "API key: the bank's, partner's or department's client code."


@credentials_app.command("issue")
def issue(
    role: Annotated[str, typer.Option(help=ROLE_HELP)],
    subject: Annotated[str | None, typer.Option(help=SUBJECT_HELP)] = None,
    org: Annotated[list[str] | None, typer.Option(help=ORG_HELP)] = None,
    name: Annotated[str | None, typer.Option(help=NAME_HELP)] = None,
    department: Annotated[str | None, typer.Option(help="Department key: its catalogue code.")] = None,
    ttl: Annotated[int | None, typer.Option(help="Token lifetime in seconds (default: settings).")] = None,
) -> None:
    """Print a bearer token for a person role, or create and print an API key for an institution."""
    from features.catalogue import load_catalogue
    from scoring.auth import KEY_ROLES, PERSON_ROLES, CredentialError, issue_api_key, issue_token
    from scoring.db.engine import make_engine, make_sessionmaker

    settings = get_settings()
    try:
        if role in PERSON_ROLES:
            if settings.environment not in ("development", "test"):
                raise CredentialError("tokens come from the identity provider outside development and test")
            if role == "enterprise_rep" and subject is None and org:
                subject = f"rep-{org[0].strip().upper()}"
            if subject is None:
                raise CredentialError(f"--subject is required for role {role}")
            typer.echo(issue_token(settings, role=role, subject=subject, orgs=org or (), ttl_seconds=ttl))
            return
        if role not in KEY_ROLES:
            raise CredentialError(f"unknown role {role!r}")
        if name is None:
            raise CredentialError(f"--name is required for role {role}")
        engine = make_engine(settings.database_url)
        try:
            with make_sessionmaker(engine)() as session:
                key, row = issue_api_key(
                    session,
                    role=role,
                    name=name,
                    department=department,
                    departments=load_catalogue().departments,
                    created_by="cli",
                )
                session.commit()
        finally:
            engine.dispose()
        typer.echo(key)
        typer.echo(f"key id {row.key_id} ({role} {name}); the key is not shown again", err=True)
    except CredentialError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
