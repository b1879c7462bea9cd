"""/docs works on a closed network: the page and every asset it loads come from the service."""

import re
from pathlib import Path

from fastapi.testclient import TestClient

from api.app import create_app
from scoring.db.migrate import upgrade
from scoring.settings import Settings


def test_docs_page_loads_only_local_assets(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/credit.db"
    upgrade(url)
    settings = Settings(environment="test", database_url=url, bundle_dir=tmp_path / "bundles")
    with TestClient(create_app(settings)) as client:
        page = client.get("/docs")
        assert page.status_code == 200 and "swagger-ui" in page.text
        assets = re.findall(r"""(?:src|href)=["']([^"']+)["']""", page.text)
        assert sorted(assets) == [
            "/static/swagger-ui/favicon-32x32.png",
            "/static/swagger-ui/swagger-ui-bundle.js",
            "/static/swagger-ui/swagger-ui.css",
        ]
        assert (
            "http" not in page.text.replace("http://", "").replace("https://", "") or "://" not in page.text
        )
        for asset in assets:
            r = client.get(asset)
            assert r.status_code == 200 and len(r.content) > 500
        assert client.get("/docs/oauth2-redirect").status_code == 200
        assert client.get("/openapi.json").json()["openapi"].startswith("3.1")
