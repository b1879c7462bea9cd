"""``credit synth`` on the command line."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from api.cli import app


def test_synth_writes_a_city_and_summarises_it(tmp_path: Path) -> None:
    args = ["synth", "--people", "120", "--enterprises", "12", "--seed", "4", "--out", str(tmp_path)]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "120 people, 12 organisations" in result.output
    assert "-> manifest.csv" in result.output
    volumes = json.loads((tmp_path / "volumes.json").read_text(encoding="utf-8"))
    assert volumes["people"] == 120 and volumes["enterprises"] == 12
    assert volumes["rows"] == sum(volumes["rows_per_kind"].values())
    assert volumes["files"] == sum(volumes["files_per_format"].values())
    assert sorted(p.name for p in tmp_path.iterdir()) == ["files", "manifest.csv", "truth", "volumes.json"]
    assert sorted(p.name for p in (tmp_path / "truth").iterdir()) == [
        "drivers.parquet",
        "organisations.parquet",
        "persons.parquet",
        "truth.parquet",
    ]


def test_synth_refuses_an_as_of_date_that_is_not_a_month_end(tmp_path: Path) -> None:
    args = ["synth", "--people", "10", "--enterprises", "1", "--as-of", "2025-06-15", "--out", str(tmp_path)]
    result = CliRunner().invoke(app, args)
    assert result.exit_code != 0
    assert "last day of a month" in result.output
