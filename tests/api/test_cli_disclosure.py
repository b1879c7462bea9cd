"""``credit report``, ``credit disclosure`` and ``credit commitments`` on both databases."""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from api.cli import app
from scoring.db.tables import QueryRegisterEntry, Record, Subject
from scoring.settings import get_settings

ORG = "91370102MA3C4KXX1Y"


@pytest.fixture
def cli(engine: sa.Engine, monkeypatch: pytest.MonkeyPatch) -> Iterator[CliRunner]:
    monkeypatch.setenv("CREDIT_DATABASE_URL", engine.url.render_as_string(hide_password=False))
    monkeypatch.setenv("CREDIT_ENVIRONMENT", "test")
    get_settings.cache_clear()
    today = dt.date.today()
    with engine.begin() as c:
        c.execute(
            sa.insert(Subject).values(
                id=10,
                subject_type="enterprise",
                subject_key=ORG,
                name="甲食品有限公司",
                created_at=dt.datetime(2020, 1, 1),
            )
        )
        c.execute(
            sa.insert(Record).values(
                record_uid="p1",
                version=1,
                subject_id=10,
                kind="administrative_penalty",
                department="market_regulation",
                event_date=today - dt.timedelta(days=3),
                publicity_end=today + dt.timedelta(days=180),
                severity="general",
                recorded_at=dt.datetime.combine(today - dt.timedelta(days=1), dt.time(9)),
                content_hash="p1",
                outcome="fine_mid",
                amount=5000.0,
                payload='{"amount":5000.0,"doc_no":"JSCF-9","penalty_type":"fine_mid"}',
            )
        )
    yield CliRunner()
    get_settings.cache_clear()


def _ok(cli: CliRunner, *args: str) -> str:
    r = cli.invoke(app, list(args))
    assert r.exit_code == 0, r.output
    return r.stdout


def test_report_issue_and_verify(cli: CliRunner, engine: sa.Engine, tmp_path: Path) -> None:
    pdf = tmp_path / "r.pdf"
    out = _ok(cli, "report", "--subject", ORG, "--format", "pdf", "--out", str(pdf))
    m = re.search(r"report (CR\w+) \(public\) code ([0-9A-F-]+)", out)
    assert m is not None and pdf.read_bytes().startswith(b"%PDF")
    number, code = m.groups()
    result = json.loads(_ok(cli, "report", "verify", number, code, "--file", str(pdf)))
    assert result["valid"] and result["subject_code"] == ORG
    bad = cli.invoke(app, ["report", "verify", number, "0000-0000-0000-0000-0000"])
    assert bad.exit_code == 1 and '"code_mismatch"' in bad.stdout
    data = pdf.read_bytes()
    at = data.index(b"stream", data.index(b"/Contents")) + 300  # inside the page's drawing
    pdf.write_bytes(data[:at] + bytes([data[at] ^ 1]) + data[at + 1 :])
    assert cli.invoke(app, ["report", "verify", number, code, "--file", str(pdf)]).exit_code == 1
    html = tmp_path / "full.html"
    _ok(cli, "report", "--subject", "10", "--audience", "full", "--format", "html", "--out", str(html))
    assert "JSCF-9" in html.read_text(encoding="utf-8")
    with engine.connect() as c:
        assert c.execute(sa.select(sa.func.count()).select_from(QueryRegisterEntry)).scalar() == 1
    assert (
        cli.invoke(app, ["report", "--subject", "10", "--audience", "self", "--out", str(html)]).exit_code
        == 2
    )
    assert cli.invoke(app, ["report", "--subject", "99", "--out", str(html)]).exit_code == 1


def test_disclosure_and_commitments(cli: CliRunner, tmp_path: Path) -> None:
    today = dt.date.today()
    feed = tmp_path / "feed.json"
    assert "1 entries (0 published after 7 days)" in _ok(
        cli, "disclosure", "feed", "--on", str(today), "--out", str(feed)
    )
    assert json.loads(feed.read_text(encoding="utf-8"))["entries"][0]["decision_no"] == "JSCF-9"
    metrics = _ok(
        cli,
        "disclosure",
        "metrics",
        "--from",
        str(today - dt.timedelta(days=30)),
        "--to",
        str(today),
        "--expected",
        "market_regulation=2",
    )
    assert re.search(r"market_regulation\s+1\s+1\s+50%\s+100%\s+100%", metrics), metrics

    assert "market_entry" in _ok(cli, "commitments", "items")
    signed = _ok(
        cli, "commitments", "sign", "--subject", ORG, "--item", "licence_notification", "--by", "rep"
    )
    number = re.search(r"commitment (CM\w+) signed", signed)
    assert number is not None and "甲食品有限公司" in signed
    later = str(today + dt.timedelta(days=200))
    assert number.group(1) in _ok(
        cli, "commitments", "due", "--department", "market_regulation", "--on", later
    )
    decided = _ok(
        cli,
        "commitments",
        "decide",
        number.group(1),
        "--outcome",
        "broken",
        "--by",
        "amr",
        "--on",
        later,
        "--note",
        "no documents",
    )
    assert "broken, record" in decided
    public = json.loads(_ok(cli, "commitments", "published", "--on", later))
    assert [p["status"] for p in public] == ["broken"]
