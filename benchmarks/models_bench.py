"""Serving-bundle speed on German Credit: one request, a batch, and reasons, per model family.

Fits both families (calibrated) on all 1,000 rows, saves and reloads their bundles, then times
(median of repeated calls after warm-up):

* one applicant: ``encode_records`` + ``predict_pd`` (the request path);
* ``predict_pd`` on 100,000 encoded rows (German rows resampled);
* one applicant's ``raw_contributions`` (TreeSHAP for LightGBM, coef·WoE for the scorecard);
* the baseline of the same single-row PD through the estimator with a one-row DataFrame;
* a reference LightGBM booster trained here on ``make_classification`` (100k x 40, 300 trees,
  31 leaves), so the LightGBM figures can be read against a known setup on a busy machine.

    .venv/bin/python benchmarks/models_bench.py
"""

from __future__ import annotations

import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import lightgbm as lgb
import numpy as np
import pandas as pd
from sklearn.datasets import make_classification

from models.bundle import ServingBundle, dataset_fingerprint
from models.gbm import MonotoneLgbm
from models.scorecard import WoeScorecard
from models.tabular import TabularData, prepare_tabular

DATA = Path(__file__).resolve().parents[1] / "data" / "german_credit.csv"


def _median_seconds(fn: Callable[[], object], repeats: int) -> float:
    for _ in range(min(repeats, 20)):
        fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def _measure(family: str, estimator: WoeScorecard | MonotoneLgbm, data: TabularData) -> str:
    start = time.perf_counter()
    estimator.fit(data.X, data.y)
    fit_s = time.perf_counter() - start
    with tempfile.TemporaryDirectory() as tmp:
        saved = ServingBundle.from_estimator(
            estimator,
            model_name=f"german-{family}",
            model_version="1",
            feature_registry_version="byod:german_credit",
            training_data_hash=dataset_fingerprint(data.X, data.y),
        ).save(Path(tmp) / family)
        bundle = ServingBundle.load(saved)
    record = data.X.iloc[[0]].to_dict("records")
    frame_row = data.X.iloc[[0]]
    matrix = bundle.encode(data.X)
    big = matrix[np.random.default_rng(0).integers(0, len(matrix), 100_000)]
    one_request = _median_seconds(lambda: bundle.predict_pd(bundle.encode_records(record)), 2000)
    baseline = _median_seconds(lambda: estimator.predict_pd(frame_row), 200)
    batch = _median_seconds(lambda: bundle.predict_pd(big), 5)
    reasons = _median_seconds(lambda: bundle.raw_contributions(matrix[[0]]), 500)
    return (
        f"| {family} | {fit_s:.2f} | {one_request * 1e6:.0f} | {baseline * 1e6:.0f} |"
        f" {100_000 / batch:,.0f} | {reasons * 1e6:.0f} |"
    )


def _reference_row() -> str:
    X, y = make_classification(100_000, 40, n_informative=15, weights=[0.9], random_state=0)
    params = {
        "objective": "binary",
        "num_leaves": 31,
        "learning_rate": 0.05,
        "verbosity": -1,
        "num_threads": 1,
    }
    start = time.perf_counter()
    booster = lgb.train(params, lgb.Dataset(X, y), 300)
    fit_s = time.perf_counter() - start
    one = X[[0]]
    single = _median_seconds(lambda: booster.predict(one, raw_score=True, num_threads=1), 2000)
    batch = _median_seconds(lambda: booster.predict(X, raw_score=True, num_threads=1), 5)
    reasons = _median_seconds(lambda: booster.predict(one, pred_contrib=True, num_threads=1), 500)
    return (
        f"| reference booster | {fit_s:.2f} | {single * 1e6:.0f} | – |"
        f" {100_000 / batch:,.0f} | {reasons * 1e6:.0f} |"
    )


def main() -> None:
    data = prepare_tabular(pd.read_csv(DATA), "creditability", "bad")
    cats = list(data.categorical)
    header = ["model", "fit (s)", "1 request (µs)", "estimator, 1-row frame (µs)", "100k rows (rows/s)"]
    print("| " + " | ".join([*header, "reasons, 1 row (µs)"]) + " |")
    print("|---|---|---|---|---|---|")
    print(_measure("scorecard", WoeScorecard(categorical=cats), data))
    print(_measure("lgbm", MonotoneLgbm(categorical=cats), data))
    print(_reference_row())


if __name__ == "__main__":
    main()
