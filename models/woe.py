"""A fitted WoE scorecard as plain numpy lookups (no optbinning needed to score).

:class:`BinnedFeature` holds one feature's bins and weight of evidence (WoE, optbinning's sign:
``ln(share of goods / share of bads)``, so a higher WoE is a lower risk); :class:`WoeLogit` adds
the logistic-regression coefficients. Scoring is a ``searchsorted`` (numeric) or an index lookup
(categorical, on the category codes of :mod:`models.encoding`) per feature, so one row costs
microseconds. The in-memory scorecard and the serving bundle both score through this class, which
is what makes their predictions identical.

Bins: numeric bin ``i`` is ``[splits[i−1], splits[i])`` (optbinning's ``np.digitize(right=False)``);
missing values, and categories not seen in training, take ``missing_woe`` (0, the average risk,
as optbinning does by default).
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any, Literal

import numpy as np
import pandas as pd

from models.calibration import PlattCalibration
from models.scaling import ScoreScaling

__all__ = ["MISSING_BIN", "BinnedFeature", "WoeLogit"]

MISSING_BIN = "Missing"


@dataclass(frozen=True)
class BinnedFeature:
    """One feature's bins and their WoE.

    Attributes
    ----------
    name : str
    kind : {"numeric", "categorical"}
    splits : tuple of float
        Numeric only: ascending cut points; ``len(splits) + 1`` bins.
    bin_of_code : tuple of int
        Categorical only: the bin of each category code (−1 = no bin, scored as missing).
    woe : tuple of float
        WoE of each bin.
    labels : tuple of str
        Display label of each bin.
    missing_woe : float
        WoE of missing values and unseen categories.
    """

    name: str
    kind: Literal["numeric", "categorical"]
    woe: tuple[float, ...]
    labels: tuple[str, ...]
    splits: tuple[float, ...] = ()
    bin_of_code: tuple[int, ...] = ()
    missing_woe: float = 0.0

    def __post_init__(self) -> None:
        if len(self.woe) != len(self.labels):
            raise ValueError(f"{self.name}: {len(self.woe)} WoE values for {len(self.labels)} bins")
        if self.kind == "numeric" and len(self.woe) != len(self.splits) + 1:
            raise ValueError(f"{self.name}: {len(self.splits)} splits need {len(self.splits) + 1} bins")
        if self.kind == "numeric" and any(b <= a for a, b in zip(self.splits, self.splits[1:], strict=False)):
            raise ValueError(f"{self.name}: splits must be strictly ascending")

    def bin_index(self, column: np.ndarray) -> np.ndarray:
        """Bin of each value; −1 for missing (NaN, unknown category)."""
        x = np.asarray(column, dtype=np.float64)
        missing = np.isnan(x)
        if self.kind == "numeric":
            idx = np.searchsorted(self._arrays[0], x, side="right")
        else:
            n_codes = len(self.bin_of_code)
            codes = np.where(missing | (x < 0) | (x >= n_codes), n_codes, x)
            idx = self._arrays[0][codes.astype(np.int64)]
        return np.where(missing, -1, idx)

    def woe_of(self, value: float) -> float:
        """WoE of one encoded value (the per-row fast path; same result as :meth:`transform`)."""
        if value != value:  # NaN
            return self.missing_woe
        if self.kind == "numeric":
            return self.woe[bisect_right(self.splits, value)]
        if value < 0 or value >= len(self.bin_of_code):
            return self.missing_woe
        b = self.bin_of_code[int(value)]
        return self.missing_woe if b < 0 else self.woe[b]

    def transform(self, column: np.ndarray) -> np.ndarray:
        """WoE of each value."""
        idx = self.bin_index(column)
        return self._arrays[1][idx]  # index −1 is the appended missing WoE

    @cached_property
    def _arrays(self) -> tuple[np.ndarray, np.ndarray]:
        # (splits, or code → bin with −1 appended for "no code"), (WoE per bin, missing WoE last)
        first = (
            np.asarray(self.splits, dtype=np.float64)
            if self.kind == "numeric"
            else np.asarray((*self.bin_of_code, -1), dtype=np.int64)
        )
        return first, np.asarray((*self.woe, self.missing_woe), dtype=np.float64)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "name": self.name,
            "kind": self.kind,
            "splits": list(self.splits),
            "bin_of_code": list(self.bin_of_code),
            "woe": list(self.woe),
            "labels": list(self.labels),
            "missing_woe": self.missing_woe,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> BinnedFeature:
        """Inverse of :meth:`to_dict`."""
        return cls(
            name=str(data["name"]),
            kind=data["kind"],
            splits=tuple(float(v) for v in data["splits"]),
            bin_of_code=tuple(int(v) for v in data["bin_of_code"]),
            woe=tuple(float(v) for v in data["woe"]),
            labels=tuple(str(v) for v in data["labels"]),
            missing_woe=float(data["missing_woe"]),
        )


@dataclass(frozen=True)
class WoeLogit:
    """Logistic regression on WoE: ``raw log-odds of bad = intercept + Σ coef_j · WoE_j``.

    ``features`` covers every model input in order; a feature the regression does not use has
    coefficient 0.
    """

    features: tuple[BinnedFeature, ...]
    coef: tuple[float, ...]
    intercept: float

    def __post_init__(self) -> None:
        if len(self.features) != len(self.coef):
            raise ValueError("one coefficient per feature")

    @cached_property
    def used(self) -> tuple[int, ...]:
        """Indices of the features with a non-zero coefficient."""
        return tuple(j for j, c in enumerate(self.coef) if c != 0.0)

    def woe_matrix(self, matrix: np.ndarray) -> np.ndarray:
        """WoE of every cell of an encoded matrix."""
        out = np.zeros(matrix.shape, dtype=np.float64)
        for j in self.used:
            out[:, j] = self.features[j].transform(matrix[:, j])
        return out

    def contributions(self, matrix: np.ndarray) -> np.ndarray:
        """``coef_j · WoE_j`` per feature, then the intercept as the last column."""
        n = matrix.shape[0]
        out = np.zeros((n, len(self.features) + 1), dtype=np.float64)
        if n == 1:
            row = matrix[0].tolist()
            for j in self.used:
                out[0, j] = self.coef[j] * self.features[j].woe_of(row[j])
        else:
            for j in self.used:
                out[:, j] = self.coef[j] * self.features[j].transform(matrix[:, j])
        out[:, -1] = self.intercept
        return out

    def raw_logit(self, matrix: np.ndarray) -> np.ndarray:
        """Raw log-odds of bad (a Python loop for a single row, numpy columns otherwise)."""
        if matrix.shape[0] == 1:
            row = matrix[0].tolist()
            acc = self.intercept
            for j in self.used:
                acc = acc + self.coef[j] * self.features[j].woe_of(row[j])
            return np.array([acc], dtype=np.float64)
        z = np.full(matrix.shape[0], self.intercept, dtype=np.float64)
        for j in self.used:
            z = z + self.coef[j] * self.features[j].transform(matrix[:, j])
        return z

    def _point_terms(self, calibration: PlattCalibration, scaling: ScoreScaling) -> tuple[float, float]:
        # score = offset − factor·(a + b·(intercept + Σ coef·woe)) split into per-feature terms:
        # points_j = −factor·b·coef_j·woe_j + base/m  (m = number of used features).
        used = self.used
        if not used:
            raise ValueError("the scorecard uses no feature")
        per_logit = -scaling.factor * calibration.slope
        base = scaling.offset - scaling.factor * (calibration.intercept + calibration.slope * self.intercept)
        return per_logit, base / len(used)

    def points(self, matrix: np.ndarray, calibration: PlattCalibration, scaling: ScoreScaling) -> np.ndarray:
        """Score points per feature, shape (n, n_features); rows sum to the unclipped score."""
        per_logit, share = self._point_terms(calibration, scaling)
        contrib = self.contributions(matrix)[:, :-1]
        out = per_logit * contrib
        used = list(self.used)
        out[:, used] += share
        return out

    def points_table(self, calibration: PlattCalibration, scaling: ScoreScaling) -> pd.DataFrame:
        """One row per bin of every used feature: ``Variable``, ``Bin``, ``WoE``, ``Points``.

        A person's unclipped score is the sum of the points of their bins (one per variable).
        """
        per_logit, share = self._point_terms(calibration, scaling)
        rows = []
        for j in self.used:
            feat, c = self.features[j], self.coef[j]
            for label, w in (*zip(feat.labels, feat.woe, strict=True), (MISSING_BIN, feat.missing_woe)):
                rows.append(
                    {"Variable": feat.name, "Bin": label, "WoE": w, "Points": per_logit * c * w + share}
                )
        return pd.DataFrame(rows, columns=["Variable", "Bin", "WoE", "Points"])

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "intercept": self.intercept,
            "coef": list(self.coef),
            "features": [f.to_dict() for f in self.features],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> WoeLogit:
        """Inverse of :meth:`to_dict`."""
        feats: Sequence[Mapping[str, Any]] = data["features"]
        return cls(
            features=tuple(BinnedFeature.from_dict(f) for f in feats),
            coef=tuple(float(c) for c in data["coef"]),
            intercept=float(data["intercept"]),
        )
