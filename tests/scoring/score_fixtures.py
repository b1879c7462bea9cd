"""Registry-shaped synthetic feature frames for scoring tests (imported by conftest and tests)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from features.registry import Registry


def feature_frame(registry: Registry, group: str, n: int, seed: int) -> tuple[pd.DataFrame, np.ndarray]:
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(index=range(n))
    for spec in registry.for_subject(group):
        if spec.unit == "flag":
            frame[spec.name] = (rng.random(n) < 0.05).astype(float)
        elif spec.unit == "share":
            frame[spec.name] = rng.random(n).round(3)
        elif spec.unit == "month" and spec.window:
            frame[spec.name] = rng.integers(0, spec.window + 1, n).astype(float)
        else:
            frame[spec.name] = rng.poisson(1.0, n).astype(float)
    logit = -2.0 * np.ones(n)
    bumps = {
        "utility_late_12m": 0.8,
        "tax_arrears_amount": 0.6,
        "negative_serious_decayed": 0.9,
        "negative_general_decayed": 0.9,
        "pension_paid_months_12m": -0.15,
        "tax_late_share_12m": 1.5,
        "penalty_serious_decayed": 0.9,
    }
    for name, w in bumps.items():
        if name in frame:
            logit += w * frame[name].to_numpy()
    y = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int)
    return frame, y
