import math

import numpy as np
import pytest

from models.metrics import (
    auc,
    brier,
    calibration_table,
    expected_calibration_error,
    gini,
    ks,
    psi,
    psi_band,
)

# Six applicants worked by hand: bads score 0.35, 0.8, 0.9; goods 0.1, 0.4, 0.2.
Y = [0, 0, 1, 1, 0, 1]
P = [0.1, 0.4, 0.35, 0.8, 0.2, 0.9]


def test_auc_counts_correctly_ordered_pairs() -> None:
    # 8 of the 9 bad/good pairs have the bad ranked riskier (0.35 < 0.4 is the miss).
    assert auc(Y, P) == pytest.approx(8 / 9, abs=1e-15)
    assert gini(Y, P) == pytest.approx(7 / 9, abs=1e-15)


def test_ks_is_the_largest_tpr_minus_fpr() -> None:
    # Descending: 0.9 b, 0.8 b (TPR 2/3, FPR 0), 0.4 g, 0.35 b (TPR 1, FPR 1/3): max gap 2/3.
    assert ks(Y, P) == pytest.approx(2 / 3, abs=1e-15)


def test_brier() -> None:
    assert brier(Y, P) == pytest.approx((0.01 + 0.16 + 0.4225 + 0.04 + 0.04 + 0.01) / 6, abs=1e-15)


def test_ece_on_equal_frequency_bins() -> None:
    # Two bins: {0.1, 0.2, 0.35} mean 0.21667 vs 1/3 observed; {0.4, 0.8, 0.9} mean 0.7 vs 2/3.
    assert expected_calibration_error(Y, P, n_bins=2) == pytest.approx(
        0.5 * (1 / 3 - 0.65 / 3) + 0.5 * (0.7 - 2 / 3)
    )
    # Three bins: |0.15 - 0|, |0.375 - 0.5|, |0.85 - 1|.
    assert expected_calibration_error(Y, P, n_bins=3) == pytest.approx((0.15 + 0.125 + 0.15) / 3)


def test_calibration_table_columns_and_counts() -> None:
    table = calibration_table(Y, P, n_bins=3)
    assert table["count"].tolist() == [2, 2, 2]
    assert table["mean_pd"].tolist() == pytest.approx([0.15, 0.375, 0.85])
    assert table["observed_rate"].tolist() == [0.0, 0.5, 1.0]
    assert table["gap"].tolist() == pytest.approx([0.15, -0.125, -0.15])


def test_ten_bins_split_a_thousand_rows_evenly() -> None:
    p = np.linspace(0.01, 0.99, 1000)
    table = calibration_table((p > 0.5).astype(int), p)
    assert table["count"].tolist() == [100] * 10


def test_perfectly_calibrated_bins_have_zero_ece() -> None:
    y = np.array([0, 1, 0, 0, 1, 1, 0, 1])
    p = np.array([0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5])
    assert expected_calibration_error(y, p, n_bins=1) == 0.0


def test_psi_zero_for_identical_samples() -> None:
    x = np.random.default_rng(0).normal(size=5000)
    assert psi(x, x) == 0.0


def test_psi_hand_made_case() -> None:
    reference = np.arange(1, 11)  # median edge 5.5: shares 0.5 / 0.5
    current = np.array([1, 2, 3, 4, 5, 6, 7, 8, 1, 2])  # shares 0.7 / 0.3
    assert psi(reference, current, n_bins=2) == pytest.approx(
        0.2 * math.log(0.7 / 0.5) - 0.2 * math.log(0.3 / 0.5)
    )
    assert psi(reference, current, n_bins=2) == pytest.approx(0.2 * math.log(7 / 3))


def test_psi_clips_empty_bins_at_eps() -> None:
    reference = np.arange(1, 11)
    current = np.array([1.0, 1.0, 1.0])  # second bin empty -> share clipped to 1e-4
    expected = (1.0 - 0.5) * math.log(1.0 / 0.5) + (1e-4 - 0.5) * math.log(1e-4 / 0.5)
    assert psi(reference, current, n_bins=2) == pytest.approx(expected)


@pytest.mark.parametrize(
    ("value", "band"), [(0.0, "stable"), (0.099, "stable"), (0.1, "moderate"), (0.25, "significant")]
)
def test_psi_bands(value: float, band: str) -> None:
    assert psi_band(value) == band


def test_length_mismatch_is_an_error() -> None:
    with pytest.raises(ValueError, match="y has 2 values"):
        auc([0, 1], [0.1, 0.2, 0.3])
