"""Training on the records store: out-of-time validation, MLflow tracking, registry, model card.

``train(settings, subject=..., family=..., as_of=D)`` builds point-in-time features and labels
at ``train_as_of`` (default D − 12 months) for development and at D for validation — the same
code the service scores with — fits the model family, evaluates it out of time, logs
everything to MLflow and registers the version. The first version of a registered model
becomes ``champion`` (exported for serving); later ones become ``challenger`` until
``credit models promote`` decides.

Training reconstructs each as-of date from the store **as known when training runs**
(``known_at`` = now): a store back-filled after the fact (a migration, the synthetic city) holds
records recorded long after their event dates, which "as known at D" would not see. Later
corrections of the past therefore reach the training data; scoring and replay use the store as
known at the time of scoring.

Who is in the data: adults (18+ on the as-of date) who are not thin-file
(``models.thinfile``); minors and thin files get explicit states, never a model score.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import logging
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import mlflow
import numpy as np
import pandas as pd
import polars as pl

from experiments.card import FeatureRow, ModelCard
from experiments.plots import calibration_plot, importance_plot, roc_plot, score_distribution_plot
from experiments.promotion import PromotionPolicy, evaluate, fairness_gates
from experiments.registry import CHALLENGER, CHAMPION, alias_version, export_bundle, register_bundle
from experiments.tracking import EXPERIMENTS, REGISTERED_MODELS, client, ensure_experiment
from features.catalogue import add_months, load_catalogue
from features.labels import build_labels
from features.pipelines import RECORD_INPUT_COLUMNS
from features.pipelines.enterprise import enterprise_features
from features.pipelines.person import person_features
from features.registry import Registry, load_registry
from models.bundle import ServingBundle, dataset_fingerprint
from models.fairness import age_band, group_report
from models.gbm import MonotoneLgbm
from models.metrics import calibration_table, gini, psi
from models.scorecard import WoeScorecard
from models.thinfile import thin_file_mask
from scoring.db.engine import make_engine
from scoring.identity import IdentityVault
from scoring.monitoring import reference_distribution
from scoring.promotions import record_promotion
from scoring.settings import Settings
from scoring.store import StoreSnapshot, read_snapshot

__all__ = ["TrainResult", "TrainingData", "labelled_frame", "load_training_data", "train"]

logger = logging.getLogger(__name__)
FAMILIES = ("scorecard", "lgbm")
SUBJECTS = ("person", "enterprise")


@dataclass(frozen=True)
class TrainResult:
    subject: str
    family: str
    version: str
    alias: str
    run_id: str
    metrics: dict[str, float]
    card_path: Path


def _age(birth_year: pd.Series, as_of: dt.date) -> pd.Series:
    return as_of.year - birth_year.astype("float64")


def labelled_frame(
    store: StoreSnapshot,
    subject: str,
    as_of: dt.date,
    registry: Registry,
    settings: Settings,
    known_at: dt.datetime,
) -> pd.DataFrame:
    """Features, label, audit attributes and eligibility for every subject of a type at ``as_of``.

    Features use the records usable on ``as_of`` as known at ``known_at``; labels the outcome in
    the 12 months after ``as_of``, as known at ``known_at``.
    """
    catalogue = load_catalogue()
    if subject == "person":
        feats = person_features(
            store.records,
            store.events,
            store.subjects,
            as_of=as_of,
            known_at=known_at,
            catalogue=catalogue,
            registry=registry,
        )
    else:
        feats = enterprise_features(
            store.records,
            store.events,
            store.subjects,
            store.links,
            as_of=as_of,
            known_at=known_at,
            catalogue=catalogue,
            registry=registry,
        )
    labels = build_labels(store.records, store.events, store.subjects, as_of, catalogue, known_at=known_at)
    attrs = store.subjects.select(
        "subject_id", "subject_type", "subject_key", "birth_year", "gender", "district_code", "sector"
    )
    frame = (
        feats.join(labels, on="subject_id", how="left").join(attrs, on="subject_id", how="left").to_pandas()
    )
    frame["thin_file"] = thin_file_mask(
        frame["record_count"],
        frame["record_tenure_months"],
        settings.thin_file_min_records,
        settings.thin_file_min_tenure_months,
    )
    if subject == "person":
        age = _age(frame["birth_year"], as_of)
        frame["minor"] = (age < 18).to_numpy()
        frame["age_band"] = age_band(age)
        frame["district"] = frame["district_code"].fillna("(missing)")
        frame["eligible"] = ~frame["thin_file"] & ~frame["minor"]
    else:
        frame["minor"] = False
        frame["district"] = frame["district_code"].fillna("(missing)")
        frame["eligible"] = ~frame["thin_file"]
    return frame


def _truth_pd(truth_dir: Path, frame: pd.DataFrame, as_of: dt.date, vault: IdentityVault) -> pd.Series | None:
    """True probabilities of the synthetic city at ``as_of``, aligned to ``frame`` (NaN where absent)."""
    path = truth_dir / "truth.parquet"
    if not path.exists():
        return None
    truth = pl.read_parquet(path).filter(pl.col("as_of") == as_of)
    if truth.is_empty():
        return None
    keys = [
        vault.lookup_key(s) if t == "person" else s
        for s, t in zip(truth["subject_id"].to_list(), truth["subject_type"].to_list(), strict=True)
    ]
    by_key = dict(zip(keys, truth["p_true"].to_list(), strict=True))
    return frame["subject_key"].map(by_key).astype("float64")


def _estimator(family: str, monotone: dict[str, int]) -> MonotoneLgbm | WoeScorecard:
    if family == "lgbm":
        # Small, slow-learning trees with large leaves: on tens of thousands of subjects with a
        # 5-10 % bad rate this generalises out of time better than deeper trees (docs/models.md).
        return MonotoneLgbm(
            monotone=monotone,
            n_estimators=300,
            learning_rate=0.04,
            num_leaves=7,
            min_child_samples=200,
            n_jobs=2,
        )
    return WoeScorecard(monotone=monotone)


def _metrics(y: np.ndarray, p: np.ndarray, prefix: str) -> dict[str, float]:
    e = evaluate(y, p)
    return {
        f"{prefix}_auc": e.auc,
        f"{prefix}_ks": e.ks,
        f"{prefix}_gini": gini(y, p),
        f"{prefix}_brier": e.brier,
        f"{prefix}_ece": e.ece,
        f"{prefix}_bad_rate": float(np.mean(y)),
        f"{prefix}_n": float(len(y)),
    }


IMPORTANCE_ROWS = 20_000  # mean |contribution| from a fixed sample: TreeSHAP on every row took ~40 s


def _importance(model: MonotoneLgbm | WoeScorecard, X: pd.DataFrame) -> pd.Series:
    if len(X) > IMPORTANCE_ROWS:
        X = X.sample(IMPORTANCE_ROWS, random_state=0)
    contrib = np.asarray(model.contributions(X))[:, : X.shape[1]]
    return pd.Series(np.abs(contrib).mean(axis=0), index=list(X.columns))


@dataclass
class TrainingData:
    """The records store read once (as known at ``known_at``) and the labelled frames built from
    it, shared by the trainings of one command (several subjects and model families)."""

    store: StoreSnapshot
    known_at: dt.datetime
    frames: dict[tuple[str, dt.date], pd.DataFrame] = field(default_factory=dict)

    def labelled(self, subject: str, as_of: dt.date, registry: Registry, settings: Settings) -> pd.DataFrame:
        key = (subject, as_of)
        if key not in self.frames:
            self.frames[key] = labelled_frame(self.store, subject, as_of, registry, settings, self.known_at)
        return self.frames[key]


def load_training_data(settings: Settings, *, streams: int = 2) -> TrainingData:
    """Read the whole store as known now: the record columns the pipelines and labels read, the
    payloads they parse, ``streams`` parallel reads on PostgreSQL."""
    engine = make_engine(settings.database_url)
    known_at = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    try:
        store = read_snapshot(engine, known_at=known_at, columns=RECORD_INPUT_COLUMNS, streams=streams)
    finally:
        engine.dispose()
    return TrainingData(store, known_at)


def train(
    settings: Settings,
    *,
    subject: str,
    family: str,
    as_of: dt.date,
    train_as_of: dt.date | None = None,
    truth_dir: Path | None = None,
    actor: str = "cli",
    progress: Callable[[str], None] | None = None,
    data: TrainingData | None = None,
) -> TrainResult:
    """Train, validate out of time, log, register; see the module documentation. ``data``: the
    store and frames already read by an earlier training of the same command (read if absent)."""
    if subject not in SUBJECTS:
        raise ValueError(f"subject must be one of {SUBJECTS}")
    if family not in FAMILIES:
        raise ValueError(f"model family must be one of {FAMILIES}")
    say = progress or (lambda _m: None)
    train_as_of = train_as_of or add_months(as_of, -12)
    if train_as_of >= as_of:
        raise ValueError("the training as-of date must precede the validation as-of date")
    registry = load_registry()
    if data is None:
        say("reading the records store")
        data = load_training_data(settings)
    say(f"building features and labels at {train_as_of} and {as_of}")
    dev_all = data.labelled(subject, train_as_of, registry, settings)
    val_all = data.labelled(subject, as_of, registry, settings)
    dev, val = dev_all[dev_all["eligible"]], val_all[val_all["eligible"]]
    if dev["label"].nunique() < 2 or val["label"].nunique() < 2:
        raise ValueError("both as-of dates need goods and bads among eligible subjects; is the store loaded?")
    # Features marked ``model_input: false`` in the registry (record count and file tenure: they
    # decide who is thin-file and grow with the length of the available history) are left out.
    names = registry.model_inputs(subject)
    monotone = {n: d for n, d in registry.monotone(subject).items() if n in names}
    X_dev, y_dev = dev[names], dev["label"].to_numpy()
    X_val, y_val = val[names], val["label"].to_numpy()

    say(f"fitting {family} on {len(dev):,} subjects")
    model = _estimator(family, monotone).fit(X_dev, y_dev)
    p_dev, p_val = model.predict_pd(X_dev), model.predict_pd(X_val)
    say("evaluating: out-of-time metrics, oracle, fairness, importance")
    data_hash = dataset_fingerprint(X_dev, y_dev)
    bundle = ServingBundle.from_estimator(
        model,
        model_name=REGISTERED_MODELS[subject],
        model_version="0",
        feature_registry_version=registry.version,
        training_data_hash=data_hash,
        metadata={
            "train_as_of": train_as_of.isoformat(),
            "valid_as_of": as_of.isoformat(),
            "subject": subject,
        },
    )
    s_dev, s_val = bundle.score(p_dev), bundle.score(p_val)
    metrics = {**_metrics(y_dev, p_dev, "dev"), **_metrics(y_val, p_val, "oot")}
    metrics["score_psi"] = psi(s_dev, s_val)
    metrics["thin_file_share"] = float(val_all.loc[~val_all["minor"], "thin_file"].mean())
    vault = IdentityVault.from_settings(settings)
    if truth_dir is not None:
        p_true = _truth_pd(truth_dir, val, as_of, vault)
        if p_true is not None and p_true.notna().any():
            mask = p_true.notna().to_numpy()
            oracle = evaluate(y_val[mask], p_true.to_numpy()[mask]).auc
            metrics["oracle_auc"] = oracle
            metrics["oot_auc_on_truth_rows"] = evaluate(y_val[mask], p_val[mask]).auc
            metrics["auc_ratio_to_oracle"] = metrics["oot_auc_on_truth_rows"] / oracle

    policy = PromotionPolicy()
    sens = [c for c in policy.sensitive if c in val.columns and val[c].notna().any()]
    fair_frame = val[["label", *sens]].reset_index(drop=True)
    gates = fairness_gates(fair_frame, p_val, cutoff=settings.pd_cutoff, policy=policy)
    fairness = {
        f: group_report(
            fair_frame["label"], p_val, fair_frame[f], cutoff=settings.pd_cutoff, feature=f
        ).by_group
        for f in sens
    }
    thin_report = val_all[~val_all["minor"]].groupby("thin_file")["label"].agg(["count", "mean"])
    bundle = dataclasses.replace(
        bundle,
        metadata={**bundle.metadata, **_review_metadata(metrics, gates, fairness, p_dev, s_dev, subject)},
    )
    importance = _importance(model, X_val)

    c = client(settings)
    exp_id = ensure_experiment(EXPERIMENTS[subject], settings)
    name = REGISTERED_MODELS[subject]
    say("logging to MLflow and registering")
    with (
        mlflow.start_run(experiment_id=exp_id, run_name=f"{family}-{as_of}") as run,
        tempfile.TemporaryDirectory() as t,
    ):
        tmp = Path(t)
        mlflow.log_params(
            {
                "subject": subject,
                "family": family,
                "as_of": as_of.isoformat(),
                "train_as_of": train_as_of.isoformat(),
                "feature_registry_version": registry.version,
                "training_data_hash": data_hash,
                "pd_cutoff": settings.pd_cutoff,
                "thin_file_min_records": settings.thin_file_min_records,
                "thin_file_min_tenure_months": settings.thin_file_min_tenure_months,
                **{f"model.{k}": v for k, v in model.get_params().items() if k != "monotone"},
            }
        )
        mlflow.log_metrics(metrics)
        mlflow.set_tags({"feature_registry_version": registry.version, "training_data_hash": data_hash})
        roc_plot({"development": (y_dev, p_dev), "out of time": (y_val, p_val)}, tmp / "roc.png")
        calibration_plot(y_val, p_val, tmp / "calibration.png")
        score_distribution_plot(
            {"development": s_dev, "out of time": s_val}, tmp / "score_distribution.png", [550, 600, 650, 700]
        )
        title = "mean |TreeSHAP| (log-odds)" if family == "lgbm" else "mean |points| per attribute (log-odds)"
        importance_plot(importance, tmp / "importance.png", title)
        cal = calibration_table(y_val, p_val)
        cal.to_csv(tmp / "calibration_table.csv", index=False)
        if family == "scorecard":
            bundle.points_table().to_csv(tmp / "scorecard_table.csv", index=False)
        for f, table in fairness.items():
            table.to_csv(tmp / f"fairness_{f}.csv")
        thin_report.to_csv(tmp / "thin_file_outcomes.csv")
        (tmp / "fairness_gate.json").write_text(
            json.dumps(
                {f: {"passed": g.passed, "reasons": g.reasons, "notes": g.notes} for f, g in gates.items()}
            )
        )
        validation = val[["subject_id", *names, "label", *sens]].reset_index(drop=True)
        validation.to_parquet(tmp / "validation.parquet", index=False)
        for p in tmp.iterdir():
            mlflow.log_artifact(str(p), artifact_path="validation" if p.suffix == ".parquet" else "report")

        tags = {
            "family": family,
            "subject": subject,
            "feature_registry_version": registry.version,
            "training_data_hash": data_hash,
            "run_id": run.info.run_id,
            **{k: f"{v:.6f}" for k, v in metrics.items()},
        }
        version = register_bundle(c, bundle, subject=subject, tags=tags)
        card = ModelCard(
            subject=subject,
            family=family,
            model_name=name,
            version=version,
            created_at=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            train_as_of=train_as_of.isoformat(),
            valid_as_of=as_of.isoformat(),
            feature_registry_version=registry.version,
            training_data_hash=data_hash,
            counts={
                "development subjects (eligible)": len(dev),
                "validation subjects (eligible)": len(val),
                "validation thin files (not scored)": int(val_all["thin_file"].sum()),
                "validation minors (not scored)": int(val_all["minor"].sum()),
            },
            metrics={
                "development": {k[4:]: v for k, v in metrics.items() if k.startswith("dev_")},
                "out of time": {k[4:]: v for k, v in metrics.items() if k.startswith("oot_")},
                **(
                    {
                        "oracle (true PD)": {
                            "auc": metrics["oracle_auc"],
                            "ratio": metrics["auc_ratio_to_oracle"],
                        }
                    }
                    if "oracle_auc" in metrics
                    else {}
                ),
            },
            calibration=cal,
            features=[
                FeatureRow(f.name, f.en, f.zh, f.monotone, float(importance.get(f.name, 0.0)))
                for f in registry.for_subject(subject)
                if f.name in names
            ],
            fairness=fairness,
            gates=gates,
            thin_file_rule=(
                f"fewer than {settings.thin_file_min_records} records or under"
                f" {settings.thin_file_min_tenure_months} months of history → 'insufficient record',"
                " not scored"
            ),
            pd_cutoff=settings.pd_cutoff,
            weaknesses=_weaknesses(metrics, gates),
        )
        (tmp / "card").mkdir()
        md, html_path = tmp / "card" / "model_card.md", tmp / "card" / "model_card.html"
        md.write_text(card.to_markdown(), encoding="utf-8")
        html_path.write_text(card.to_html(), encoding="utf-8")
        mlflow.log_artifact(str(md), artifact_path="card")
        mlflow.log_artifact(str(html_path), artifact_path="card")
        card_dir = settings.var_dir / "cards" / name / version
        card_dir.mkdir(parents=True, exist_ok=True)
        (card_dir / "model_card.md").write_text(card.to_markdown(), encoding="utf-8")
        (card_dir / "model_card.html").write_text(card.to_html(), encoding="utf-8")

    champion = alias_version(c, name, CHAMPION)
    if champion is None:
        c.set_registered_model_alias(name, CHAMPION, version)
        export_bundle(c, settings, subject, version, champion=True)
        record_promotion(
            make_engine(settings.database_url),
            registered_model=name,
            subject=subject,
            candidate_version=version,
            previous_champion=None,
            outcome="initial",
            actor=actor,
            reason="first model of this registered model becomes champion",
            evidence={"metrics": metrics, "gates": {f: g.passed for f, g in gates.items()}},
        )
        alias = CHAMPION
    else:
        c.set_registered_model_alias(name, CHALLENGER, version)
        alias = CHALLENGER
    logger.info("registered %s version %s as %s", name, version, alias)
    return TrainResult(subject, family, version, alias, run.info.run_id, metrics, card_dir / "model_card.md")


def _review_metadata(
    metrics: dict[str, float],
    gates: dict,
    fairness: dict[str, pd.DataFrame],
    p_dev: np.ndarray,
    s_dev: np.ndarray,
    subject: str,
) -> dict[str, str]:
    """What reviewers read from the serving bundle without MLflow: metrics, fairness gates and
    tables, and the development distribution that drift is measured against."""
    reference = {"pd": reference_distribution(p_dev)}
    if subject == "person":
        reference["score"] = reference_distribution(s_dev)
    fair = {
        f: {
            "passed": g.passed,
            "reasons": list(g.reasons),
            "notes": list(g.notes),
            "by_group": json.loads(fairness[f].reset_index().to_json(orient="records"))
            if f in fairness
            else [],
        }
        for f, g in gates.items()
    }
    return {
        "metrics": json.dumps(metrics, sort_keys=True),
        "fairness": json.dumps(fair, ensure_ascii=False, sort_keys=True),
        "reference_distribution": json.dumps(reference, sort_keys=True),
    }


def _weaknesses(metrics: dict[str, float], gates: dict) -> list[str]:
    out = []
    if metrics.get("score_psi", 0.0) >= 0.1:
        out.append(
            f"score distribution shifted between development and validation (PSI {metrics['score_psi']:.3f})"
        )
    if metrics.get("oot_ece", 0.0) > 0.02:
        out.append(f"out-of-time calibration error {metrics['oot_ece']:.3f} above 0.02")
    if "auc_ratio_to_oracle" in metrics and metrics["auc_ratio_to_oracle"] < 0.97:
        out.append(f"AUC is {metrics['auc_ratio_to_oracle']:.3f} of the oracle's (target 0.97)")
    for feature, gate in gates.items():
        out.extend(f"fairness ({feature}): {r}" for r in gate.reasons)
    out.append(
        "thin-file subjects are not scored; their outcomes are reported separately (thin_file_outcomes.csv)"
    )
    return out
