"""Champion / challenger promotion.

Policy (documented in ``docs/models.md``): a challenger becomes champion only if, on the
challenger's own out-of-time validation set,

1. it is **not worse** than the champion: AUC ≥ champion AUC − ``auc_tolerance`` (default 0.002,
   below the sampling noise of a validation set of tens of thousands) and expected calibration
   error ≤ max(``max_ece``, champion ECE) (default 0.02);
2. it **passes the fairness gate** (``models.fairness.fairness_gate``) on every sensitive feature
   (gender, age band, district), with approvals counted at the PD cut-off from settings
   (``CREDIT_PD_CUTOFF``).

Every decision, accepted or refused, is recorded with who and why (``scoring.promotions`` and
tags on the MLflow model version).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from models.bundle import ServingBundle
from models.fairness import FairnessPolicy, GateResult, fairness_gate, group_report
from models.metrics import auc, brier, expected_calibration_error, ks

__all__ = [
    "Evaluation",
    "PromotionDecision",
    "PromotionPolicy",
    "decide",
    "evaluate_bundle",
    "fairness_gates",
]

SENSITIVE = ("gender", "age_band", "district")


@dataclass(frozen=True)
class PromotionPolicy:
    auc_tolerance: float = 0.002
    max_ece: float = 0.02
    fairness: FairnessPolicy = field(default_factory=FairnessPolicy)
    sensitive: Sequence[str] = SENSITIVE


@dataclass(frozen=True)
class Evaluation:
    auc: float
    ks: float
    brier: float
    ece: float
    n: int

    def as_dict(self) -> dict[str, float]:
        return {"auc": self.auc, "ks": self.ks, "brier": self.brier, "ece": self.ece, "n": float(self.n)}


@dataclass(frozen=True)
class PromotionDecision:
    accepted: bool
    reasons: tuple[str, ...]


def evaluate(y: np.ndarray, pd_values: np.ndarray) -> Evaluation:
    return Evaluation(
        auc=auc(y, pd_values),
        ks=ks(y, pd_values),
        brier=brier(y, pd_values),
        ece=expected_calibration_error(y, pd_values),
        n=len(y),
    )


def evaluate_bundle(
    bundle: ServingBundle, frame: pd.DataFrame, label: str = "label"
) -> tuple[Evaluation, np.ndarray]:
    """Score ``frame`` (features + label) with a bundle; returns the evaluation and the PDs."""
    missing = [f for f in bundle.features if f not in frame.columns]
    if missing:
        raise KeyError(f"validation data lacks the bundle's features: {missing}")
    pd_values = bundle.predict_pd(bundle.encode(frame))
    return evaluate(frame[label].to_numpy(), pd_values), pd_values


def fairness_gates(
    frame: pd.DataFrame,
    pd_values: np.ndarray,
    *,
    cutoff: float,
    policy: PromotionPolicy,
    label: str = "label",
) -> dict[str, GateResult]:
    gates = {}
    for feature in policy.sensitive:
        if feature in frame.columns:
            report = group_report(frame[label], pd_values, frame[feature], cutoff=cutoff, feature=feature)
            gates[feature] = fairness_gate(report, policy.fairness)
    return gates


def decide(
    champion: Evaluation | None,
    challenger: Evaluation,
    gates: Mapping[str, GateResult],
    policy: PromotionPolicy | None = None,
) -> PromotionDecision:
    """Apply the promotion policy; ``reasons`` lists every breach (empty when accepted)."""
    pol = policy or PromotionPolicy()
    reasons: list[str] = []
    if champion is not None:
        if challenger.auc < champion.auc - pol.auc_tolerance:
            reasons.append(
                f"out-of-time AUC {challenger.auc:.4f} is below the champion's {champion.auc:.4f}"
                f" (tolerance {pol.auc_tolerance})"
            )
        limit = max(pol.max_ece, champion.ece)
        if challenger.ece > limit:
            reasons.append(f"expected calibration error {challenger.ece:.4f} exceeds {limit:.4f}")
    elif challenger.ece > pol.max_ece:
        reasons.append(f"expected calibration error {challenger.ece:.4f} exceeds {pol.max_ece:.4f}")
    for feature, gate in gates.items():
        reasons.extend(f"fairness gate failed: {r}" for r in gate.reasons)
        del feature
    return PromotionDecision(accepted=not reasons, reasons=tuple(reasons))
