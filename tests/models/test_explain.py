"""Pattern TreeSHAP equals LightGBM's TreeSHAP; principal reasons pick and order correctly."""

from __future__ import annotations

import lightgbm as lgb
import numpy as np
import pytest

from models.explain import ExplainError, PatternTreeShap, principal_reasons


def _booster(missing_as_nan: bool = True) -> tuple[lgb.Booster, np.ndarray]:
    rng = np.random.default_rng(4)
    n = 3000
    X = rng.normal(size=(n, 6))
    X[:, 2] = rng.integers(0, 5, n)  # categorical
    X[:, 3] = np.where(rng.random(n) < 0.3, 0.0, X[:, 3])  # many zeros
    X[rng.random((n, 6)) < 0.08] = np.nan
    y = (np.nan_to_num(X[:, 0]) + (X[:, 2] == 1) - np.nan_to_num(X[:, 3]) + rng.normal(size=n) > 0.5).astype(
        int
    )
    params = {"objective": "binary", "num_leaves": 7, "min_child_samples": 30, "verbose": -1, "seed": 1}
    if not missing_as_nan:
        params["zero_as_missing"] = True
    booster = lgb.train(params, lgb.Dataset(X, y, categorical_feature=[2]), num_boost_round=80)
    return booster, X


@pytest.mark.parametrize("compiled", [True, False])
@pytest.mark.parametrize("missing_as_nan", [True, False])
def test_pattern_treeshap_equals_pred_contrib(missing_as_nan: bool, compiled: bool) -> None:
    booster, X = _booster(missing_as_nan)
    explainer = PatternTreeShap(booster, compiled=compiled)
    assert (explainer._compiled is not None) == compiled
    fast = explainer.contributions(X)
    exact = booster.predict(X, pred_contrib=True)
    assert fast.shape == exact.shape == (X.shape[0], 7)
    assert np.abs(fast - exact).max() < 1e-9
    # Unseen rows later reuse and extend the tables.
    rng = np.random.default_rng(9)
    more = rng.normal(size=(500, 6)) * 3
    assert np.abs(explainer.contributions(more) - booster.predict(more, pred_contrib=True)).max() < 1e-9


@pytest.mark.parametrize("compiled", [True, False])
def test_a_disagreeing_pattern_is_caught(compiled: bool) -> None:
    booster, X = _booster()
    explainer = PatternTreeShap(booster, compiled=compiled)
    t, tree = next(
        (t, tree) for t, tree in enumerate(explainer.trees) if tree.splits and not tree.splits[0].categorical
    )
    if explainer._compiled is not None:
        explainer._compiled.thr[t, 0] += 5.0
    split = tree.splits[0]
    tree.splits[0] = type(split)(
        split.feature, float(split.threshold) + 5.0, split.default_left, split.missing, False
    )
    with pytest.raises(ExplainError, match="disagree"):
        explainer.contributions(X)


def test_principal_reasons_pick_up_to_four_each_way() -> None:
    points = np.array(
        [[-10.0, 3.0, -0.2, -7.0, 12.0, -1.0, -2.0, 0.6], [0.1, 0.2, -0.3, 0.0, 0.4, 0.0, 0.0, 0.0]]
    )
    r = principal_reasons(points, top=4, min_points=0.5)
    assert r.lowering[0].tolist() == [0, 3, 6, 5] and r.lowering_points[0].tolist() == [
        -10.0,
        -7.0,
        -2.0,
        -1.0,
    ]
    assert r.raising[0].tolist() == [4, 1, 7, -1]
    assert r.lowering[1].tolist() == [-1, -1, -1, -1] and r.raising[1].tolist() == [-1, -1, -1, -1]
    assert r.row(0, list("abcdefgh")) == {
        "lowering": [["a", -10.0], ["d", -7.0], ["g", -2.0], ["f", -1.0]],
        "raising": [["e", 12.0], ["b", 3.0], ["h", 0.6]],
    }
