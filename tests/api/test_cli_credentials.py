"""``credit credentials issue``: development tokens and API keys that the service accepts."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from api_service import P1, Service
from typer.testing import CliRunner

from api.cli import app
from scoring.settings import get_settings


@pytest.fixture
def cli(service: Service, monkeypatch: pytest.MonkeyPatch) -> Iterator[CliRunner]:
    monkeypatch.setenv("CREDIT_DATABASE_URL", service.engine.url.render_as_string(hide_password=False))
    monkeypatch.setenv("CREDIT_ENVIRONMENT", "test")
    get_settings.cache_clear()
    yield CliRunner()
    get_settings.cache_clear()


def test_issued_tokens_and_keys_are_accepted(service: Service, cli: CliRunner) -> None:
    def issue(*args: str) -> str:
        r = cli.invoke(app, ["credentials", "issue", *args])
        assert r.exit_code == 0, r.output
        return r.stdout.strip().splitlines()[-1]

    cases = [
        (["--role", "citizen", "--subject", service.pseudonym(P1)], "citizen"),
        (["--role", "supervisor", "--subject", "sup-1"], "supervisor"),
        (["--role", "enterprise_rep", "--org", "91350102MA000001XX"], None),
        (["--role", "bank", "--name", "citybank"], "bank"),
        (["--role", "department", "--name", "tax-feed", "--department", "tax"], "department"),
    ]
    for args, role in cases:
        if role is None:  # an invalid credit code is refused
            assert cli.invoke(app, ["credentials", "issue", *args]).exit_code == 2
            continue
        who = service.client.get("/v1/whoami", headers=service.auth(issue(*args)))
        assert who.status_code == 200 and who.json()["role"] == role
    assert cli.invoke(app, ["credentials", "issue", "--role", "citizen", "--subject", P1]).exit_code == 2
    assert cli.invoke(app, ["credentials", "issue", "--role", "department", "--name", "x1"]).exit_code == 2


def test_tokens_are_not_printed_outside_development(cli: CliRunner, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("ID_PEPPER", "JWT_SECRET", "AUDIT_ANCHOR_KEY", "REPORT_KEY"):
        monkeypatch.setenv(f"CREDIT_{name}", "p" * 40)
    monkeypatch.setenv("CREDIT_ID_ENCRYPTION_KEYS", '{"1": "' + "A" * 43 + '="}')
    monkeypatch.setenv("CREDIT_ENVIRONMENT", "production")
    get_settings.cache_clear()
    r = cli.invoke(app, ["credentials", "issue", "--role", "admin", "--subject", "a"])
    assert r.exit_code == 2 and "identity provider" in r.output
