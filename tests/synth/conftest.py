"""A small synthetic city shared by the generator's tests (generated once per session).

The helper modules of this folder (``synth_files``, ``synth_rules``, ``synth_labels``) are put on
``sys.path`` here: importlib import mode does not add test folders.
"""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path

import pytest

from synth import CityConfig, CitySummary, generate_city

_HERE = str(Path(__file__).resolve().parent)
if _HERE not in sys.path:
    sys.path.insert(0, _HERE)

SMALL = CityConfig(people=300, enterprises=40, seed=11)
TODAY = dt.date(2026, 11, 25)


@pytest.fixture(scope="session")
def small_config() -> CityConfig:
    return SMALL


@pytest.fixture(scope="session")
def small_city(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, CitySummary]:
    out = tmp_path_factory.mktemp("small-city")
    return out, generate_city(SMALL, out)
