"""``credit demo-credentials``: development credentials for every role on the published demo city.

Picks a citizen with a score and an organisation with a class, issues tokens (citizen,
enterprise representative, supervisor, reviewer, admin) and API keys (a bank, a department),
records a consent of that citizen to the bank for a credit loan (audited like any grant), and
prints them with example requests. Development and test only.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Annotated

import sqlalchemy as sa
import typer

from api.cli import app
from features.ids import mask_identifier
from scoring.settings import get_settings

TTL = 12 * 3600


@app.command("demo-credentials")
def demo_credentials(
    bank: Annotated[str, typer.Option(help="The demo bank's code.")] = "demo-bank",
    department: Annotated[str, typer.Option(help="The demo department key's catalogue code.")] = "hrss",
    host: Annotated[str, typer.Option(help="Where the service will listen.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Its port.")] = 8000,
) -> None:
    """Print development credentials for each role (tokens last 12 hours)."""
    from features.catalogue import load_catalogue
    from scoring.audit import AuditLog
    from scoring.auth import issue_api_key, issue_token
    from scoring.consents import grant_consent
    from scoring.db.engine import make_engine, make_sessionmaker
    from scoring.db.tables import Subject
    from scoring.identity import IdentityVault

    settings = get_settings()
    if settings.environment not in ("development", "test"):
        typer.echo("error: demo credentials are for development only", err=True)
        raise typer.Exit(2)
    engine = make_engine(settings.database_url)
    vault = IdentityVault.from_settings(settings)
    current = (
        "SELECT s.subject_id FROM scores s JOIN score_publications p ON p.snapshot_id = s.snapshot_id"
        " WHERE s.subject_type = :g AND s.state = 'scored' {extra} ORDER BY s.id LIMIT 1"
    )
    try:
        with make_sessionmaker(engine)() as session:
            person_id = (
                session.execute(
                    sa.text(current.format(extra="AND s.score BETWEEN 600 AND 700")), {"g": "person"}
                ).scalar()
                or session.execute(sa.text(current.format(extra="")), {"g": "person"}).scalar()
            )
            org_id = session.execute(sa.text(current.format(extra="")), {"g": "enterprise"}).scalar()
            if person_id is None or org_id is None:
                typer.echo("error: no published scores: run credit score first", err=True)
                raise typer.Exit(2)
            citizen = session.get(Subject, int(person_id))
            org = session.get(Subject, int(org_id))
            assert citizen is not None and org is not None and citizen.id_cipher is not None
            number = vault.decrypt(citizen.id_cipher)
            departments = load_catalogue().departments
            bank_key, _ = issue_api_key(session, role="bank", name=bank, created_by="demo")
            dept_key, _ = issue_api_key(
                session,
                role="department",
                name=f"{department}-demo",
                department=department,
                departments=departments,
                created_by="demo",
            )
            now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
            consent = grant_consent(
                session,
                subject_id=citizen.id,
                bank=bank,
                purpose="credit_loan",
                valid_from=now - dt.timedelta(minutes=1),
                valid_to=now + dt.timedelta(days=90),
                granted_by=f"citizen:{citizen.subject_key}",
                now=now,
            )
            AuditLog.from_settings(settings).append(
                session,
                actor=f"citizen:{citizen.subject_key}",
                action="consent.grant",
                subject_ref=citizen.subject_key,
                details={"consent_id": consent.id, "bank": bank, "purpose": "credit_loan"},
                now=now,
            )
            session.commit()
            consent_id, org_code, citizen_key = consent.id, org.subject_key, citizen.subject_key
    finally:
        engine.dispose()

    def token(role: str, subject: str, orgs: tuple[str, ...] = ()) -> str:
        return issue_token(settings, role=role, subject=subject, orgs=orgs, ttl_seconds=TTL)

    url = f"http://{host}:{port}"
    people = {
        "citizen": token("citizen", citizen_key),
        "enterprise_rep": token("enterprise_rep", f"rep-{org_code}", (org_code,)),
        "supervisor": token("supervisor", "demo-supervisor"),
        "reviewer": token("reviewer", "demo-reviewer"),
    }
    rows = [
        ("citizen", people["citizen"], "GET /v1/me/score, /v1/me/recourse, /v1/me/history"),
        ("enterprise_rep", people["enterprise_rep"], f"GET /v1/orgs/{org_code}/score"),
        ("bank", bank_key, "POST /v1/bank/assessments"),
        ("supervisor", people["supervisor"], "GET /v1/supervisor/enterprises"),
        ("reviewer", people["reviewer"], "GET /v1/reviewer/models, /v1/reviewer/drift"),
        ("department", dept_key, "POST /v1/department/batches"),
        ("admin", token("admin", "demo-admin"), "GET /v1/admin/api-keys, /v1/admin/audit/verify"),
    ]  # fmt: skip
    typer.echo(f"Service: {url}   (OpenAPI: {url}/docs)")
    # Screens show identity numbers masked: the bank's example body (which must carry the number)
    # goes to a file only its owner can read.
    body_path = Path(settings.var_dir) / "demo-bank-request.json"
    body_path.parent.mkdir(parents=True, exist_ok=True)
    body = {
        "subject": {"type": "person", "identifier": number},
        "consent_id": consent_id,
        "purpose": "credit_loan",
        "amount": 100000,
    }
    body_path.write_text(json.dumps(body, ensure_ascii=False) + "\n", encoding="utf-8")
    body_path.chmod(0o600)
    typer.echo(
        f"Sample citizen: identity number {mask_identifier(number)} (synthetic), pseudonym {citizen_key}"
    )
    typer.echo(f"Sample organisation: {org_code}")
    typer.echo(f"Consent {consent_id}: the citizen lets {bank} assess a credit loan for 90 days")
    typer.echo("Development credentials (send as 'Authorization: Bearer <credential>'):")
    for role, credential, hint in rows:
        typer.echo(f"  {role:<15} {credential}")
        typer.echo(f"  {'':<15} {hint}")
    typer.echo(f"Citizen app: {url}/app/   Staff pages: {url}/staff/")
    typer.echo("Development sign-ins (open in a browser; the token stays in the URL fragment):")
    for role, page in (
        ("citizen", "app"),
        ("enterprise_rep", "app"),
        ("supervisor", "staff"),
        ("reviewer", "staff"),
    ):
        typer.echo(f"  {role:<15} {url}/{page}/#token={people[role]}")
    typer.echo("Example, as the bank:")
    typer.echo(
        f"  curl -s -X POST {url}/v1/bank/assessments -H 'Authorization: Bearer {bank_key}'"
        " -H 'Content-Type: application/json' -H 'Idempotency-Key: demo-1'"
        f" -d @{body_path}"
    )
