import numpy as np
import pytest

from models.scaling import DEFAULT_SCALING, ScoreScaling, pd_from_score, score_from_pd


def test_anchor_and_one_doubling_are_exact() -> None:
    # 600 at good:bad odds 19:1 (PD 1/20), 650 at 38:1 (PD 1/39), 550 at 9.5:1 (PD 1/10.5).
    assert score_from_pd(1 / 20) == pytest.approx(600.0, abs=1e-9)
    assert score_from_pd(1 / 39) == pytest.approx(650.0, abs=1e-9)
    assert score_from_pd(1 / 10.5) == pytest.approx(550.0, abs=1e-9)
    assert DEFAULT_SCALING.factor == pytest.approx(50 / np.log(2))
    assert DEFAULT_SCALING.offset == pytest.approx(600 - 50 / np.log(2) * np.log(19))


def test_scores_are_strictly_decreasing_in_pd_before_clipping() -> None:
    pd_grid = np.linspace(1e-6, 1 - 1e-6, 10_001)
    raw = score_from_pd(pd_grid, clip=False)
    assert np.all(np.diff(raw) < 0)
    clipped = score_from_pd(pd_grid)
    assert np.all(np.diff(clipped) <= 0)


def test_clipping_to_350_950() -> None:
    assert score_from_pd([0.0, 1e-9, 0.9, 1.0]).tolist() == [950.0, 950.0, 350.0, 350.0]
    assert score_from_pd(0.9, clip=False) < 350


def test_inverse_round_trips() -> None:
    pd_grid = np.array([0.001, 0.013, 0.05, 0.095, 0.3])
    assert pd_from_score(score_from_pd(pd_grid)) == pytest.approx(pd_grid, rel=1e-12)
    assert pd_from_score(600.0) == pytest.approx(0.05)


def test_custom_scaling() -> None:
    scaling = ScoreScaling(anchor_score=500, anchor_odds=1.0, pdo=20)
    assert score_from_pd(0.5, scaling) == pytest.approx(500.0)
    assert score_from_pd(1 / 3, scaling) == pytest.approx(520.0)  # odds 2:1 = one doubling
    assert ScoreScaling.from_dict(scaling.to_dict()) == scaling


def test_invalid_parameters_and_pd() -> None:
    with pytest.raises(ValueError, match="pdo"):
        ScoreScaling(pdo=0)
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        score_from_pd([1.2])


def test_a_typical_population_spreads_over_every_tier() -> None:
    # Base rate ~6.5 %, logit-normal spread 1.0: every tier holds between 5 % and 35 %.
    z = np.random.default_rng(0).standard_normal(200_000)
    pd_ = 1 / (1 + np.exp(-(-3.05 + z)))
    assert 0.055 < pd_.mean() < 0.075
    shares = np.histogram(score_from_pd(pd_), [350, 550, 600, 650, 700, 951])[0] / z.size
    assert np.all((shares > 0.05) & (shares < 0.35)), shares
