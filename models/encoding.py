"""Feature encoding: a data frame in, the float matrix every model and the serving bundle read.

Numeric columns are copied as float64 (missing stays NaN). A categorical column becomes the
index of its value in a fixed, sorted category list (0, 1, 2, …); missing values and categories
not seen in training become NaN, which both model families treat as "missing". The category
lists are stored in the serving bundle, so an encoded matrix means the same thing everywhere.
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["FeatureEncoding", "is_categorical_dtype"]


def is_categorical_dtype(column: pd.Series) -> bool:
    """Whether a column is read as categorical: anything not numeric or boolean."""
    return not (pd.api.types.is_numeric_dtype(column) or pd.api.types.is_bool_dtype(column))


@dataclass(frozen=True)
class FeatureEncoding:
    """The fitted mapping from a data frame to the model matrix.

    Attributes
    ----------
    features : tuple of str
        Column names in model order.
    categories : mapping of str to tuple of str
        For each categorical feature, its categories in code order.
    """

    features: tuple[str, ...]
    categories: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    @classmethod
    def fit(cls, frame: pd.DataFrame, categorical: Sequence[str] | None = None) -> FeatureEncoding:
        """Learn the category lists; ``categorical=None`` infers them from the dtypes."""
        features = tuple(str(c) for c in frame.columns)
        if len(set(features)) != len(features):
            raise ValueError("duplicate column names")
        if categorical is None:
            cats = [c for c in features if is_categorical_dtype(frame[c])]
        else:
            cats = [str(c) for c in categorical]
            missing = sorted(set(cats) - set(features))
            if missing:
                raise ValueError(f"categorical features not in the frame: {missing}")
        categories = {c: tuple(sorted({str(v) for v in frame[c].dropna().unique()})) for c in cats}
        return cls(features=features, categories=categories)

    @property
    def categorical(self) -> tuple[str, ...]:
        """Categorical features in model order."""
        return tuple(f for f in self.features if f in self.categories)

    def transform(self, frame: pd.DataFrame) -> np.ndarray:
        """Encode a frame (columns by name, extra columns ignored) to a float64 matrix."""
        missing = [f for f in self.features if f not in frame.columns]
        if missing:
            raise ValueError(f"missing feature columns: {missing}")
        out = np.empty((len(frame), len(self.features)), dtype=np.float64)
        for j, name in enumerate(self.features):
            column = frame[name]
            cats = self.categories.get(name)
            if cats is None:
                if not pd.api.types.is_numeric_dtype(column) or pd.api.types.is_bool_dtype(column):
                    column = pd.to_numeric(column.astype(object), errors="coerce")
                out[:, j] = column.to_numpy(dtype=np.float64, na_value=np.nan)
            else:
                # factorize, then look the (few) distinct values up: fast for one row and for millions
                codes, uniques = pd.factorize(column, use_na_sentinel=True)
                index = self._code_index[name]
                mapped = np.array([index.get(str(u), np.nan) for u in uniques] + [np.nan], dtype=np.float64)
                out[:, j] = mapped[codes]
        return out

    def transform_records(self, records: Sequence[Mapping[str, Any]]) -> np.ndarray:
        """Encode plain mappings (e.g. parsed JSON), one per row — the fast path for a few rows.

        Absent keys and ``None`` are missing; a numeric value that cannot be read as a number is
        missing too, as in :meth:`transform`.
        """
        index = self._code_index
        out = np.full((len(records), len(self.features)), np.nan, dtype=np.float64)
        for i, record in enumerate(records):
            for j, name in enumerate(self.features):
                value = record.get(name)
                if value is None or (isinstance(value, float) and value != value):
                    continue
                codes = index.get(name)
                if codes is not None:
                    out[i, j] = codes.get(str(value), np.nan)
                else:
                    with contextlib.suppress(TypeError, ValueError):
                        out[i, j] = float(value)
        return out

    @cached_property
    def _code_index(self) -> dict[str, dict[str, float]]:
        return {name: {c: float(i) for i, c in enumerate(cats)} for name, cats in self.categories.items()}

    def decode(self, matrix: np.ndarray) -> pd.DataFrame:
        """The inverse of :meth:`transform` (categories back as text; unknowns as missing)."""
        frame: dict[str, Any] = {}
        for j, name in enumerate(self.features):
            col = matrix[:, j]
            cats = self.categories.get(name)
            if cats is None:
                frame[name] = col
            else:
                lookup = np.array([*cats, None], dtype=object)
                idx = np.where(np.isnan(col), len(cats), col).astype(np.int64)
                idx[(idx < 0) | (idx > len(cats))] = len(cats)
                frame[name] = pd.Series(lookup[idx], dtype=object)
        return pd.DataFrame(frame)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "features": list(self.features),
            "categories": {k: list(v) for k, v in self.categories.items()},
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> FeatureEncoding:
        """Inverse of :meth:`to_dict`."""
        return cls(
            features=tuple(data["features"]),
            categories={k: tuple(v) for k, v in data["categories"].items()},
        )
