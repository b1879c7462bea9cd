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
from scoring.settings import Settings

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


@dataclass(frozen=True)
class PromotionOutcome:
    subject: str
    champion: str | None
    challenger: str
    decision: PromotionDecision
    champion_eval: Evaluation | None
    challenger_eval: Evaluation


def promote(settings: Settings, subject: str, *, actor: str, reason: str) -> PromotionOutcome:
    """Decide whether the challenger replaces the champion; record the decision either way.

    Both versions are scored on the challenger's out-of-time validation set (logged with its
    run), so they are compared on the same people at the same date.
    """
    import tempfile
    from pathlib import Path

    import mlflow.artifacts

    from experiments.registry import CHALLENGER, CHAMPION, alias_version, download_bundle, export_bundle
    from experiments.tracking import REGISTERED_MODELS, client
    from scoring.db.engine import make_engine
    from scoring.promotions import record_promotion

    if not actor.strip() or not reason.strip():
        raise ValueError("a promotion needs who (--actor) and why (--reason)")
    c = client(settings)
    name = REGISTERED_MODELS[subject]
    challenger_v = alias_version(c, name, CHALLENGER)
    if challenger_v is None:
        raise LookupError(f"{name} has no challenger to promote")
    champion_v = alias_version(c, name, CHAMPION)
    run_id = (
        c.get_model_version(name, challenger_v).tags.get("run_id")
        or c.get_model_version(name, challenger_v).run_id
    )
    with tempfile.TemporaryDirectory() as tmp:
        local = Path(
            mlflow.artifacts.download_artifacts(
                run_id=run_id, artifact_path="validation/validation.parquet", dst_path=tmp
            )
        )
        frame = pd.read_parquet(local)
        challenger_bundle = download_bundle(c, subject, challenger_v, Path(tmp) / "challenger")
        challenger_eval, challenger_pd = evaluate_bundle(challenger_bundle, frame)
        champion_eval = None
        if champion_v is not None:
            champion_bundle = download_bundle(c, subject, champion_v, Path(tmp) / "champion")
            champion_eval, _ = evaluate_bundle(champion_bundle, frame)
    policy = PromotionPolicy()
    gates = fairness_gates(frame, challenger_pd, cutoff=settings.pd_cutoff, policy=policy)
    decision = decide(champion_eval, challenger_eval, gates, policy)
    evidence = {
        "champion": None if champion_eval is None else champion_eval.as_dict(),
        "challenger": challenger_eval.as_dict(),
        "gates": {f: {"passed": g.passed, "reasons": list(g.reasons)} for f, g in gates.items()},
        "refusals": list(decision.reasons),
        "pd_cutoff": settings.pd_cutoff,
    }
    outcome = "promoted" if decision.accepted else "refused"
    if decision.accepted:
        export_bundle(c, settings, subject, challenger_v, champion=False)
        c.set_registered_model_alias(name, CHAMPION, challenger_v)
        c.delete_registered_model_alias(name, CHALLENGER)
        export_bundle(c, settings, subject, challenger_v, champion=True)
    for key, value in {"promotion": outcome, "promotion_actor": actor, "promotion_reason": reason}.items():
        c.set_model_version_tag(name, challenger_v, key, value)
    engine = make_engine(settings.database_url)
    try:
        record_promotion(
            engine,
            registered_model=name,
            subject=subject,
            candidate_version=challenger_v,
            previous_champion=champion_v,
            outcome=outcome,
            actor=actor,
            reason=reason,
            evidence=evidence,
        )
    finally:
        engine.dispose()
    return PromotionOutcome(subject, champion_v, challenger_v, decision, champion_eval, challenger_eval)
