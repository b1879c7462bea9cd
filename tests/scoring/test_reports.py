"""Data-quality bulletin, coverage and early warning on both databases."""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

import pytest
import sqlalchemy as sa

from features.catalogue import load_catalogue
from features.ids import org_check_char, person_check_char, uscc_check_char
from scoring.bulletins import bulletin, parse_period, write_bulletin
from scoring.coverage import coverage, coverage_trend
from scoring.db.score_tables import ScoreRow, ScoreSnapshot
from scoring.db.tables import Record, Subject
from scoring.early_warning import WarningPolicy, early_warnings
from scoring.identity import IdentityVault
from scoring.ingest import ingest_file

CAT = load_catalogue()
RECEIVED = dt.datetime(2026, 8, 15, 9)


def _pid(birth: str, seq: str) -> str:
    body = "110105" + birth + seq
    return body + person_check_char(body)


def _org(org8: str) -> str:
    body = "91350102" + org8 + org_check_char(org8)
    return body + uscc_check_char(body)


def _csv(path: Path, header: list[str], rows: list[list[str]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(header)
        w.writerows(rows)
    return path


def test_periods() -> None:
    assert parse_period("2026-Q3") == (dt.date(2026, 7, 1), dt.date(2026, 10, 1))
    assert parse_period("2026-Q4") == (dt.date(2026, 10, 1), dt.date(2027, 1, 1))
    assert parse_period("2026-12") == (dt.date(2026, 12, 1), dt.date(2027, 1, 1))
    with pytest.raises(ValueError, match="2026-Q3 or 2026-09"):
        parse_period("2026Q3")
    with pytest.raises(ValueError, match="no month 13"):
        parse_period("2026-13")


def test_bulletin_reconciles_with_the_batches(
    engine: sa.Engine, vault: IdentityVault, tmp_path: Path
) -> None:
    p1, p2 = _pid("19800101", "001"), _pid("19900202", "002")
    sic = ["kind", "subject_id", "event_date", "department", "period", "insurance", "amount", "status"]
    hrss = _csv(
        tmp_path / "hrss.csv",
        sic,
        [
            ["social_insurance_contribution", p1, "2026-07-05", "hrss", "2026-07", "pension", "800", "paid"],
            ["social_insurance_contribution", p2, "2026-06-05", "hrss", "2026-06", "pension", "800", "paid"],
            ["social_insurance_contribution", p2, "2026-06-06", "hrss", "2026-06", "pension", "abc", "paid"],
        ],
    )
    pen = ["kind", "subject_id", "event_date", "department", "doc_no", "penalty_type", "amount", "matter"]
    firm = _org("MA000001")
    market = _csv(
        tmp_path / "market.csv",
        pen,
        [
            [
                "administrative_penalty",
                firm,
                "2026-08-10",
                "market_regulation",
                "D-1",
                "fine_low",
                "5000",
                "",
            ],
            [
                "administrative_penalty",
                firm,
                "2026-08-10",
                "market_regulation",
                "D-1",
                "fine_low",
                "5000",
                "",
            ],
            [
                "administrative_penalty",
                "9135010212345678X0",
                "2026-08-11",
                "market_regulation",
                "D-2",
                "fine",
                "",
                "",
            ],
        ],
    )
    results = [ingest_file(engine, f, catalogue=CAT, vault=vault, now=RECEIVED) for f in (hrss, market)]
    with engine.begin() as c:  # received in the third quarter
        c.execute(sa.text("UPDATE ingest_batches SET started_at = :t"), {"t": RECEIVED})
    b = bulletin(engine, "2026-Q3")
    got = {d.department: d for d in b.departments}
    assert sorted(got) == ["hrss", "market_regulation"]
    h, m = got["hrss"], got["market_regulation"]
    assert (h.batches, h.rows_read, h.accepted, h.duplicate, h.correction, h.quarantined) == (
        1,
        3,
        2,
        0,
        0,
        1,
    )
    assert (m.rows_read, m.accepted, m.duplicate, m.quarantined) == (3, 1, 1, 1)
    assert h.reasons == {"wrong_type": 1} and m.reasons == {"bad_identifier": 1}
    assert b.total("rows_read") == sum(r.rows_read for r in results) == 6
    assert sum(b.total(k) for k in ("accepted", "duplicate", "correction", "quarantined")) == 6
    # Days from event to receipt: hrss 41 and 71; market 5.
    assert (h.timeliness_median_days, h.timeliness_p90_days, h.received_within_30_days) == (56.0, 71.0, 0.0)
    assert (m.timeliness_median_days, m.received_within_30_days) == (5.0, 1.0)
    # Completeness: the penalty has two optional fields, amount given, matter empty.
    assert h.completeness is None and m.completeness == 0.5
    assert bulletin(engine, "2026-Q2").departments == []
    html_path, csv_path = write_bulletin(b, tmp_path / "out")
    rows = list(csv.DictReader(csv_path.open(encoding="utf-8")))
    assert [(r["department"], r["rows_read"], r["quarantined"], r["reasons"]) for r in rows] == [
        ("hrss", "3", "1", "wrong_type=1"),
        ("market_regulation", "3", "1", "bad_identifier=1"),
    ]
    page = html_path.read_text(encoding="utf-8")
    assert "数据质量通报" in page and "<svg" in page and "http" not in page.replace("http-equiv", "")


def _snapshot(c: sa.Connection, sid: int, group: str, as_of: dt.date, status: str) -> None:
    c.execute(
        sa.insert(ScoreSnapshot),
        [
            {
                "id": sid,
                "subject_type": group,
                "as_of": as_of,
                "known_at": dt.datetime.combine(as_of, dt.time()),
                "registry_version": "r",
                "feature_names": "[]",
                "status": status,
                "rows": 0,
                "actor": "t",
                "created_at": dt.datetime(2026, 1, 1),
            }
        ],
    )


def _score(sid: int, snap: int, group: str, state: str, when: dt.datetime, **kw: object) -> dict:
    return {
        "snapshot_id": snap,
        "subject_id": sid,
        "subject_type": group,
        "origin": kw.get("origin", "batch"),
        "state": state,
        "pd": kw.get("pd"),
        "grade": kw.get("grade"),
        "as_of": when.date(),
        "known_at": when,
        "registry_version": "r",
        "feature_hash": "h",
        "features": "",
        "scored_at": when,
    }


def test_coverage_counts_adults_by_district_and_age(engine: sa.Engine) -> None:
    people = [  # id, district, birth year, state in snapshot 1, state in snapshot 2
        (1, "110105", 1980, "scored", "scored"),
        (2, "110105", 1990, "insufficient_record", "scored"),
        (3, "110105", 2010, "minor", "minor"),
        (4, "120101", 1950, "insufficient_record", "insufficient_record"),
        (5, "120101", 2000, "scored", "scored"),
        (6, None, 1985, "scored", "scored"),
    ]
    with engine.begin() as c:
        c.execute(
            sa.insert(Subject),
            [
                {"id": i, "subject_type": "person", "subject_key": f"k{i}", "district_code": d,
                 "birth_year": y, "created_at": dt.datetime(2020, 1, 1)}
                for i, d, y, _, _ in people
            ],
        )  # fmt: skip
        _snapshot(c, 1, "person", dt.date(2025, 6, 30), "superseded")
        _snapshot(c, 2, "person", dt.date(2026, 6, 30), "published")
        c.execute(
            sa.text("INSERT INTO score_publications VALUES ('person', 2, :t)"), {"t": dt.datetime(2026, 7, 1)}
        )
        rows = [_score(i, 1, "person", s1, dt.datetime(2025, 7, 1)) for i, _, _, s1, _ in people]
        rows += [_score(i, 2, "person", s2, dt.datetime(2026, 7, 1)) for i, _, _, _, s2 in people]
        c.execute(sa.insert(ScoreRow), rows)
    now = coverage(engine)
    assert (now.snapshot_id, now.adults, now.scored) == (2, 5, 4)
    assert now.share == 0.8 and now.meets_target
    assert now.by_district.rows() == [("(missing)", 1, 1, 1.0), ("110105", 2, 2, 1.0), ("120101", 2, 1, 0.5)]
    # Ages on 2026-06-30: 46, 36, 76, 26, 41.
    assert now.by_age_band.rows() == [
        ("25-34", 1, 1, 1.0), ("35-44", 2, 2, 1.0), ("45-54", 1, 1, 1.0), ("65+", 1, 0, 0.0),
    ]  # fmt: skip
    trend = coverage_trend(engine)
    assert [(c.snapshot_id, c.scored, c.adults, c.meets_target) for c in trend] == [
        (1, 3, 5, False),
        (2, 4, 5, True),
    ]


def test_early_warning_thresholds(engine: sa.Engine) -> None:
    t0, t1 = dt.datetime(2026, 7, 1), dt.datetime(2026, 9, 1)
    firms = {
        11: ("A", 0.01, "C", 0.20),
        12: ("B", 0.05, "C", 0.12),
        13: ("B", 0.04, "B", 0.09),
        14: ("A", 0.01, "A", 0.01),
    }
    with engine.begin() as c:
        c.execute(
            sa.insert(Subject),
            [{"id": i, "subject_type": "enterprise", "subject_key": f"9135{i}", "name": f"firm {i}",
              "created_at": dt.datetime(2020, 1, 1)} for i in firms],
        )  # fmt: skip
        _snapshot(c, 1, "enterprise", dt.date(2026, 6, 30), "published")
        rows = [
            _score(i, 1, "enterprise", "scored", t0, grade=g0, pd=p0) for i, (g0, p0, _, _) in firms.items()
        ]
        rows += [
            _score(
                i, 1, "enterprise", "scored", t0 + dt.timedelta(days=30), grade=g1, pd=p1, origin="rescore"
            )
            for i, (_, _, g1, p1) in firms.items()
        ]
        c.execute(sa.insert(ScoreRow), rows)
        c.execute(
            sa.insert(Record),
            [
                {"record_uid": "pen-1", "version": 1, "subject_id": 14, "kind": "administrative_penalty",
                 "department": "market_regulation", "event_date": dt.date(2026, 8, 1),
                 "publicity_end": dt.date(2029, 8, 1), "severity": "serious",
                 "recorded_at": dt.datetime(2026, 8, 2), "content_hash": "x", "payload": "{}"},
                {"record_uid": "pen-0", "version": 1, "subject_id": 13, "kind": "administrative_penalty",
                 "department": "market_regulation", "event_date": dt.date(2026, 1, 1),
                 "publicity_end": dt.date(2029, 1, 1), "severity": "serious",
                 "recorded_at": dt.datetime(2026, 1, 2), "content_hash": "y", "payload": "{}"},
            ],
        )  # fmt: skip
    found = {w.subject_id: w for w in early_warnings(engine, t0 + dt.timedelta(hours=1), t1)}
    # 11: A→C (two steps) and PD 1%→20%; 12: B→C one step, PD ×2.4 but +7 points; 13: PD ×2.25 but
    # +5 points exactly → rings; 14: new serious record in the period; 13's older one does not count.
    assert sorted(found) == [11, 12, 13, 14]
    assert found[11].reasons_en == [
        "class fell from A to C",
        "probability of default rose from 1.0% to 20.0% (×20.0)",
    ]
    assert found[12].reasons_en == ["probability of default rose from 5.0% to 12.0% (×2.4)"]
    assert (
        found[14].reasons_en == ["1 new serious record (administrative penalty)"] or found[14].serious_records
    )
    assert found[14].serious_records == [
        {"record_uid": "pen-1", "kind": "administrative_penalty", "event_date": "2026-08-01"}
    ]
    strict = early_warnings(
        engine, t0 + dt.timedelta(hours=1), t1, WarningPolicy(class_drop=3, pd_ratio=3.0, pd_increase=0.1)
    )
    assert [w.subject_id for w in strict] == [11, 14]
    with pytest.raises(ValueError, match="ends before it starts"):
        early_warnings(engine, t1, t0)
