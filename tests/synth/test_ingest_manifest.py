"""Ingesting a synthetic city quarantines exactly the manifest's rows, each for its stated reason.

The city is generated through the command line (this module does not import the generator) and
ingested folder by folder as a department would send it.
"""

from __future__ import annotations

import csv
import datetime as dt
from collections import Counter
from pathlib import Path

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from api.cli import app
from features.catalogue import load_catalogue
from scoring.identity import IdentityVault
from scoring.ingest import ingest_path

NOW = dt.datetime(2026, 11, 25, 12, 0)


@pytest.fixture(scope="module")
def city(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("city")
    args = ["synth", "--people", "150", "--enterprises", "24", "--seed", "21", "--out", str(out)]
    result = CliRunner().invoke(app, [*args, "--defect-rate", "0.01"])
    assert result.exit_code == 0, result.output
    return out


def _manifest(city: Path) -> list[dict[str, str]]:
    with (city / "manifest.csv").open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def test_quarantine_matches_manifest(engine: sa.Engine, vault: IdentityVault, city: Path) -> None:
    results = ingest_path(engine, city / "files", catalogue=load_catalogue(), vault=vault, now=NOW)
    assert all(r.reconciles for r in results)
    with engine.connect() as conn:
        stored = conn.execute(
            sa.text(
                "SELECT b.source_name, q.line_no, q.reason_code FROM quarantined_rows q "
                "JOIN ingest_batches b ON b.id = q.batch_id"
            )
        ).all()
    quarantined = {(str(f), int(line), str(reason)) for f, line, reason in stored}
    manifest = _manifest(city)
    expected = {(m["file"], int(m["line"]), m["expected"]) for m in manifest if m["expected"] != "duplicate"}
    assert quarantined == expected
    # Every kind of defect is exercised.
    assert {m["expected"] for m in manifest} >= {
        "bad_identifier",
        "duplicate",
        "unknown_kind",
        "missing_field",
        "future_date",
        "out_of_range",
        "minor_listing",
        "conflict",
    }

    duplicates = Counter(m["file"] for m in manifest if m["expected"] == "duplicate")
    assert {r.source_name: r.duplicate for r in results if r.duplicate} == dict(duplicates)
    assert sum(r.correction for r in results) == 0
    rows = sum(r.rows_read for r in results)
    assert sum(r.accepted for r in results) == rows - len(manifest)
