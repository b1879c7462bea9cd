"""Score publication benchmark: a million persons' probabilities, scores and reasons published into
PostgreSQL, against LightGBM's own TreeSHAP as the baseline, and one changed record's rescore.

Inputs: a person feature table (``credit features build`` writes one) and a champion bundle folder
(``credit train`` exports one under ``var/bundles``). A table smaller than ``--rows`` is resampled
with replacement to that many persons (new subject ids; the features are real rows of the city).

1. Baseline: ``booster.predict(pred_contrib=True)`` (full TreeSHAP) on ``--sample`` rows,
   extrapolated linearly to ``--rows``.
2. Publication (timed): ``scoring.publish.publish_scores`` with the feature table given — states,
   PD, scores, tiers, exact pattern TreeSHAP, reasons, canonical features and their hashes,
   written by COPY into a scratch PostgreSQL database and switched in.
3. Check: the stored contributions and reasons of the sample equal those from full TreeSHAP
   (contributions to 1e-6, the rounding of the stored text; reasons identical).
4. One changed record: ``--changes`` times, a new late utility bill is stored for a subject with
   records and ``rescore_subject`` publishes the change; the time from the record being stored to
   the new score being readable is reported (median and max).

    .venv/bin/python benchmarks/scores_bench.py --features var/features/.../person-features-....parquet \\
        --bundle-dir var/bundles --pg-url postgresql://postgres@127.0.0.1:5432/credit_scores_bench
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import polars as pl
import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from features.registry import load_registry
from models.explain import principal_reasons, score_points
from scoring.bundles import load_champion
from scoring.db.engine import make_engine
from scoring.db.migrate import upgrade
from scoring.features import read_feature_table
from scoring.publish import BundleCache, current_score, publish_scores, rescore_subject
from scoring.scores import FEATURE_DECIMALS, parse_reasons, round_features
from scoring.settings import Settings


def _table(path: Path, rows: int, seed: int) -> pl.DataFrame:
    frame, meta = read_feature_table(path)
    if frame.height < rows:
        idx = np.random.default_rng(seed).integers(0, frame.height, rows)
        frame = frame[idx]
    else:
        frame = frame.head(rows)
    return frame.with_columns(pl.Series("subject_id", np.arange(1, rows + 1), dtype=pl.Int64)), meta


def _load_subjects(engine: sa.Engine, n: int) -> None:
    rng = np.random.default_rng(1)
    years = rng.integers(1940, 2006, n)
    frame = pl.DataFrame(
        {
            "id": np.arange(1, n + 1),
            "subject_type": "person",
            "subject_key": [f"bench{i:08d}" for i in range(1, n + 1)],
            "birth_year": years,
            "created_at": dt.datetime(2024, 1, 1),
        }
    )
    with engine.begin() as conn:
        raw = conn.connection.driver_connection
        with (
            raw.cursor() as cur,
            cur.copy(
                "COPY subjects (id, subject_type, subject_key, birth_year, created_at)"
                " FROM STDIN WITH (FORMAT csv)"
            ) as copy,
        ):
            copy.write(frame.write_csv(include_header=False))
        conn.execute(sa.text("SELECT setval(pg_get_serial_sequence('subjects', 'id'), :n)"), {"n": n})


def _records_for(engine: sa.Engine, subject_ids: list[int], as_of: dt.date) -> None:
    """A year of monthly pension payments and two late bills per subject (for the rescoring)."""
    rows = []
    for sid in subject_ids:
        for k in range(14):
            y, m = divmod(as_of.year * 12 + as_of.month - 1 - k, 12)
            day = dt.date(y, m + 1, 10)
            kind, outcome, qty = (
                ("utility_bill", "late", 15.0)
                if k in (3, 8)
                else ("social_insurance_contribution", "paid", None)
            )
            payload = (
                f'{{"amount":800.0,"insurance":"pension","period":"{day:%Y-%m}","status":"paid"}}'
                if kind == "social_insurance_contribution"
                else "{}"
            )
            rows.append(
                {
                    "record_uid": f"b{sid}-{k}",
                    "version": 1,
                    "subject_id": sid,
                    "kind": kind,
                    "department": "bench",
                    "event_date": day,
                    "publicity_end": dt.date(day.year + 5, 1, 1),
                    "severity": "minor",
                    "recorded_at": dt.datetime.combine(day, dt.time(20)),
                    "content_hash": f"b{sid}-{k}",
                    "amount": None,
                    "quantity": qty,
                    "outcome": outcome,
                    "payload": payload,
                }
            )
    cols = list(rows[0])
    with engine.begin() as conn:
        conn.execute(
            sa.text(f"INSERT INTO records ({', '.join(cols)}) VALUES ({', '.join(':' + c for c in cols)})"),
            rows,
        )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--features", type=Path, required=True, help="person feature table (Parquet)")
    ap.add_argument("--bundle-dir", type=Path, required=True, help="folder with person/CHAMPION")
    ap.add_argument("--pg-url", required=True, help="scratch PostgreSQL database (emptied)")
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--sample", type=int, default=20_000)
    ap.add_argument("--changes", type=int, default=20)
    ap.add_argument("--chunk", type=int, default=200_000)
    args = ap.parse_args()

    registry = load_registry()
    bundle = load_champion(args.bundle_dir, "person")
    frame, meta = _table(args.features, args.rows, seed=3)
    as_of = dt.date.fromisoformat(meta["as_of"])
    print(
        f"{frame.height:,} persons, model {bundle.model_name} v{bundle.model_version} ({bundle.family},"
        f" {bundle.booster.num_trees() if bundle.booster else 0} trees), registry {registry.version}"
    )
    print(f"load average {os.getloadavg()[0]:.2f} at start, {os.cpu_count()} cores")

    # 1. Baseline: LightGBM's TreeSHAP on a sample.
    sample = round_features(frame.head(args.sample), registry.names("person"))  # what the service scores
    X = sample.select(pl.col(f).cast(pl.Float64) for f in bundle.features).to_numpy()
    started = time.perf_counter()
    exact = np.asarray(bundle.booster.predict(X, pred_contrib=True, num_threads=2))  # type: ignore[union-attr]
    base_s = (time.perf_counter() - started) * args.rows / args.sample
    print(
        f"baseline pred_contrib: {args.sample:,} rows in {base_s * args.sample / args.rows:.1f} s"
        f" -> {base_s:.0f} s extrapolated to {args.rows:,}"
    )

    # 2. Publication into PostgreSQL.
    engine = make_engine(args.pg_url)
    with engine.begin() as conn:
        conn.execute(sa.text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
    upgrade(args.pg_url)
    _load_subjects(engine, frame.height)
    with tempfile.TemporaryDirectory() as var:
        settings = Settings(
            database_url=args.pg_url, bundle_dir=args.bundle_dir, var_dir=Path(var), environment="development"
        )
        started = time.perf_counter()
        (pub,) = publish_scores(
            engine,
            settings,
            as_of,
            known_at=dt.datetime(2026, 1, 1),
            groups=["person"],
            feature_tables={"person": frame},
            registry=registry,
            chunk_rows=args.chunk,
        )
        publish_s = time.perf_counter() - started
        print(
            f"publication: {pub.rows:,} persons in {publish_s:.1f} s ({pub.rows / publish_s:,.0f}/s),"
            f" states {pub.states}; {base_s / publish_s:.1f}x faster than the TreeSHAP baseline alone"
        )

        # 3. Reasons equal full TreeSHAP on the sample.
        with engine.connect() as conn:
            stored = pl.read_database(
                "SELECT subject_id, state, contributions, reasons_lowering, reasons_raising FROM scores"
                f" WHERE subject_id <= {args.sample} ORDER BY subject_id",
                conn,
            )
        scored = stored["state"].to_numpy() == "scored"
        got = np.array(
            [
                [float(v) for v in s.split("|")]
                for s in stored.filter(pl.col("state") == "scored")["contributions"]
            ]
        )
        diff = np.abs(got - np.round(exact[scored], FEATURE_DECIMALS)).max()
        reasons = principal_reasons(score_points(bundle, exact[scored]))
        feats = list(bundle.features)
        same = 0
        low = stored.filter(pl.col("state") == "scored")["reasons_lowering"].to_list()
        for i, text in enumerate(low):
            want = [(n, round(p, 2)) for n, p in reasons.row(i, feats)["lowering"]]
            same += [(n, p) for n, p in parse_reasons(text)] == want
        print(
            f"check on {int(scored.sum()):,} scored sample rows: max |contribution - TreeSHAP| = {diff:.2e};"
            f" lowering reasons identical for {same:,}/{len(low):,}"
        )

        # 4. One changed record -> the published score.
        ids = list(range(1, args.changes + 1))
        _records_for(engine, ids, as_of)
        cache = BundleCache(args.bundle_dir)  # a running service keeps its verified bundles loaded
        cache.champion("person")
        times = []
        for sid in ids:
            started = time.perf_counter()
            with engine.begin() as conn:
                conn.execute(
                    sa.text(
                        "INSERT INTO records (record_uid, version, subject_id, kind, department, event_date,"
                        " publicity_end, severity, recorded_at, content_hash, quantity, outcome, payload)"
                        " VALUES (:u, 1, :s, 'utility_bill', 'bench', :d, :p, 'minor', :r, :u, 30.0, 'late',"
                        " '{}')"
                    ),
                    {
                        "u": f"new-{sid}",
                        "s": sid,
                        "d": as_of - dt.timedelta(days=5),
                        "p": dt.date(2030, 1, 1),
                        "r": dt.datetime(2026, 1, 2),
                    },
                )
            result = rescore_subject(
                engine,
                settings,
                sid,
                cause="new record",
                known_at=dt.datetime(2026, 1, 3),
                cache=cache,
                registry=registry,
            )
            assert result.changed and current_score(engine, sid)["id"] == result.current["id"]  # type: ignore[index]
            times.append(time.perf_counter() - started)
        print(
            f"one changed record -> published score: median {statistics.median(times) * 1000:.0f} ms,"
            f" max {max(times) * 1000:.0f} ms over {len(times)} subjects"
        )
    print(f"load average {os.getloadavg()[0]:.2f} at end")


if __name__ == "__main__":
    main()
