"""Explanations for scores: exact TreeSHAP at batch speed, and the principal reasons.

**Pattern TreeSHAP** (:class:`PatternTreeShap`). Path-dependent TreeSHAP (what LightGBM's
``pred_contrib`` computes) gives, for one tree, contributions that depend on the row only through
the direction it takes at each of the tree's internal nodes: two rows that agree on every split
of a tree get the same contributions from it. The trees of our models are small (7 leaves, six
splits), so a tree has at most 64 such *patterns*. For each tree we compute the rows' pattern
codes with vectorised comparisons (the same decision rule as LightGBM, missing values included),
ask LightGBM for the contributions of that one tree on one representative row per pattern not
seen before, and add the table entries to every row. The result is TreeSHAP itself — the same
numbers up to float rounding (the tests hold it to 1e-9 of ``pred_contrib``) — at a fraction of
the cost, because the expensive recursion runs once per pattern instead of once per row.

A self-check compares the leaf each row reaches by the computed patterns with LightGBM's own
``pred_leaf`` on a sample of every batch; a disagreement raises :class:`ExplainError`.

**Reasons** (:func:`principal_reasons`). Contributions are turned into score points (a positive
contribution to the log-odds of default lowers the score) and ranked per row: up to four features
lowering the score most (as adverse-action practice requires) and up to four raising it most,
each only when it moves the score by at least ``min_points``.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import lightgbm as lgb
import numba
import numpy as np

from models.bundle import ServingBundle

__all__ = [
    "ExplainError",
    "PatternTreeShap",
    "Reasons",
    "contributions",
    "principal_reasons",
    "score_points",
]

_ZERO = 1e-35  # LightGBM's kZeroThreshold
_MAX_SPLITS = 16  # pattern codes are uint16 below this


class ExplainError(RuntimeError):
    """The fast explanation disagrees with the model (it must never silently differ)."""


@dataclass(frozen=True)
class _Split:
    feature: int
    threshold: float | frozenset[int]
    default_left: bool
    missing: str  # None | Zero | NaN
    categorical: bool


@dataclass
class _Tree:
    splits: list[_Split]
    # Walk table: for internal node j, child index when going left / right; leaves are ~leaf_index.
    left: list[int]
    right: list[int]
    features: np.ndarray  # distinct features split on, sorted
    # (k + 1, 2**splits): per pattern code, contributions on ``features`` then the bias
    lookup: np.ndarray
    known: np.ndarray  # (2**splits,) bool: the pattern's column of ``lookup`` is filled


def _parse_tree(node: dict[str, Any], tree: _Tree) -> int:
    """Depth-first: returns the node's index (internal j >= 0, leaf ~leaf_index)."""
    if "leaf_index" in node:
        return ~int(node["leaf_index"])
    j = int(node["split_index"])
    categorical = node["decision_type"] == "=="
    threshold: float | frozenset[int]
    if categorical:
        threshold = frozenset(int(v) for v in str(node["threshold"]).split("||"))
    else:
        threshold = float(node["threshold"])
    while len(tree.splits) <= j:
        tree.splits.append(_Split(0, 0.0, False, "None", False))
        tree.left.append(0)
        tree.right.append(0)
    tree.splits[j] = _Split(
        int(node["split_feature"]),
        threshold,
        bool(node["default_left"]),
        str(node["missing_type"]),
        categorical,
    )
    tree.left[j] = _parse_tree(node["left_child"], tree)
    tree.right[j] = _parse_tree(node["right_child"], tree)
    return j


def _goes_left(split: _Split, column: np.ndarray) -> np.ndarray:
    """LightGBM's NumericalDecision / CategoricalDecision, vectorised over a column of doubles."""
    nan = np.isnan(column)
    if split.categorical:
        assert isinstance(split.threshold, frozenset)
        as_int = np.where(nan, -1.0, column).astype(np.int64)  # NaN and negatives go right
        return np.isin(as_int, np.fromiter(split.threshold, dtype=np.int64)) & (as_int >= 0)
    assert isinstance(split.threshold, float)
    if split.missing == "NaN":
        return np.where(nan, split.default_left, column <= split.threshold)
    values = np.where(nan, 0.0, column)
    if split.missing == "Zero":
        return np.where(np.abs(values) <= _ZERO, split.default_left, values <= split.threshold)
    return values <= split.threshold


_KERNEL_LOCK = threading.Lock()
_COMPILED_MAX_SPLITS = 8  # pattern codes fit a byte
_SUB_CHUNK = 1 << 16


@numba.njit(cache=True, nogil=True, parallel=True)
def _pattern_codes(
    XT, n_splits, feat, thr, default_left, nan_left, zero_missing, is_cat, cat_mask, codes, present, first_row
):
    """Pass 1, a tree at a time over feature columns (``XT`` is feature-major): every row's pattern
    code in the tree (``codes[t, i]``), which codes occur and the first row of each."""
    n = XT.shape[1]
    for t in numba.prange(n_splits.shape[0]):
        for j in range(n_splits[t]):
            col = XT[feat[t, j]]
            bit = np.uint8(1 << j)
            if is_cat[t, j]:
                mask = cat_mask[t, j]
                for i in range(n):
                    v = col[i]
                    if not np.isnan(v):
                        iv = np.int64(v)
                        if 0 <= iv < 64 and (mask >> np.uint64(iv)) & np.uint64(1) == 1:
                            codes[t, i] |= bit
            else:
                th = thr[t, j]
                dl = default_left[t, j]
                nl = nan_left[t, j]
                zm = zero_missing[t, j]
                for i in range(n):
                    v = col[i]
                    if np.isnan(v):
                        left = nl
                    elif zm and abs(v) <= 1e-35:
                        left = dl
                    else:
                        left = v <= th
                    if left:
                        codes[t, i] |= bit
        for i in range(n):
            c = codes[t, i]
            if not present[t, c]:
                present[t, c] = True
                first_row[t, c] = i


@numba.njit(cache=True, nogil=True, parallel=True)
def _accumulate(codes, k, tfeat, table, out):
    """Pass 2, blocks of rows in parallel: add every tree's table entry for the row's pattern."""
    trees, n = codes.shape
    bias = out.shape[1] - 1
    blocks = (n + 1023) // 1024
    for b in numba.prange(blocks):
        lo = b * 1024
        hi = min(n, lo + 1024)
        for t in range(trees):
            kt = k[t]
            for i in range(lo, hi):
                c = codes[t, i]
                for s in range(kt):
                    out[i, tfeat[t, s]] += table[t, c, s]
                out[i, bias] += table[t, c, kt]


class _Compiled:
    """The trees as flat arrays for the compiled kernels."""

    def __init__(self, trees: list[_Tree]) -> None:
        T = len(trees)
        width = max([len(t.splits) for t in trees] + [1])
        kmax = max([t.features.size for t in trees] + [1])
        self.n_splits = np.array([len(t.splits) for t in trees], dtype=np.int64)
        self.feat = np.zeros((T, width), dtype=np.int64)
        self.thr = np.zeros((T, width), dtype=np.float64)
        self.default_left = np.zeros((T, width), dtype=np.bool_)
        self.nan_left = np.zeros((T, width), dtype=np.bool_)  # where LightGBM sends a NaN
        self.zero_missing = np.zeros((T, width), dtype=np.bool_)  # zero counts as missing
        self.is_cat = np.zeros((T, width), dtype=np.bool_)
        self.cat_mask = np.zeros((T, width), dtype=np.uint64)
        for t, tree in enumerate(trees):
            for j, sp in enumerate(tree.splits):
                self.feat[t, j] = sp.feature
                self.default_left[t, j] = sp.default_left
                self.zero_missing[t, j] = sp.missing == "Zero"
                if sp.categorical:
                    assert isinstance(sp.threshold, frozenset)
                    self.is_cat[t, j] = True
                    self.cat_mask[t, j] = np.uint64(sum(1 << c for c in sp.threshold))
                else:
                    assert isinstance(sp.threshold, float)
                    self.thr[t, j] = sp.threshold
                    # NaN: the default side when missing is NaN or zero (NaN reads as 0), else 0 <= threshold.
                    self.nan_left[t, j] = (
                        sp.default_left if sp.missing in ("NaN", "Zero") else sp.threshold >= 0.0
                    )
        self.k = np.array([t.features.size for t in trees], dtype=np.int64)
        self.tfeat = np.zeros((T, kmax), dtype=np.int64)
        for t, tree in enumerate(trees):
            self.tfeat[t, : tree.features.size] = tree.features
        self.codes = 1 << width
        self.table = np.zeros((T, self.codes, kmax + 1), dtype=np.float64)

    @staticmethod
    def eligible(trees: list[_Tree]) -> bool:
        for tree in trees:
            if len(tree.splits) > _COMPILED_MAX_SPLITS:
                return False
            for sp in tree.splits:
                if sp.categorical and max(sp.threshold, default=0) >= 64:  # type: ignore[arg-type]
                    return False
        return True


class PatternTreeShap:
    """Exact TreeSHAP contributions of a LightGBM booster, computed per split pattern.

    ``contributions(X)`` returns the same array as ``booster.predict(X, pred_contrib=True)``
    (shape ``(n, n_features + 1)``, bias last). Tables fill lazily and are reused across calls.
    """

    def __init__(self, booster: lgb.Booster, *, check_rows: int = 512, compiled: bool = True) -> None:
        self.booster = booster
        self.n_features = booster.num_feature()
        self.check_rows = check_rows
        self.trees: list[_Tree] = []
        for info in booster.dump_model()["tree_info"]:
            tree = _Tree([], [], [], np.zeros(0, dtype=np.int64), np.zeros((1, 1)), np.zeros(1, dtype=bool))
            root = info["tree_structure"]
            if "leaf_index" not in root and "split_index" in root:
                _parse_tree(root, tree)
            if len(tree.splits) > _MAX_SPLITS:
                raise ExplainError(f"a tree with {len(tree.splits)} splits is too large for pattern TreeSHAP")
            tree.features = np.array(sorted({s.feature for s in tree.splits}), dtype=np.int64)
            tree.lookup = np.zeros((tree.features.size + 1, 1 << len(tree.splits)), dtype=np.float64)
            tree.known = np.zeros(1 << len(tree.splits), dtype=bool)
            self.trees.append(tree)
        self._compiled = _Compiled(self.trees) if compiled and _Compiled.eligible(self.trees) else None

    def _codes(self, tree: _Tree, X: np.ndarray) -> np.ndarray:
        code = np.zeros(X.shape[0], dtype=np.int32)
        for j, split in enumerate(tree.splits):
            code |= _goes_left(split, X[:, split.feature]).astype(np.int32) << j
        return code

    def _leaves(self, tree: _Tree, code: np.ndarray) -> np.ndarray:
        """The leaf each pattern code reaches (for the self-check)."""
        out = np.empty(code.shape[0], dtype=np.int64)
        for c in np.unique(code):
            node = 0
            while node >= 0:
                node = tree.left[node] if (int(c) >> node) & 1 else tree.right[node]
            out[code == c] = ~node
        return out

    def contributions(self, X: np.ndarray) -> np.ndarray:
        X = np.ascontiguousarray(X, dtype=np.float64)
        if X.ndim != 2 or X.shape[1] != self.n_features:
            raise ValueError(f"expected shape (n, {self.n_features}), got {X.shape}")
        n = X.shape[0]
        if self._compiled is not None:
            return self._contributions_compiled(X)
        Xf = np.asfortranarray(X)  # column reads are contiguous
        out = np.zeros((self.n_features + 1, n), dtype=np.float64)  # feature-major for fast row adds
        check = min(n, self.check_rows)
        leaves = (
            np.asarray(self.booster.predict(X[:check], pred_leaf=True, num_threads=1), dtype=np.int64)
            if check
            else None
        )
        for t, tree in enumerate(self.trees):
            code = self._codes(tree, Xf) if tree.splits else np.zeros(n, dtype=np.int32)
            if leaves is not None and tree.splits:
                reached = self._leaves(tree, code[:check])
                if not np.array_equal(reached, leaves[:, t].reshape(-1)):
                    raise ExplainError(f"tree {t}: split patterns disagree with LightGBM's leaves")
            self._fill(tree, t, X, code)
            for i, f in enumerate(tree.features):
                out[f] += tree.lookup[i][code]
            out[-1] += tree.lookup[-1][code]
        return np.ascontiguousarray(out.T)

    def _leaf_check(self, codes: np.ndarray, X: np.ndarray) -> None:
        check = min(X.shape[0], self.check_rows)
        if check == 0:
            return
        leaves = np.asarray(self.booster.predict(X[:check], pred_leaf=True, num_threads=1), dtype=np.int64)
        leaves = leaves.reshape(check, -1)
        for t, tree in enumerate(self.trees):
            if tree.splits and not np.array_equal(
                self._leaves(tree, codes[t, :check].astype(np.int64)), leaves[:, t]
            ):
                raise ExplainError(f"tree {t}: split patterns disagree with LightGBM's leaves")

    def _contributions_compiled(self, X: np.ndarray) -> np.ndarray:
        # numba's default thread pool does not take parallel kernels from two threads at once, and
        # the explainer's tables fill as it goes: one call at a time per process.
        with _KERNEL_LOCK:
            return self._contributions_locked(X)

    def _contributions_locked(self, X: np.ndarray) -> np.ndarray:
        c = self._compiled
        assert c is not None
        n, T = X.shape[0], len(self.trees)
        out = np.zeros((n, self.n_features + 1), dtype=np.float64)
        for start in range(0, n, _SUB_CHUNK):
            part = X[start : start + _SUB_CHUNK]
            codes = np.zeros((T, part.shape[0]), dtype=np.uint8)
            present = np.zeros((T, c.codes), dtype=np.bool_)
            first_row = np.zeros((T, c.codes), dtype=np.int64)
            _pattern_codes(
                np.ascontiguousarray(part.T),
                c.n_splits,
                c.feat,
                c.thr,
                c.default_left,
                c.nan_left,
                c.zero_missing,
                c.is_cat,
                c.cat_mask,
                codes,
                present,
                first_row,
            )
            if start == 0:
                self._leaf_check(codes, part)
            for t, tree in enumerate(self.trees):
                width = tree.known.shape[0]
                missing = np.flatnonzero(present[t, :width] & ~tree.known)
                if missing.size == 0:
                    continue
                contrib = np.asarray(
                    self.booster.predict(
                        part[first_row[t, missing]],
                        pred_contrib=True,
                        start_iteration=t,
                        num_iteration=1,
                        num_threads=1,
                    ),
                    dtype=np.float64,
                )
                tree.known[missing] = True
                k = tree.features.size
                c.table[t, missing, :k] = contrib[:, tree.features]
                c.table[t, missing, k] = contrib[:, self.n_features]
            _accumulate(codes, c.k, c.tfeat, c.table, out[start : start + part.shape[0]])
        return out

    def _fill(self, tree: _Tree, t: int, X: np.ndarray, code: np.ndarray) -> None:
        """Ask LightGBM for this tree's contributions on one row per pattern not seen before."""
        if code.shape[0] == 0:
            return
        first = np.full(tree.known.shape[0], -1, dtype=np.int64)
        first[code[::-1]] = np.arange(code.shape[0] - 1, -1, -1)  # last write wins: first row per code
        missing = np.flatnonzero((first >= 0) & ~tree.known)
        if missing.size == 0:
            return
        contrib = np.asarray(
            self.booster.predict(
                X[first[missing]], pred_contrib=True, start_iteration=t, num_iteration=1, num_threads=1
            ),
            dtype=np.float64,
        )
        cols = np.append(tree.features, self.n_features)
        tree.lookup[:, missing] = contrib[:, cols].T
        tree.known[missing] = True


def contributions(
    bundle: ServingBundle, X: np.ndarray, explainer: PatternTreeShap | None = None
) -> np.ndarray:
    """Contributions to the raw log-odds of default, shape ``(n, n_features + 1)``, bias last.

    lgbm: pattern TreeSHAP (exact); scorecard: ``coef · WoE`` per feature.
    """
    if bundle.family == "lgbm":
        assert bundle.booster is not None
        return (explainer or PatternTreeShap(bundle.booster)).contributions(X)
    return bundle.raw_contributions(X)


def score_points(bundle: ServingBundle, contrib: np.ndarray) -> np.ndarray:
    """Per-feature contributions on the score scale (positive raises the score), shape (n, F)."""
    return -bundle.scaling.factor * bundle.calibration.slope * contrib[:, :-1]


@dataclass(frozen=True)
class Reasons:
    """Per row: feature indices and points of the principal reasons, -1 / NaN where fewer."""

    lowering: np.ndarray  # (n, k) int, most lowering first
    lowering_points: np.ndarray  # (n, k) float, negative
    raising: np.ndarray
    raising_points: np.ndarray

    def row(self, i: int, features: Sequence[str]) -> dict[str, list[list[Any]]]:
        def side(idx: np.ndarray, pts: np.ndarray) -> list[list[Any]]:
            return [
                [features[int(j)], round(float(p), 2)] for j, p in zip(idx[i], pts[i], strict=True) if j >= 0
            ]

        return {
            "lowering": side(self.lowering, self.lowering_points),
            "raising": side(self.raising, self.raising_points),
        }


def principal_reasons(points: np.ndarray, *, top: int = 4, min_points: float = 0.5) -> Reasons:
    """Up to ``top`` features lowering and raising each row's score most (vectorised)."""
    n, f = points.shape
    k = min(top, f)
    if n == 0 or k == 0:
        empty_i = np.full((n, k), -1, dtype=np.int64)
        empty_f = np.full((n, k), np.nan)
        return Reasons(empty_i, empty_f, empty_i.copy(), empty_f.copy())

    def pick(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        # Most negative first; ties broken by feature index (stable sort) so output is deterministic.
        order = np.argsort(values, axis=1, kind="stable")[:, :k]
        chosen = np.take_along_axis(values, order, axis=1)
        keep = chosen <= -min_points
        return np.where(keep, order, -1), np.where(keep, chosen, np.nan)

    low_i, low_p = pick(points)
    up_i, up_neg = pick(-points)
    return Reasons(low_i, low_p, up_i, -up_neg)
