"""Ingestion speed: records per second into PostgreSQL and SQLite, against a naive baseline.

Generates a CSV of valid records (mostly monthly contributions and bills of ~5,000 persons, plus
tax, loans, violations and organisation records), then times ``scoring.ingest.ingest_file`` end
to end (reading, validation, pseudonymisation, deduplication, insert, commit):

* into a scratch PostgreSQL database, created and dropped by this script (``--pg-url``);
* into SQLite in a temporary folder;
* a naive baseline on a sample: per-row validation and one ORM object per row (``Session.add``).

    .venv/bin/python benchmarks/ingest_bench.py [--rows 1000000] [--baseline-rows 20000]
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import json
import tempfile
import time
from pathlib import Path

import numpy as np
import polars as pl
import sqlalchemy as sa
from sqlalchemy.orm import Session

from features.catalogue import Catalogue, load_catalogue
from features.ids import (
    IdentifierError,
    org_check_char,
    parse_org_code,
    parse_person_id,
    person_check_char,
    uscc_check_char,
)
from scoring.db.engine import make_engine
from scoring.db.migrate import upgrade
from scoring.db.tables import IngestBatch, Record, Subject
from scoring.identity import IdentityVault
from scoring.ingest import ingest_file
from scoring.settings import Settings

NOW = dt.datetime(2026, 11, 25, 12, 0)
DISTRICTS = ["110105", "320102", "350102", "440305", "510104", "330106", "420106", "610113"]
COLUMNS = [
    "kind", "subject_id", "event_date", "department", "period", "insurance", "amount", "status",
    "utility", "account_no", "days_late", "tax_type", "loan_id", "amount_due", "days_overdue",
    "doc_no", "offence_class", "points", "fine",
]  # fmt: skip


def person_ids(n: int, rng: np.random.Generator) -> list[str]:
    out: set[str] = set()
    while len(out) < n:
        birth = dt.date(1950, 1, 1) + dt.timedelta(days=int(rng.integers(0, 20000)))
        body = f"{DISTRICTS[int(rng.integers(len(DISTRICTS)))]}{birth:%Y%m%d}{int(rng.integers(1000)):03d}"
        out.add(body + person_check_char(body))
    return sorted(out)


def org_codes(n: int, rng: np.random.Generator) -> list[str]:
    alphabet = "0123456789ABCDEFGHJKLMNPQRTUWXY"
    out: set[str] = set()
    while len(out) < n:
        org8 = "".join(alphabet[int(i)] for i in rng.integers(0, 10, 8))
        check = org_check_char(org8)
        body = "91" + DISTRICTS[int(rng.integers(len(DISTRICTS)))] + org8 + check
        out.add(body + uscc_check_char(body))
    return sorted(out)


def _months(n: int) -> list[tuple[str, str]]:
    """(period YYYY-MM, event_date) for the n months before NOW."""
    out: list[tuple[str, str]] = []
    y, m = NOW.year, NOW.month
    for _ in range(n):
        m -= 1
        if m == 0:
            y, m = y - 1, 12
        out.append((f"{y:04d}-{m:02d}", f"{y:04d}-{m:02d}-{int(15 + len(out) % 10):02d}"))
    return out[::-1]


def generate(rows: int, seed: int = 7) -> pl.DataFrame:
    """About ``rows`` valid records, mostly monthly person records."""
    rng = np.random.default_rng(seed)
    persons = person_ids(5000, rng)
    orgs = org_codes(500, rng)
    per_person_month = 6.2  # 3 social insurance + medical + 2 utility bills, a loan for one in five
    months = _months(max(1, round(rows * 0.96 / (len(persons) * per_person_month))))
    month_frame = pl.DataFrame({"period": [p for p, _ in months], "event_date": [e for _, e in months]})
    pf = pl.DataFrame({"subject_id": persons}).join(month_frame, how="cross")
    n = pf.height
    amt = lambda lo, hi, k=n: pl.Series(np.round(rng.uniform(lo, hi, k), 2)).cast(pl.Utf8)  # noqa: E731
    frames = []
    for ins in ("pension", "unemployment", "work_injury"):
        frames.append(
            pf.with_columns(
                kind=pl.lit("social_insurance_contribution"), department=pl.lit("hrss"),
                insurance=pl.lit(ins), amount=amt(20, 1200),
                status=pl.Series(np.where(rng.random(n) < 0.03, "arrears", "paid")),
            )
        )  # fmt: skip
    frames.append(
        pf.with_columns(
            kind=pl.lit("medical_insurance_contribution"), department=pl.lit("medical_insurance"),
            amount=amt(30, 600), status=pl.Series(np.where(rng.random(n) < 0.02, "arrears", "paid")),
        )
    )  # fmt: skip
    for utility, dept in (("water", "water"), ("electricity", "power")):
        late = np.where(rng.random(n) < 0.1, rng.integers(1, 90, n), 0)
        frames.append(
            pf.with_columns(
                kind=pl.lit("utility_bill"), department=pl.lit(dept), utility=pl.lit(utility),
                account_no=pl.lit(utility[:2].upper()) + pl.col("subject_id").str.slice(10, 8),
                amount=amt(10, 400), days_late=pl.Series(late).cast(pl.Utf8),
                status=pl.Series(np.where(late == 0, "on_time", np.where(late > 60, "arrears", "late"))),
            )
        )  # fmt: skip
    borrowers = pl.DataFrame({"subject_id": persons[::5]}).join(month_frame, how="cross")
    k = borrowers.height
    overdue = np.where(rng.random(k) < 0.04, rng.integers(1, 120, k), 0)
    frames.append(
        borrowers.with_columns(
            kind=pl.lit("loan_repayment"), department=pl.lit("bank"),
            loan_id=pl.lit("L") + pl.col("subject_id").str.slice(6, 12), amount_due=amt(500, 6000, k),
            days_overdue=pl.Series(overdue).cast(pl.Utf8),
            status=pl.Series(np.where(overdue == 0, "on_time", "overdue")),
        )
    )  # fmt: skip
    drivers = pl.DataFrame({"subject_id": [persons[int(i)] for i in rng.integers(0, len(persons), 2000)]})
    k = drivers.height
    frames.append(
        drivers.with_columns(
            kind=pl.lit("traffic_violation"), department=pl.lit("traffic_police"),
            event_date=pl.Series([months[int(i)][1] for i in rng.integers(0, len(months), k)]),
            doc_no=pl.Series([f"JT{i:08d}" for i in range(k)]),
            offence_class=pl.Series(rng.choice(["minor", "general", "serious"], k, p=[0.8, 0.17, 0.03])),
            points=pl.Series(rng.choice(["0", "1", "3", "6"], k)), fine=amt(20, 2000, k),
        )
    )  # fmt: skip
    rest = max(0, rows - sum(f.height for f in frames))
    if rest:
        combos = pl.DataFrame({"subject_id": orgs}).join(
            pl.DataFrame({"tax_type": ["value_added", "corporate_income", "other"]}), how="cross"
        )
        combos = combos.join(month_frame, how="cross")
        combos = combos.sample(n=min(rest, combos.height), seed=seed)
        k = combos.height
        late = np.where(rng.random(k) < 0.1, rng.integers(1, 30, k), 0)
        frames.append(
            combos.with_columns(
                kind=pl.lit("tax_payment"), department=pl.lit("tax"),
                amount=pl.Series(np.round(rng.uniform(1000, 90000, k), 2)).cast(pl.Utf8),
                days_late=pl.Series(late).cast(pl.Utf8),
                status=pl.Series(np.where(late == 0, "on_time", "late")),
            )
        )  # fmt: skip
    out = pl.concat(frames, how="diagonal_relaxed")
    out = out.sample(fraction=1.0, shuffle=True, seed=seed).head(rows)
    for c in COLUMNS:
        if c not in out.columns:
            out = out.with_columns(pl.lit(None, pl.Utf8).alias(c))
    return out.select(COLUMNS)


def _fresh_pg(url: str) -> str:
    base, _, name = url.rpartition("/")
    admin = make_engine(f"{base}/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}"'))
        c.execute(sa.text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    upgrade(url)
    return url


def _drop_pg(url: str) -> None:
    base, _, name = url.rpartition("/")
    admin = make_engine(f"{base}/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}"'))
    admin.dispose()


def timed_ingest(
    url: str, path: Path, catalogue: Catalogue, vault: IdentityVault
) -> tuple[float, int, float]:
    """Seconds for ``ingest_file`` end to end, records stored, and seconds before the insert phase
    (reading the file; validation and storing then overlap, step by step)."""
    engine = make_engine(url)
    marks: dict[str, float] = {}

    def progress(phase: str, done: int, total: int) -> None:
        marks.setdefault(phase, time.perf_counter())

    t0 = time.perf_counter()
    result = ingest_file(engine, path, catalogue=catalogue, vault=vault, now=NOW, progress=progress)
    seconds = time.perf_counter() - t0
    assert result.reconciles and result.quarantined == 0, result
    with engine.connect() as c:
        stored = c.execute(sa.select(sa.func.count()).select_from(Record)).scalar_one()
    engine.dispose()
    assert stored == result.accepted == result.rows_read, (stored, result)
    return seconds, result.accepted, marks["inserting"] - t0


# -- the naive baseline: what one would write first ------------------------------------------------


def _naive_value(spec_type: str, value: str) -> object:
    if spec_type == "integer":
        return int(value)
    if spec_type == "number":
        return float(value)
    if spec_type == "date":
        return dt.date.fromisoformat(value)
    return value


def naive_ingest(url: str, path: Path, catalogue: Catalogue, vault: IdentityVault) -> tuple[float, int]:
    """Row by row: validate each row in Python, get-or-create its subject, Session.add a Record."""
    import csv
    import hashlib

    engine = make_engine(url)
    t0 = time.perf_counter()
    n = 0
    with Session(engine) as session, open(path, newline="", encoding="utf-8") as fh:
        sha = hashlib.sha256(path.read_bytes()).hexdigest()
        batch = IngestBatch(
            source_name=path.name, file_sha256=sha, file_format="csv", encoding="utf-8", channel="file",
            rows_read=0, accepted=0, duplicate=0, correction=0, quarantined=0,
            started_at=NOW, finished_at=NOW,
        )  # fmt: skip
        session.add(batch)
        session.flush()
        for row in csv.DictReader(fh):
            kind = catalogue.kinds[row["kind"]]
            if row["department"] not in kind.departments:
                continue
            try:
                p = parse_person_id(row["subject_id"], today=NOW.date())
                key, stype = vault.lookup_key(p.number), "person"
            except IdentifierError:
                try:
                    o = parse_org_code(row["subject_id"])
                    key, stype = o.code, o.subject_type
                except IdentifierError:
                    continue
            payload = {
                f.name: _naive_value(f.type, row[f.name]) for f in kind.fields.values() if row.get(f.name)
            }
            event_date = dt.date.fromisoformat(row["event_date"])
            subject = session.scalars(sa.select(Subject).where(Subject.subject_key == key)).first()
            if subject is None:
                subject = Subject(subject_type=stype, subject_key=key, created_at=NOW)
                session.add(subject)
                session.flush()
            text = json.dumps(payload, sort_keys=True, default=str)
            uid = hashlib.blake2b(
                "|".join([kind.code, key, *[str(payload[k]) for k in kind.natural_key]]).encode(),
                digest_size=16,
            ).hexdigest()
            promoted = {c: payload.get(f) for c, f in kind.promoted.items()}
            session.add(
                Record(
                    record_uid=uid, version=1, subject_id=subject.id, kind=kind.code,
                    department=row["department"], event_date=event_date,
                    publicity_end=kind.publicity_end(event_date, payload, catalogue.severity_periods),
                    severity=kind.severity_of(payload), recorded_at=NOW, batch_id=batch.id,
                    content_hash=hashlib.blake2b(text.encode(), digest_size=16).hexdigest(),
                    amount=promoted.get("amount"), quantity=promoted.get("quantity"),
                    outcome=promoted.get("outcome"), payload=text,
                )
            )  # fmt: skip
            n += 1
        session.commit()
    seconds = time.perf_counter() - t0
    engine.dispose()
    return seconds, n


_COPY_VARIANTS = {
    "as migrated (4 indexes, no foreign keys)": [],
    "without ix_records_batch_id": ["DROP INDEX ix_records_batch_id"],
    "with the 2 foreign keys dropped by revision 0004": [
        "ALTER TABLE records ADD CONSTRAINT fk_records_subject_id_subjects"
        " FOREIGN KEY (subject_id) REFERENCES subjects (id)",
        "ALTER TABLE records ADD CONSTRAINT fk_records_batch_id_ingest_batches"
        " FOREIGN KEY (batch_id) REFERENCES ingest_batches (id)",
    ],
}


def copy_variants(url: str) -> None:
    """Time COPY alone (binary, as ingestion sends it) of the stored records back into ``records``
    under schema variants.

    Each variant runs in a transaction that is rolled back, so the schema is never changed.
    """
    import psycopg

    with psycopg.connect(url) as conn:
        buf = io.BytesIO()
        cols = ("record_uid, version, subject_id, kind, department, event_date, publicity_end, severity,"
                " recorded_at, batch_id, content_hash, amount, quantity, outcome, payload")  # fmt: skip
        with conn.cursor() as cur:
            query = f"SELECT {cols} FROM records ORDER BY record_uid"
            with cur.copy(f"COPY ({query}) TO STDOUT (FORMAT binary)") as out:
                for block in out:
                    buf.write(block)
            conn.rollback()
            for name, ddl in _COPY_VARIANTS.items():
                cur.execute("TRUNCATE records")
                for statement in ddl:
                    cur.execute(statement)
                t0 = time.perf_counter()
                with cur.copy(f"COPY records ({cols}) FROM STDIN (FORMAT binary)") as copy:
                    copy.write(buf.getvalue())
                seconds = time.perf_counter() - t0
                conn.rollback()
                print(f"COPY alone, {name}: {seconds:.1f}s")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--baseline-rows", type=int, default=20_000)
    ap.add_argument("--pg-url", default="postgresql://postgres@127.0.0.1:5432/credit_bench")
    ap.add_argument("--skip-sqlite", action="store_true")
    ap.add_argument("--copy-variants", action="store_true", help="also time COPY alone under schema variants")
    args = ap.parse_args()

    catalogue = load_catalogue()
    vault = IdentityVault.from_settings(Settings(environment="test"))
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        frame = generate(args.rows)
        path = Path(tmp) / "records.csv"
        frame.write_csv(path)
        sample = Path(tmp) / "sample.csv"
        frame.head(args.baseline_rows).write_csv(sample)
        kinds = frame["kind"].value_counts(sort=True)
        print(f"generated {frame.height:,} rows in {time.perf_counter() - t0:.1f}s: "
              + ", ".join(f"{k} {n:,}" for k, n in kinds.iter_rows()))  # fmt: skip

        _fresh_pg(args.pg_url)
        try:
            secs, n, prep = timed_ingest(args.pg_url, path, catalogue, vault)
            pg_rate = n / secs
            print(f"PostgreSQL: {n:,} records in {secs:.1f}s = {pg_rate:,.0f} records/s"
                  f" (file read in {prep:.1f}s)")  # fmt: skip
            if args.copy_variants:
                copy_variants(args.pg_url)
            _fresh_pg(args.pg_url)
            bsecs, bn = naive_ingest(args.pg_url, sample, catalogue, vault)
            assert bn == min(args.baseline_rows, frame.height), bn
            base_rate = bn / bsecs
            print(f"PostgreSQL naive baseline (Session.add per row): {bn:,} records in {bsecs:.1f}s"
                  f" = {base_rate:,.0f} records/s")  # fmt: skip
            _fresh_pg(args.pg_url)
            fsecs, fn, _ = timed_ingest(args.pg_url, sample, catalogue, vault)
            print(f"PostgreSQL ingest_file on the same sample: {fn:,} records in {fsecs:.2f}s"
                  f" = {fn / fsecs:,.0f} records/s")  # fmt: skip
            print(f"ratio (ingest_file / naive baseline, records per second): {pg_rate / base_rate:.1f}x")
        finally:
            _drop_pg(args.pg_url)
        if not args.skip_sqlite:
            url = f"sqlite:///{tmp}/bench.db"
            upgrade(url)
            secs, n, prep = timed_ingest(url, path, catalogue, vault)
            print(f"SQLite: {n:,} records in {secs:.1f}s = {n / secs:,.0f} records/s"
                  f" (file read in {prep:.1f}s)")  # fmt: skip


if __name__ == "__main__":
    main()
