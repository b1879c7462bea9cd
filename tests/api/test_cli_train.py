"""``credit train``: the CSV mode end to end on a small table, and the mode check."""

from pathlib import Path

import numpy as np
import pandas as pd
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
