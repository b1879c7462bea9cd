"""Calibration: a monotone map from a model's raw log-odds to calibrated log-odds.

Method: **Platt scaling on the log-odds**, ``calibrated = intercept + slope · raw`` with
``slope > 0``, then ``PD = sigmoid(calibrated)``. It is fitted by unpenalised maximum likelihood
(Newton's method) on *out-of-fold* raw log-odds: :func:`cross_fit_logits` refits the model on
k − 1 folds and predicts the held-out fold, so every training row gets a log-odds from a model that
did not see it. The final model is then fitted on all rows and the calibrator is applied to its
raw log-odds (as scikit-learn's ``CalibratedClassifierCV(ensemble=False)`` does).

Why Platt and not isotonic: a strictly increasing affine map keeps the ranking (AUC, KS, Gini do
not change), keeps every monotone constraint of the model, keeps the score strictly monotone in
the model output (isotonic steps would tie many applicants on one score), and is exactly linear in
log-odds, so per-feature contributions still add up to the calibrated score.

If the fitted slope is not positive (held-out log-odds do not rank at all), the calibrator keeps
the ranking and only fixes the level: slope 1 and the intercept that matches the mean PD to the
observed bad rate; ``fallback`` is then True.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
from sklearn.model_selection import StratifiedKFold

__all__ = ["PlattCalibration", "cross_fit_logits", "fit_platt", "sigmoid"]


def sigmoid(z: npt.ArrayLike) -> np.ndarray:
    """Logistic function, numerically stable for large |z|."""
    zz = np.asarray(z, dtype=np.float64)
    out = np.empty_like(zz)
    pos = zz >= 0
    out[pos] = 1.0 / (1.0 + np.exp(-zz[pos]))
    ez = np.exp(zz[~pos])
    out[~pos] = ez / (1.0 + ez)
    return out


@dataclass(frozen=True)
class PlattCalibration:
    """Fitted Platt parameters: ``calibrated log-odds = intercept + slope · raw log-odds``."""

    intercept: float = 0.0
    slope: float = 1.0
    fallback: bool = False

    def __post_init__(self) -> None:
        if not self.slope > 0:
            raise ValueError("the calibration slope must be positive to keep scores monotone")

    def transform(self, raw_logit: npt.ArrayLike) -> np.ndarray:
        """Calibrated log-odds of bad."""
        return self.intercept + self.slope * np.asarray(raw_logit, dtype=np.float64)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "method": "platt",
            "intercept": self.intercept,
            "slope": self.slope,
            "fallback": self.fallback,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> PlattCalibration:
        """Inverse of :meth:`to_dict`."""
        if data.get("method") != "platt":
            raise ValueError(f"unknown calibration method {data.get('method')!r}")
        return cls(float(data["intercept"]), float(data["slope"]), bool(data.get("fallback", False)))


def _logit(p: float) -> float:
    return float(np.log(p) - np.log1p(-p))


def fit_platt(
    raw_logit: npt.ArrayLike, y: npt.ArrayLike, *, max_iter: int = 100, tol: float = 1e-10
) -> PlattCalibration:
    """Fit ``y ~ sigmoid(a + b · raw_logit)`` by Newton's method.

    Parameters
    ----------
    raw_logit : array-like of float
        Out-of-sample raw log-odds of bad.
    y : array-like of {0, 1}
        1 = bad.

    Returns
    -------
    PlattCalibration
    """
    z = np.asarray(raw_logit, dtype=np.float64).ravel()
    yy = np.asarray(y, dtype=np.float64).ravel()
    if z.shape != yy.shape or z.size == 0:
        raise ValueError("raw_logit and y must be non-empty and of equal length")
    rate = float(np.clip(yy.mean(), 1e-6, 1 - 1e-6))
    if yy.min() == yy.max():
        return PlattCalibration(_logit(rate) - float(z.mean()), 1.0, True)
    design = np.column_stack([np.ones_like(z), z])
    beta = np.array([_logit(rate), 0.0])
    for _ in range(max_iter):
        p = sigmoid(design @ beta)
        grad = design.T @ (yy - p)
        w = p * (1.0 - p)
        hess = design.T @ (design * w[:, None]) + 1e-12 * np.eye(2)
        step = np.linalg.solve(hess, grad)
        beta = beta + step
        if np.max(np.abs(step)) < tol:
            break
    intercept, slope = float(beta[0]), float(beta[1])
    if not (np.isfinite(slope) and slope > 0):
        return _level_only(z, rate)
    return PlattCalibration(intercept, slope)


def _level_only(z: np.ndarray, rate: float) -> PlattCalibration:
    # Slope 1; solve mean(sigmoid(a + z)) = rate for a by bisection (monotone in a).
    lo, hi = -50.0, 50.0
    for _ in range(200):
        mid = (lo + hi) / 2
        if sigmoid(mid + z).mean() < rate:
            lo = mid
        else:
            hi = mid
    return PlattCalibration((lo + hi) / 2, 1.0, True)


def cross_fit_logits(
    fit_predict: Callable[[np.ndarray, np.ndarray], np.ndarray],
    y: npt.ArrayLike,
    *,
    n_splits: int = 3,
    random_state: int | None = 0,
) -> np.ndarray:
    """Out-of-fold raw log-odds for calibration.

    Parameters
    ----------
    fit_predict : callable ``(train_index, test_index) -> raw log-odds of the test rows``
        Fits a fresh, uncalibrated copy of the model on the training rows.
    y : array-like of {0, 1}
        Used for stratification.
    n_splits : int
        Number of folds (at least 2).
    random_state : int or None
        Seed of the fold shuffle.

    Returns
    -------
    numpy.ndarray
        One out-of-fold log-odds per row.
    """
    yy = np.asarray(y).ravel()
    out = np.full(yy.shape, np.nan)
    folds = StratifiedKFold(n_splits=n_splits, shuffle=True, random_state=random_state)
    for train, test in folds.split(np.zeros((yy.size, 1)), yy):
        out[test] = fit_predict(train, test)
    return out
