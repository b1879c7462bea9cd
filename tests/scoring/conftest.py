"""Fixtures for scoring tests: small champion bundles trained on registry-shaped feature frames.

The models learn from a synthetic feature frame whose default risk rises with late utility
payments, tax arrears and serious negative records and falls with paid pension months, so their
reasons are predictable; the records store of each test is built by hand.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from features.registry import Registry, load_registry
from models.bundle import ServingBundle
from models.gbm import MonotoneLgbm
from models.scorecard import WoeScorecard
from scoring.bundles import bundle_path, set_champion

_HERE = str(Path(__file__).resolve().parent)
if _HERE not in sys.path:  # importlib import mode does not add test folders
    sys.path.insert(0, _HERE)

from score_fixtures import feature_frame  # noqa: E402

NOT_INPUTS = ("record_count", "record_tenure_months")


def train_bundle(registry: Registry, group: str, family: str, version: str) -> ServingBundle:
    frame, y = feature_frame(registry, group, 4000, seed=5 if group == "person" else 6)
    names = [n for n in registry.names(group) if n not in NOT_INPUTS]
    monotone = {k: v for k, v in registry.monotone(group).items() if k in names}
    model: MonotoneLgbm | WoeScorecard
    if family == "lgbm":
        model = MonotoneLgbm(monotone=monotone, n_estimators=60, num_leaves=7, min_child_samples=50)
    else:
        model = WoeScorecard(monotone=monotone)
    model.fit(frame[names], y)
    return ServingBundle.from_estimator(
        model,
        model_name=f"credit-{group}-pd",
        model_version=version,
        feature_registry_version=registry.version,
        training_data_hash="test",
    )


@pytest.fixture(scope="session")
def registry() -> Registry:
    return load_registry()


@pytest.fixture(scope="session")
def bundle_dir(tmp_path_factory: pytest.TempPathFactory, registry: Registry) -> Path:
    """Champions: person lgbm version 1 (and scorecard version 2 exported, not champion);
    enterprise lgbm version 1."""
    root = tmp_path_factory.mktemp("bundles")
    for group, family, version in (
        ("person", "lgbm", "1"),
        ("person", "scorecard", "2"),
        ("enterprise", "lgbm", "1"),
    ):
        train_bundle(registry, group, family, version).save(bundle_path(root, group, version))
    set_champion(root, "person", "1")
    set_champion(root, "enterprise", "1")
    return root
