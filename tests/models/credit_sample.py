"""Small synthetic credit data with known directions (a well-specified logistic population)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from models.calibration import sigmoid

# +1: more is better (PD falls), -1: more is worse (PD rises); "wiggle" has no declared direction.
MONOTONE = {"income": 1, "arrears": -1, "tenure": 1, "wiggle": 0}
SEGMENT_EFFECT = {"retail": 0.0, "farming": 0.6, "services": -0.4}


@dataclass(frozen=True)
class Sample:
    X: pd.DataFrame
    y: np.ndarray
    pd_true: np.ndarray


def make_credit_sample(n: int, seed: int) -> Sample:
    """A well-specified logistic population: the true PD is a sigmoid of a known index."""
    rng = np.random.default_rng(seed)
    income = rng.normal(0.0, 1.0, n)
    arrears = rng.poisson(1.0, n).astype(float)
    tenure = rng.uniform(0.0, 10.0, n)
    wiggle = rng.normal(0.0, 1.0, n)
    noise = rng.normal(0.0, 1.0, n)
    segment = rng.choice(list(SEGMENT_EFFECT), n, p=[0.5, 0.3, 0.2])
    logit = (
        -1.6
        - 0.9 * income
        + 0.6 * arrears
        - 0.12 * tenure
        + 0.3 * np.sin(2 * wiggle)
        + np.vectorize(SEGMENT_EFFECT.get)(segment)
    )
    p = sigmoid(logit)
    y = (rng.random(n) < p).astype(int)
    X = pd.DataFrame(
        {
            "income": income,
            "arrears": arrears,
            "tenure": tenure,
            "wiggle": wiggle,
            "noise": noise,
            "segment": pd.Series(segment, dtype=object),
        }
    )
    X.loc[rng.random(n) < 0.02, "income"] = np.nan  # a few missing values
    return Sample(X=X, y=y, pd_true=p)
