"""Bring your own data: read a plain table into features and a 0/1 target.

Rules, in order:

1. **Target:** rows whose target is missing are dropped; the target becomes 1 where its text
   (stripped) equals the given bad value and 0 everywhere else. Both classes must remain.
2. **Dropped columns**, each with its reason:

   * ``"identifier name"`` — the name is ``id``/``uuid``/``guid`` or ends in ``_id``, ``_uuid``,
     ``_no``, ``_number`` (case-insensitive), e.g. ``customer_id``;
   * ``"identifier values"`` — text or integer values, all distinct and none missing (a row
     key, not a feature); floats are kept, since continuous amounts are often all distinct;
   * ``"constant"`` — a single distinct value (or none);
   * ``"datetime"`` — dates need a feature pipeline, not a raw column.
3. **Types:** numeric and boolean columns are numeric features; everything else (text, pandas
   ``category``) is categorical. The scorecard bins categoricals directly; LightGBM gets their
   category codes (:mod:`models.encoding`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from models.encoding import is_categorical_dtype

__all__ = ["TabularData", "prepare_tabular"]

_ID_NAME = re.compile(r"^(id|uuid|guid)$|_(id|uuid|guid|no|number)$", re.IGNORECASE)


@dataclass(frozen=True)
class TabularData:
    """A table made ready for the estimators.

    Attributes
    ----------
    X : pandas.DataFrame
        The kept feature columns, in input order.
    y : numpy.ndarray of int
        1 = bad.
    numeric, categorical : tuple of str
        Kept features by type.
    dropped : mapping of str to str
        Dropped column → reason.
    rows_dropped : int
        Rows without a target.
    """

    X: pd.DataFrame
    y: np.ndarray
    numeric: tuple[str, ...]
    categorical: tuple[str, ...]
    dropped: Mapping[str, str]
    rows_dropped: int

    @property
    def bad_rate(self) -> float:
        """Share of bads."""
        return float(self.y.mean())


def _drop_reason(name: str, column: pd.Series) -> str | None:
    if _ID_NAME.search(name):
        return "identifier name"
    if pd.api.types.is_datetime64_any_dtype(column):
        return "datetime"
    if column.nunique(dropna=True) <= 1:
        return "constant"
    is_text_or_int = is_categorical_dtype(column) or pd.api.types.is_integer_dtype(column)
    if (
        is_text_or_int
        and not pd.api.types.is_bool_dtype(column)
        and column.notna().all()
        and column.is_unique
    ):
        return "identifier values"
    return None


def prepare_tabular(frame: pd.DataFrame, target: str, bad: object) -> TabularData:
    """Split a frame into features and a 0/1 target, dropping identifier-like columns.

    Parameters
    ----------
    frame : pandas.DataFrame
    target : str
        Target column name.
    bad : object
        The target value meaning "bad" (compared as stripped text, so ``1`` matches ``"1"``).

    Returns
    -------
    TabularData

    Raises
    ------
    ValueError
        Unknown target column, no bad or no good rows, or no usable feature.
    """
    if target not in frame.columns:
        raise ValueError(f"target column {target!r} not in the table")
    labelled = frame[frame[target].notna()]
    text = labelled[target].map(lambda v: str(v).strip())
    y = (text == str(bad).strip()).to_numpy(dtype=np.int64)
    if y.sum() == 0:
        raise ValueError(f"no row has {target} == {bad!r}")
    if y.sum() == y.size:
        raise ValueError(f"every row has {target} == {bad!r}")
    dropped: dict[str, str] = {}
    kept: list[str] = []
    for name in labelled.columns:
        if name == target:
            continue
        reason = _drop_reason(str(name), labelled[name])
        if reason:
            dropped[str(name)] = reason
        else:
            kept.append(name)
    if not kept:
        raise ValueError("no usable feature column")
    X = labelled[kept].reset_index(drop=True)
    categorical = tuple(str(c) for c in kept if is_categorical_dtype(X[c]))
    numeric = tuple(str(c) for c in kept if str(c) not in categorical)
    return TabularData(
        X=X,
        y=y,
        numeric=numeric,
        categorical=categorical,
        dropped=dropped,
        rows_dropped=len(frame) - len(labelled),
    )
