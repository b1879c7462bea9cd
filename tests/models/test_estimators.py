"""Both PD model families: shapes, ranking, monotone directions, calibration, contributions."""

import numpy as np
import pandas as pd
import pytest
from credit_sample import MONOTONE, Sample
from sklearn.base import clone

from models.binary import MonotonePdModel
from models.gbm import MonotoneLgbm
from models.metrics import auc, expected_calibration_error
from models.scaling import score_from_pd
from models.scorecard import WoeScorecard


def test_predict_proba_shape_and_ranking(model: MonotonePdModel, test: Sample) -> None:
    proba = model.predict_proba(test.X)
    assert proba.shape == (len(test.X), 2)
    assert np.allclose(proba.sum(axis=1), 1.0)
    assert np.all((proba > 0) & (proba < 1))
    # The true PD ranks at ~0.79 on this population; a fitted model gets close to it.
    assert auc(test.y, proba[:, 1]) > 0.75
    assert set(model.predict(test.X)) <= {0, 1}


def test_fitted_attributes(model: MonotonePdModel) -> None:
    assert list(model.feature_names_in_) == ["income", "arrears", "tenure", "wiggle", "noise", "segment"]
    assert model.n_features_in_ == 6
    assert model.encoding_.categorical == ("segment",)
    assert model.monotone_ == {**MONOTONE, "noise": 0, "segment": 0}
    assert model.classes_.tolist() == [0, 1]


def test_init_only_stores_parameters() -> None:
    for estimator in (WoeScorecard(monotone=MONOTONE, min_iv=0.05), MonotoneLgbm(num_leaves=7)):
        twin = clone(estimator)
        assert twin.get_params() == estimator.get_params()
        assert not [k for k in vars(twin) if k.endswith("_")]


def test_encoded_matrix_and_frame_give_the_same_pd(model: MonotonePdModel, test: Sample) -> None:
    matrix = model.transform_input(test.X)
    assert np.array_equal(model.predict_pd(matrix), model.predict_pd(test.X))
    one = matrix[[7]]
    assert model.predict_pd(one)[0] == model.predict_pd(matrix)[7]


def _ice(model: MonotonePdModel, base: pd.DataFrame, feature: str, grid: np.ndarray) -> np.ndarray:
    """PD of every base row with ``feature`` set to each grid value: shape (rows, grid)."""
    matrix = model.transform_input(base)
    j = list(model.feature_names_in_).index(feature)
    out = np.empty((len(base), grid.size))
    for k, value in enumerate(grid):
        varied = matrix.copy()
        varied[:, j] = value
        out[:, k] = model.predict_pd(varied)
    return out


@pytest.mark.parametrize("feature", [f for f, d in MONOTONE.items() if d])
def test_partial_effect_never_goes_against_its_direction(
    model: MonotonePdModel, test: Sample, feature: str
) -> None:
    base = test.X.iloc[:400]
    values = test.X[feature].dropna()
    grid = np.linspace(values.quantile(0.001) - 1, values.quantile(0.999) + 1, 60)
    curves = _ice(model, base, feature, grid)
    steps = np.diff(curves, axis=1)
    if MONOTONE[feature] == 1:  # more is better: PD never rises
        assert steps.max() <= 1e-12
        assert (curves[:, 0] - curves[:, -1]).mean() > 0.01  # and the effect is real
    else:  # more is worse: PD never falls
        assert steps.min() >= -1e-12
        assert (curves[:, -1] - curves[:, 0]).mean() > 0.01


def test_lgbm_constraint_signs(lgbm: MonotoneLgbm) -> None:
    # +1 (more is better) -> -1 on the PD; -1 -> +1; unconstrained and categorical -> 0.
    assert lgbm.constraints_ == [-1, 1, -1, 0, 0, 0]


def test_calibrated_on_held_out_data(model: MonotonePdModel, test: Sample) -> None:
    # Well-specified population: the true PD itself has an ECE of ~0.008 on these 8000 rows.
    assert expected_calibration_error(test.y, model.predict_pd(test.X)) < 0.03
    assert model.calibration_ is not None and model.calibration_.slope > 0


def test_uncalibrated_lgbm_is_worse_calibrated_than_calibrated(
    train: Sample, test: Sample, lgbm: MonotoneLgbm
) -> None:
    raw = MonotoneLgbm(monotone=MONOTONE, calibration=None, num_leaves=31, min_child_samples=5).fit(
        train.X, train.y
    )
    assert raw.calibration_ is None
    assert expected_calibration_error(test.y, raw.predict_pd(test.X)) > expected_calibration_error(
        test.y, lgbm.predict_pd(test.X)
    )


def test_contributions_sum_to_raw_log_odds(model: MonotonePdModel, test: Sample) -> None:
    contrib = model.contributions(test.X.iloc[:200])
    assert contrib.shape == (200, 7)
    assert np.allclose(contrib.sum(axis=1), model.raw_logit(test.X.iloc[:200]), atol=1e-9)


def test_scorecard_points_add_up_to_the_score(scorecard: WoeScorecard, test: Sample) -> None:
    X = test.X.iloc[:300]
    points = scorecard.points(X)
    expected = score_from_pd(scorecard.predict_pd(X), scorecard.scaling_, clip=False)
    assert np.allclose(points.sum(axis=1), expected, atol=1e-9)
    table = scorecard.points_table()
    assert list(table.columns) == ["Variable", "Bin", "WoE", "Points"]
    assert set(table["Variable"]) == set(scorecard.selected_features_)
    # Points of the first row read off the table, bin by bin.
    row = scorecard.transform_input(X.iloc[[0]])[0]
    total = 0.0
    for j in scorecard.woe_model_.used:
        feat = scorecard.woe_model_.features[j]
        b = int(feat.bin_index(row[[j]])[0])
        label = feat.labels[b] if b >= 0 else "Missing"
        total += table[(table["Variable"] == feat.name) & (table["Bin"] == label)]["Points"].item()
    assert total == pytest.approx(points[0].sum())


def test_scorecard_lookups_match_optbinning(scorecard: WoeScorecard, test: Sample) -> None:
    theirs = scorecard.binning_process_.transform(test.X, metric="woe").to_numpy()
    ours = scorecard.woe_model_.woe_matrix(scorecard.transform_input(test.X))
    used = list(scorecard.woe_model_.used)
    assert np.allclose(ours[:, used], theirs[:, used], atol=1e-12)


def test_scorecard_keeps_informative_features_with_negative_coefficients(scorecard: WoeScorecard) -> None:
    assert {"income", "arrears", "tenure", "segment"} <= set(scorecard.selected_features_)
    assert all(c <= 0 for c in scorecard.woe_model_.coef)
    assert scorecard.dropped_features_.get("noise") == "iv"


def test_unknown_category_and_missing_values_are_scored(model: MonotonePdModel) -> None:
    values = {
        "income": np.nan,
        "arrears": 1.0,
        "tenure": 3.0,
        "wiggle": 0.0,
        "noise": 0.0,
        "segment": "mining",
    }
    row = pd.DataFrame({k: [v] for k, v in values.items()})
    p = model.predict_pd(row)
    assert p.shape == (1,) and 0 < p[0] < 1


def test_bad_monotone_mappings_are_refused(train: Sample) -> None:
    with pytest.raises(ValueError, match="unknown features"):
        WoeScorecard(monotone={"salary": 1}, calibration=None).fit(train.X, train.y)
    with pytest.raises(ValueError, match="categorical"):
        MonotoneLgbm(monotone={"segment": 1}, calibration=None).fit(train.X, train.y)
    with pytest.raises(ValueError, match="-1, 0 or"):
        MonotoneLgbm(monotone={"income": 2}, calibration=None).fit(train.X, train.y)


def test_early_stopping_keeps_fewer_trees(train: Sample) -> None:
    m = MonotoneLgbm(monotone=MONOTONE, calibration=None, learning_rate=0.3, early_stopping_rounds=10)
    m.fit(train.X, train.y)
    assert m.best_iteration_ < 300
    assert m.booster_.num_trees() == m.best_iteration_


def test_single_row_path_matches_the_batch_path(model: MonotonePdModel, test: Sample) -> None:
    matrix = model.transform_input(test.X.iloc[:50])
    matrix[::5, 0] = np.nan  # missing income
    matrix[1::5, 5] = 17.0  # a category code that does not exist
    batch_pd, batch_contrib = model.predict_pd(matrix), model.contributions(matrix)
    for i in range(len(matrix)):
        assert model.predict_pd(matrix[[i]])[0] == batch_pd[i]
        assert np.array_equal(model.contributions(matrix[[i]])[0], batch_contrib[i])
