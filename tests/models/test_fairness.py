"""The group report and the release gate."""

import numpy as np
import pytest

from models.calibration import sigmoid
from models.fairness import FairnessPolicy, age_band, fairness_gate, group_report

N = 20_000


def _population(seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Two equally risky groups; the true PD is known."""
    rng = np.random.default_rng(seed)
    group = rng.choice(np.array(["F", "M"], dtype=object), N)
    pd_true = sigmoid(-2.0 + 1.0 * rng.standard_normal(N))
    y = (rng.random(N) < pd_true).astype(int)
    return y, pd_true, group


def test_a_fair_model_passes() -> None:
    y, pd_true, group = _population()
    report = group_report(y, pd_true, group, cutoff=0.2, feature="gender")
    assert report.by_group.index.tolist() == ["F", "M"]
    assert report.by_group["count"].sum() == N
    result = fairness_gate(report)
    assert result.passed, result.reasons
    assert result.checks["approval_ratio"] > 0.95


def test_an_injected_disparity_is_refused() -> None:
    y, pd_true, group = _population()
    biased = pd_true.copy()
    women = group == "F"
    # The model over-states women's risk: +1.0 on the log-odds.
    biased[women] = sigmoid(np.log(pd_true[women] / (1 - pd_true[women])) + 1.0)
    result = fairness_gate(group_report(y, biased, group, cutoff=0.2, feature="gender"))
    assert not result.passed
    assert any("four-fifths" in r and "'F'" in r for r in result.reasons)
    assert any("group 'F' mean PD" in r for r in result.reasons)


def test_a_model_that_ranks_one_group_worse_is_refused() -> None:
    y, pd_true, group = _population(1)
    rng = np.random.default_rng(5)
    noisy = pd_true.copy()
    men = group == "M"
    # Shuffle half of the men's PDs among themselves: same level and approvals, weaker ranking.
    idx = np.flatnonzero(men)[: men.sum() // 2]
    noisy[idx] = rng.permutation(noisy[idx])
    result = fairness_gate(group_report(y, noisy, group, cutoff=0.2))
    assert not result.passed
    assert any("AUC of 'M'" in r for r in result.reasons)
    assert result.checks["approval_ratio"] > 0.9


def test_report_values_by_hand() -> None:
    y = np.array([0, 1, 0, 1, 0, 0])
    p = np.array([0.1, 0.6, 0.2, 0.3, 0.5, 0.4])
    g = np.array(["a", "a", "a", "b", "b", "b"], dtype=object)
    report = group_report(y, p, g, cutoff=0.35)
    a, b = report.by_group.loc["a"], report.by_group.loc["b"]
    assert (a["count"], a["bads"], a["auc"], a["approval_rate"]) == (3, 1, 1.0, pytest.approx(2 / 3))
    assert b["mean_pd"] == pytest.approx(0.4) and b["observed_rate"] == pytest.approx(1 / 3)
    assert b["calibration_gap"] == pytest.approx(0.4 - 1 / 3)
    assert b["approval_rate"] == pytest.approx(1 / 3)
    assert report.overall["count"] == 6


def test_small_groups_are_reported_but_not_gated() -> None:
    y, pd_true, group = _population()
    group = group.copy()
    group[:10] = "X"
    result = fairness_gate(group_report(y, pd_true, group, cutoff=0.2), FairnessPolicy(min_group_size=50))
    assert result.passed
    assert any("'X'" in n for n in result.notes)


def test_age_bands() -> None:
    assert age_band([18, 25, 34, 64, 65, 90, np.nan]).tolist() == [
        "<25",
        "25-34",
        "25-34",
        "55-64",
        "65+",
        "65+",
        "(missing)",
    ]
