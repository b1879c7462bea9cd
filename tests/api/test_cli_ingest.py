"""``credit ingest``, ``credit batches`` and ``credit ingest-status`` on a migrated database."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from api.cli import app
from features.ids import person_check_char
from scoring.settings import get_settings


def pid(birth: str, seq: str) -> str:
    body = "110105" + birth + seq
    return body + person_check_char(body)


P1 = pid("19800101", "001")
BAD = P1[:-1] + ("0" if P1[-1] != "0" else "1")
HEADER = "kind,subject_id,event_date,department,period,insurance,amount,status\n"


def sic(subject: str, amount: str, kind: str = "social_insurance_contribution") -> dict[str, str]:
    return {"kind": kind, "subject_id": subject, "event_date": "2024-01-05", "department": "hrss",
            "period": "2024-01", "insurance": "pension", "amount": amount, "status": "paid"}  # fmt: skip


@pytest.fixture
def runner(engine: sa.Engine, monkeypatch: pytest.MonkeyPatch) -> Iterator[CliRunner]:
    monkeypatch.setenv("CREDIT_DATABASE_URL", engine.url.render_as_string(hide_password=False))
    get_settings.cache_clear()
    yield CliRunner()
    get_settings.cache_clear()


@pytest.fixture
def files(tmp_path: Path) -> Path:
    folder = tmp_path / "in"
    folder.mkdir()
    rows = [sic(P1, "100"), sic(P1, "100"), sic(BAD, "100")]
    (folder / "a.csv").write_text(HEADER + "".join(",".join(r.values()) + "\n" for r in rows))
    (folder / "b.jsonl").write_text(
        json.dumps(sic(P1, "110")) + "\n" + json.dumps(sic(P1, "1", "fee")) + "\n"
    )
    return folder


def test_ingest_prints_reconciled_counts(runner: CliRunner, files: Path, engine: sa.Engine) -> None:
    result = runner.invoke(app, ["ingest", str(files)])
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [
        "a.csv: read 3 = accepted 1 + duplicate 1 + correction 0 + quarantined 1",
        "  quarantined by reason: bad_identifier 1",
        "b.jsonl: read 2 = accepted 0 + duplicate 0 + correction 1 + quarantined 1",
        "  quarantined by reason: unknown_kind 1",
        "total (2 files): read 5 = accepted 1 + duplicate 1 + correction 1 + quarantined 2",
        "  quarantined by reason: bad_identifier 1, unknown_kind 1",
    ]
    assert "a.csv: inserting the valid rows of 3" in result.stderr
    assert "b.jsonl: inserting the valid rows of 2" in result.stderr

    again = runner.invoke(app, ["ingest", str(files / "a.csv")])
    with engine.connect() as c:
        batch = c.execute(sa.text("SELECT id FROM ingest_batches WHERE source_name = 'a.csv'")).scalar_one()
    assert again.exit_code == 0
    assert again.stdout.splitlines() == [
        "a.csv: read 3 = accepted 1 + duplicate 1 + correction 0 + quarantined 1"
        f" (already ingested as batch {batch})",
        "  quarantined by reason: bad_identifier 1",
        "total (1 file): read 3 = accepted 1 + duplicate 1 + correction 0 + quarantined 1",
        "  quarantined by reason: bad_identifier 1",
    ]


def test_unparsable_file_fails_with_a_clear_message(runner: CliRunner, files: Path) -> None:
    (files / "c.csv").write_bytes(b"\x00\x01binary")
    result = runner.invoke(app, ["ingest", str(files)])
    assert result.exit_code == 1
    assert (
        "error: c.csv: binary content (NUL bytes), not a text file; nothing stored from this file"
        in result.stderr
    )
    assert "error: 1 file(s) could not be parsed: c.csv" in result.stderr
    assert result.stdout.splitlines()[-2] == (
        "total (2 files): read 5 = accepted 1 + duplicate 1 + correction 1 + quarantined 2"
    )


def test_status_lists_quarantined_rows_without_identity_numbers(runner: CliRunner, files: Path) -> None:
    assert runner.invoke(app, ["ingest", str(files)]).exit_code == 0
    batches = runner.invoke(app, ["batches"])
    assert batches.exit_code == 0
    listed = [line.split(" at ")[0] for line in batches.stdout.splitlines()]
    ids = [int(line.split(":")[0].split()[1]) for line in listed]
    assert listed == [
        f"batch {ids[0]}: b.jsonl (jsonl) read 2 = accepted 0 + duplicate 0 + correction 1 + quarantined 1",
        f"batch {ids[1]}: a.csv (csv) read 3 = accepted 1 + duplicate 1 + correction 0 + quarantined 1",
    ]
    status = runner.invoke(app, ["ingest-status", str(ids[1])])
    assert status.exit_code == 0
    lines = status.stdout.splitlines()
    assert lines[1:] == [
        "  read 3 = accepted 1 + duplicate 1 + correction 0 + quarantined 1",
        f"  line 4: bad_identifier: check character should be {P1[-1]}, got {BAD[-1]} "
        "[social_insurance_contribution]",
    ]
    assert lines[0] == f"batch {ids[1]}: a.csv (csv, utf-8)"
    for out in (batches.stdout, status.stdout):
        assert P1[:17] not in out
    missing = runner.invoke(app, ["ingest-status", "999999"])
    assert missing.exit_code == 1 and "error: no batch 999999" in missing.stderr
