"""``credit train``: the CSV mode end to end on a small table, and the mode check."""

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from api.cli import app
from models.bundle import ServingBundle

runner = CliRunner()


def _csv(tmp_path: Path) -> Path:
    rng = np.random.default_rng(3)
    n = 600
    income = rng.normal(size=n)
    region = rng.choice(["n", "s", "e"], n)
    p = 1 / (1 + np.exp(-(-1.0 - 1.2 * income + (region == "s"))))
    frame = pd.DataFrame(
        {
            "id": np.arange(n),
            "income": income,
            "region": region,
            "outcome": np.where(rng.random(n) < p, "default", "paid"),
        }
    )
    path = tmp_path / "loans.csv"
    frame.to_csv(path, index=False)
    return path


def test_csv_mode_prints_the_cv_table_and_writes_bundles(tmp_path: Path) -> None:
    out = tmp_path / "bundles"
    args = ["train", "--csv", str(_csv(tmp_path)), "--target", "outcome", "--bad", "default"]
    args += ["--folds", "2", "--repeats", "1", "--monotone", "income=+1", "--out", str(out)]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "600 rows, 2 features (1 categorical)" in result.output
    assert "id (identifier name)" in result.output
    for family in ("scorecard", "lgbm"):
        assert family in result.output
        bundle = ServingBundle.load(out / family)
        assert bundle.features == ("income", "region")
        assert bundle.monotone["income"] == 1


def test_a_data_source_is_required() -> None:
    result = runner.invoke(app, ["train"])
    assert result.exit_code == 2
    assert "choose a data source" in result.output


def test_csv_mode_needs_target_and_bad(tmp_path: Path) -> None:
    result = runner.invoke(app, ["train", "--csv", str(_csv(tmp_path))])
    assert result.exit_code == 2
    assert "--target" in result.output


def test_store_mode_trains_several_families_on_one_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Store mode on a small synthetic city: two families in one command, the store read once."""
    from features.catalogue import load_catalogue
    from scoring.db.engine import make_engine
    from scoring.db.migrate import upgrade
    from scoring.identity import IdentityVault
    from scoring.ingest import ingest_path
    from scoring.settings import Settings, get_settings
    from synth import CityConfig, generate_city

    city = tmp_path / "city"
    generate_city(CityConfig(people=600, enterprises=0, seed=5, today=dt.date(2026, 11, 25)), city)
    env = {
        "CREDIT_ENVIRONMENT": "test",
        "CREDIT_VAR_DIR": str(tmp_path / "var"),
        "CREDIT_DATABASE_URL": f"sqlite:///{tmp_path}/credit.db",
        "CREDIT_MLFLOW_TRACKING_URI": f"sqlite:///{tmp_path}/mlflow.db",
        "CREDIT_MLFLOW_ARTIFACT_ROOT": str(tmp_path / "mlruns"),
        "CREDIT_BUNDLE_DIR": str(tmp_path / "bundles"),
    }
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    get_settings.cache_clear()
    settings = Settings()
    upgrade(settings.database_url)
    engine = make_engine(settings.database_url)
    ingest_path(
        engine, city / "files", catalogue=load_catalogue(), vault=IdentityVault.from_settings(settings)
    )
    engine.dispose()
    args = ["train", "--subject", "person", "--model", "lgbm", "--model", "scorecard"]
    args += ["--as-of", "2025-06-30", "--truth", str(city / "truth")]
    try:
        result = runner.invoke(app, args)
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 0, result.output
    text = " ".join(result.output.split())  # tables wrap their titles
    assert text.count("reading the records store") == 1
    assert "person lgbm: registered version 1 (champion)" in text
    assert "person scorecard: registered version 2 (challenger)" in text
    assert "all 2 trainings in" in text
    assert text.count("oracle AUC") == 2
