"""Small vectorised helpers shared by the record generators: row expansion, days, text numbers."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import polars as pl

from synth.batch import Codes

__all__ = ["cells", "choice", "fmt", "in_month", "lookup", "poisson_cells", "status3", "year_of"]


def cells(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(row, month) indices of the true cells of an (n, T) mask, month by month."""
    t, i = np.nonzero(mask.T)
    return i.astype(np.int64), t.astype(np.int64)


def poisson_cells(
    rng: np.random.Generator, lam: np.ndarray, mask: np.ndarray, force: bool = False
) -> tuple[np.ndarray, np.ndarray]:
    """(row, month) indices of Poisson(lam) events per cell, a cell repeated once per event.

    With ``force``, at least one event happens if any cell is allowed (so that a small city still
    shows every kind of record)."""
    counts = rng.poisson(np.where(mask, lam, 0.0))
    if force and counts.sum() == 0 and mask.any():
        allowed = np.flatnonzero(np.broadcast_to(mask, counts.shape))
        counts.flat[allowed[rng.integers(0, len(allowed))]] = 1
    t, i = np.nonzero(counts.T)
    rep = counts[i, t]
    return np.repeat(i, rep).astype(np.int64), np.repeat(t, rep).astype(np.int64)


def in_month(
    rng: np.random.Generator, month_first: np.ndarray, t: np.ndarray, lo: int = 1, hi: int = 28
) -> np.ndarray:
    """A day number between the ``lo``-th and ``hi``-th day of window month ``t``."""
    out: np.ndarray = month_first[t] + rng.integers(lo - 1, hi, size=len(t))
    return out


def year_of(day: np.ndarray) -> np.ndarray:
    out: np.ndarray = np.asarray(day).astype("datetime64[D]").astype("datetime64[Y]").astype(np.int64) + 1970
    return out


def choice(rng: np.random.Generator, values: tuple[str, ...], p: list[float] | None, n: int) -> Codes:
    """``n`` draws of ``values``."""
    probs = None if p is None else np.asarray(p, dtype=np.float64) / np.sum(p)
    return Codes(tuple(values), rng.choice(len(values), size=n, p=probs))


def status3(rng: np.random.Generator, p_late: np.ndarray, p_arrears: np.ndarray) -> np.ndarray:
    """0 on time, 1 late, 2 arrears."""
    u = rng.random(len(p_late))
    out: np.ndarray = np.where(u < p_arrears, 2, np.where(u < p_arrears + p_late, 1, 0))
    return out


def fmt(template: str, *columns: np.ndarray | pl.Series | Codes | str) -> pl.Series:
    """Format text numbers column-wise, e.g. ``fmt("({}){}执{}号", year, prefix, serial)``."""
    n = max(len(c) for c in columns if not isinstance(c, str))

    def series(c: np.ndarray | pl.Series | Codes | str) -> pl.Series:
        if isinstance(c, str):
            return pl.repeat(c, n, eager=True)
        if isinstance(c, Codes):
            return c.series()
        return pl.Series(c)

    frame = pl.DataFrame({f"c{k}": series(c) for k, c in enumerate(columns)})
    return frame.select(pl.format(template, *[pl.col(f"c{k}") for k in range(len(columns))])).to_series()


def lookup(mapping: Mapping[str, Any], keys: np.ndarray) -> np.ndarray:
    """Map an array of keys through a dict (one Python step per distinct key)."""
    if len(keys) == 0:
        return np.zeros(0, dtype=type(next(iter(mapping.values()))))
    uniq, inverse = np.unique(keys, return_inverse=True)
    values: np.ndarray = np.asarray([mapping[str(k)] for k in uniq])[inverse]
    return values
