"""Repeated CV on shared folds, and the German Credit reference figures."""

from pathlib import Path

import numpy as np
import pandas as pd
from credit_sample import MONOTONE, Sample

from models.evaluation import repeated_cv
from models.gbm import MonotoneLgbm
from models.scorecard import WoeScorecard
from models.tabular import prepare_tabular

GERMAN = Path(__file__).resolve().parents[2] / "data" / "german_credit.csv"


def test_same_folds_for_every_family(train: Sample) -> None:
    X, y = train.X.iloc[:1500], train.y[:1500]
    result = repeated_cv(
        {"a": MonotoneLgbm(monotone=MONOTONE, calibration=None, n_estimators=50),
         "b": MonotoneLgbm(monotone=MONOTONE, calibration=None, n_estimators=50)},
        X, y, n_splits=3, n_repeats=2,
    )  # fmt: skip
    folds = result.folds
    assert len(folds) == 12
    # Identical estimators on identical folds give identical figures.
    a = folds[folds.family == "a"][["auc", "ks", "gini"]].to_numpy()
    b = folds[folds.family == "b"][["auc", "ks", "gini"]].to_numpy()
    assert np.array_equal(a, b)
    assert list(result.summary.index) == ["a", "b"]
    assert result.summary.loc["a", "n_folds"] == 6
    assert np.allclose(folds["gini"], 2 * folds["auc"] - 1)


def test_german_credit_five_fold_auc() -> None:
    data = prepare_tabular(pd.read_csv(GERMAN), "creditability", "bad")
    assert data.X.shape == (1000, 20) and data.bad_rate == 0.3
    cats = list(data.categorical)
    result = repeated_cv(
        {
            "scorecard": WoeScorecard(categorical=cats, calibration=None),
            "lgbm": MonotoneLgbm(categorical=cats, calibration=None),
        },
        data.X,
        data.y,
        n_splits=5,
        n_repeats=1,
    )
    assert result.summary.loc["scorecard", "auc_mean"] >= 0.75
    assert result.summary.loc["lgbm", "auc_mean"] >= 0.75
