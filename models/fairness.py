"""Group fairness report and the release gate a model must pass.

Why fairlearn: its ``MetricFrame`` computes any set of metrics per group of a sensitive feature
(plus overall, differences, ratios) in one call, with no heavy dependencies; we use it for the
disaggregation and keep the policy here.

:func:`group_report` gives, per group of one sensitive feature (gender, age band, district,
thin-file flag, …): ``count``, ``bads``, ``auc`` (with its Hanley–McNeil standard error
``auc_se``), ``mean_pd`` and ``observed_rate`` (calibration in the large) and their difference
``calibration_gap``, and ``approval_rate`` — the share approved at a PD cut-off (approve when
``PD < cutoff``).

Release policy (:class:`FairnessPolicy`, checked by :func:`fairness_gate`; groups smaller than
``min_group_size`` = 50 are reported but not gated):

1. **Approval parity (four-fifths rule):** lowest approval rate / highest approval rate ≥ **0.8**.
2. **Ranking parity:** highest group AUC − lowest group AUC ≤ **0.05**, or within sampling noise —
   the gap must also exceed ``z`` (1.96) standard errors of the difference to fail. Approval
   parity alone can hide a model that ranks one group much worse.
3. **Calibration per group:** ``|mean PD − observed bad rate|`` ≤ **0.02** in every group, again
   failing only when it also exceeds ``z`` binomial standard errors of the observed rate. A model
   that systematically over-states one group's risk fails here even if it ranks well.

The noise allowance keeps small groups from failing a sound model by chance; set ``z = 0`` for
the bare thresholds. A failed gate lists every breach in ``reasons``; the model is not promoted.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import partial

import numpy as np
import numpy.typing as npt
import pandas as pd
from fairlearn.metrics import MetricFrame

from models.metrics import auc

__all__ = ["FairnessPolicy", "FairnessReport", "GateResult", "age_band", "fairness_gate", "group_report"]

MISSING_GROUP = "(missing)"


def _safe_auc(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    yt = np.asarray(y_true)
    if yt.min() == yt.max():
        return float("nan")
    return auc(yt, y_pred)


def _approval_rate(y_true: np.ndarray, y_pred: np.ndarray, *, cutoff: float) -> float:
    return float(np.mean(np.asarray(y_pred) < cutoff))


def _count(y_true: np.ndarray, y_pred: np.ndarray) -> int:
    return int(np.asarray(y_true).size)


def _bads(y_true: np.ndarray, y_pred: np.ndarray) -> int:
    return int(np.sum(y_true))


def _mean_pd(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    return float(np.mean(y_pred))


def _observed(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    return float(np.mean(y_true))


def _hanley_mcneil_se(a: float, n_bad: float, n_good: float) -> float:
    if not (np.isfinite(a) and n_bad > 0 and n_good > 0):
        return float("nan")
    q1, q2 = a / (2 - a), 2 * a * a / (1 + a)
    var = (a * (1 - a) + (n_bad - 1) * (q1 - a * a) + (n_good - 1) * (q2 - a * a)) / (n_bad * n_good)
    return float(np.sqrt(max(var, 0.0)))


@dataclass(frozen=True)
class FairnessReport:
    """Metrics per group of one sensitive feature.

    Attributes
    ----------
    feature : str
        Name of the sensitive feature.
    cutoff : float
        PD cut-off of the approval rate.
    by_group : pandas.DataFrame
        Index = group; columns ``count``, ``bads``, ``auc``, ``auc_se``, ``mean_pd``,
        ``observed_rate``, ``calibration_gap``, ``approval_rate``.
    overall : pandas.Series
        The same metrics on everyone.
    """

    feature: str
    cutoff: float
    by_group: pd.DataFrame
    overall: pd.Series


def group_report(
    y: npt.ArrayLike,
    pd_pred: npt.ArrayLike,
    sensitive: npt.ArrayLike | pd.Series,
    *,
    cutoff: float,
    feature: str = "group",
) -> FairnessReport:
    """Disaggregate discrimination, calibration and approvals by a sensitive feature.

    Parameters
    ----------
    y : array-like of {0, 1}
        Observed outcome, 1 = bad.
    pd_pred : array-like of float
        Predicted probability of default.
    sensitive : array-like
        Group of each row; missing values form the group ``"(missing)"``.
    cutoff : float
        Approve when ``PD < cutoff``.
    feature : str
        Name shown in reasons.

    Returns
    -------
    FairnessReport
    """
    yy = np.asarray(y, dtype=np.float64).ravel()
    pp = np.asarray(pd_pred, dtype=np.float64).ravel()
    groups = pd.Series(np.asarray(sensitive, dtype=object).ravel())
    groups = groups.map(str, na_action="ignore").fillna(MISSING_GROUP).astype(object)
    if not (yy.size == pp.size == groups.size):
        raise ValueError("y, pd_pred and sensitive must have the same length")
    frame = MetricFrame(
        metrics={
            "count": _count,
            "bads": _bads,
            "auc": _safe_auc,
            "mean_pd": _mean_pd,
            "observed_rate": _observed,
            "approval_rate": partial(_approval_rate, cutoff=cutoff),
        },
        y_true=yy,
        y_pred=pp,
        sensitive_features=groups.rename(feature),
    )
    by_group = frame.by_group.astype(float)
    overall = frame.overall.astype(float)
    for table in (by_group, overall):
        table["calibration_gap"] = table["mean_pd"] - table["observed_rate"]
    by_group["auc_se"] = [_hanley_mcneil_se(r.auc, r.bads, r.count - r.bads) for r in by_group.itertuples()]
    overall["auc_se"] = _hanley_mcneil_se(overall["auc"], overall["bads"], overall["count"] - overall["bads"])
    columns = [
        "count",
        "bads",
        "auc",
        "auc_se",
        "mean_pd",
        "observed_rate",
        "calibration_gap",
        "approval_rate",
    ]
    return FairnessReport(
        feature=feature, cutoff=cutoff, by_group=by_group[columns], overall=overall[columns]
    )


@dataclass(frozen=True)
class FairnessPolicy:
    """Thresholds of the release gate (see the module documentation)."""

    min_approval_ratio: float = 0.8
    max_auc_gap: float = 0.05
    max_calibration_gap: float = 0.02
    min_group_size: int = 50
    z: float = 1.96


@dataclass(frozen=True)
class GateResult:
    """Outcome of :func:`fairness_gate`: ``passed`` is False iff ``reasons`` is not empty."""

    passed: bool
    reasons: tuple[str, ...]
    notes: tuple[str, ...] = ()
    checks: dict[str, float] = field(default_factory=dict)


def fairness_gate(report: FairnessReport, policy: FairnessPolicy | None = None) -> GateResult:
    """Pass or fail a model on one sensitive feature under ``policy`` (default :class:`FairnessPolicy`).

    Returns
    -------
    GateResult
        ``reasons`` names each breach (four-fifths approval ratio, AUC gap, calibration per
        group); ``notes`` lists what could not be assessed; ``checks`` holds the measured values.
    """
    pol = policy or FairnessPolicy()
    table = report.by_group
    name = report.feature
    reasons: list[str] = []
    notes: list[str] = []
    checks: dict[str, float] = {}
    small = table.index[table["count"] < pol.min_group_size].tolist()
    if small:
        notes.append(f"{name}: groups below {pol.min_group_size} rows not gated: {small}")
    assessed = table[table["count"] >= pol.min_group_size]
    if len(assessed) < 2:
        notes.append(f"{name}: fewer than two groups large enough to compare")
        return GateResult(passed=True, reasons=(), notes=tuple(notes), checks=checks)

    top = float(assessed["approval_rate"].max())
    low = float(assessed["approval_rate"].min())
    ratio = 1.0 if top == 0 else low / top
    checks["approval_ratio"] = ratio
    if ratio < pol.min_approval_ratio:
        worst, best = assessed["approval_rate"].idxmin(), assessed["approval_rate"].idxmax()
        reasons.append(
            f"{name}: approval rate of {worst!r} ({low:.3f}) is {ratio:.2f} of {best!r} ({top:.3f}),"
            f" below the four-fifths threshold {pol.min_approval_ratio}"
        )

    ranked = assessed.dropna(subset=["auc"])
    if len(ranked) >= 2:
        hi, lo = ranked["auc"].idxmax(), ranked["auc"].idxmin()
        gap = float(ranked.loc[hi, "auc"] - ranked.loc[lo, "auc"])
        noise = pol.z * float(np.hypot(ranked.loc[hi, "auc_se"], ranked.loc[lo, "auc_se"]))
        checks["auc_gap"] = gap
        if gap > max(pol.max_auc_gap, noise):
            reasons.append(
                f"{name}: AUC of {lo!r} ({ranked.loc[lo, 'auc']:.3f}) trails {hi!r}"
                f" ({ranked.loc[hi, 'auc']:.3f}) by {gap:.3f} > {max(pol.max_auc_gap, noise):.3f}"
            )
    else:
        notes.append(f"{name}: AUC not comparable (a group lacks goods or bads)")

    worst_gap = 0.0
    for group, row in assessed.iterrows():
        gap = float(row["calibration_gap"])
        worst_gap = max(worst_gap, abs(gap))
        mean_pd = float(np.clip(row["mean_pd"], 1e-6, 1 - 1e-6))
        allowed = max(pol.max_calibration_gap, pol.z * float(np.sqrt(mean_pd * (1 - mean_pd) / row["count"])))
        if abs(gap) > allowed:
            reasons.append(
                f"{name}: group {group!r} mean PD {row['mean_pd']:.3f} vs observed {row['observed_rate']:.3f}"
                f" (gap {gap:+.3f}, allowed ±{allowed:.3f})"
            )
    checks["max_calibration_gap"] = worst_gap
    return GateResult(passed=not reasons, reasons=tuple(reasons), notes=tuple(notes), checks=checks)


def age_band(age: npt.ArrayLike, edges: Sequence[int] = (25, 35, 45, 55, 65)) -> np.ndarray:
    """Age bands as labels: ``"<25"``, ``"25-34"``, …, ``"65+"``; missing age → ``"(missing)"``."""
    a = np.asarray(age, dtype=np.float64)
    labels = [f"<{edges[0]}"] + [f"{lo}-{hi - 1}" for lo, hi in itertools.pairwise(edges)]
    labels.append(f"{edges[-1]}+")
    idx = np.searchsorted(np.asarray(edges, dtype=np.float64), a, side="right")
    out = np.asarray(labels, dtype=object)[np.minimum(idx, len(labels) - 1)]
    out[np.isnan(a)] = MISSING_GROUP
    return out
