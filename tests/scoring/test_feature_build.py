"""Feature builds from the store (both databases): files, metadata, chunks, one subject, the CLI."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl
import pytest
import sqlalchemy as sa
from polars.testing import assert_frame_equal
from typer.testing import CliRunner

from features.registry import load_registry
from scoring.db.tables import Record, RecordEvent, Subject, SubjectLink
from scoring.features import (
    SubjectNotFound,
    build_feature_tables,
    feature_file_name,
    read_feature_table,
    subject_features,
)
from scoring.settings import Settings

D = dt.date(2026, 6, 15)
REGISTRY = load_registry()


def _subject(id_: int, subject_type: str, registered_on: dt.date | None = None) -> dict:
    return {
        "id": id_,
        "subject_type": subject_type,
        "subject_key": f"key{id_}",
        "created_at": dt.datetime(2020, 1, 1),
        "registered_on": registered_on,
    }


def _record(uid: str, subject: int, kind: str, day: dt.date, **kw: object) -> dict:
    return {
        "record_uid": uid,
        "version": kw.get("version", 1),
        "subject_id": subject,
        "kind": kind,
        "department": "tax",
        "event_date": day,
        "publicity_end": kw.get("publicity_end", dt.date(day.year + 3, day.month, 1)),
        "severity": kw.get("severity", "minor"),
        "recorded_at": kw.get("recorded_at", dt.datetime.combine(day, dt.time(20))),
        "content_hash": uid,
        "amount": kw.get("amount"),
        "quantity": kw.get("quantity"),
        "outcome": kw.get("outcome"),
        "payload": kw.get("payload", "{}"),
    }


@pytest.fixture
def store(engine: sa.Engine) -> sa.Engine:
    pension = '{"amount":800.0,"insurance":"pension","period":"2026-05","status":"paid"}'
    records = [
        _record(
            "a", 1, "social_insurance_contribution", dt.date(2026, 5, 10), outcome="paid", payload=pension
        ),
        _record("b", 1, "utility_bill", dt.date(2026, 3, 1), outcome="late", quantity=12.0),
        _record("c", 2, "judgment_defaulter", dt.date(2026, 1, 5), severity="serious"),
        _record("d", 3, "tax_credit_level", dt.date(2026, 4, 1), outcome="B"),
        _record(
            "e",
            3,
            "org_registration",
            dt.date(2018, 1, 1),
            payload='{"registered_on":"2017-12-20"}',
            publicity_end=dt.date(2118, 1, 1),
        ),
        _record("f", 4, "abnormal_operation", dt.date(2026, 5, 1), outcome="other"),
        _record(
            "g", 1, "enforcement_case", dt.date(2026, 2, 1), severity="general", outcome="bank", amount=9.0
        ),
        # Known only after D: not used.
        _record("h", 2, "enforcement_case", dt.date(2026, 6, 1), recorded_at=dt.datetime(2026, 6, 20)),
    ]
    with engine.begin() as conn:
        conn.execute(
            sa.insert(Subject),
            [
                _subject(1, "person"),
                _subject(2, "person"),
                _subject(3, "enterprise"),
                _subject(4, "individual_business", dt.date(2024, 6, 15)),
            ],
        )
        conn.execute(sa.insert(Record), records)
        conn.execute(
            sa.insert(RecordEvent),
            [
                {
                    "record_uid": "g",
                    "subject_id": 1,
                    "event_type": "withdrawn",
                    "effective_date": dt.date(2026, 3, 1),
                    "recorded_at": dt.datetime(2026, 3, 2),
                    "actor": "court",
                    "reason": "paid",
                    "reference": None,
                }
            ],
        )
        conn.execute(
            sa.insert(SubjectLink),
            [
                {
                    "org_subject_id": o,
                    "person_subject_id": p,
                    "role": "legal_representative",
                    "valid_from": dt.date(2018, 1, 1),
                    "valid_to": None,
                    "recorded_at": dt.datetime(2018, 1, 1),
                }
                for o, p in ((3, 2), (4, 1))
            ],
        )
    return engine


def test_build_writes_tables_with_versions(store: sa.Engine, tmp_path: Path) -> None:
    result = build_feature_tables(store, D, tmp_path)
    assert result.rows == {"person": 2, "enterprise": 2}
    assert result.known_at == dt.datetime(2026, 6, 15, 23, 59, 59, 999999)
    path = result.paths["person"]
    assert path.name == feature_file_name("person", D, REGISTRY.version)
    assert path.name == f"person-features-2026-06-15-{REGISTRY.version}.parquet"
    people, meta = read_feature_table(path)
    assert meta == {
        "registry_version": REGISTRY.version,
        "catalogue_version": REGISTRY.catalogue_version,
        "subject": "person",
        "as_of": "2026-06-15",
        "known_at": "2026-06-15T23:59:59.999999",
    }
    assert people.columns == ["subject_id", *REGISTRY.names("person")]
    one = people.filter(pl.col("subject_id") == 1).row(0, named=True)
    assert (one["pension_paid_months_12m"], one["utility_late_12m"], one["enforcement_cases_12m"]) == (
        1,
        1,
        0,
    )
    assert people.filter(pl.col("subject_id") == 2)["judgment_defaulter_active"].item() == 1
    orgs, _ = read_feature_table(result.paths["enterprise"])
    assert orgs["subject_id"].to_list() == [3, 4]
    assert orgs["tax_credit_level"].to_list() == [3, None]
    assert orgs["legal_rep_defaulter_active"].to_list() == [1, 0]
    assert orgs["abnormal_operation_active"].to_list() == [0, 1]
    # From the registration record's date, else the subject's (2024-06-15: 730 days).
    assert orgs["years_in_operation"].to_list() == pytest.approx(
        [(D - dt.date(2017, 12, 20)).days / 365.25, 730 / 365.25]
    )


def test_chunks_and_single_subject_match_the_batch(store: sa.Engine, tmp_path: Path) -> None:
    whole = build_feature_tables(store, D, tmp_path / "whole")
    # One subject per chunk: every legal representative lives in another chunk.
    tiny = build_feature_tables(store, D, tmp_path / "tiny", subjects_per_chunk=1)
    for subject in ("person", "enterprise"):
        batch = read_feature_table(whole.paths[subject])[0]
        assert_frame_equal(read_feature_table(tiny.paths[subject])[0], batch)
        for sid in batch["subject_id"].to_list():
            assert_frame_equal(subject_features(store, sid, D), batch.filter(pl.col("subject_id") == sid))
    with pytest.raises(SubjectNotFound):
        subject_features(store, 999, D)


def test_known_at_before_a_withdrawal(store: sa.Engine, tmp_path: Path) -> None:
    on_d = subject_features(store, 1, dt.date(2026, 2, 15))
    assert on_d["enforcement_cases_12m"].item() == 1
    # As of 15 June the withdrawal (in force from 1 March, recorded 2 March) is known...
    assert subject_features(store, 1, D)["enforcement_cases_12m"].item() == 0
    # ...but not when looking at what was known on 1 March.
    before = subject_features(store, 1, D, known_at=dt.datetime(2026, 3, 1, 12))
    assert before["enforcement_cases_12m"].item() == 1


def test_cli_build(store: sa.Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from api import cli_features
    from api.cli import app

    url = store.url.render_as_string(hide_password=False)
    monkeypatch.setattr(cli_features, "get_settings", lambda: Settings(database_url=url, var_dir=tmp_path))
    result = CliRunner().invoke(
        app, ["features", "build", "--as-of", "2026-06-15", "--known-at", "2026-06-16T08:00"]
    )
    assert result.exit_code == 0, result.output
    assert "person: 2 rows" in result.output
    assert "enterprise: 2 rows" in result.output
    assert f"registry {REGISTRY.version}" in result.output
    files = sorted(p.name for p in (tmp_path / "features").iterdir())
    assert files == [feature_file_name(s, D, REGISTRY.version) for s in ("enterprise", "person")]
    snap = CliRunner().invoke(
        app, ["features", "snapshot", "--out", str(tmp_path / "snap"), "--part", "1000"]
    )
    assert snap.exit_code == 0, snap.output
    assert "records: 8, events: 1, subjects: 4, links: 2" in snap.output
    out = tmp_path / "from-snap"
    built = CliRunner().invoke(
        app,
        [
            "features",
            "build",
            "--as-of",
            "2026-06-15",
            "--snapshot",
            str(tmp_path / "snap"),
            "--out",
            str(out),
        ],
    )
    assert built.exit_code == 0, built.output
    assert "person: 2 rows" in built.output
    bad = CliRunner().invoke(app, ["features", "build", "--as-of", "15/06/2026"])
    assert bad.exit_code == 2
    assert "not a date" in bad.output


@pytest.mark.parametrize("day", [dt.date(2026, 2, 15), D, dt.date(2027, 6, 1)])
def test_in_force_prefilter_does_not_change_features(store: sa.Engine, day: dt.date) -> None:
    from features.pipelines import person_features
    from scoring.store import read_events, read_records, read_subjects

    subjects, events = read_subjects(store), read_events(store)
    full = person_features(read_records(store), events, subjects, as_of=day)
    lean = person_features(read_records(store, in_force_on=day), events, subjects, as_of=day)
    assert_frame_equal(lean, full)


def test_build_from_a_snapshot_equals_the_build_from_the_store(store: sa.Engine, tmp_path: Path) -> None:
    from scoring.store import export_snapshot

    direct = build_feature_tables(store, D, tmp_path / "direct")
    # Parts of one subject: every organisation's representative lives in another part.
    snap = export_snapshot(store, tmp_path / "snap", subjects_per_part=1)
    from_snap = build_feature_tables(None, D, tmp_path / "from-snap", snapshot=snap)
    for subject in ("person", "enterprise"):
        assert_frame_equal(
            read_feature_table(from_snap.paths[subject])[0], read_feature_table(direct.paths[subject])[0]
        )
    # A snapshot taken earlier cannot answer for a later known_at.
    early = export_snapshot(store, tmp_path / "early", known_at=dt.datetime(2026, 3, 1))
    with pytest.raises(ValueError, match="the snapshot holds what was known at 2026-03-01T00:00:00"):
        build_feature_tables(None, D, tmp_path / "x", snapshot=early)
    on_first = build_feature_tables(None, dt.date(2026, 2, 28), tmp_path / "y", snapshot=early)
    assert on_first.rows == {"person": 2, "enterprise": 2}
