"""The plumbing both PD model families share: input encoding, calibration, probability output.

A subclass learns from an encoded float matrix (see :mod:`models.encoding`) and provides raw
(uncalibrated) log-odds of bad and per-feature contributions; this base class turns them into the
scikit-learn interface. Inputs to ``predict_*`` may be a data frame with the training columns (raw
values, categories as text) or an already encoded ``numpy`` matrix in ``feature_names_in_`` order —
the same matrix the serving bundle takes.
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Mapping, Sequence
from typing import Any, Self

import numpy as np
import numpy.typing as npt
import pandas as pd
from sklearn.base import BaseEstimator, ClassifierMixin, clone

from models.calibration import PlattCalibration, cross_fit_logits, fit_platt, sigmoid
from models.encoding import FeatureEncoding
from models.monotone import validate_monotone

__all__ = ["MonotonePdModel"]

_CALIBRATIONS = ("platt", None)


def _as_frame(X: pd.DataFrame | npt.ArrayLike) -> pd.DataFrame:
    if isinstance(X, pd.DataFrame):
        return X
    arr = np.asarray(X, dtype=np.float64)
    if arr.ndim != 2:
        raise ValueError(f"expected a 2-D input, got shape {arr.shape}")
    return pd.DataFrame(arr, columns=[f"x{j}" for j in range(arr.shape[1])])


class MonotonePdModel(ClassifierMixin, BaseEstimator):
    """Base class of the PD estimators (not used directly).

    Subclasses take at least the parameters ``monotone``, ``categorical``, ``calibration``,
    ``calibration_folds`` and ``random_state`` and implement ``_fit_matrix``,
    ``_raw_logit_matrix`` and ``_contributions_matrix``.

    Attributes
    ----------
    classes_ : ndarray of shape (2,)
        Class labels; ``classes_[1]`` is the event (bad).
    feature_names_in_ : ndarray of str
        Features in model order.
    n_features_in_ : int
    encoding_ : FeatureEncoding
        Data frame → model matrix.
    monotone_ : dict of str to int
        The direction of every feature (0 where none was given).
    calibration_ : PlattCalibration or None
        Fitted on out-of-fold raw log-odds; None when ``calibration=None``.
    """

    monotone: Mapping[str, int] | None
    categorical: Sequence[str] | None
    calibration: str | None
    calibration_folds: int
    random_state: int | None

    # --- subclass hooks -------------------------------------------------------------------------
    @abstractmethod
    def _fit_matrix(self, matrix: np.ndarray, y: np.ndarray) -> None: ...

    @abstractmethod
    def _raw_logit_matrix(self, matrix: np.ndarray) -> np.ndarray: ...

    @abstractmethod
    def _contributions_matrix(self, matrix: np.ndarray) -> np.ndarray: ...

    # --- fitting ---------------------------------------------------------------------------------
    def fit(self, X: pd.DataFrame | npt.ArrayLike, y: npt.ArrayLike) -> Self:
        """Fit the model and, unless ``calibration=None``, its calibrator.

        Parameters
        ----------
        X : pandas.DataFrame or array-like of shape (n_samples, n_features)
            Raw features. A plain array is read as numeric columns named ``x0``, ``x1``, ….
        y : array-like of shape (n_samples,)
            Two classes; the larger label (1 = bad) is the event.

        Returns
        -------
        self
        """
        if self.calibration not in _CALIBRATIONS:
            raise ValueError(f"calibration must be one of {_CALIBRATIONS}, got {self.calibration!r}")
        frame = _as_frame(X)
        if not isinstance(X, pd.DataFrame) and self.categorical:
            raise ValueError("categorical features need a DataFrame input")
        yy = np.asarray(y).ravel()
        classes = np.unique(yy)
        if classes.size != 2:
            raise ValueError(f"y must have exactly two classes, got {classes.size}")
        if yy.size != len(frame):
            raise ValueError(f"X has {len(frame)} rows, y has {yy.size}")
        y01 = (yy == classes[1]).astype(np.float64)
        self.classes_ = classes
        self.encoding_ = FeatureEncoding.fit(frame, self.categorical)
        self.feature_names_in_ = np.asarray(self.encoding_.features, dtype=object)
        self.n_features_in_ = len(self.encoding_.features)
        self.monotone_ = validate_monotone(self.monotone, self.encoding_.features, self.encoding_.categorical)
        matrix = self.encoding_.transform(frame)
        oof = None
        if self.calibration == "platt":
            oof = cross_fit_logits(
                lambda tr, te: self._fresh()._fitted_on(matrix[tr], y01[tr])._raw_logit_matrix(matrix[te]),
                y01,
                n_splits=self.calibration_folds,
                random_state=self.random_state,
            )
        self._fit_matrix(matrix, y01)
        self.calibration_ = None if oof is None else fit_platt(oof, y01)
        return self

    def _fresh(self) -> MonotonePdModel:
        other: MonotonePdModel = clone(self)
        other.classes_ = self.classes_
        other.encoding_ = self.encoding_
        other.feature_names_in_ = self.feature_names_in_
        other.n_features_in_ = self.n_features_in_
        other.monotone_ = self.monotone_
        other.calibration_ = None
        return other

    def _fitted_on(self, matrix: np.ndarray, y: np.ndarray) -> MonotonePdModel:
        self._fit_matrix(matrix, y)
        return self

    # --- prediction ------------------------------------------------------------------------------
    def transform_input(self, X: pd.DataFrame | npt.ArrayLike) -> np.ndarray:
        """The encoded float matrix of ``X`` (an encoded array passes through after a shape check)."""
        if isinstance(X, pd.DataFrame):
            return self.encoding_.transform(X)
        arr = np.asarray(X, dtype=np.float64)
        if arr.ndim != 2 or arr.shape[1] != self.n_features_in_:
            raise ValueError(f"expected shape (n, {self.n_features_in_}), got {arr.shape}")
        return arr

    def raw_logit(self, X: pd.DataFrame | npt.ArrayLike) -> np.ndarray:
        """Uncalibrated log-odds of bad."""
        return self._raw_logit_matrix(self.transform_input(X))

    def decision_function(self, X: pd.DataFrame | npt.ArrayLike) -> np.ndarray:
        """Calibrated log-odds of bad."""
        raw = self.raw_logit(X)
        return raw if self.calibration_ is None else self.calibration_.transform(raw)

    def predict_pd(self, X: pd.DataFrame | npt.ArrayLike) -> np.ndarray:
        """Calibrated probability of default, shape (n_samples,)."""
        return sigmoid(self.decision_function(X))

    def predict_proba(self, X: pd.DataFrame | npt.ArrayLike) -> np.ndarray:
        """Class probabilities, shape (n_samples, 2); column 1 is the PD."""
        p = self.predict_pd(X)
        return np.column_stack([1.0 - p, p])

    def predict(self, X: pd.DataFrame | npt.ArrayLike) -> np.ndarray:
        """The more probable class (PD ≥ 0.5 → ``classes_[1]``)."""
        return self.classes_[(self.predict_pd(X) >= 0.5).astype(int)]

    def contributions(self, X: pd.DataFrame | npt.ArrayLike) -> np.ndarray:
        """Per-feature contributions to the raw log-odds of bad, shape (n_samples, n_features + 1).

        The last column is the bias; each row sums to :meth:`raw_logit`. Positive values push
        towards default.
        """
        return self._contributions_matrix(self.transform_input(X))

    def calibration_params(self) -> PlattCalibration:
        """The calibration in effect (identity when ``calibration=None``)."""
        return self.calibration_ if self.calibration_ is not None else PlattCalibration()

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_class = False
        return tags
