"""Discrimination, calibration and stability metrics for PD models.

All functions take ``y`` with 1 = bad (default) and 0 = good, and ``p`` = predicted probability
of default.

Discrimination
    :func:`auc` (ROC AUC), :func:`gini` (``2·AUC − 1``), :func:`ks` (Kolmogorov–Smirnov:
    the largest gap between the cumulative score distributions of bads and goods,
    ``max(TPR − FPR)`` over all cut-offs).

Calibration
    :func:`brier` (mean squared error of the PD). :func:`expected_calibration_error` and
    :func:`calibration_table` use **10 equal-frequency bins of predicted PD**: rows are sorted by
    PD (stable sort, so ties keep input order) and split into bins whose sizes differ by at most
    one (``numpy.array_split``). ECE is the count-weighted mean of
    ``|mean predicted PD − observed bad rate|`` over the bins.

Stability
    :func:`psi` (population stability index) between a reference sample (e.g. validation scores)
    and a current one (e.g. this month's production scores). Bins are the reference's quantiles
    (10 by default; duplicate edges merged), outer bins open-ended; bin shares are clipped below
    at ``eps`` = 1e-4 so an empty bin gives a large but finite term.
    ``PSI = Σ (current − reference) · ln(current / reference)``.
    Conventional reading (:func:`psi_band`): **< 0.10 stable, 0.10–0.25 moderate shift (watch),
    ≥ 0.25 significant shift (investigate / recalibrate)**.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import numpy.typing as npt
import pandas as pd
from sklearn.metrics import roc_auc_score, roc_curve

__all__ = [
    "auc",
    "brier",
    "calibration_table",
    "expected_calibration_error",
    "gini",
    "ks",
    "psi",
    "psi_band",
]

ArrayLike = npt.ArrayLike


def _xy(y: ArrayLike, p: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    yy = np.asarray(y, dtype=np.float64).ravel()
    pp = np.asarray(p, dtype=np.float64).ravel()
    if yy.shape != pp.shape:
        raise ValueError(f"y has {yy.size} values, p has {pp.size}")
    if yy.size == 0:
        raise ValueError("empty input")
    return yy, pp


def auc(y: ArrayLike, p: ArrayLike) -> float:
    """ROC AUC of the PD against the bad flag (0.5 = random, 1 = perfect ranking)."""
    yy, pp = _xy(y, p)
    return float(roc_auc_score(yy, pp))


def gini(y: ArrayLike, p: ArrayLike) -> float:
    """Gini coefficient (accuracy ratio) ``2·AUC − 1``."""
    return 2.0 * auc(y, p) - 1.0


def ks(y: ArrayLike, p: ArrayLike) -> float:
    """Kolmogorov–Smirnov statistic ``max over cut-offs of (TPR − FPR)``."""
    yy, pp = _xy(y, p)
    fpr, tpr, _ = roc_curve(yy, pp)
    return float(np.max(tpr - fpr))


def brier(y: ArrayLike, p: ArrayLike) -> float:
    """Brier score: mean of ``(pd − y)²``."""
    yy, pp = _xy(y, p)
    return float(np.mean((pp - yy) ** 2))


def _equal_frequency_bins(pp: np.ndarray, n_bins: int) -> list[np.ndarray]:
    if n_bins < 1:
        raise ValueError("n_bins must be at least 1")
    order = np.argsort(pp, kind="stable")
    return [b for b in np.array_split(order, min(n_bins, pp.size)) if b.size]


def calibration_table(y: ArrayLike, p: ArrayLike, n_bins: int = 10) -> pd.DataFrame:
    """Per equal-frequency PD bin: count, mean predicted PD, observed bad rate, and their gap.

    Returns
    -------
    pandas.DataFrame
        Columns ``bin`` (1 = lowest PD), ``count``, ``pd_min``, ``pd_max``, ``mean_pd``,
        ``observed_rate``, ``gap`` (``mean_pd − observed_rate``).
    """
    yy, pp = _xy(y, p)
    rows = []
    for i, idx in enumerate(_equal_frequency_bins(pp, n_bins), start=1):
        mean_pd = float(pp[idx].mean())
        observed = float(yy[idx].mean())
        rows.append(
            {
                "bin": i,
                "count": int(idx.size),
                "pd_min": float(pp[idx].min()),
                "pd_max": float(pp[idx].max()),
                "mean_pd": mean_pd,
                "observed_rate": observed,
                "gap": mean_pd - observed,
            }
        )
    return pd.DataFrame(rows)


def expected_calibration_error(y: ArrayLike, p: ArrayLike, n_bins: int = 10) -> float:
    """Count-weighted mean of ``|mean PD − observed rate|`` over equal-frequency PD bins."""
    table = calibration_table(y, p, n_bins)
    weights = table["count"].to_numpy(dtype=np.float64)
    return float(np.sum(weights * table["gap"].abs().to_numpy()) / weights.sum())


def psi(reference: ArrayLike, current: ArrayLike, n_bins: int = 10, eps: float = 1e-4) -> float:
    """Population stability index of ``current`` against ``reference`` (scores or PDs).

    Parameters
    ----------
    reference, current : array-like of float
        The two samples; NaNs are dropped.
    n_bins : int
        Number of reference quantile bins (fewer when the reference has ties).
    eps : float
        Lower clip of each bin share.

    Returns
    -------
    float
        ``Σ (c − r) · ln(c / r)`` over the bins; 0 for identical samples.
    """
    ref = np.asarray(reference, dtype=np.float64).ravel()
    cur = np.asarray(current, dtype=np.float64).ravel()
    ref, cur = ref[~np.isnan(ref)], cur[~np.isnan(cur)]
    if ref.size == 0 or cur.size == 0:
        raise ValueError("empty sample")
    inner = np.unique(np.quantile(ref, np.linspace(0.0, 1.0, n_bins + 1)[1:-1]))
    r = np.bincount(np.searchsorted(inner, ref, side="right"), minlength=inner.size + 1) / ref.size
    c = np.bincount(np.searchsorted(inner, cur, side="right"), minlength=inner.size + 1) / cur.size
    r, c = np.clip(r, eps, None), np.clip(c, eps, None)
    return float(np.sum((c - r) * np.log(c / r)))


def psi_band(value: float) -> Literal["stable", "moderate", "significant"]:
    """Conventional PSI reading: < 0.10 stable, 0.10–0.25 moderate, ≥ 0.25 significant."""
    if value < 0.10:
        return "stable"
    if value < 0.25:
        return "moderate"
    return "significant"
