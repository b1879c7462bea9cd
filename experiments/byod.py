"""Bring your own data: compare the two model families on any labelled CSV.

Reads the table, prepares it with :func:`models.tabular.prepare_tabular` (target mapping,
identifier-like columns dropped, types inferred), and runs repeated stratified cross-validation of
the WoE scorecard and the monotone LightGBM on the same folds. Calibration is switched off for
the cross-validation because it is a strictly increasing map that leaves AUC, KS and Gini
unchanged. Optionally writes a calibrated serving bundle per family, fitted on all rows.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from models.bundle import ServingBundle, dataset_fingerprint
from models.evaluation import CvResult, repeated_cv
from models.gbm import MonotoneLgbm
from models.scorecard import WoeScorecard
from models.tabular import TabularData, prepare_tabular

__all__ = ["FAMILIES", "ByodResult", "run_byod"]

logger = logging.getLogger(__name__)

FAMILIES = ("scorecard", "lgbm")


@dataclass(frozen=True)
class ByodResult:
    """What :func:`run_byod` found: the prepared data, CV figures, and any bundles written."""

    data: TabularData
    cv: CvResult
    bundles: Mapping[str, Path]


def _estimators(
    data: TabularData, monotone: Mapping[str, int] | None, *, calibrated: bool
) -> dict[str, WoeScorecard | MonotoneLgbm]:
    calibration = "platt" if calibrated else None
    cats = list(data.categorical)
    return {
        "scorecard": WoeScorecard(monotone=monotone, categorical=cats, calibration=calibration),
        "lgbm": MonotoneLgbm(monotone=monotone, categorical=cats, calibration=calibration),
    }


def run_byod(
    csv: str | Path,
    target: str,
    bad: str,
    *,
    n_splits: int = 5,
    n_repeats: int = 3,
    random_state: int = 42,
    monotone: Mapping[str, int] | None = None,
    bundle_dir: str | Path | None = None,
    model_version: str = "1",
) -> ByodResult:
    """Cross-validate both families on a CSV file; optionally save one bundle per family.

    Parameters
    ----------
    csv : path
        Comma-separated table with a header row.
    target : str
        Target column.
    bad : str
        Target value meaning "bad" (everything else is good).
    n_splits, n_repeats : int
        Folds and repetitions of the stratified CV.
    random_state : int
        Seed of the folds.
    monotone : mapping of str to int, optional
        Directions for both families (see :mod:`models.monotone`).
    bundle_dir : path, optional
        When given, each family is refitted with calibration on all rows and saved to
        ``<bundle_dir>/<family>``.
    model_version : str
        Version written into the bundles.

    Returns
    -------
    ByodResult
    """
    frame = pd.read_csv(csv)
    data = prepare_tabular(frame, target, bad)
    logger.debug(
        "byod: %d rows, %d features (%d categorical), bad rate %.3f, dropped %s",
        len(data.X),
        len(data.X.columns),
        len(data.categorical),
        data.bad_rate,
        dict(data.dropped),
    )
    cv = repeated_cv(
        _estimators(data, monotone, calibrated=False),
        data.X,
        data.y,
        n_splits=n_splits,
        n_repeats=n_repeats,
        random_state=random_state,
    )
    bundles: dict[str, Path] = {}
    if bundle_dir is not None:
        fingerprint = dataset_fingerprint(data.X, data.y)
        name = Path(csv).stem
        for family, estimator in _estimators(data, monotone, calibrated=True).items():
            fitted = estimator.fit(data.X, data.y)
            bundle = ServingBundle.from_estimator(
                fitted,
                model_name=f"{name}-{family}",
                model_version=model_version,
                feature_registry_version=f"byod:{name}",
                training_data_hash=fingerprint,
            )
            bundles[family] = bundle.save(Path(bundle_dir) / family)
    return ByodResult(data=data, cv=cv, bundles=bundles)
