"""Plots logged with every training run (PNG, matplotlib's Agg backend, no display)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from sklearn.metrics import roc_curve

from models.metrics import calibration_table

__all__ = ["calibration_plot", "importance_plot", "roc_plot", "score_distribution_plot"]


def _save(fig: plt.Figure, path: Path) -> Path:
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def roc_plot(curves: dict[str, tuple[np.ndarray, np.ndarray]], path: Path) -> Path:
    """ROC curves, one per named (y, pd) pair."""
    fig, ax = plt.subplots(figsize=(5, 5))
    for name, (y, p) in curves.items():
        fpr, tpr, _ = roc_curve(y, p)
        ax.plot(fpr, tpr, label=name)
    ax.plot([0, 1], [0, 1], color="grey", linestyle=":")
    ax.set(
        xlabel="false positive rate (goods refused)", ylabel="true positive rate (bads caught)", title="ROC"
    )
    ax.legend(loc="lower right")
    return _save(fig, path)


def calibration_plot(y: np.ndarray, p: np.ndarray, path: Path, n_bins: int = 10) -> Path:
    table = calibration_table(y, p, n_bins=n_bins)
    fig, ax = plt.subplots(figsize=(5, 5))
    hi = float(max(table["mean_pd"].max(), table["observed_rate"].max())) * 1.05
    ax.plot([0, hi], [0, hi], color="grey", linestyle=":")
    ax.plot(table["mean_pd"], table["observed_rate"], marker="o")
    ax.set(xlabel="mean predicted PD", ylabel="observed bad rate", title="Calibration (deciles of PD)")
    return _save(fig, path)


def score_distribution_plot(samples: dict[str, np.ndarray], path: Path, cuts: Sequence[int] = ()) -> Path:
    fig, ax = plt.subplots(figsize=(7, 4))
    bins = [float(b) for b in np.linspace(350, 950, 61)]
    for name, s in samples.items():
        ax.hist(s, bins=bins, alpha=0.5, density=True, label=name)
    for c in cuts:
        ax.axvline(c, color="grey", linestyle=":")
    ax.set(xlabel="score", ylabel="density", title="Score distribution")
    ax.legend()
    return _save(fig, path)


def importance_plot(importance: pd.Series, path: Path, title: str) -> Path:
    """Horizontal bars, e.g. mean |TreeSHAP| per feature or the points range of a scorecard."""
    imp = importance.sort_values()
    fig, ax = plt.subplots(figsize=(7, max(3, 0.28 * len(imp))))
    ax.barh(list(imp.index), imp.to_numpy())
    ax.set(title=title)
    return _save(fig, path)
