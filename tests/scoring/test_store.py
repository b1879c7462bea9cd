"""Store reads: the same frames on SQLite and PostgreSQL, filters, and Parquet snapshots."""

from __future__ import annotations

import datetime as dt
import time
from pathlib import Path

import polars as pl
import pytest
import sqlalchemy as sa
from polars.testing import assert_frame_equal

from scoring.db.tables import Record, RecordEvent, Subject, SubjectLink
from scoring.store import (
    EVENT_SCHEMA,
    LINK_SCHEMA,
    RECORD_SCHEMA,
    SUBJECT_SCHEMA,
    export_snapshot,
    read_events,
    read_links,
    read_records,
    read_snapshot,
    read_subject,
    read_subjects,
    scan_snapshot,
    subject_id_range,
)

T0 = dt.datetime(2026, 1, 5, 9, 30, 0, 123456)


def _subject(id_: int, subject_type: str, key: str, created_at: dt.datetime = T0, **kw: object) -> dict:
    audit = ("birth_year", "gender", "district_code", "name", "sector", "size", "registered_on")
    return {"id": id_, "subject_type": subject_type, "subject_key": key, "created_at": created_at} | {
        k: kw.get(k) for k in audit
    }


SUBJECTS = [
    _subject(1, "person", "k1", birth_year=1990, gender="F", district_code="320102"),
    _subject(2, "person", "k2"),
    _subject(3, "enterprise", "91320100MA1ABCDE0X", sector="retail", size="small"),
    _subject(
        4,
        "individual_business",
        "92320100MA1ABCDE0X",
        created_at=dt.datetime(2026, 2, 1),
        registered_on=dt.date(2019, 3, 1),
    ),
]


def _record(
    uid: str, version: int, subject: int, kind: str, day: dt.date, recorded: dt.datetime, **kw: object
) -> dict:
    return {
        "record_uid": uid,
        "version": version,
        "subject_id": subject,
        "kind": kind,
        "department": "tax",
        "event_date": day,
        "publicity_end": dt.date(day.year + 3, day.month, 1),
        "severity": "minor",
        "recorded_at": recorded,
        "content_hash": f"h{uid}{version}",
        "amount": kw.get("amount"),
        "quantity": kw.get("quantity"),
        "outcome": kw.get("outcome"),
        "payload": kw.get("payload", "{}"),
    }


RECORDS = [
    _record(
        "u1", 1, 1, "tax_payment", dt.date(2025, 3, 1), T0, amount=1234.5, quantity=0.0, outcome="on_time"
    ),
    _record(
        "u1",
        2,
        1,
        "tax_payment",
        dt.date(2025, 3, 1),
        T0 + dt.timedelta(days=3),
        amount=1234.75,
        outcome="late",
    ),
    _record(
        "u2",
        1,
        1,
        "social_insurance_contribution",
        dt.date(2025, 4, 10),
        dt.datetime(2025, 4, 11),
        amount=800.0,
        outcome="paid",
        payload='{"insurance":"pension","note":"a, \\"quoted\\" \\\\N 税"}',
    ),
    _record(
        "u3", 1, 2, "utility_bill", dt.date(2025, 5, 1), dt.datetime(2025, 5, 2), outcome="", quantity=3.0
    ),
    _record("u4", 1, 3, "tax_credit_level", dt.date(2025, 4, 1), dt.datetime(2025, 4, 2), outcome="B"),
    _record(
        "u5",
        1,
        4,
        "org_registration",
        dt.date(2019, 3, 1),
        dt.datetime(2026, 2, 1),
        payload='{"registered_on":"2019-03-01"}',
    ),
]
EVENTS = [
    {
        "record_uid": "u1",
        "subject_id": 1,
        "event_type": "disputed",
        "effective_date": dt.date(2026, 1, 6),
        "recorded_at": dt.datetime(2026, 1, 6, 10),
        "actor": "citizen",
        "reason": "wrong amount",
        "reference": None,
    },
    {
        "record_uid": "u4",
        "subject_id": 3,
        "event_type": "withdrawn",
        "effective_date": dt.date(2026, 2, 1),
        "recorded_at": dt.datetime(2026, 2, 2),
        "actor": "tax",
        "reason": "error",
        "reference": "W-1",
    },
]
LINKS = [
    {
        "org_subject_id": 3,
        "person_subject_id": 2,
        "role": "legal_representative",
        "valid_from": dt.date(2020, 1, 1),
        "valid_to": None,
        "recorded_at": T0,
    },
    {
        "org_subject_id": 4,
        "person_subject_id": 1,
        "role": "legal_representative",
        "valid_from": dt.date(2019, 3, 1),
        "valid_to": dt.date(2025, 1, 1),
        "recorded_at": dt.datetime(2026, 3, 1),
    },
]


@pytest.fixture
def store(engine: sa.Engine) -> sa.Engine:
    with engine.begin() as conn:
        conn.execute(sa.insert(Subject), SUBJECTS)
        conn.execute(sa.insert(Record), RECORDS)
        conn.execute(sa.insert(RecordEvent), EVENTS)
        conn.execute(sa.insert(SubjectLink), LINKS)
    return engine


def _sorted(frame: pl.DataFrame, *by: str) -> pl.DataFrame:
    return frame.sort(*by)


def test_records_are_read_with_exact_types_and_values(store: sa.Engine) -> None:
    got = _sorted(read_records(store), "record_uid", "version")
    assert got.schema == pl.Schema(RECORD_SCHEMA)
    expected = pl.DataFrame(
        [{c: r[c] for c in RECORD_SCHEMA} for r in RECORDS], schema=RECORD_SCHEMA, orient="row"
    )
    assert_frame_equal(got, _sorted(expected, "record_uid", "version"))
    # Empty text stays empty text, not null; text with commas, quotes and \N survives.
    assert got.filter(pl.col("record_uid") == "u3")["outcome"].to_list() == [""]
    assert "\\\\N 税" in got.filter(pl.col("record_uid") == "u2")["payload"].item()


def test_record_filters(store: sa.Engine) -> None:
    assert sorted(read_records(store, subject_ids=[1])["record_uid"].to_list()) == ["u1", "u1", "u2"]
    assert sorted(read_records(store, subject_ids=[2, 3, 99])["record_uid"].to_list()) == ["u3", "u4"]
    assert read_records(store, subject_ids=[]).height == 0
    assert read_records(store, kinds=["utility_bill", "tax_credit_level"])["record_uid"].sort().to_list() == [
        "u3",
        "u4",
    ]
    known = read_records(store, known_at=T0)
    assert sorted(zip(known["record_uid"], known["version"], strict=True)) == [
        ("u1", 1),
        ("u2", 1),
        ("u3", 1),
        ("u4", 1),
    ]
    assert read_records(store, subject_range=(2, 4))["subject_id"].sort().to_list() == [2, 3]
    only_si = read_records(store, payload=["social_insurance_contribution"])
    assert only_si.filter(pl.col("payload").is_not_null())["record_uid"].to_list() == ["u2"]
    assert read_records(store, payload=False)["payload"].null_count() == len(RECORDS)


def test_events_subjects_links(store: sa.Engine) -> None:
    ev = _sorted(read_events(store), "record_uid")
    assert ev.schema == pl.Schema(EVENT_SCHEMA)
    assert ev.rows() == [
        ("u1", 1, "disputed", dt.date(2026, 1, 6), dt.datetime(2026, 1, 6, 10)),
        ("u4", 3, "withdrawn", dt.date(2026, 2, 1), dt.datetime(2026, 2, 2)),
    ]
    assert read_events(store, subject_ids=[3])["record_uid"].to_list() == ["u4"]
    assert read_events(store, known_at=dt.datetime(2026, 2, 1))["record_uid"].to_list() == ["u1"]
    subs = _sorted(read_subjects(store), "subject_id")
    assert subs.schema == pl.Schema(SUBJECT_SCHEMA)
    assert subs.select("subject_id", "subject_type", "subject_key", "registered_on", "created_at").rows() == [
        (1, "person", "k1", None, T0),
        (2, "person", "k2", None, T0),
        (3, "enterprise", "91320100MA1ABCDE0X", None, T0),
        (4, "individual_business", "92320100MA1ABCDE0X", dt.date(2019, 3, 1), dt.datetime(2026, 2, 1)),
    ]
    assert subs.filter(pl.col("subject_id") == 1).select("birth_year", "gender", "district_code").row(0) == (
        1990,
        "F",
        "320102",
    )
    assert read_subjects(store, subject_types=["person"])["subject_id"].sort().to_list() == [1, 2]
    assert read_subjects(store, subject_ids=[4])["subject_type"].to_list() == ["individual_business"]
    lk = _sorted(read_links(store), "org_subject_id")
    assert lk.schema == pl.Schema(LINK_SCHEMA)
    assert lk.rows() == [
        (3, 2, "legal_representative", dt.date(2020, 1, 1), None, T0),
        (4, 1, "legal_representative", dt.date(2019, 3, 1), dt.date(2025, 1, 1), dt.datetime(2026, 3, 1)),
    ]
    assert read_links(store, org_ids=[4], known_at=dt.datetime(2026, 2, 1)).height == 0
    assert subject_id_range(store) == (1, 5)
    assert subject_id_range(store, ["enterprise", "individual_business"]) == (3, 5)
    assert subject_id_range(store, ["government_body"]) is None


def test_empty_store(engine: sa.Engine) -> None:
    assert read_records(engine).schema == pl.Schema(RECORD_SCHEMA)
    assert read_records(engine).height == read_events(engine).height == read_links(engine).height == 0


def test_snapshot_round_trip(store: sa.Engine, tmp_path: Path) -> None:
    path = export_snapshot(store, tmp_path / "snap", subjects_per_part=2)
    snap = scan_snapshot(path)
    assert snap.manifest["counts"] == {"records": 6, "events": 2, "subjects": 4, "links": 2}
    assert snap.subjects_per_part == 2
    # Subjects 1 (part 0), 2-3 (part 1), 4 (part 2).
    assert sorted(d.name for d in (path / "records").iterdir()) == ["part=0", "part=1", "part=2"]
    assert not (path / ".records.csv").exists()
    assert_frame_equal(
        _sorted(snap.records.drop("part").collect(), "record_uid", "version"),
        _sorted(read_records(store), "record_uid", "version"),
    )
    assert sorted(snap.part_records(1).collect()["record_uid"].to_list()) == ["u3", "u4"]
    assert snap.part_records(7).collect().height == 0
    assert_frame_equal(
        _sorted(snap.subjects.collect(), "subject_id"), _sorted(read_subjects(store), "subject_id")
    )
    known = scan_snapshot(export_snapshot(store, tmp_path / "known", known_at=T0))
    assert known.records.collect().height == 4
    empty = scan_snapshot(export_snapshot(store, tmp_path / "empty", known_at=dt.datetime(2000, 1, 1)))
    assert empty.records.collect().height == 0


def test_read_snapshot_in_memory(store: sa.Engine) -> None:
    snap = read_snapshot(store, known_at=dt.datetime(2026, 1, 31))
    assert sorted(snap.records["record_uid"].to_list()) == ["u1", "u1", "u2", "u3", "u4"]
    # Payloads only of the kinds the pipelines read.
    assert snap.records.filter(pl.col("payload").is_not_null())["record_uid"].to_list() == ["u2"]
    assert (snap.events.height, snap.subjects.height, snap.links.height) == (1, 4, 1)
    one = read_snapshot(store, subject_ids=[3])
    assert (one.records.height, one.subjects["subject_id"].to_list()) == (1, [3])


def test_select_copy_and_parallel_reads_agree(store: sa.Engine) -> None:
    by_copy = _sorted(read_records(store), "record_uid", "version")
    by_select = _sorted(read_records(store, subject_ids=[1, 2, 3, 4]), "record_uid", "version")
    in_streams = _sorted(read_records(store, streams=3), "record_uid", "version")
    assert_frame_equal(by_select, by_copy)
    assert_frame_equal(in_streams, by_copy)
    with store.connect() as conn:  # reads share a caller's connection
        assert_frame_equal(
            _sorted(read_records(conn, subject_ids=[1, 2, 3, 4]), "record_uid", "version"), by_copy
        )


def test_columns_and_in_force_prefilter(store: sa.Engine) -> None:
    slim = read_records(store, columns=["record_uid", "version", "subject_id"])
    assert slim.columns == ["record_uid", "version", "subject_id"]
    with pytest.raises(ValueError, match=r"unknown record columns \['colour'\]"):
        read_records(store, columns=["colour"])
    # On 2028-03-15 u1 (publicity ended 2028-03-01) and u5 (2022) are out of force; the correction
    # u1 v2 stays (a version > 1 is always read: it may supersede an older version in force).
    kept = read_records(store, in_force_on=dt.date(2028, 3, 15))
    assert sorted(zip(kept["record_uid"], kept["version"], strict=True)) == [
        ("u1", 2),
        ("u2", 1),
        ("u3", 1),
        ("u4", 1),
    ]
    on = dt.date(2026, 1, 1)
    assert sorted(read_records(store, in_force_on=on)["record_uid"].to_list()) == [
        "u1",
        "u1",
        "u2",
        "u3",
        "u4",
    ]


def test_read_subject_with_its_legal_representative(store: sa.Engine) -> None:
    org = read_subject(store, 3)
    assert org.subjects["subject_id"].to_list() == [3]
    assert org.links["person_subject_id"].to_list() == [2]
    # The organisation's records and its representative's (person 2).
    assert sorted(org.records["record_uid"].to_list()) == ["u3", "u4"]
    assert org.events["record_uid"].to_list() == ["u4"]
    assert_frame_equal(
        _sorted(org.records, "record_uid"), _sorted(read_records(store, subject_ids=[2, 3]), "record_uid")
    )
    # Subject 4's link was recorded on 2026-03-01: not known before.
    early = read_subject(store, 4, known_at=dt.datetime(2026, 2, 15))
    assert (early.links.height, early.records["record_uid"].to_list()) == (0, ["u5"])
    assert sorted(read_subject(store, 4).records["record_uid"].to_list()) == ["u1", "u1", "u2", "u5"]
    person = read_subject(store, 1, known_at=T0, columns=["record_uid", "version", "subject_id"])
    assert person.records.columns == ["record_uid", "version", "subject_id"]
    assert sorted(person.records["record_uid"].to_list()) == ["u1", "u2"]
    assert read_subject(store, 999).subjects.height == 0


def test_read_subject_on_a_connection_and_after_a_dropped_connection(store: sa.Engine) -> None:
    expected = read_subject(store, 3)
    with store.connect() as conn:  # a caller's connection, inside its transaction or not
        conn.execute(sa.text("SELECT 1"))
        assert_frame_equal(read_subject(conn, 3).records, expected.records)
    if store.dialect.name != "postgresql":
        return
    # One-subject reads keep their own idle connections: end them on the server; the next read
    # finds its connection broken and retries once on a new one.
    readers = (
        " FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
        " AND query LIKE 'SELECT * FROM (SELECT array_agg%'"
    )
    with store.begin() as conn:
        assert conn.execute(sa.text(f"SELECT count(pg_terminate_backend(pid)) {readers}")).scalar_one() >= 1
    for _ in range(100):  # termination is asynchronous; the activity view is read once per transaction
        with store.begin() as conn:
            if conn.execute(sa.text(f"SELECT count(*) {readers}")).scalar_one() == 0:
                break
        time.sleep(0.05)
    assert_frame_equal(read_subject(store, 3).records, expected.records)


def test_parallel_reads_split_the_heap_or_the_subject_range(store: sa.Engine) -> None:
    # Enough rows for the table to span many blocks.
    more = [
        _record(f"m{i:05d}", 1, 1 + i % 4, "tax_payment", dt.date(2025, 1, 1), T0, amount=float(i))
        for i in range(3000)
    ]
    with store.begin() as conn:
        conn.execute(sa.insert(Record), more)
    whole = _sorted(read_records(store), "record_uid", "version")
    assert whole.height == len(RECORDS) + 3000
    for streams in (2, 3, 7):
        assert_frame_equal(_sorted(read_records(store, streams=streams), "record_uid", "version"), whole)
    in_range = _sorted(read_records(store, subject_range=(2, 4), streams=2), "record_uid", "version")
    assert_frame_equal(in_range, whole.filter(pl.col("subject_id").is_between(2, 3)))
