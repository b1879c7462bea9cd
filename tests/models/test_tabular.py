import numpy as np
import pandas as pd
import pytest

from models.tabular import prepare_tabular


def _frame() -> pd.DataFrame:
    n = 40
    rng = np.random.default_rng(0)
    return pd.DataFrame(
        {
            "customer_id": np.arange(n),
            "row_key": [f"k{i}" for i in range(n)],
            "serial": rng.permutation(n) + 1000,  # all-distinct integers
            "amount": rng.normal(1000, 100, n),  # all-distinct floats: kept
            "months": rng.integers(1, 48, n),
            "region": rng.choice(["north", "south"], n),
            "grade": pd.Categorical(rng.choice(["A", "B", "C"], n)),
            "flag": rng.random(n) < 0.5,
            "const": 1,
            "opened": pd.date_range("2020-01-01", periods=n),
            "status": ["bad" if i % 4 == 0 else "good" for i in range(n)],
        }
    )


def test_types_drops_and_target() -> None:
    frame = _frame()
    frame.loc[1, "status"] = None
    data = prepare_tabular(frame, "status", "bad")
    assert data.dropped == {
        "customer_id": "identifier name",
        "row_key": "identifier values",
        "serial": "identifier values",
        "const": "constant",
        "opened": "datetime",
    }
    assert data.numeric == ("amount", "months", "flag")
    assert data.categorical == ("region", "grade")
    assert list(data.X.columns) == ["amount", "months", "region", "grade", "flag"]
    assert data.rows_dropped == 1
    assert data.y.tolist() == [1 if i % 4 == 0 else 0 for i in range(40) if i != 1]
    assert data.bad_rate == pytest.approx(10 / 39)


def test_bad_value_matches_as_text() -> None:
    frame = _frame()
    frame["status"] = [1 if i % 3 == 0 else 2 for i in range(40)]
    assert prepare_tabular(frame, "status", "1").y.sum() == 14


def test_errors() -> None:
    with pytest.raises(ValueError, match="not in the table"):
        prepare_tabular(_frame(), "nope", "bad")
    with pytest.raises(ValueError, match="no row has"):
        prepare_tabular(_frame(), "status", "default")
