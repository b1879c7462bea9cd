"""Machine-learning models: estimators, calibration, metrics, fairness, the serving bundle.

Pure code: data frames and arrays in, data frames and arrays out — no database, no environment,
no MLflow. Names are imported lazily, so ``from models import ServingBundle`` on the request path
does not pay for optbinning or fairlearn.

* :class:`WoeScorecard` (``models.scorecard``) and :class:`MonotoneLgbm` (``models.gbm``) — the two
  PD model families, one scikit-learn interface (``models.binary``).
* ``models.calibration`` — out-of-fold Platt calibration on the log-odds.
* ``models.scaling`` — PD ↔ 350–950 person score.
* ``models.metrics`` — AUC, KS, Gini, Brier, ECE, calibration table, PSI.
* ``models.fairness`` — group report and the release gate.
* ``models.thinfile`` — who is too new to be scored.
* ``models.bundle`` — the serving bundle on disk.
* ``models.evaluation``, ``models.tabular`` — repeated CV; bring-your-own-data preparation.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from models.bundle import BundleError, BundleIntegrityError, ServingBundle, dataset_fingerprint
    from models.calibration import PlattCalibration, fit_platt
    from models.encoding import FeatureEncoding
    from models.evaluation import CvResult, repeated_cv
    from models.fairness import FairnessPolicy, FairnessReport, GateResult, fairness_gate, group_report
    from models.gbm import MonotoneLgbm
    from models.scaling import DEFAULT_SCALING, ScoreScaling, pd_from_score, score_from_pd
    from models.scorecard import WoeScorecard
    from models.tabular import TabularData, prepare_tabular
    from models.thinfile import INSUFFICIENT_RECORD, thin_file_mask

__all__ = [
    "DEFAULT_SCALING",
    "INSUFFICIENT_RECORD",
    "BundleError",
    "BundleIntegrityError",
    "CvResult",
    "FairnessPolicy",
    "FairnessReport",
    "FeatureEncoding",
    "GateResult",
    "MonotoneLgbm",
    "PlattCalibration",
    "ScoreScaling",
    "ServingBundle",
    "TabularData",
    "WoeScorecard",
    "dataset_fingerprint",
    "fairness_gate",
    "fit_platt",
    "group_report",
    "pd_from_score",
    "prepare_tabular",
    "repeated_cv",
    "score_from_pd",
    "thin_file_mask",
]

_HOME = {
    "BundleError": "bundle",
    "BundleIntegrityError": "bundle",
    "ServingBundle": "bundle",
    "dataset_fingerprint": "bundle",
    "PlattCalibration": "calibration",
    "fit_platt": "calibration",
    "FeatureEncoding": "encoding",
    "CvResult": "evaluation",
    "repeated_cv": "evaluation",
    "FairnessPolicy": "fairness",
    "FairnessReport": "fairness",
    "GateResult": "fairness",
    "fairness_gate": "fairness",
    "group_report": "fairness",
    "MonotoneLgbm": "gbm",
    "DEFAULT_SCALING": "scaling",
    "ScoreScaling": "scaling",
    "pd_from_score": "scaling",
    "score_from_pd": "scaling",
    "WoeScorecard": "scorecard",
    "TabularData": "tabular",
    "prepare_tabular": "tabular",
    "INSUFFICIENT_RECORD": "thinfile",
    "thin_file_mask": "thinfile",
}


def __getattr__(name: str) -> Any:
    module = _HOME.get(name)
    if module is None:
        raise AttributeError(f"module 'models' has no attribute {name!r}")
    return getattr(importlib.import_module(f"models.{module}"), name)
