"""The HTTP service on a migrated database (SQLite and PostgreSQL), with credentials and a small
credit file: ``service``, ``seeded`` (see ``api_service.Service``).

The helper module ``api_service`` is put on ``sys.path`` here: importlib import mode does not add
test folders.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

_HERE = str(Path(__file__).resolve().parent)
if _HERE not in sys.path:
    sys.path.insert(0, _HERE)

from api_service import Service, make_settings  # noqa: E402
from score_service import build_city, publish, train_bundles  # noqa: E402

from api.app import create_app  # noqa: E402
from features.registry import load_registry  # noqa: E402


@pytest.fixture
def service_factory(engine: sa.Engine, db_url: str, tmp_path: Path) -> Iterator[Any]:
    """``service_factory(**settings)`` starts an app on the test database; stopped after the test."""
    clients: list[TestClient] = []

    def start(**overrides: Any) -> Service:
        settings = make_settings(db_url, tmp_path, **overrides)
        client = TestClient(create_app(settings), raise_server_exceptions=False)
        client.__enter__()
        clients.append(client)
        return Service(client, settings, engine)

    yield start
    for c in clients:
        c.__exit__(None, None, None)


@pytest.fixture
def service(service_factory: Any) -> Service:
    return service_factory()  # type: ignore[no-any-return]


@pytest.fixture
def seeded(service: Service) -> Service:
    service.seed()
    return service


@pytest.fixture(scope="session")
def api_bundles(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Champion bundles (version 1) of both groups, trained once per session."""
    return train_bundles(load_registry(), tmp_path_factory.mktemp("api-bundles"))


@pytest.fixture
def scored(service_factory: Any, api_bundles: Path) -> Service:
    """A service with champions, a bank key (citybank) and a published hand-built city
    (see ``score_service``)."""
    service: Service = service_factory(bundle_dir=api_bundles)
    build_city(service.engine, service.vault)
    publish(service.engine, service.settings)
    service.keys = {"bank": service.key("bank", "citybank"), "bank2": service.key("bank", "otherbank")}
    return service


@pytest.fixture
def published_for_fuzz(service_factory: Any, api_bundles: Path) -> Service:
    """The seeded service with champions and published scores, rate limits out of the way."""
    import datetime as dt

    from scoring.publish import publish_scores

    service: Service = service_factory(
        bundle_dir=api_bundles, rate_limit_per_minute=1e9, rate_limit_burst=1_000_000
    )
    service.seed()
    publish_scores(service.engine, service.settings, dt.date(2025, 6, 30))
    return service
