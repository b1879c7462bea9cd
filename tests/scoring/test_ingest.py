"""Ingestion into the records store, on SQLite and PostgreSQL: outcomes, counts, pseudonymisation,
formats and encodings, atomicity and idempotency."""

from __future__ import annotations

import csv
import datetime as dt
import json
import os
import queue
import signal
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import polars as pl
import pytest
import sqlalchemy as sa

from features.catalogue import load_catalogue
from features.ids import org_check_char, person_check_char, uscc_check_char
from features.reasons import QUARANTINE_REASONS
from scoring import ingest as ingest_module
from scoring.db import ingest_repository as repo
from scoring.db.tables import Base
from scoring.identity import IdentityVault
from scoring.ingest import BatchResult, UnreadableFile, UnsupportedFile, ingest_file, ingest_path

NOW = dt.datetime(2026, 11, 25, 12, 0)
CAT = load_catalogue()
TABLES = ("subjects", "subject_links", "ingest_batches", "records", "record_events", "quarantined_rows")


def pid(birth: str = "19800101", seq: str = "001", district: str = "110105") -> str:
    body = district + birth + seq
    return body + person_check_char(body)


def org(prefix: str = "91", org8: str = "MA000001") -> str:
    body = prefix + "350102" + org8 + org_check_char(org8)
    return body + uscc_check_char(body)


P1, P2, CHILD = pid(), pid("19910715", "022"), pid("20120315", "003")
ORG = org()

SIC = ["social_insurance_contribution", P1, "2024-01-05", "hrss", "2024-01", "pension", "100", "paid"]
SIC_HEADER = ["kind", "subject_id", "event_date", "department", "period", "insurance", "amount", "status"]
BILL_HEADER = ["kind", "subject_id", "event_date", "department", "utility", "account_no", "period", "amount",
               "days_late", "status"]  # fmt: skip
CONFLICT = "same record as version 1 from department {old} with different content, sent by department {new}"


def write_csv(path: Path, header: list[str], rows: list[list[Any]], encoding: str = "utf-8") -> Path:
    with open(path, "w", newline="", encoding=encoding) as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(header)
        w.writerows(rows)
    return path


def run(engine: sa.Engine, vault: IdentityVault, path: Path, **kw: Any) -> BatchResult:
    return ingest_file(engine, path, catalogue=CAT, vault=vault, now=NOW, **kw)


def counts(engine: sa.Engine) -> dict[str, int]:
    with engine.connect() as c:
        return {t: c.execute(sa.text(f"SELECT count(*) FROM {t}")).scalar_one() for t in TABLES}


def select(engine: sa.Engine, sql: str, **params: Any) -> list[tuple[Any, ...]]:
    with engine.connect() as c:
        return [tuple(r) for r in c.execute(sa.text(sql), params)]


def outcome(r: BatchResult) -> tuple[int, int, int, int, int]:
    return (r.rows_read, r.accepted, r.duplicate, r.correction, r.quarantined)


@pytest.fixture(params=[None, 1], ids=["one-step", "step-per-row"])
def step_rows(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """Files are validated and stored in steps of rows; a step per row checks outcomes across steps."""
    if request.param:
        monkeypatch.setattr(ingest_module, "_STEP_ROWS", request.param)


def test_outcomes_reconcile_within_one_file(
    engine: sa.Engine, vault: IdentityVault, tmp_path: Path, step_rows: None
) -> None:
    header = [*SIC_HEADER, "utility", "account_no", "days_late"]
    bill = ["utility_bill", P1, "2024-02-03", "water", "2024-01", "", "35.5", "on_time", "water", "W-1", "0"]
    rows = [
        [*SIC, "", "", ""],  # 2 accepted
        [*SIC, "", "", ""],  # 3 duplicate of line 2
        [*SIC[:6], "120", "paid", "", "", ""],  # 4 correction: version 2
        bill,  # 5 accepted
        [*bill[:3], "power", *bill[4:6], "36", *bill[7:]],  # 6 conflict: another department
        [*SIC[:4], "2024-02", "pension", "abc", "paid", "", "", ""],  # 7 wrong_type
        ["parking_fee", P1, "2024-01-05", "hrss", "", "", "", "", "", "", ""],  # 8 unknown_kind
    ]
    r = run(engine, vault, write_csv(tmp_path / "mixed.csv", header, rows))
    assert outcome(r) == (7, 2, 1, 1, 3)
    assert r.reconciles and not r.already_ingested
    assert r.quarantine_by_reason == {"conflict": 1, "unknown_kind": 1, "wrong_type": 1}
    assert select(engine, "SELECT kind, version, amount FROM records ORDER BY kind, version") == [
        ("social_insurance_contribution", 1, 100.0),
        ("social_insurance_contribution", 2, 120.0),
        ("utility_bill", 1, 35.5),
    ]
    assert select(engine, "SELECT line_no, reason_code, message FROM quarantined_rows ORDER BY line_no") == [
        (6, "conflict", CONFLICT.format(old="water", new="power")),
        (7, "wrong_type", "field amount: 'abc' is not a number"),
        (8, "unknown_kind", "kind 'parking_fee' is not in the catalogue"),
    ]  # fmt: skip
    batch = select(
        engine, "SELECT rows_read, accepted, duplicate, correction, quarantined FROM ingest_batches"
    )
    assert batch == [(7, 2, 1, 1, 3)]


@pytest.mark.parametrize("temp_table_from", [1, 20_000], ids=["temp-table", "array"])
def test_duplicate_correction_conflict_across_batches(
    engine: sa.Engine,
    vault: IdentityVault,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    temp_table_from: int,
    step_rows: None,
) -> None:
    # PostgreSQL looks stored records up through a temporary table, or an array when there are few.
    monkeypatch.setattr(repo, "_TEMP_TABLE_FROM", temp_table_from)
    header = ["kind", "subject_id", "event_date", "department", "utility", "account_no", "period", "amount",
              "days_late", "status"]  # fmt: skip
    bill = ["utility_bill", P1, "2024-02-03", "water", "water", "W-1", "2024-01", "35.5", "0", "on_time"]
    other = [*bill[:5], "W-2", *bill[6:]]
    first = run(engine, vault, write_csv(tmp_path / "jan.csv", header, [bill, other]))
    assert outcome(first) == (2, 2, 0, 0, 0)

    late = [*bill[:7], "35.5", "12", "late"]
    second = run(
        engine,
        vault,
        write_csv(
            tmp_path / "jan-resent.csv",
            header,
            [
                bill,  # duplicate of the stored record
                late,  # correction: version 2
                late,  # duplicate of the correction just made
                [*other[:3], "power", *other[4:7], "99", "0", "on_time"],  # conflict
            ],
        ),
    )
    assert outcome(second) == (4, 0, 2, 1, 1)
    assert second.quarantine_by_reason == {"conflict": 1}
    rows = select(
        engine,
        "SELECT r.version, r.department, r.quantity, r.outcome, b.source_name FROM records r"
        " JOIN ingest_batches b ON b.id = r.batch_id ORDER BY r.id",
    )
    assert sorted(rows) == [
        (1, "water", 0.0, "on_time", "jan.csv"),
        (1, "water", 0.0, "on_time", "jan.csv"),
        (2, "water", 12.0, "late", "jan-resent.csv"),
    ]
    uids = select(engine, "SELECT record_uid, count(*) FROM records GROUP BY record_uid ORDER BY count(*)")
    assert [n for _, n in uids] == [1, 2]


def test_every_reason_is_stored_with_line_message_and_encrypted_row(
    engine: sa.Engine, vault: IdentityVault, tmp_path: Path, step_rows: None
) -> None:
    header = [*SIC_HEADER, "doc_no", "religion", "colour"]
    base = [*SIC, "", "", ""]
    jd = ["judgment_defaulter", CHILD, "2026-03-14", "court", "", "", "", "", "J1", "", ""]
    bad_check = P1[:-1] + ("0" if P1[-1] != "0" else "1")
    rows = [
        base,  # 2 accepted (the stored record for the conflict below)
        ["parking_fee", *base[1:]],  # 3
        [*base[:9], "catholic", ""],  # 4
        [*base[:3], "tax", *base[4:]],  # 5
        [*base[:6], "", *base[7:]],  # 6
        [*base[:10], "red"],  # 7
        [base[0], bad_check, *base[2:]],  # 8
        [base[0], ORG, *base[2:]],  # 9
        [*base[:6], "1.2.3", *base[7:]],  # 10
        [*base[:6], "99999", *base[7:]],  # 11
        [*base[:2], "2026-12-01", *base[3:]],  # 12
        jd,  # 13
    ]
    r = run(engine, vault, write_csv(tmp_path / "bad.csv", header, rows))
    # conflict: same record from another department, in a second file
    bill = ["utility_bill", P1, "2024-02-03", "water", "water", "W-1", "2024-01", "35.5", "0", "on_time"]
    run(engine, vault, write_csv(tmp_path / "bill.csv", BILL_HEADER, [bill]))
    gas = [*bill[:3], "gas", *bill[4:7], "1", "0", "on_time"]
    c = run(engine, vault, write_csv(tmp_path / "bill2.csv", BILL_HEADER, [gas]))
    assert outcome(r) == (12, 1, 0, 0, 11)
    assert outcome(c) == (1, 0, 0, 0, 1)
    got = select(
        engine,
        "SELECT q.line_no, q.reason_code, q.message, q.kind, q.department FROM quarantined_rows q"
        " JOIN ingest_batches b ON b.id = q.batch_id ORDER BY b.id, q.line_no",
    )
    sic = "social_insurance_contribution"
    minor = "the person is 13 on the event date; under 18 cannot be listed"
    assert got == [
        (3, "unknown_kind", "kind 'parking_fee' is not in the catalogue", "parking_fee", "hrss"),
        (4, "forbidden_data", "column religion carries forbidden data (religion)", sic, "hrss"),
        (5, "department_not_allowed", f"department tax does not report kind {sic}", sic, "tax"),
        (6, "missing_field", "field amount is missing", sic, "hrss"),
        (7, "unknown_column", f"column colour is not a field of kind {sic}", sic, "hrss"),
        (8, "bad_identifier", f"check character should be {P1[-1]}, got {bad_check[-1]}", sic, "hrss"),
        (9, "subject_type_mismatch", f"kind {sic} does not apply to subject type enterprise", sic, "hrss"),
        (10, "wrong_type", "field amount: '1.2.3' is not a number", sic, "hrss"),
        (11, "out_of_range", "field amount: 99999 is above the maximum 50000", sic, "hrss"),
        (12, "future_date", "event_date 2026-12-01 is after the ingestion date 2026-11-25", sic, "hrss"),
        (13, "minor_listing", minor, "judgment_defaulter", "court"),
        (2, "conflict", CONFLICT.format(old="water", new="gas"), "utility_bill", "gas"),
    ]  # fmt: skip
    assert {g[1] for g in got} == set(QUARANTINE_REASONS)
    # The raw row is kept, encrypted, without the forbidden value.
    ciphers = dict(
        select(engine, "SELECT line_no, raw_cipher FROM quarantined_rows WHERE reason_code != 'conflict'")
    )
    assert json.loads(vault.decrypt(ciphers[4])) == dict(zip(SIC_HEADER, SIC, strict=True))
    assert json.loads(vault.decrypt(ciphers[8]))["subject_id"] == bad_check
    # Subjects only for stored rows: P1 and (from the bill) nobody else.
    assert select(engine, "SELECT subject_type, birth_year, gender, district_code FROM subjects") == [
        ("person", 1980, "M", "110105")
    ]


def test_identity_numbers_never_stored_in_clear(
    engine: sa.Engine, vault: IdentityVault, tmp_path: Path
) -> None:
    rep = pid("19750505", "013", "320102")
    header = ["kind", "subject_id", "event_date", "department", "name", "sector", "size", "registered_on",
              "legal_rep_id", "amount", "doc_no", "penalty_type"]  # fmt: skip
    rows = [
        ["org_registration", ORG, "2020-03-01", "market_regulation", "示例科技有限公司", "technology",
         "small", "2020-02-28", rep, "", "", ""],
        ["administrative_penalty", P2, "2025-05-01", "public_security", "", "", "", "", "", "200", "GA-1",
         "fine_low"],
        ["administrative_penalty", P2[:-1] + "Y", "2025-05-01", "public_security", "", "", "", "", "", "200",
         "GA-2", "fine_low"],
        # shifted columns: numbers where other values belong
        ["administrative_penalty", P2, "2025-05-01", "public_security", "", "", "", "", "", rep, "GA-3",
         "fine_low"],
        [rep, P2, "2025-05-01", "public_security", "", "", "", "", "", "", "", ""],
    ]  # fmt: skip
    r = run(engine, vault, write_csv(tmp_path / "ids.csv", header, rows))
    assert outcome(r) == (5, 2, 0, 0, 3)
    masked = rep[:4] + "*" * 10 + rep[-4:]
    assert select(engine, "SELECT line_no, message, kind FROM quarantined_rows ORDER BY line_no")[1:] == [
        (5, f"field amount: '{masked}' is not a number", "administrative_penalty"),  # it ends in X
        (6, f"kind '{masked}' is not in the catalogue", masked),
    ]
    dump = []
    with engine.connect() as c:
        for table in Base.metadata.sorted_tables:
            for row in c.execute(sa.select(table)):
                dump.extend(str(v) for v in row)
    text = "\n".join(dump)
    for number in (rep, P2, P2[:-1] + "Y"):
        assert number not in text and number[:17] not in text
    subjects = select(
        engine, "SELECT subject_type, subject_key, id_cipher, key_version FROM subjects ORDER BY id"
    )
    assert sorted((t, k, vault.decrypt(c) if c else None, v) for t, k, c, v in subjects) == sorted(
        [
            ("enterprise", ORG, None, None),
            ("person", vault.lookup_key(rep), rep, vault.key_version),
            ("person", vault.lookup_key(P2), P2, vault.key_version),
        ]
    )
    payload = json.loads(select(engine, "SELECT payload FROM records WHERE kind = 'org_registration'")[0][0])
    assert payload["legal_rep_id"] == vault.lookup_key(rep)


def test_org_registration_fills_subject_and_legal_representative(
    engine: sa.Engine, vault: IdentityVault, tmp_path: Path, step_rows: None
) -> None:
    header = ["kind", "subject_id", "event_date", "department", "name", "sector", "size", "registered_on",
              "legal_rep_id"]  # fmt: skip
    reg = [
        "org_registration",
        ORG,
        "2020-03-01",
        "market_regulation",
        "Alpha Ltd",
        "retail",
        "micro",
        "2020-02-28",
    ]
    run(engine, vault, write_csv(tmp_path / "r1.csv", header, [[*reg, P1]]))
    changed = [*reg[:2], "2023-07-01", reg[3], "Alpha Trading Ltd", "retail", "small", reg[7], P2]
    r = run(engine, vault, write_csv(tmp_path / "r2.csv", header, [changed]))
    assert outcome(r) == (1, 0, 0, 1, 0)
    # The same representative again, already a subject: no new subject, the open link stays.
    again = [*reg[:2], "2024-01-01", reg[3], "Alpha Trading Ltd", "retail", "medium", reg[7], P2]
    assert outcome(run(engine, vault, write_csv(tmp_path / "r3.csv", header, [again]))) == (1, 0, 0, 1, 0)
    assert counts(engine)["subjects"] == 3
    org_row = select(
        engine, "SELECT id, name, sector, size, registered_on FROM subjects WHERE subject_key = :k", k=ORG
    )
    org_id, *details = org_row[0]
    assert [str(v) for v in details] == ["Alpha Trading Ltd", "retail", "medium", "2020-02-28"]
    links = select(
        engine,
        "SELECT s.subject_key, l.role, l.valid_from, l.valid_to FROM subject_links l"
        " JOIN subjects s ON s.id = l.person_subject_id WHERE l.org_subject_id = :o ORDER BY l.valid_from",
        o=org_id,
    )
    assert [(k, role, str(f), str(t) if t else None) for k, role, f, t in links] == [
        (vault.lookup_key(P1), "legal_representative", "2020-03-01", "2023-07-01"),
        (vault.lookup_key(P2), "legal_representative", "2023-07-01", None),
    ]


def test_same_file_twice_changes_nothing(engine: sa.Engine, vault: IdentityVault, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "a.csv", SIC_HEADER, [SIC, [*SIC[:6], "x", "paid"]])
    first = run(engine, vault, path)
    before = counts(engine)
    again = run(engine, vault, path)
    renamed = (tmp_path / "b.csv").write_bytes(path.read_bytes())
    assert renamed
    third = run(engine, vault, tmp_path / "b.csv")
    assert counts(engine) == before == {
        "subjects": 1, "subject_links": 0, "ingest_batches": 1, "records": 1, "record_events": 0,
        "quarantined_rows": 1,
    }  # fmt: skip
    assert not first.already_ingested and again.already_ingested and third.already_ingested
    assert outcome(again) == outcome(third) == outcome(first) == (2, 1, 0, 0, 1)
    assert again.batch_id == first.batch_id and again.source_name == "a.csv"
    assert again.quarantine_by_reason == first.quarantine_by_reason == {"wrong_type": 1}


def test_concurrent_batches_take_turns(engine: sa.Engine, vault: IdentityVault, tmp_path: Path) -> None:
    feb, mar = [*SIC[:4], "2024-02", *SIC[5:]], [*SIC[:4], "2024-03", *SIC[5:]]
    a = write_csv(tmp_path / "a.csv", SIC_HEADER, [SIC, feb])
    b = write_csv(tmp_path / "b.csv", SIC_HEADER, [SIC, mar])
    with ThreadPoolExecutor(2) as pool:
        results = list(pool.map(lambda p: run(engine, vault, p), [a, b]))
    # Whichever went second found the shared record stored by the first.
    assert sorted(outcome(r) for r in results) == [(2, 1, 1, 0, 0), (2, 2, 0, 0, 0)]
    assert counts(engine) == {
        "subjects": 1, "subject_links": 0, "ingest_batches": 2, "records": 3, "record_events": 0,
        "quarantined_rows": 0,
    }  # fmt: skip


def test_gb18030_csv_with_chinese_text(engine: sa.Engine, vault: IdentityVault, tmp_path: Path) -> None:
    header = ["kind", "subject_id", "event_date", "department", "name", "sector", "size", "registered_on"]
    name = "杭州示例科技有限公司（分公司）"
    rows = [
        [
            "org_registration",
            ORG,
            "2020-03-01",
            "market_regulation",
            name,
            "technology",
            "small",
            "2020-02-28",
        ],
        [
            "org_registration",
            org("91", "MA000002"),
            "2020-03-01",
            "市场监管局",
            "乙",
            "retail",
            "micro",
            "2020-02-28",
        ],
    ]
    path = write_csv(tmp_path / "gb.csv", header, rows, encoding="gb18030")
    with pytest.raises(UnicodeDecodeError):
        path.read_bytes().decode("utf-8")
    r = run(engine, vault, path)
    assert (r.encoding, outcome(r)) == ("gb18030", (2, 1, 0, 0, 1))
    assert select(engine, "SELECT name FROM subjects") == [(name,)]
    assert select(engine, "SELECT message, department FROM quarantined_rows") == [
        ("unknown department '市场监管局'", "市场监管局")
    ]
    gbk = write_csv(tmp_path / "gbk.csv", header, [[*rows[0][:4], "丙公司", *rows[0][5:]]], encoding="gbk")
    r2 = run(engine, vault, gbk, encoding="gbk")
    assert (r2.encoding, outcome(r2)) == ("gbk", (1, 0, 0, 1, 0))


def test_jsonl_and_parquet_give_the_same_records(
    engine: sa.Engine, vault: IdentityVault, tmp_path: Path
) -> None:
    objs: list[dict[str, Any]] = [
        dict(zip(SIC_HEADER, SIC, strict=True)),
        {**dict(zip(SIC_HEADER, SIC, strict=True)), "period": "2024-02", "amount": 100},
        {**dict(zip(SIC_HEADER, SIC, strict=True)), "period": "2024-03", "amount": "1e9"},
    ]
    jsonl = tmp_path / "a.jsonl"
    jsonl.write_text(
        json.dumps(objs[0]) + "\n\n" + "\n".join(json.dumps(o, ensure_ascii=False) for o in objs[1:]) + "\n"
    )
    r = run(engine, vault, jsonl)
    assert (r.file_format, outcome(r)) == ("jsonl", (3, 2, 0, 0, 1))
    assert select(engine, "SELECT line_no, message FROM quarantined_rows") == [
        (4, "field amount: 1e9 is above the maximum 50000")
    ]
    parquet = tmp_path / "a.parquet"
    pl.DataFrame(objs, schema=dict.fromkeys(SIC_HEADER, pl.Utf8)).write_parquet(parquet)
    p = run(engine, vault, parquet)
    assert (p.file_format, outcome(p)) == ("parquet", (3, 0, 2, 0, 1))
    assert select(engine, "SELECT line_no FROM quarantined_rows ORDER BY batch_id") == [(4,), (3,)]
    assert select(engine, "SELECT count(*), sum(amount) FROM records") == [(2, 200.0)]


def test_csv_line_numbers_count_physical_lines(
    engine: sa.Engine, vault: IdentityVault, tmp_path: Path
) -> None:
    header = "kind,subject_id,event_date,department,doc_no,penalty_type,matter\n"
    ok = f"administrative_penalty,{ORG},2025-01-01,environment,"
    text = (
        header
        + ok + 'E-1,warning,"spilled\noil"\n'  # lines 2-3
        + ok + "E-2,oops,\n"  # line 4
        + "\n"  # line 5 blank
        + ok + "E-3,warning,,surplus\n"  # line 6 ragged
        + ok + "E-4,nope,\n"  # line 7
    )  # fmt: skip
    path = tmp_path / "lines.csv"
    path.write_text(text)
    r = run(engine, vault, path)
    assert outcome(r) == (4, 1, 0, 0, 3)
    penalties = ", ".join(CAT.kind("administrative_penalty").fields["penalty_type"].values)
    assert select(engine, "SELECT line_no, reason_code, message FROM quarantined_rows ORDER BY line_no") == [
        (4, "wrong_type", f"field penalty_type: 'oops' is not one of {penalties}"),
        (6, "unknown_column", "line has 8 values but the header has 7 columns"),
        (7, "wrong_type", f"field penalty_type: 'nope' is not one of {penalties}"),
    ]
    assert json.loads(select(engine, "SELECT payload FROM records")[0][0])["matter"] == "spilled\noil"
    # Without blank lines the fast reader runs; the numbering is the same.
    path2 = tmp_path / "lines2.csv"
    path2.write_text(header + ok + 'E-5,warning,"a\nb\nc"\n' + ok + "E-6,bad,\n")
    r2 = run(engine, vault, path2)
    assert outcome(r2) == (2, 1, 0, 0, 1)
    assert select(engine, "SELECT line_no FROM quarantined_rows WHERE batch_id = :b", b=r2.batch_id) == [(5,)]


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("garbage.csv", bytes(range(256)) * 4, "binary content (NUL bytes), not a text file"),
        ("latin.csv", b"kind,subject_id\n" + bytes(range(128, 256)), "neither UTF-8 nor GB18030 text"),
        ("header.csv", b"kind,subject,date\n", "missing common columns: subject_id, event_date, department"),
        ("empty.csv", b"", "empty file: no header"),
        ("bad.jsonl", b'{"kind": "x", "subject_id": "1", "event_date": "2024-01-01"}\n{oops}\n',
         "line 2: invalid JSON"),
        ("list.jsonl", b"[1, 2]\n", "line 1: not a JSON object"),
        ("bad.parquet", b"PAR1 this is not parquet", "not a readable Parquet file"),
    ],
)  # fmt: skip
def test_unparsable_file_stores_nothing(
    engine: sa.Engine, vault: IdentityVault, tmp_path: Path, name: str, content: bytes, message: str
) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(UnreadableFile, match=f"^{name}: ") as exc:
        run(engine, vault, path)
    assert message in str(exc.value)
    assert set(counts(engine).values()) == {0}


def test_files_with_nothing_to_store_still_make_a_batch(
    engine: sa.Engine, vault: IdentityVault, tmp_path: Path
) -> None:
    empty = run(engine, vault, write_csv(tmp_path / "header-only.csv", SIC_HEADER, []))
    bad = run(engine, vault, write_csv(tmp_path / "all-bad.csv", SIC_HEADER, [[*SIC[:6], "x", "paid"]] * 2))
    assert (outcome(empty), outcome(bad)) == ((0, 0, 0, 0, 0), (2, 0, 0, 0, 2))
    assert counts(engine) == {
        "subjects": 0, "subject_links": 0, "ingest_batches": 2, "records": 0, "record_events": 0,
        "quarantined_rows": 2,
    }  # fmt: skip


def test_unsupported_extension(engine: sa.Engine, vault: IdentityVault, tmp_path: Path) -> None:
    path = tmp_path / "records.xlsx"
    path.write_bytes(b"PK")
    with pytest.raises(UnsupportedFile, match=r"^records\.xlsx: not a \.csv, \.jsonl or \.parquet file$"):
        run(engine, vault, path)


def test_folder_is_ingested_in_order_of_relative_path(
    engine: sa.Engine, vault: IdentityVault, tmp_path: Path
) -> None:
    (tmp_path / "b").mkdir()
    (tmp_path / "a").mkdir()
    write_csv(tmp_path / "b" / "1.csv", SIC_HEADER, [[*SIC[:6], "130", "paid"]])
    write_csv(tmp_path / "a" / "2.csv", SIC_HEADER, [SIC])
    (tmp_path / "a" / "notes.txt").write_text("not ingested")
    results = ingest_path(engine, tmp_path, catalogue=CAT, vault=vault, now=NOW)
    assert [(r.source_name, outcome(r)) for r in results] == [
        ("a/2.csv", (1, 1, 0, 0, 0)),
        ("b/1.csv", (1, 0, 0, 1, 0)),
    ]


def _big_file(path: Path, persons: int = 5000, months: int = 60) -> int:
    base = dt.date(1960, 1, 1)
    ids = [pid((base + dt.timedelta(days=i)).strftime("%Y%m%d"), f"{i % 1000:03d}") for i in range(persons)]
    periods = [f"{2020 + m // 12}-{m % 12 + 1:02d}" for m in range(months)]
    frame = (
        pl.DataFrame({"subject_id": ids})
        .join(pl.DataFrame({"period": periods}), how="cross")
        .select(
            pl.lit("social_insurance_contribution").alias("kind"),
            "subject_id",
            (pl.col("period") + "-15").alias("event_date"),
            pl.lit("hrss").alias("department"),
            "period",
            pl.lit("pension").alias("insurance"),
            pl.lit("812.40").alias("amount"),
            pl.lit("paid").alias("status"),
        )
    )
    frame.write_csv(path)
    return frame.height


def _wait_for(stream: Any, text: str, timeout: float) -> bool:
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=lambda: [lines.put(line) for line in stream], daemon=True).start()
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if text in lines.get(timeout=0.1):
                return True
        except queue.Empty:
            continue
    return False


@pytest.mark.slow
def test_killed_ingestion_leaves_nothing_and_a_rerun_completes(
    engine: sa.Engine, vault: IdentityVault, tmp_path: Path
) -> None:
    path = tmp_path / "big.csv"
    rows = _big_file(path)
    assert rows == 300_000
    env = {**os.environ, "CREDIT_DATABASE_URL": engine.url.render_as_string(hide_password=False)}
    credit = Path(sys.executable).with_name("credit")
    proc = subprocess.Popen(
        [str(credit), "ingest", str(path)], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        assert _wait_for(proc.stderr, "inserting", timeout=120), "the insert phase never started"
        time.sleep(0.3)
        assert proc.poll() is None, "finished before it could be killed"
        proc.send_signal(signal.SIGKILL)
        assert proc.wait(timeout=30) == -signal.SIGKILL
    finally:
        if proc.poll() is None:
            proc.kill()
    assert set(counts(engine).values()) == {0}

    r = ingest_file(engine, path, catalogue=CAT, vault=vault)
    assert outcome(r) == (300_000, 300_000, 0, 0, 0) and not r.already_ingested
    assert counts(engine) == {
        "subjects": 5000, "subject_links": 0, "ingest_batches": 1, "records": 300_000, "record_events": 0,
        "quarantined_rows": 0,
    }  # fmt: skip
    assert ingest_file(engine, path, catalogue=CAT, vault=vault).already_ingested


def _orphans(engine: sa.Engine) -> list[tuple[Any, ...]]:
    """Records whose subject or batch does not exist (records have no foreign keys, migration 0004)."""
    return select(
        engine,
        "SELECT r.id, r.subject_id, r.batch_id FROM records r"
        " LEFT JOIN subjects s ON s.id = r.subject_id LEFT JOIN ingest_batches b ON b.id = r.batch_id"
        " WHERE s.id IS NULL OR b.id IS NULL",
    )


def test_every_record_has_its_subject_and_batch(
    engine: sa.Engine,
    vault: IdentityVault,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    step_rows: None,
) -> None:
    header = ["kind", "subject_id", "event_date", "department", "period", "insurance", "amount", "status",
              "name", "sector", "size", "registered_on", "legal_rep_id"]  # fmt: skip
    reg = ["org_registration", ORG, "2020-03-01", "market_regulation", "", "", "", "",
           "Alpha Ltd", "retail", "micro", "2020-02-28", P2]  # fmt: skip
    sic = [*SIC, "", "", "", "", ""]
    # New subjects (P1, the organisation, P2 only named as its representative) in one batch.
    run(engine, vault, write_csv(tmp_path / "a.csv", header, [sic, reg]))
    # A stored subject with a correction, next to a new one.
    p3 = pid("19750505", "017")
    rows = [[*sic[:6], "130", *sic[7:]], [sic[0], p3, *sic[2:]]]
    assert outcome(run(engine, vault, write_csv(tmp_path / "b.csv", header, rows))) == (2, 1, 0, 1, 0)

    # A batch that fails while storing its records leaves neither records nor subjects behind.
    def fail(conn: sa.Connection, table: sa.Table, *args: Any, **kw: Any) -> None:
        if table is repo.records:
            raise RuntimeError("storage failed")
        insert_frame(conn, table, *args, **kw)

    insert_frame = repo.insert_frame
    monkeypatch.setattr(repo, "insert_frame", fail)
    p4 = pid("19660606", "021")
    with pytest.raises(RuntimeError, match="storage failed"):
        run(engine, vault, write_csv(tmp_path / "c.csv", header, [[sic[0], p4, *sic[2:]]]))
    monkeypatch.setattr(repo, "insert_frame", insert_frame)

    assert _orphans(engine) == []
    keys = select(engine, "SELECT s.subject_key FROM records r JOIN subjects s ON s.id = r.subject_id")
    assert sorted(k for (k,) in keys) == sorted(
        [vault.lookup_key(P1), vault.lookup_key(P1), ORG, vault.lookup_key(p3)]
    )
    assert counts(engine)["subjects"] == 4  # P1, ORG, P2, p3; not p4
    assert counts(engine)["ingest_batches"] == 2


def test_bulk_insert_round_trips_every_column_type(engine: sa.Engine) -> None:
    # PostgreSQL: binary COPY encoded column by column; SQLite: executemany.
    at = dt.datetime(1999, 12, 31, 23, 59, 58, 123456)
    frame = pl.DataFrame(
        {
            "record_uid": ["a" * 32, "b" * 32, "c" * 32],
            "version": [1, 2, 32767],
            "subject_id": [1, 2**40, 7],
            "kind": ["k", "税务", ""],
            "department": ["d", "d", "d"],
            "event_date": [dt.date(1950, 1, 1), dt.date(2000, 1, 1), dt.date(2026, 2, 28)],
            "publicity_end": [dt.date(1999, 12, 31), dt.date(2000, 1, 2), dt.date(2100, 12, 31)],
            "severity": ["none", "minor", "serious"],
            "recorded_at": [at, NOW, dt.datetime(2000, 1, 1)],
            "batch_id": [None, 3, 4],
            "content_hash": ["0" * 32, "1" * 32, "2" * 32],
            "amount": [1.5, None, -0.1],
            "quantity": [None, 2.0, 1e300],
            "outcome": [None, "paid", 'a "quoted", multi\nline, back\\slash'],
            "payload": ["{}", '{"x":1}', "\t" + "x" * 10_000],
        },
        schema_overrides={"version": pl.Int64, "subject_id": pl.Int64, "batch_id": pl.Int64},
    )
    with engine.begin() as conn:
        repo.insert_frame(conn, repo.records, frame)
    t = repo.records
    with engine.connect() as c:
        back = c.execute(sa.select(*[t.c[n] for n in frame.columns]).order_by(t.c.record_uid)).all()
    assert [tuple(r) for r in back] == frame.rows()
