"""Shared fixtures: settings, migrated databases (SQLite always, PostgreSQL when configured)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from scoring.db.engine import make_engine
from scoring.db.migrate import downgrade, upgrade
from scoring.db.tables import Base
from scoring.identity import IdentityVault
from scoring.settings import Settings

PG_URL = os.environ.get("CREDIT_TEST_DATABASE_URL")
REQUIRE_PG = os.environ.get("CREDIT_REQUIRE_POSTGRES") == "1"
BACKENDS = ["sqlite", "postgres"]


@pytest.fixture(scope="session")
def settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    var = tmp_path_factory.mktemp("var")
    return Settings(
        environment="test",
        var_dir=var,
        database_url=f"sqlite:///{var}/credit.db",
        mlflow_tracking_uri=f"sqlite:///{var}/mlflow.db",
        mlflow_artifact_root=str(var / "mlruns"),
        bundle_dir=var / "bundles",
    )


@pytest.fixture(scope="session")
def vault(settings: Settings) -> IdentityVault:
    return IdentityVault.from_settings(settings)


def _backend_url(backend: str, tmp: Path) -> str:
    if backend == "sqlite":
        return f"sqlite:///{tmp}/test.db"
    if not PG_URL:
        if REQUIRE_PG:
            pytest.fail("CREDIT_REQUIRE_POSTGRES=1 but CREDIT_TEST_DATABASE_URL is not set")
        pytest.skip("PostgreSQL not configured (set CREDIT_TEST_DATABASE_URL)")
    return PG_URL


@pytest.fixture(scope="session", params=BACKENDS)
def db_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> str:
    """A migrated database URL, once per backend per session."""
    url = _backend_url(request.param, tmp_path_factory.mktemp(f"db-{request.param}"))
    if request.param == "postgres":
        eng = make_engine(url)
        with eng.begin() as c:
            c.execute(sa.text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
        eng.dispose()
    upgrade(url)
    return url


@pytest.fixture
def engine(db_url: str) -> Iterator[sa.Engine]:
    """An engine on a migrated database, emptied after each test."""
    eng = make_engine(db_url)
    try:
        yield eng
    finally:
        with eng.begin() as c:
            for table in reversed(Base.metadata.sorted_tables):
                c.execute(table.delete())
        eng.dispose()


__all__ = ["downgrade"]
