from pathlib import Path

import mlflow
import numpy as np
import pandas as pd
import pytest

from experiments.promotion import Evaluation, PromotionPolicy, decide, evaluate, fairness_gates
from experiments.registry import CHAMPION, alias_version, download_bundle, export_bundle, register_bundle
from experiments.tracking import REGISTERED_MODELS, client, ensure_experiment
from models.bundle import ServingBundle, dataset_fingerprint
from models.gbm import MonotoneLgbm
from scoring.bundles import champion_version, load_champion
from scoring.promotions import list_promotions, record_promotion
from scoring.settings import Settings


def _data(n: int = 3000, seed: int = 0) -> tuple[pd.DataFrame, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = pd.DataFrame(
        {"late": rng.poisson(1.0, n).astype(float), "paid": rng.integers(0, 37, n).astype(float)}
    )
    logit = -3 + 0.8 * X["late"] - 0.05 * X["paid"]
    y = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int)
    return X, y


def test_register_alias_download_export_identical(tmp_path: Path) -> None:
    settings = Settings(
        environment="test",
        mlflow_tracking_uri=f"sqlite:///{tmp_path}/mlflow.db",
        mlflow_artifact_root=str(tmp_path / "mlruns"),
        bundle_dir=tmp_path / "bundles",
    )
    X, y = _data()
    model = MonotoneLgbm(monotone={"late": -1, "paid": 1}, n_estimators=40).fit(X, y)
    bundle = ServingBundle.from_estimator(
        model,
        model_name="tmp",
        model_version="0",
        feature_registry_version="test",
        training_data_hash=dataset_fingerprint(X, y),
    )
    c = client(settings)
    exp = ensure_experiment("person-pd", settings)
    with mlflow.start_run(experiment_id=exp):
        version = register_bundle(c, bundle, subject="person", tags={"auc_oot": "0.8"})
    assert version == "1"
    c.set_registered_model_alias(REGISTERED_MODELS["person"], CHAMPION, version)
    assert alias_version(c, REGISTERED_MODELS["person"], CHAMPION) == "1"
    assert alias_version(c, REGISTERED_MODELS["person"], "challenger") is None

    expected = model.predict_pd(X)
    loaded = download_bundle(c, "person", version, tmp_path / "dl")
    assert loaded.model_version == "1" and loaded.model_name == "credit-person-pd"
    np.testing.assert_array_equal(loaded.predict_pd(loaded.encode(X)), expected)

    export_bundle(c, settings, "person", version, champion=True)
    assert champion_version(settings.bundle_dir, "person") == "1"
    served = load_champion(settings.bundle_dir, "person")
    np.testing.assert_array_equal(served.predict_pd(served.encode(X)), expected)


def test_promotion_refuses_worse_and_unfair_challengers() -> None:
    champ = Evaluation(auc=0.80, ks=0.45, brier=0.05, ece=0.010, n=10000)
    worse = Evaluation(auc=0.79, ks=0.44, brier=0.05, ece=0.010, n=10000)
    d = decide(champ, worse, {})
    assert not d.accepted
    assert d.reasons == ("out-of-time AUC 0.7900 is below the champion's 0.8000 (tolerance 0.002)",)
    assert decide(champ, Evaluation(0.799, 0.45, 0.05, 0.01, 10000), {}).accepted  # within tolerance

    # A better-ranking challenger that approves one gender far less often at the cut-off.
    rng = np.random.default_rng(3)
    n = 20000
    gender = np.where(rng.random(n) < 0.5, "F", "M")
    risk = rng.normal(size=n)
    y = (rng.random(n) < 1 / (1 + np.exp(-(-3 + 1.5 * risk)))).astype(int)
    fair_pd = 1 / (1 + np.exp(-(-3 + 1.5 * risk)))
    biased_pd = np.where(gender == "F", np.clip(fair_pd * 3.0, 0, 0.99), fair_pd)
    frame = pd.DataFrame({"label": y, "gender": gender})
    pol = PromotionPolicy()
    fair_gates = fairness_gates(frame, fair_pd, cutoff=0.10, policy=pol)
    assert fair_gates["gender"].passed
    biased_eval = evaluate(y, biased_pd)
    better = Evaluation(auc=0.95, ks=biased_eval.ks, brier=biased_eval.brier, ece=0.0, n=n)
    gates = fairness_gates(frame, biased_pd, cutoff=0.10, policy=pol)
    decision = decide(champ, better, gates)
    assert not decision.accepted
    assert any(r.startswith("fairness gate failed: gender: approval rate of 'F'") for r in decision.reasons)


def test_promotions_are_recorded_with_who_and_why(engine) -> None:
    with pytest.raises(ValueError, match="who and why"):
        record_promotion(
            engine,
            registered_model="m",
            subject="person",
            candidate_version="2",
            previous_champion="1",
            outcome="promoted",
            actor=" ",
            reason="x",
            evidence={},
        )
    record_promotion(
        engine,
        registered_model="m",
        subject="person",
        candidate_version="2",
        previous_champion="1",
        outcome="refused",
        actor="reviewer:li",
        reason="AUC lower",
        evidence={"auc": [0.8, 0.79]},
    )
    rows = list_promotions(engine, "m")
    assert [(r["candidate_version"], r["outcome"], r["actor"], r["evidence"]) for r in rows] == [
        ("2", "refused", "reviewer:li", {"auc": [0.8, 0.79]})
    ]
