"""WoE scorecard: optimal monotone binning (optbinning) and a logistic regression on the WoE.

Why optbinning: it solves the binning as a constrained optimisation (maximal information value
subject to a minimum bin share and a *required* event-rate trend per variable), which is exactly
the "monotone, explainable attribute bins" a public scorecard needs; the hand-rolled alternatives
(quantile or tree bins, then merging by hand) do not guarantee the trend.

Fitting, per the estimator's ``monotone`` mapping (see :mod:`models.monotone`):

1. optbinning ``BinningProcess``: a numeric feature with direction +1 gets an event-rate trend
   ``"descending"``, −1 ``"ascending"``, 0 ``auto_trend`` (default ``"auto_asc_desc"``: the data
   picks the direction, the bins stay monotone); categorical features are binned by event rate.
   Every bin must hold at least ``min_bin_share`` of the rows and at least one good and one bad.
2. Features whose information value is below ``min_iv`` are left out.
3. ``LogisticRegression`` (L2, ``C``) on the WoE. A higher WoE is a lower risk, so every
   coefficient must be ≤ 0 for the score to follow the bins; a feature that comes out with a
   positive coefficient (a collinearity artefact) is dropped and the regression refitted, until
   none is left. This is what keeps the declared directions true of the final model.
4. The bins and coefficients are exported to :class:`models.woe.WoeLogit` — plain numpy lookups —
   and every prediction goes through it (optbinning's own transform costs ~5 ms per row).
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
from optbinning import BinningProcess
from sklearn.linear_model import LogisticRegression

from models.binary import MonotonePdModel
from models.monotone import binning_trend
from models.scaling import DEFAULT_SCALING, ScoreScaling
from models.woe import BinnedFeature, WoeLogit

__all__ = ["WoeScorecard"]


def _fmt(v: float) -> str:
    return f"{v:.6g}"


def _numeric_labels(splits: Sequence[float]) -> tuple[str, ...]:
    edges = ["-inf", *(_fmt(s) for s in splits), "inf"]
    return tuple(f"{'(' if i == 0 else '['}{edges[i]}, {edges[i + 1]})" for i in range(len(edges) - 1))


def _export(optb: Any, name: str, categories: tuple[str, ...] | None) -> BinnedFeature:
    """Read one fitted ``OptimalBinning`` into plain lookups, through its own transform."""
    if categories is None:
        splits = [float(s) for s in np.asarray(optb.splits, dtype=np.float64)]
        reps = [splits[0] - 1.0 if splits else 0.0, *splits]
        woe = optb.transform(np.asarray(reps, dtype=np.float64), metric="woe")
        missing = optb.transform(np.asarray([np.nan]), metric="woe")[0]
        return BinnedFeature(
            name=name,
            kind="numeric",
            splits=tuple(splits),
            woe=tuple(float(w) for w in woe),
            labels=_numeric_labels(splits),
            missing_woe=float(missing),
        )
    groups = [[str(c) for c in group] for group in optb.splits]
    where = {c: i for i, group in enumerate(groups) for c in group}
    woe = optb.transform(np.asarray([g[0] for g in groups], dtype=object), metric="woe") if groups else []
    missing = optb.transform(np.asarray([np.nan], dtype=object), metric="woe")[0]
    return BinnedFeature(
        name=name,
        kind="categorical",
        bin_of_code=tuple(where.get(c, -1) for c in categories),
        woe=tuple(float(w) for w in woe),
        labels=tuple("[" + ", ".join(g) + "]" for g in groups),
        missing_woe=float(missing),
    )


class WoeScorecard(MonotonePdModel):
    """Monotone WoE-binned logistic scorecard with PDO-scaled points.

    Parameters
    ----------
    monotone : mapping of str to int, optional
        ``{feature: +1 (more is better) | −1 (more is worse) | 0}``; see :mod:`models.monotone`.
    categorical : sequence of str, optional
        Categorical features; by default every non-numeric column of the training frame.
    min_bin_share : float, default 0.05
        Smallest share of rows in a bin.
    max_n_bins : int or None, default None
        Cap on the number of bins per feature.
    min_iv : float, default 0.02
        Information-value screen: weaker features are left out.
    auto_trend : str, default "auto_asc_desc"
        optbinning trend for features with direction 0.
    C : float, default 1.0
        Inverse L2 strength of the logistic regression.
    calibration : {"platt", None}, default "platt"
        Out-of-fold Platt calibration (see :mod:`models.calibration`).
    calibration_folds : int, default 3
    scaling : ScoreScaling or None
        Scale of the points table; ``None`` means :data:`models.scaling.DEFAULT_SCALING`.
    random_state : int or None, default 0
        Seed of the calibration folds.

    Attributes
    ----------
    binning_process_ : optbinning.BinningProcess
        The fitted binning (for reports: ``binning_process_.summary()``, binning tables).
    woe_model_ : WoeLogit
        Bins, WoE and coefficients as numpy lookups; all predictions use it.
    iv_ : dict of str to float
        Information value of every feature.
    selected_features_ : list of str
        Features with a (negative) coefficient in the final regression.
    dropped_features_ : dict of str to str
        Left-out features and why (``"iv"`` or ``"coefficient sign"``).
    """

    def __init__(
        self,
        *,
        monotone: Mapping[str, int] | None = None,
        categorical: Sequence[str] | None = None,
        min_bin_share: float = 0.05,
        max_n_bins: int | None = None,
        min_iv: float = 0.02,
        auto_trend: str = "auto_asc_desc",
        C: float = 1.0,
        calibration: str | None = "platt",
        calibration_folds: int = 3,
        scaling: ScoreScaling | None = None,
        random_state: int | None = 0,
    ) -> None:
        self.monotone = monotone
        self.categorical = categorical
        self.min_bin_share = min_bin_share
        self.max_n_bins = max_n_bins
        self.min_iv = min_iv
        self.auto_trend = auto_trend
        self.C = C
        self.calibration = calibration
        self.calibration_folds = calibration_folds
        self.scaling = scaling
        self.random_state = random_state

    def _fit_matrix(self, matrix: np.ndarray, y: np.ndarray) -> None:
        enc = self.encoding_
        features = list(enc.features)
        frame = enc.decode(matrix)
        params: dict[str, dict[str, Any]] = {}
        for name in features:
            p: dict[str, Any] = {"min_bin_n_event": 1, "min_bin_n_nonevent": 1}
            if name not in enc.categories:
                p["monotonic_trend"] = binning_trend(self.monotone_[name], self.auto_trend)
            params[name] = p
        process = BinningProcess(
            features,
            categorical_variables=list(enc.categorical),
            min_bin_size=self.min_bin_share,
            max_n_bins=self.max_n_bins,
            binning_fit_params=params,
        )
        yi = y.astype(np.int64)
        with warnings.catch_warnings():
            # optbinning 1.0 still uses pandas idioms that pandas 3 deprecates; not ours to fix.
            warnings.simplefilter("ignore", DeprecationWarning)
            warnings.simplefilter("ignore", FutureWarning)
            process.fit(frame, yi)
            summary = process.summary().set_index("name")
            binned = [
                _export(process.get_binned_variable(name), name, enc.categories.get(name))
                for name in features
            ]
        iv = {name: float(summary.loc[name, "iv"]) for name in features}
        dropped = {name: "iv" for name in features if not iv[name] >= self.min_iv}
        kept = [j for j, name in enumerate(features) if name not in dropped]
        woe = np.column_stack([binned[j].transform(matrix[:, j]) for j in kept]) if kept else None
        coef = np.zeros(len(features))
        intercept = float(np.log(y.mean()) - np.log1p(-y.mean()))
        while kept and woe is not None:
            lr = LogisticRegression(C=self.C, max_iter=1000).fit(woe, yi)
            worst = int(np.argmax(lr.coef_[0]))
            if lr.coef_[0][worst] <= 0.0:
                coef[kept] = lr.coef_[0]
                intercept = float(lr.intercept_[0])
                break
            dropped[features[kept[worst]]] = "coefficient sign"
            woe = np.delete(woe, worst, axis=1)
            del kept[worst]
        if not kept:
            raise ValueError("no feature passed the information-value screen and the sign check")
        self.binning_process_ = process
        self.iv_ = iv
        self.dropped_features_ = dropped
        self.selected_features_ = [features[j] for j in kept]
        self.woe_model_ = WoeLogit(
            features=tuple(binned), coef=tuple(float(c) for c in coef), intercept=intercept
        )

    def _raw_logit_matrix(self, matrix: np.ndarray) -> np.ndarray:
        return self.woe_model_.raw_logit(matrix)

    def _contributions_matrix(self, matrix: np.ndarray) -> np.ndarray:
        return self.woe_model_.contributions(matrix)

    @property
    def scaling_(self) -> ScoreScaling:
        """The scale in effect."""
        return self.scaling if self.scaling is not None else DEFAULT_SCALING

    def points_table(self) -> pd.DataFrame:
        """The scorecard: ``Variable``, ``Bin``, ``WoE``, ``Points`` (calibrated, PDO-scaled).

        Each used variable lists its bins and a ``Missing`` row (missing values and unseen
        categories). A person's unclipped score is the sum of their bins' points.
        """
        return self.woe_model_.points_table(self.calibration_params(), self.scaling_)

    def points(self, X: pd.DataFrame | npt.ArrayLike) -> np.ndarray:
        """Points per feature and row, shape (n_samples, n_features); rows sum to the unclipped score."""
        return self.woe_model_.points(self.transform_input(X), self.calibration_params(), self.scaling_)
