from pathlib import Path

from fastapi.testclient import TestClient

from api.app import create_app
from scoring.db.migrate import upgrade
from scoring.settings import Settings


def test_health_and_readiness_without_models(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/credit.db"
    upgrade(url)
    settings = Settings(environment="test", database_url=url, bundle_dir=tmp_path / "bundles")
    with TestClient(create_app(settings)) as client:
        r = client.get("/healthz", headers={"x-request-id": "abc"})
        assert (r.status_code, r.json(), r.headers["x-request-id"]) == (200, {"status": "ok"}, "abc")
        r = client.get("/readyz")
        assert r.status_code == 503
        assert r.json() == {
            "status": "not ready",
            "checks": {"database": "ok", "person_model": "missing", "enterprise_model": "missing"},
        }
        assert len(r.headers["x-request-id"]) == 32
