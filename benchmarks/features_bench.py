"""Person feature benchmark: batch throughput, a pandas baseline, store reads and the one-subject path.

Generates its own records (vectorised numpy, the store's schema, about 200 records per person:
monthly pension/unemployment/medical contributions, electricity and water bills, loan and tax
payments, violations, court records, commitments, volunteering...) with corrections and status
events, in chunks of subjects written once to Parquet under ``--data``. Then:

1. polars: reads each chunk (timed apart) and computes the person features (timed): total time,
   records per second and peak memory (max RSS of the process);
2. pandas: a vectorised pandas implementation (boolean masks, groupby/agg, no apply) of the same
   features on one chunk, checked equal to the polars output, and the per-record throughput ratio;
3. PostgreSQL (``--pg-url``): loads one chunk into a scratch database, times the COPY read of
   all its records (extrapolated to the full size, linearly) and the one-subject path
   (indexed read + features) median over ``--single`` subjects.

    .venv/bin/python benchmarks/features_bench.py --persons 1000000 --pg-url postgresql://...
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import resource
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import polars as pl

from features.catalogue import add_months, load_catalogue
from features.pipelines import PAYLOAD_KINDS, RECORD_INPUT_COLUMNS, person_features
from features.pipelines._common import longest_zero_run
from features.pointintime import RECORD_COLUMNS, end_of_day
from features.registry import load_registry

AS_OF = dt.date(2026, 6, 30)
CATALOGUE = load_catalogue()
REGISTRY = load_registry()
KINDS = list(CATALOGUE.kinds)
KIND_CODE = {k: i for i, k in enumerate(KINDS)}
EVENT_SCHEMA = {
    "record_uid": pl.String,
    "subject_id": pl.Int64,
    "event_type": pl.String,
    "effective_date": pl.Date,
    "recorded_at": pl.Datetime("us"),
}


def peak_rss_gib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2


# --------------------------------------------------------------------------- generation


def _months_back(as_of: dt.date, months: np.ndarray, day: np.ndarray) -> np.ndarray:
    """datetime64[D] of (as_of's month - months) on ``day`` (1..28)."""
    base = np.datetime64(as_of.replace(day=1), "M")
    return (base - months.astype("timedelta64[M]")).astype("datetime64[D]") + (day - 1).astype(
        "timedelta64[D]"
    )


class _Chunk:
    """Columns of one chunk of generated records, appended stream by stream."""

    def __init__(self) -> None:
        self.cols: dict[str, list[np.ndarray]] = {
            k: []
            for k in ("subject", "kind", "date", "outcome", "quantity", "amount", "severity", "insurance")
        }

    def add(self, subject: np.ndarray, kind: str, date: np.ndarray, outcome: np.ndarray, **kw: Any) -> None:
        n = len(subject)
        self.cols["subject"].append(subject)
        self.cols["kind"].append(np.full(n, KIND_CODE[kind], dtype=np.int16))
        self.cols["date"].append(date)
        self.cols["outcome"].append(outcome.astype(np.int16))
        self.cols["quantity"].append(kw.get("quantity", np.full(n, np.nan)))
        self.cols["amount"].append(kw.get("amount", np.full(n, np.nan)))
        self.cols["severity"].append(kw.get("severity", np.zeros(n, dtype=np.int8)))
        self.cols["insurance"].append(kw.get("insurance", np.full(n, -1, dtype=np.int8)))

    def arrays(self) -> dict[str, np.ndarray]:
        return {k: np.concatenate(v) for k, v in self.cols.items()}


OUTCOMES = [
    "paid",
    "arrears",
    "on_time",
    "late",
    "overdue",
    "fulfilled",
    "broken",
    "signed",
    "minor",
    "general",
    "serious",
    "bank",
    "fine_low",
    "fine_mid",
]
OC = {o: i for i, o in enumerate(OUTCOMES)}
SEVERITIES = ["minor", "general", "serious"]
INSURANCE = ["pension", "unemployment", "work_injury"]


def generate(first_id: int, n: int, seed: int, as_of: dt.date = AS_OF) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Records and events of persons ``first_id .. first_id + n - 1`` (deterministic per seed)."""
    rng = np.random.default_rng(seed)
    ids = np.arange(first_id, first_id + n, dtype=np.int64)
    day = rng.integers(1, 29, n)  # each person's payment day
    c = _Chunk()

    def monthly(
        kind: str, months: int, share: float, present: float
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        who = np.flatnonzero(rng.random(n) < share)
        m = np.tile(np.arange(months), len(who))
        p = np.repeat(who, months)
        keep = rng.random(len(p)) < present
        p, m = p[keep], m[keep]
        return ids[p], _months_back(as_of, m, day[p]), p

    for insurance, share in ((0, 0.85), (1, 0.8)):
        s, d, _ = monthly("social_insurance_contribution", 48, share, 0.93)
        out = np.where(rng.random(len(s)) < 0.97, OC["paid"], OC["arrears"])
        c.add(
            s,
            "social_insurance_contribution",
            d,
            out,
            amount=np.full(len(s), 800.0),
            insurance=np.full(len(s), insurance, np.int8),
        )
    s, d, _ = monthly("medical_insurance_contribution", 48, 0.95, 0.95)
    c.add(
        s,
        "medical_insurance_contribution",
        d,
        np.where(rng.random(len(s)) < 0.97, OC["paid"], OC["arrears"]),
        amount=np.full(len(s), 300.0),
    )
    for _utility in range(2):
        s, d, _ = monthly("utility_bill", 36, 0.97, 0.98)
        r = rng.random(len(s))
        out = np.select([r < 0.9, r < 0.98], [OC["on_time"], OC["late"]], OC["arrears"])
        late = np.where(out == OC["on_time"], 0, rng.integers(1, 90, len(s))).astype(float)
        c.add(s, "utility_bill", d, out, quantity=late, amount=rng.gamma(2.0, 60.0, len(s)))
    s, d, _ = monthly("loan_repayment", 36, 0.3, 1.0)
    r = rng.random(len(s))
    overdue = np.where(r < 0.95, 0, rng.choice([3, 15, 35, 65, 95, 150], len(s))).astype(float)
    c.add(
        s,
        "loan_repayment",
        d,
        np.where(overdue > 0, OC["overdue"], OC["on_time"]),
        quantity=overdue,
        amount=np.full(len(s), 2500.0),
    )
    s, d, _ = monthly("tax_payment", 36, 0.45, 0.9)
    r = rng.random(len(s))
    out = np.select([r < 0.93, r < 0.99], [OC["on_time"], OC["late"]], OC["arrears"])
    c.add(
        s,
        "tax_payment",
        d,
        out,
        quantity=np.where(out == OC["on_time"], 0, 12).astype(float),
        amount=rng.gamma(2.0, 300.0, len(s)),
    )

    def sparse(
        kind: str, rate: float, outcome: Callable[[int], np.ndarray], **kw: Callable[[int], np.ndarray]
    ) -> None:
        counts = rng.poisson(rate, n)
        p = np.repeat(np.arange(n), counts)
        d = np.datetime64(as_of) - rng.integers(0, 3 * 365, len(p)).astype("timedelta64[D]")
        c.add(ids[p], kind, d, outcome(len(p)), **{k: f(len(p)) for k, f in kw.items()})

    sev = lambda k: np.asarray(rng.choice(3, k, p=[0.6, 0.3, 0.1]), dtype=np.int8)  # noqa: E731
    sparse(
        "traffic_violation",
        0.6,
        lambda k: rng.choice([OC["minor"], OC["general"]], k),
        severity=sev,
        quantity=lambda k: rng.integers(0, 6, k).astype(float),
    )
    sparse(
        "administrative_penalty",
        0.05,
        lambda k: rng.choice([OC["fine_low"], OC["fine_mid"]], k),
        severity=sev,
    )
    sparse(
        "enforcement_case",
        0.05,
        lambda k: np.full(k, OC["bank"]),
        severity=lambda k: np.ones(k, np.int8),
        amount=lambda k: rng.gamma(2, 5000, k),
    )
    sparse("judgment_defaulter", 0.01, lambda k: np.full(k, -1), severity=lambda k: np.full(k, 2, np.int8))
    sparse(
        "high_consumption_restriction",
        0.01,
        lambda k: np.full(k, -1),
        severity=lambda k: np.full(k, 2, np.int8),
    )
    sparse(
        "tax_arrears",
        0.02,
        lambda k: np.full(k, -1),
        severity=lambda k: np.ones(k, np.int8),
        amount=lambda k: rng.gamma(2, 2000, k),
    )
    sparse(
        "credit_commitment",
        0.3,
        lambda k: rng.choice([OC["fulfilled"], OC["broken"], OC["signed"]], k, p=[0.8, 0.05, 0.15]),
    )
    sparse(
        "volunteer_service",
        0.8,
        lambda k: np.full(k, -1),
        quantity=lambda k: rng.integers(1, 9, k).astype(float),
    )
    sparse("blood_donation", 0.1, lambda k: np.full(k, -1), quantity=lambda k: np.full(k, 400.0))
    sparse("award", 0.05, lambda k: np.full(k, -1))
    sparse("red_list", 0.02, lambda k: np.full(k, -1))

    a = c.arrays()
    rows = len(a["subject"])
    kinds_s = pl.Series(KINDS, dtype=pl.String)
    kind = kinds_s.gather(a["kind"])
    dept = pl.Series([CATALOGUE.kinds[k].departments[0] for k in KINDS]).gather(a["kind"])
    date = pl.Series(a["date"]).cast(pl.Date)
    spec_months = np.array([CATALOGUE.kinds[k].publicity_max_months for k in KINDS])[a["kind"]]
    sev_max = np.array([int(CATALOGUE.severity_periods[s]["max"]) for s in SEVERITIES])[a["severity"]]
    negative = np.array([CATALOGUE.kinds[k].polarity == "negative" for k in KINDS])[a["kind"]]
    months = np.where(negative, np.minimum(spec_months, sev_max), spec_months)
    pub_end = (a["date"].astype("datetime64[M]") + months.astype("timedelta64[M]")).astype(
        "datetime64[D]"
    ) + (a["date"] - a["date"].astype("datetime64[M]").astype("datetime64[D]"))
    lag = rng.integers(2 * 3600, 20 * 86400, rows).astype("timedelta64[s]")
    recorded = (a["date"].astype("datetime64[s]") + lag).astype("datetime64[us]")
    outcome = pl.Series([*OUTCOMES, None], dtype=pl.String).gather(
        np.where(a["outcome"] < 0, len(OUTCOMES), a["outcome"])
    )
    ins = a["insurance"]
    payload = pl.Series(
        np.where(ins >= 0, ins, 3).astype(np.int64), dtype=pl.Int64
    )  # -> text below, only for social insurance rows
    seq = np.arange(rows, dtype=np.int64)
    frame = pl.DataFrame(
        {
            "subject_id": a["subject"],
            "_seq": seq,
            "kind": kind,
            "department": dept,
            "event_date": date,
            "publicity_end": pl.Series(pub_end).cast(pl.Date),
            "severity": pl.Series(SEVERITIES).gather(a["severity"]),
            "recorded_at": pl.Series(recorded).cast(pl.Datetime("us")),
            "amount": a["amount"],
            "quantity": a["quantity"],
            "outcome": outcome,
            "_ins": payload,
        }
    ).with_columns(
        pl.col("amount").fill_nan(None),
        pl.col("quantity").fill_nan(None),
    )
    frame = frame.with_columns(
        record_uid=pl.concat_str(
            [
                pl.col("subject_id").cast(pl.String).str.zfill(12),
                (pl.col("_seq") + seed * 10**9).cast(pl.String).str.zfill(20),
            ]
        ),
        version=pl.lit(1, pl.Int64),
        payload=pl.when(pl.col("_ins") < 3).then(
            pl.concat_str(
                pl.lit('{"amount":800.0,"insurance":"'),
                pl.lit(pl.Series([*INSURANCE, "?"])).gather(pl.col("_ins")),
                pl.lit('","period":"'),
                pl.col("event_date").dt.strftime("%Y-%m"),
                pl.lit('","status":"'),
                pl.col("outcome"),
                pl.lit('"}'),
            )
        ),
    )
    # Corrections (0.3%): a second version, recorded later, sometimes with another outcome.
    fix = frame.sample(fraction=0.003, seed=seed).with_columns(
        version=pl.lit(2, pl.Int64),
        recorded_at=pl.col("recorded_at") + pl.duration(days=30),
        outcome=pl.when(pl.col("outcome") == "late").then(pl.lit("on_time")).otherwise(pl.col("outcome")),
    )
    records = pl.concat([frame, fix]).select(list(RECORD_COLUMNS))
    # Status events on 0.2% of records: withdrawals, repairs, disputes (half decided).
    ev_src = frame.sample(fraction=0.002, seed=seed + 1).select("record_uid", "subject_id", "event_date")
    k = ev_src.height
    etype = pl.Series(["withdrawn", "repaired", "disputed", "disputed"]).gather(rng.integers(0, 4, k))
    eff = ev_src["event_date"] + pl.Series(rng.integers(1, 200, k)).cast(pl.Duration("ms")) * 86_400_000
    events = pl.DataFrame(
        {
            "record_uid": ev_src["record_uid"],
            "subject_id": ev_src["subject_id"],
            "event_type": etype,
            "effective_date": eff.cast(pl.Date),
        }
    ).with_columns(recorded_at=pl.col("effective_date").cast(pl.Datetime("us")) + pl.duration(hours=10))
    decided = (
        events.filter(pl.col("event_type") == "disputed")
        .sample(fraction=0.5, seed=seed)
        .with_columns(
            event_type=pl.lit("dispute_rejected"),
            effective_date=pl.col("effective_date") + pl.duration(days=7),
            recorded_at=pl.col("recorded_at") + pl.duration(days=7),
        )
    )
    return records, pl.concat([events, decided]).select(list(EVENT_SCHEMA))


def subjects_frame(first_id: int, n: int) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "subject_id": pl.int_range(first_id, first_id + n, eager=True).cast(pl.Int64),
            "subject_type": "person",
        }
    )


# --------------------------------------------------------------------------- pandas baseline


def pandas_person_features(
    rec: pd.DataFrame, ev: pd.DataFrame, people: np.ndarray, as_of: dt.date
) -> pd.DataFrame:
    """The person features with vectorised pandas (boolean masks, groupby/agg; no apply, no loop
    over subjects or records). Same definitions as features/pipelines/person.py."""
    known = pd.Timestamp(end_of_day(as_of))
    day = pd.Timestamp(as_of)
    start = {n: pd.Timestamp(add_months(as_of, -n)) for n in (12, 36)}
    positive = [k for k, s in CATALOGUE.kinds.items() if s.polarity == "positive"]
    # Point in time: versions known at known_at, in force on D, events recorded and in effect.
    visible = rec["recorded_at"] <= known
    corrected = rec.loc[visible & (rec["version"] > 1)].groupby("record_uid")["version"].max()
    e = ev.loc[(ev["recorded_at"] <= known) & (ev["effective_date"] <= day)]
    dropped = e.loc[e["event_type"].isin(["withdrawn", "repaired", "expired"]), "record_uid"].unique()
    d = e.loc[e["event_type"].isin(["disputed", "dispute_upheld", "dispute_rejected"])].assign(
        _o=lambda x: (x["event_type"] != "disputed").astype(int)
    )
    last = d.sort_values(["effective_date", "recorded_at", "_o"]).groupby("record_uid")["event_type"].last()
    disputed = last.index[last == "disputed"]
    r = rec.loc[visible & (rec["event_date"] <= day) & (rec["publicity_end"] > day)]
    max_version = r["record_uid"].map(corrected)
    keep = (max_version.isna() | (r["version"] == max_version)) & ~r["record_uid"].isin(dropped)
    keep &= ~(r["record_uid"].isin(disputed) & ~r["kind"].isin(positive))
    r = r.loc[keep]
    # Helper columns by age in days.
    k_table, bit_table, w_table = (s.to_numpy() for s in _tables(as_of))
    age = np.clip((day - r["event_date"]).dt.days.to_numpy(), 0, len(k_table) - 1)
    k, bit, w = k_table[age], bit_table[age], w_table[age]
    # Text columns as categoricals: comparisons on codes (as polars does with its enum).
    kind = r["kind"].astype("category")
    outcome = r["outcome"].astype("category")
    sev = r["severity"].astype("category")

    def is_kind(*codes: str) -> np.ndarray:
        return kind.isin(codes).to_numpy()

    def is_outcome(*codes: str) -> np.ndarray:
        return outcome.isin(codes).to_numpy()

    ev_date = r["event_date"]
    in12, in36 = (ev_date > start[12]).to_numpy(), (ev_date > start[36]).to_numpy()
    qty, amount = r["quantity"].fillna(0).to_numpy(), r["amount"].fillna(0).to_numpy()
    negative = is_kind(*REGISTRY.feature("person", "negative_minor_decayed").kinds)
    everything = is_kind(*REGISTRY.feature("person", "record_count").kinds)
    tax = is_kind("tax_payment") & in12
    utility = is_kind("utility_bill") & in12
    loan = is_kind("loan_repayment")
    paid = is_outcome("paid")
    pension = (
        is_kind("social_insurance_contribution")
        & paid
        & in36
        & r["payload"].str.contains('"pension"', regex=False).fillna(False).to_numpy(dtype=bool)
    )
    medical = is_kind("medical_insurance_contribution") & paid & in12
    minor, general, serious = ((sev == level).to_numpy() for level in ("minor", "general", "serious"))
    f = pd.DataFrame(
        {
            "subject_id": r["subject_id"].to_numpy(),
            "tax_payments_12m": tax,
            "_tax_on_time": tax & is_outcome("on_time"),
            "tax_arrears_amount": np.where(is_kind("tax_arrears"), amount, 0.0),
            "utility_bills_12m": utility,
            "utility_late_12m": utility & is_outcome("late", "arrears"),
            "utility_arrears_12m": utility & is_outcome("arrears"),
            "utility_max_days_late_12m": np.where(utility, qty, 0.0),
            "has_loan": loan & in12,
            "loan_overdue_12m": loan & in12 & (qty >= 1),
            "loan_max_days_overdue_36m": np.where(loan & in36, qty, 0.0),
            "negative_minor_decayed": np.where(negative & minor, w, 0.0),
            "negative_general_decayed": np.where(negative & general, w, 0.0),
            "negative_serious_decayed": np.where(negative & serious, w, 0.0),
            "_last_negative": np.where(negative, k, np.nan),
            "judgment_defaulter_active": is_kind("judgment_defaulter"),
            "consumption_restriction_active": is_kind("high_consumption_restriction"),
            "serious_dishonesty_active": is_kind("serious_dishonesty_list"),
            "enforcement_cases_12m": is_kind("enforcement_case") & in12,
            "commitments_kept": is_kind("credit_commitment") & is_outcome("fulfilled"),
            "commitments_broken": is_kind("credit_commitment") & is_outcome("broken"),
            "volunteer_hours_36m": np.where(is_kind("volunteer_service") & in36, qty, 0.0),
            "blood_donations_36m": is_kind("blood_donation") & in36,
            "awards": is_kind("award"),
            "red_list_active": is_kind("red_list"),
            "record_tenure_months": np.where(everything, k, np.nan),
            "record_count": everything,
        }
    )
    how = {c: "sum" for c in f.columns if c != "subject_id"}
    how.update(
        {
            c: "max"
            for c in (
                "utility_max_days_late_12m",
                "loan_max_days_overdue_36m",
                "has_loan",
                "judgment_defaulter_active",
                "consumption_restriction_active",
                "serious_dishonesty_active",
                "red_list_active",
                "record_tenure_months",
            )
        }
    )
    how["_last_negative"] = "min"
    g = f.groupby("subject_id").agg(how)
    # Contribution masks: one bit per month slot with a paid contribution.
    masks = {}
    for name, mask in (("_pension", pension), ("_medical", medical)):
        slots = pd.DataFrame(
            {"subject_id": f["subject_id"].to_numpy()[mask], "bit": bit[mask]}
        ).drop_duplicates()
        masks[name] = slots.groupby("subject_id")["bit"].sum()
    out = pd.DataFrame(index=pd.Index(np.sort(people), name="subject_id")).join(g).join(pd.DataFrame(masks))
    pension_mask = out["_pension"].fillna(0).astype(np.int64).to_numpy()
    medical_mask = out["_medical"].fillna(0).astype(np.int64).to_numpy()
    cap = REGISTRY.parameters["months_since_cap"]
    res = out.drop(columns=["_pension", "_medical", "_tax_on_time", "_last_negative"]).fillna(0)
    res["pension_paid_months_12m"] = np.bitwise_count(pension_mask & 0xFFF)
    res["pension_paid_months_36m"] = np.bitwise_count(pension_mask)
    res["pension_longest_gap_36m"] = longest_zero_run(pl.Series(pension_mask), 36).to_numpy()
    res["medical_paid_months_12m"] = np.bitwise_count(medical_mask & 0xFFF)
    n_tax = out["tax_payments_12m"].fillna(0)
    res["tax_on_time_share_12m"] = (out["_tax_on_time"] / n_tax).where(n_tax > 0)
    res["months_since_negative"] = out["_last_negative"].clip(upper=cap).fillna(cap)
    res = res.reset_index()
    return res[["subject_id", *(n for n in REGISTRY.names("person") if n in res.columns)]]


def _tables(as_of: dt.date) -> tuple[pl.Series, pl.Series, pl.Series]:
    from features.pipelines._common import age_tables

    return age_tables(as_of, float(REGISTRY.parameters["decay_half_life_days"]))


# --------------------------------------------------------------------------- phases


def _chunk_paths(data: Path, i: int) -> tuple[Path, Path]:
    return data / f"records-{i:04d}.parquet", data / f"events-{i:04d}.parquet"


def _generate_all(data: Path, persons: int, chunk: int, seed: int) -> None:
    data.mkdir(parents=True, exist_ok=True)
    for i, first in enumerate(range(1, persons + 1, chunk)):
        rec_path, ev_path = _chunk_paths(data, i)
        if rec_path.exists() and ev_path.exists():
            continue
        n = min(chunk, persons + 1 - first)
        started = time.perf_counter()
        records, events = generate(first, n, seed + i)
        records.write_parquet(rec_path)
        events.write_parquet(ev_path)
        print(
            f"  generated chunk {i}: {n} persons, {records.height:,} records"
            f" ({time.perf_counter() - started:.1f} s)"
        )


def prepare_data(data: Path, persons: int, chunk: int, seed: int) -> None:
    """Generate missing chunk files in a child process (its memory is not the benchmark's)."""
    manifest = data / "manifest.json"
    wanted = {"persons": persons, "chunk": chunk, "seed": seed, "as_of": AS_OF.isoformat()}
    if manifest.exists() and json.loads(manifest.read_text()) == wanted:
        return
    for old in data.glob("*.parquet"):
        old.unlink()
    import multiprocessing as mp

    proc = mp.get_context("spawn").Process(target=_generate_all, args=(data, persons, chunk, seed))
    proc.start()
    proc.join()
    if proc.exitcode != 0:
        raise SystemExit(f"generation failed ({proc.exitcode})")
    manifest.write_text(json.dumps(wanted))


def bench_polars(data: Path, persons: int, chunk: int) -> dict[str, float]:
    read_s = feat_s = 0.0
    rows = out_rows = 0
    outputs = []
    for i, first in enumerate(range(1, persons + 1, chunk)):
        rec_path, ev_path = _chunk_paths(data, i)
        t0 = time.perf_counter()
        records = pl.read_parquet(rec_path)
        events = pl.read_parquet(ev_path)
        t1 = time.perf_counter()
        feats = person_features(
            records, events, subjects_frame(first, min(chunk, persons + 1 - first)), as_of=AS_OF
        )
        t2 = time.perf_counter()
        read_s += t1 - t0
        feat_s += t2 - t1
        rows += records.height
        out_rows += feats.height
        outputs.append(feats)
        print(f"  chunk {i}: {records.height:,} records, read {t1 - t0:.2f} s, features {t2 - t1:.2f} s")
        del records, events
    table = pl.concat(outputs)
    assert table.height == persons == out_rows, (table.height, persons)
    return {"records": rows, "read_s": read_s, "features_s": feat_s, "peak_rss_gib": peak_rss_gib()}


def _mem_available_gib() -> float:
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemAvailable:"):
            return int(line.split()[1]) / 1024**2
    return float("inf")


def _pandas_child(data: Path, persons: int, out: Any) -> None:
    rec_path, ev_path = _chunk_paths(data, 0)
    first = int(pl.scan_parquet(rec_path).select(pl.col("subject_id").min()).collect().item())
    records = pl.scan_parquet(rec_path).filter(pl.col("subject_id") < first + persons).collect()
    events = pl.read_parquet(ev_path)
    t0 = time.perf_counter()
    expected = person_features(records, events, subjects_frame(first, persons), as_of=AS_OF).to_pandas()
    polars_s = time.perf_counter() - t0
    rows = records.height
    # pandas gets the same columns, strings Arrow-backed (no Python object per value).
    columns = [c for c in RECORD_COLUMNS if c != "department"]
    rec_pd = records.select(columns).to_pandas(use_pyarrow_extension_array=True)
    ev_pd = events.to_pandas(use_pyarrow_extension_array=True)
    del records, events
    for frame, cols in ((rec_pd, ("event_date", "publicity_end")), (ev_pd, ("effective_date",))):
        for col in cols:
            frame[col] = pd.to_datetime(frame[col].astype("date32[pyarrow]").astype("datetime64[ms]"))
        frame["recorded_at"] = frame["recorded_at"].astype("datetime64[us]")
    t0 = time.perf_counter()
    got = pandas_person_features(rec_pd, ev_pd, np.arange(first, first + persons), AS_OF)
    pandas_s = time.perf_counter() - t0
    # The pandas implementation covers the original person features of the registry; the ones
    # added later are computed by polars only (the ratio then favours pandas) and are listed.
    missing = [c for c in expected.columns if c not in got.columns]
    for c in expected.columns:
        if c in missing:
            continue
        a, b = expected[c].to_numpy(dtype=float), got[c].to_numpy(dtype=float)
        if not np.allclose(a, b, rtol=1e-9, atol=1e-9, equal_nan=True):
            raise AssertionError(f"pandas and polars disagree on {c}")
    out.put(
        {
            "records": rows,
            "persons": persons,
            "polars_s": polars_s,
            "pandas_s": pandas_s,
            "peak_rss_gib": peak_rss_gib(),
            "compared": len(expected.columns) - len(missing),
            "polars_only": missing,
        }
    )


def bench_pandas(data: Path, persons: int) -> dict[str, Any]:
    """Both implementations on the first ``persons`` persons, in a child process (its memory apart).

    pandas needs about 0.65 KiB per record at its peak; with less memory available the sample
    shrinks (said in the output) rather than push the machine into the OOM killer."""
    per_person = 213 * 0.65 / 1024**2  # GiB: ~213 records a person
    fits = int(max(0.0, _mem_available_gib() - 2.0) / per_person)
    if fits < persons:
        print(f"  only {_mem_available_gib():.1f} GiB available: pandas sample cut to {fits:,} persons")
        persons = fits
    import multiprocessing as mp

    ctx = mp.get_context("spawn")
    queue = ctx.Queue()
    proc = ctx.Process(target=_pandas_child, args=(data, persons, queue))
    proc.start()
    while True:
        try:
            result: dict[str, Any] = queue.get(timeout=5)
            break
        except Exception:
            if not proc.is_alive():
                raise SystemExit(f"pandas baseline failed (exit code {proc.exitcode})") from None
    proc.join()
    return result


# --------------------------------------------------------------------------- PostgreSQL

_RECORD_COPY_COLUMNS = [*RECORD_COLUMNS, "content_hash"]
_RECORD_INDEXES = {
    "ix_records_record_uid": "CREATE INDEX ix_records_record_uid ON records (record_uid)",
    "ix_records_subject_kind": "CREATE INDEX ix_records_subject_kind ON records (subject_id, kind)",
    "ix_records_batch_id": "CREATE INDEX ix_records_batch_id ON records (batch_id)",
}


def _copy_in(cur: Any, table: str, frame: pl.DataFrame, rows_per_write: int = 500_000) -> None:
    cols = ", ".join(frame.columns)
    with cur.copy(f"COPY {table} ({cols}) FROM STDIN WITH (FORMAT csv)") as copy:
        for start in range(0, frame.height, rows_per_write):
            copy.write(frame.slice(start, rows_per_write).write_csv(include_header=False).encode())


def load_postgres(url: str, data: Path) -> tuple[int, int, int]:
    """Load chunk 0 into the (scratch) database at ``url``; returns (first id, end id, records)."""
    import psycopg
    import sqlalchemy as sa

    from scoring.db.engine import make_engine
    from scoring.db.migrate import upgrade

    rec_path, ev_path = _chunk_paths(data, 0)
    records, events = pl.read_parquet(rec_path), pl.read_parquet(ev_path)
    lo, hi = int(records["subject_id"].min()), int(records["subject_id"].max()) + 1  # type: ignore[arg-type]
    upgrade(url)
    engine = make_engine(url)
    with engine.connect() as conn:
        have = conn.execute(sa.text("SELECT count(*) FROM records")).scalar_one()
    engine.dispose()
    if have == records.height:
        print(f"  PostgreSQL already holds the {have:,} records of chunk 0")
        return lo, hi, have
    print(f"  loading {records.height:,} records into PostgreSQL (setup, not timed)")
    started = time.perf_counter()
    with psycopg.connect(url) as pg, pg.cursor() as cur:
        cur.execute("TRUNCATE record_events, records, subject_links, subjects RESTART IDENTITY CASCADE")
        cur.execute("SET session_replication_role = replica")  # no FK triggers during the load
        subjects = subjects_frame(lo, hi - lo).select(
            id="subject_id",
            subject_type="subject_type",
            subject_key=pl.col("subject_id").cast(pl.String).str.zfill(64),
            created_at=pl.lit(dt.datetime(2020, 1, 1)),
        )
        _copy_in(cur, "subjects", subjects)
        for name in _RECORD_INDEXES:
            cur.execute(f"DROP INDEX IF EXISTS {name}")
        cur.execute("ALTER TABLE records DROP CONSTRAINT IF EXISTS uq_records_record_uid")
        full = records.with_columns(
            content_hash=pl.col("record_uid").str.slice(0, 32),
            payload=pl.coalesce(
                "payload",
                pl.concat_str(
                    pl.lit('{"amount":'),
                    pl.col("amount").cast(pl.String),
                    pl.lit(',"status":"'),
                    "outcome",
                    pl.lit('"}'),
                ),
                pl.lit("{}"),
            ),
        ).select(_RECORD_COPY_COLUMNS)
        _copy_in(cur, "records", full)
        _copy_in(
            cur,
            "record_events",
            events.with_columns(actor=pl.lit("bench"), reason=pl.lit("benchmark event")),
        )
        for sql in _RECORD_INDEXES.values():
            cur.execute(sql)
        cur.execute("ALTER TABLE records ADD CONSTRAINT uq_records_record_uid UNIQUE (record_uid, version)")
        pg.commit()
        cur.execute("ANALYZE")
    print(f"  loaded in {time.perf_counter() - started:.0f} s")
    return lo, hi, records.height


def bench_postgres(
    url: str, data: Path, single: int, seed: int, streams: int, single_only: bool = False
) -> dict[str, float]:
    from features.pointintime import end_of_day as eod
    from scoring.db.engine import make_engine
    from scoring.store import read_events, read_records, read_subjects

    lo, hi, n_records = load_postgres(url, data)
    engine = make_engine(url)
    known = eod(AS_OF)
    read_records(engine, [lo], known_at=known)  # warm the pool
    if single_only:
        return _bench_single(engine, lo, hi, single, seed) | {"stored_records": n_records}
    t0 = time.perf_counter()
    # The read a feature build makes (scoring/features.py): the columns the pipelines use, only
    # the payloads they parse, versions that can matter on D, two parallel COPY streams.
    recs = read_records(
        engine,
        known_at=known,
        subject_range=(lo, hi),
        payload=PAYLOAD_KINDS,
        columns=RECORD_INPUT_COLUMNS,
        in_force_on=AS_OF,
        streams=streams,
    )
    t1 = time.perf_counter()
    read_events(engine, known_at=known, subject_range=(lo, hi))
    read_subjects(engine, subject_range=(lo, hi))
    t2 = time.perf_counter()
    print(f"  COPY read: {recs.height:,} records in {t1 - t0:.2f} s; events and subjects {t2 - t1:.2f} s")
    # One pass over the table into a Parquet snapshot (what a build of a whole city should use).
    from scoring.store import export_snapshot

    t3 = time.perf_counter()
    snap_dir = export_snapshot(
        engine, data.parent / "features-snapshot", known_at=known, payload=PAYLOAD_KINDS
    )
    t4 = time.perf_counter()
    print(f"  snapshot export (one COPY, streamed into Parquet parts): {t4 - t3:.1f} s -> {snap_dir}")
    single_figures = _bench_single(engine, lo, hi, single, seed)
    engine.dispose()
    return {
        "pg_records": recs.height,
        "pg_read_records_s": t1 - t0,
        "pg_read_events_subjects_s": t2 - t1,
        "snapshot_export_s": t4 - t3,
        "stored_records": n_records,
        **single_figures,
    }


def _bench_single(engine: Any, lo: int, hi: int, single: int, seed: int) -> dict[str, float]:
    """The one-subject path: ``subject_features`` (one pipelined read + the pipeline), and the
    same reads alone, for ``single`` random persons."""
    from features.pointintime import end_of_day as eod
    from scoring.features import subject_features
    from scoring.store import read_subject

    known = eod(AS_OF)
    rng = np.random.default_rng(seed)
    ids = rng.integers(lo, hi, single).tolist()
    for sid in ids[:20]:  # warm caches and the expression cache
        subject_features(engine, sid, AS_OF)
    whole, reads, cpu = [], [], []
    for sid in ids:
        a, c = time.perf_counter(), time.thread_time()
        subject_features(engine, sid, AS_OF)
        whole.append(time.perf_counter() - a)
        cpu.append(time.thread_time() - c)
    for sid in ids:
        a = time.perf_counter()
        read_subject(
            engine,
            sid,
            known_at=known,
            in_force_on=AS_OF,
            payload=PAYLOAD_KINDS,
            columns=RECORD_INPUT_COLUMNS,
        )
        reads.append(time.perf_counter() - a)
    whole.sort()
    return {
        "single_median_ms": statistics.median(whole) * 1000,
        "single_p90_ms": whole[int(len(whole) * 0.9)] * 1000,
        "single_read_median_ms": statistics.median(reads) * 1000,
        # CPU time of this process (read and features; the PostgreSQL backend's work excluded):
        # less sensitive than wall time to the other jobs of a shared machine.
        "single_cpu_median_ms": statistics.median(cpu) * 1000,
    }


# --------------------------------------------------------------------------- main


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--persons", type=int, default=1_000_000)
    parser.add_argument(
        "--chunk", type=int, default=100_000, help="persons per chunk (and pandas/PostgreSQL sample)"
    )
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--data", type=Path, default=Path("benchmarks/out/features-data"))
    parser.add_argument("--no-pandas", action="store_true")
    parser.add_argument("--pandas-persons", type=int, default=100_000, help="sample for the pandas baseline")
    parser.add_argument("--generate-only", action="store_true", help="write the data files and stop")
    parser.add_argument("--postgres-only", action="store_true", help="only the PostgreSQL figures")
    parser.add_argument("--single-only", action="store_true", help="of those, only the one-subject path")
    parser.add_argument("--pg-url", default=None, help="scratch PostgreSQL database (its tables are emptied)")
    parser.add_argument("--single", type=int, default=300, help="subjects timed on the one-subject path")
    parser.add_argument(
        "--streams", type=int, default=2, help="parallel COPY streams for the PostgreSQL read"
    )
    args = parser.parse_args(argv)
    print(
        f"features benchmark: {args.persons:,} persons in chunks of {args.chunk:,}; polars {pl.__version__},"
        f" {pl.thread_pool_size()} threads, {os.cpu_count()} CPUs; load average {os.getloadavg()[0]:.1f}"
    )
    print(f"registry {REGISTRY.version}, as of {AS_OF}")
    started = time.perf_counter()
    prepare_data(args.data, args.persons, args.chunk, args.seed)
    print(f"data ready in {time.perf_counter() - started:.0f} s ({args.data})")
    if args.generate_only:
        return
    results: dict[str, Any] = {"persons": args.persons, "chunk": args.chunk}
    if args.postgres_only:
        total = pl.scan_parquet(args.data / "records-*.parquet").select(pl.len()).collect().item()
        p = {"records": total}
    else:
        print("polars, all persons:")
        p = bench_polars(args.data, args.persons, args.chunk)
        results["polars"] = p
    if not args.postgres_only:
        rate = p["records"] / p["features_s"]
        print(
            f"POLARS {p['records']:,} records of {args.persons:,} persons: features {p['features_s']:.1f} s"
            f" ({rate / 1e6:.2f} M records/s), Parquet read {p['read_s']:.1f} s,"
            f" peak RSS {p['peak_rss_gib']:.2f} GiB"
        )
    if not args.no_pandas and not args.postgres_only:
        print(f"pandas baseline on the first {args.pandas_persons:,} persons:")
        b = bench_pandas(args.data, args.pandas_persons)
        results["pandas"] = b
        ratio = b["pandas_s"] / b["polars_s"]
        print(
            f"PANDAS {b['records']:,} records: pandas {b['pandas_s']:.1f} s"
            f" ({b['records'] / b['pandas_s'] / 1e6:.2f} M/s), polars {b['polars_s']:.1f} s"
            f" ({b['records'] / b['polars_s'] / 1e6:.2f} M/s): polars {ratio:.1f}x per record;"
            f" outputs equal on the {b['compared']} columns pandas computes"
        )
        if b["polars_only"]:
            print(f"  computed by polars only (not in the pandas baseline): {', '.join(b['polars_only'])}")
    if args.pg_url:
        print(f"PostgreSQL (chunk 0: {args.chunk:,} persons):")
        g = bench_postgres(args.pg_url, args.data, args.single, args.seed, args.streams, args.single_only)
        results["postgres"] = g
        if not args.single_only:
            factor = p["records"] / g["pg_records"]
            print(
                f"PG READ {g['pg_records']:,} records by COPY ({args.streams} streams)"
                f" in {g['pg_read_records_s']:.1f} s"
                f" ({g['pg_records'] / g['pg_read_records_s'] / 1e6:.2f} M/s); extrapolated linearly to"
                f" {p['records']:,} records: {g['pg_read_records_s'] * factor:.0f} s"
            )
            print(
                f"SNAPSHOT export of the same {g['stored_records']:,} stored records:"
                f" {g['snapshot_export_s']:.1f} s;"
                f" extrapolated to {p['records']:,} records: {g['snapshot_export_s'] * factor:.0f} s"
            )
        print(
            f"SINGLE subject from PostgreSQL (read + features): median {g['single_median_ms']:.2f} ms,"
            f" p90 {g['single_p90_ms']:.2f} ms (read alone: median {g['single_read_median_ms']:.2f} ms;"
            f" client CPU: median {g['single_cpu_median_ms']:.2f} ms)"
        )
    print(f"load average at the end {os.getloadavg()[0]:.1f}")
    out = args.data.parent / (
        "features-results-postgres.json" if args.postgres_only else "features-results.json"
    )
    out.write_text(json.dumps(results, indent=2, default=str))


if __name__ == "__main__":
    main()
    sys.exit(0)
