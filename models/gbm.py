"""Monotone gradient-boosted trees (LightGBM) for the probability of default.

Directions come from the same ``monotone`` mapping as the scorecard (see :mod:`models.monotone`):
+1 (more is better) becomes the LightGBM constraint −1 on the PD, −1 becomes +1, 0 stays
unconstrained. LightGBM enforces the constraint inside every tree, so the prediction is monotone
in each constrained feature for every row, whatever the other features are. The default
constraint method is ``"intermediate"`` (less restrictive than ``"basic"``, so a little more
accurate). ``"advanced"`` is *not* used: with LightGBM 4.7 it produced models that broke their
constraints (PD rising with a "more is better" feature by up to 0.07 in log-odds) as soon as the
training data held missing values — the problem reported in LightGBM issues #5358 and #6155 — and
``tests/models`` checks the constraints row by row.

Categorical features arrive as category codes (:mod:`models.encoding`) and are declared to
LightGBM as categorical; they are never constrained.

Predictions call ``Booster.predict`` on a float64 ``numpy`` matrix (the scikit-learn wrapper costs
~15x more per row); contributions are TreeSHAP (``pred_contrib=True``) in raw log-odds of bad with
the bias in the last column. After training, the booster is rebuilt from its own model text, so the
fitted estimator and a serving bundle loaded from disk run the very same trees.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import lightgbm as lgb
import numpy as np
from sklearn.model_selection import train_test_split

from models.binary import MonotonePdModel
from models.monotone import lgbm_constraint

__all__ = ["MonotoneLgbm"]


class MonotoneLgbm(MonotonePdModel):
    """LightGBM binary classifier with monotone constraints and Platt calibration.

    Parameters
    ----------
    monotone : mapping of str to int, optional
        ``{feature: +1 (more is better) | −1 (more is worse) | 0}``.
    categorical : sequence of str, optional
        Categorical features; by default every non-numeric column of the training frame.
    n_estimators : int, default 300
        Boosting rounds (the maximum when early stopping is on).
    learning_rate : float, default 0.03
    num_leaves : int, default 15
    min_child_samples : int, default 20
    subsample : float, default 0.8
        Row share per tree (bagging every round).
    colsample_bytree : float, default 0.8
    reg_lambda : float, default 1.0
    monotone_constraints_method : {"basic", "intermediate", "advanced"}, default "intermediate"
        ``"advanced"`` can break the constraints (see the module documentation).
    early_stopping_rounds : int or None, default None
        When set, ``validation_fraction`` of the rows is held out (stratified) and training stops
        after this many rounds without a better validation log-loss.
    validation_fraction : float, default 0.2
    calibration : {"platt", None}, default "platt"
        Out-of-fold Platt calibration (see :mod:`models.calibration`).
    calibration_folds : int, default 3
    n_jobs : int, default 1
        LightGBM threads (1 keeps small fits fast and results reproducible).
    random_state : int or None, default 0

    Attributes
    ----------
    booster_ : lightgbm.Booster
        The trained trees.
    best_iteration_ : int
        Number of trees kept.
    constraints_ : list of int
        LightGBM ``monotone_constraints`` in feature order (on the PD).
    """

    def __init__(
        self,
        *,
        monotone: Mapping[str, int] | None = None,
        categorical: Sequence[str] | None = None,
        n_estimators: int = 300,
        learning_rate: float = 0.03,
        num_leaves: int = 15,
        min_child_samples: int = 20,
        subsample: float = 0.8,
        colsample_bytree: float = 0.8,
        reg_lambda: float = 1.0,
        monotone_constraints_method: str = "intermediate",
        early_stopping_rounds: int | None = None,
        validation_fraction: float = 0.2,
        calibration: str | None = "platt",
        calibration_folds: int = 3,
        n_jobs: int = 1,
        random_state: int | None = 0,
    ) -> None:
        self.monotone = monotone
        self.categorical = categorical
        self.n_estimators = n_estimators
        self.learning_rate = learning_rate
        self.num_leaves = num_leaves
        self.min_child_samples = min_child_samples
        self.subsample = subsample
        self.colsample_bytree = colsample_bytree
        self.reg_lambda = reg_lambda
        self.monotone_constraints_method = monotone_constraints_method
        self.early_stopping_rounds = early_stopping_rounds
        self.validation_fraction = validation_fraction
        self.calibration = calibration
        self.calibration_folds = calibration_folds
        self.n_jobs = n_jobs
        self.random_state = random_state

    def _params(self) -> dict[str, Any]:
        seed = 0 if self.random_state is None else int(self.random_state)
        return {
            "objective": "binary",
            "learning_rate": self.learning_rate,
            "num_leaves": self.num_leaves,
            "min_child_samples": self.min_child_samples,
            "bagging_fraction": self.subsample,
            "bagging_freq": 1 if self.subsample < 1.0 else 0,
            "feature_fraction": self.colsample_bytree,
            "lambda_l2": self.reg_lambda,
            "monotone_constraints": self.constraints_,
            "monotone_constraints_method": self.monotone_constraints_method,
            "num_threads": self.n_jobs,
            "seed": seed,
            "deterministic": True,
            "force_col_wise": True,
            "verbosity": -1,
        }

    def _fit_matrix(self, matrix: np.ndarray, y: np.ndarray) -> None:
        features = list(self.encoding_.features)
        self.constraints_ = [lgbm_constraint(self.monotone_[f]) for f in features]
        cat_idx = [j for j, f in enumerate(features) if f in self.encoding_.categories]
        params = self._params()

        def dataset(
            rows: np.ndarray, labels: np.ndarray, reference: lgb.Dataset | None = None
        ) -> lgb.Dataset:
            return lgb.Dataset(
                rows,
                label=labels,
                feature_name=features,
                categorical_feature=cat_idx,
                reference=reference,
                free_raw_data=True,
                params={"verbosity": -1},
            )

        callbacks: list[Any] = []
        valid_sets: list[lgb.Dataset] = []
        if self.early_stopping_rounds:
            tr, va = train_test_split(
                np.arange(len(y)),
                test_size=self.validation_fraction,
                stratify=y,
                random_state=self.random_state,
            )
            train_set = dataset(matrix[tr], y[tr])
            valid_sets = [dataset(matrix[va], y[va], reference=train_set)]
            callbacks = [lgb.early_stopping(self.early_stopping_rounds, verbose=False)]
        else:
            train_set = dataset(matrix, y)
        booster = lgb.train(
            {**params, "metric": "binary_logloss"},
            train_set,
            num_boost_round=self.n_estimators,
            valid_sets=valid_sets,
            callbacks=callbacks,
        )
        best = booster.best_iteration if booster.best_iteration > 0 else booster.current_iteration()
        # Rebuild from text: the same trees a bundle loads, so both predict bit for bit alike.
        self.booster_ = lgb.Booster(model_str=booster.model_to_string(num_iteration=best))
        self.best_iteration_ = best

    def _raw_logit_matrix(self, matrix: np.ndarray) -> np.ndarray:
        return np.asarray(
            self.booster_.predict(matrix, raw_score=True, num_threads=self.n_jobs), dtype=np.float64
        )

    def _contributions_matrix(self, matrix: np.ndarray) -> np.ndarray:
        return np.asarray(
            self.booster_.predict(matrix, pred_contrib=True, num_threads=self.n_jobs), dtype=np.float64
        )
