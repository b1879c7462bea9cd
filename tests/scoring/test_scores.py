"""compute_scores: states, scores monotone in PD, tiers, classes with listing caps, reasons."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from score_fixtures import feature_frame

from features.registry import Registry
from models.explain import score_points
from scoring.bundles import load_bundle
from scoring.scores import (
    ScoringPolicy,
    canonical_features,
    class_codes,
    compute_scores,
    feature_hash,
    is_minor,
    parse_reasons,
    tier_codes,
)
from scoring.settings import Settings

POLICY = ScoringPolicy()


def _frame(registry: Registry, group: str, n: int, seed: int = 1) -> pl.DataFrame:
    frame, _ = feature_frame(registry, group, n, seed)
    frame["record_count"] = 40.0
    frame["record_tenure_months"] = 60.0
    out = pl.from_pandas(frame).with_columns(pl.Series("subject_id", np.arange(1, n + 1)))
    return out.with_columns(pl.col(s.name).cast(s.polars_dtype()) for s in registry.for_subject(group))


def test_tier_boundaries_follow_the_policy() -> None:
    scores = np.array([350, 549, 550, 599, 600, 649, 650, 699, 700, 950])
    assert tier_codes(scores, POLICY).tolist() == [
        "poor",
        "poor",
        "fair",
        "fair",
        "good",
        "good",
        "very_good",
        "very_good",
        "excellent",
        "excellent",
    ]
    moved = ScoringPolicy.from_settings(Settings(tier_bounds=(560, 610, 660, 720)))
    assert tier_codes(np.array([559, 560, 719, 720]), moved).tolist() == [
        "poor",
        "fair",
        "very_good",
        "excellent",
    ]
    with pytest.raises(ValueError, match="350-950"):
        tier_codes(np.array([349]), POLICY)


def test_class_bounds_put_the_boundary_in_the_worse_class() -> None:
    assert class_codes(np.array([0.0, 0.0299, 0.03, 0.0999, 0.10, 0.2499, 0.25, 1.0]), POLICY).tolist() == [
        "A",
        "A",
        "B",
        "B",
        "C",
        "C",
        "D",
        "D",
    ]


def test_minor_rule_uses_the_birth_date_and_is_cautious_with_only_a_year() -> None:
    as_of = dt.date(2025, 6, 30)
    assert is_minor(dt.date(2007, 6, 30), 2007, as_of) is False  # 18 today
    assert is_minor(dt.date(2007, 7, 1), 2007, as_of) is True  # 18 tomorrow
    assert is_minor(None, 2007, as_of) is True  # may still be 17
    assert is_minor(None, 2007, dt.date(2025, 12, 31)) is False  # certainly 18 by year end
    assert is_minor(None, 2006, as_of) is False
    assert is_minor(None, 2008, as_of) is True
    assert is_minor(dt.date(2008, 2, 29), 2008, dt.date(2026, 2, 28)) is False  # leap-day births


def test_scores_fall_as_the_probability_rises_and_reconcile(registry: Registry, bundle_dir: Path) -> None:
    bundle = load_bundle(bundle_dir, "person", "1")
    frame = _frame(registry, "person", 600)
    out = compute_scores(frame, "person", bundle, registry, POLICY)
    assert out["state"].unique().to_list() == ["scored"]
    pd_, score = out["pd"].to_numpy(), out["score"].to_numpy()
    order = np.argsort(pd_, kind="stable")
    assert np.all(np.diff(score[order]) <= 0)
    assert np.array_equal(score, np.rint(bundle.score(pd_)).astype(int))
    # Stored contributions reconcile with the model's raw log-odds, and reasons with the points.
    contrib = np.array([[float(v) for v in s.split("|")] for s in out["contributions"].to_list()])
    X = frame.select(bundle.features).to_numpy().astype(float)
    assert np.allclose(contrib.sum(axis=1), bundle.raw_logit(X), atol=1e-4)
    points = score_points(bundle, contrib)
    for i in range(0, 600, 37):
        lowering = parse_reasons(out["reasons_lowering"][i])
        raising = parse_reasons(out["reasons_raising"][i])
        assert len(lowering) <= 4 and len(raising) <= 4
        for name, pts in lowering + raising:
            assert pts == pytest.approx(points[i, bundle.features.index(name)], abs=0.006)
        assert [p for _, p in lowering] == sorted(p for _, p in lowering)
        assert all(p <= -0.5 for _, p in lowering) and all(p >= 0.5 for _, p in raising)
        expected = sorted(points[i][points[i] <= -0.5])[:4]
        assert [p for _, p in lowering] == pytest.approx(expected, abs=0.006)


def test_late_payments_are_the_principal_reason(registry: Registry, bundle_dir: Path) -> None:
    bundle = load_bundle(bundle_dir, "person", "1")
    frame = _frame(registry, "person", 50).with_columns(
        utility_late_12m=pl.lit(6, dtype=pl.Int64),
        negative_serious_decayed=pl.lit(0.0),
        negative_general_decayed=pl.lit(0.0),
        tax_arrears_amount=pl.lit(0.0),
    )
    out = compute_scores(frame, "person", bundle, registry, POLICY)
    firsts = [parse_reasons(r)[0][0] for r in out["reasons_lowering"].to_list()]
    assert firsts.count("utility_late_12m") == 50


def test_states_are_never_a_number(registry: Registry, bundle_dir: Path) -> None:
    bundle = load_bundle(bundle_dir, "person", "1")
    frame = _frame(registry, "person", 4).with_columns(
        record_count=pl.Series([40, 2, 40, 40]), record_tenure_months=pl.Series([60, 60, 5, 60])
    )
    out = compute_scores(
        frame, "person", bundle, registry, POLICY, minor=np.array([False, False, False, True])
    )
    assert out["state"].to_list() == ["scored", "insufficient_record", "insufficient_record", "minor"]
    assert out["score"].null_count() == 3 and out["pd"].null_count() == 3 and out["grade"].null_count() == 3
    assert out["reasons_lowering"][1:].null_count() == 3 and out["contributions"][1:].null_count() == 3
    # A model-less run scores nobody.
    none = compute_scores(
        frame, "person", None, registry, POLICY, minor=np.array([False, False, False, True])
    )
    assert set(none["state"].to_list()) == {"insufficient_record", "minor"}


def test_listings_cap_the_enterprise_class_even_on_a_thin_file(registry: Registry, bundle_dir: Path) -> None:
    bundle = load_bundle(bundle_dir, "enterprise", "1")
    base = _frame(registry, "enterprise", 4).with_columns(
        pl.lit(0, dtype=pl.Int64).alias(c)
        for c in (
            "serious_dishonesty_active",
            "judgment_defaulter_active",
            "abnormal_operation_active",
            "red_list_active",
        )
    )
    frame = base.with_columns(
        serious_dishonesty_active=pl.Series([0, 1, 0, 0]),
        abnormal_operation_active=pl.Series([0, 0, 1, 1]),
        record_count=pl.Series([40, 40, 40, 1]),
    )
    out = compute_scores(frame, "enterprise", bundle, registry, POLICY)
    model = class_codes(out["pd"].to_numpy()[:3], POLICY).tolist()
    assert out["model_grade"].to_list()[:3] == model and out["model_grade"][3] is None
    assert out["grade"][0] == model[0]
    assert out["grade"][1] == "D"
    assert out["downgrades"][1] == (None if model[1] == "D" else "serious_dishonesty_list")
    assert out["grade"][2] == max(model[2], "B")
    assert out["downgrades"][2] == (None if model[2] >= "B" else "abnormal_operation")
    assert out["flags"].to_list() == [
        None,
        "serious_dishonesty_list",
        "abnormal_operation",
        "abnormal_operation",
    ]
    # Thin file: no model class, but the listing still places it.
    assert out["state"][3] == "insufficient_record" and out["grade"][3] == "B"
    # With bounds that make every model class A, both caps must act and say so.
    lenient = compute_scores(
        frame, "enterprise", bundle, registry, ScoringPolicy(class_pd_bounds=(0.999, 0.9995, 0.9999))
    )
    assert lenient["model_grade"].to_list() == ["A", "A", "A", None]
    assert lenient["grade"].to_list() == ["A", "D", "B", "B"]
    assert lenient["downgrades"].to_list() == [
        None,
        "serious_dishonesty_list",
        "abnormal_operation",
        "abnormal_operation",
    ]


def test_the_feature_hash_is_canonical(registry: Registry) -> None:
    frame = _frame(registry, "person", 3)
    names = registry.names("person")
    text = canonical_features(frame, names)
    again = canonical_features(frame.with_columns(pl.col("tax_arrears_amount") + 1e-9), names)
    assert text.to_list() == again.to_list()  # below the 6-decimal resolution
    moved = canonical_features(frame.with_columns(pl.col("tax_arrears_amount") + 0.01), names)
    assert moved[0] != text[0]
    h = feature_hash(text[0], names, registry.version)
    assert h == feature_hash(text[0], names, registry.version) and len(h) == 64
    assert h != feature_hash(text[0], names, "other-version")
