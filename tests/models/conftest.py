"""Fitted models shared by the model tests (one fit per family per session).

The synthetic data builders live in ``credit_sample.py``; importlib import mode does not put test
folders on ``sys.path``, so this folder is added here.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from models.gbm import MonotoneLgbm
from models.scorecard import WoeScorecard

_HERE = str(Path(__file__).resolve().parent)
if _HERE not in sys.path:
    sys.path.insert(0, _HERE)

from credit_sample import MONOTONE, Sample, make_credit_sample  # noqa: E402


@pytest.fixture(scope="session")
def train() -> Sample:
    return make_credit_sample(4000, seed=1)


@pytest.fixture(scope="session")
def test() -> Sample:
    return make_credit_sample(8000, seed=2)


@pytest.fixture(scope="session")
def scorecard(train: Sample) -> WoeScorecard:
    return WoeScorecard(monotone=MONOTONE).fit(train.X, train.y)


@pytest.fixture(scope="session")
def lgbm(train: Sample) -> MonotoneLgbm:
    return MonotoneLgbm(monotone=MONOTONE).fit(train.X, train.y)


@pytest.fixture(scope="session", params=["scorecard", "lgbm"])
def model(request: pytest.FixtureRequest) -> WoeScorecard | MonotoneLgbm:
    fitted: WoeScorecard | MonotoneLgbm = request.getfixturevalue(request.param)
    return fitted
