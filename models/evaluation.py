"""Repeated stratified cross-validation of several model families on the same folds.

Every family is refitted (a fresh ``sklearn.base.clone``) on exactly the same training rows of
each of the ``n_repeats × n_splits`` folds and scored on the same held-out rows, so differences
between families are paired, not noise from different splits. Reported per family: mean and
standard deviation over folds of AUC, KS and Gini (see :mod:`models.metrics`).

AUC, KS and Gini depend only on the ranking, which a monotone calibration does not change; for
speed, callers may pass estimators with ``calibration=None``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
from sklearn.base import clone
from sklearn.model_selection import RepeatedStratifiedKFold

from models.metrics import auc, gini, ks

__all__ = ["CvResult", "repeated_cv"]


@dataclass(frozen=True)
class CvResult:
    """Cross-validation figures.

    Attributes
    ----------
    folds : pandas.DataFrame
        One row per family and fold: ``family``, ``repeat``, ``fold``, ``auc``, ``ks``, ``gini``.
    summary : pandas.DataFrame
        Index = family; ``auc_mean``, ``auc_std``, ``ks_mean``, ``ks_std``, ``gini_mean``,
        ``gini_std``, ``n_folds``.
    """

    folds: pd.DataFrame
    summary: pd.DataFrame


def _take(X: Any, idx: np.ndarray) -> Any:
    return X.iloc[idx] if isinstance(X, pd.DataFrame) else np.asarray(X)[idx]


def repeated_cv(
    estimators: Mapping[str, Any],
    X: pd.DataFrame | npt.ArrayLike,
    y: npt.ArrayLike,
    *,
    n_splits: int = 5,
    n_repeats: int = 3,
    random_state: int = 42,
) -> CvResult:
    """Repeated stratified k-fold CV of each estimator on shared folds.

    Parameters
    ----------
    estimators : mapping of str to estimator
        Family name → unfitted estimator with ``fit`` and ``predict_proba``.
    X : pandas.DataFrame or array-like
    y : array-like of {0, 1}
        1 = bad.
    n_splits, n_repeats : int
    random_state : int
        Seed of the fold assignment.

    Returns
    -------
    CvResult
    """
    yy = np.asarray(y).ravel()
    splitter = RepeatedStratifiedKFold(n_splits=n_splits, n_repeats=n_repeats, random_state=random_state)
    rows = []
    for i, (train, test) in enumerate(splitter.split(np.zeros((yy.size, 1)), yy)):
        X_tr, X_te = _take(X, train), _take(X, test)
        for family, estimator in estimators.items():
            model = clone(estimator).fit(X_tr, yy[train])
            p = model.predict_proba(X_te)[:, 1]
            rows.append(
                {
                    "family": family,
                    "repeat": i // n_splits,
                    "fold": i % n_splits,
                    "auc": auc(yy[test], p),
                    "ks": ks(yy[test], p),
                    "gini": gini(yy[test], p),
                }
            )
    folds = pd.DataFrame(rows)
    grouped = folds.groupby("family", sort=False)[["auc", "ks", "gini"]]
    summary = grouped.agg(["mean", "std"])
    summary.columns = [f"{metric}_{stat}" for metric, stat in summary.columns]
    summary["n_folds"] = grouped.size()
    return CvResult(folds=folds, summary=summary)
