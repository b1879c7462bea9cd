"""Longest run of unpaid month slots: the expression the pipeline uses against the plain definition."""

from __future__ import annotations

import polars as pl
import pytest
from hypothesis import given
from hypothesis import strategies as st

from features.pipelines._common import longest_zero_run, longest_zero_run_expr


def _expr(masks: list[int | None], n: int) -> list[int]:
    return (
        pl.DataFrame({"m": masks}, schema={"m": pl.Int64})
        .select(longest_zero_run_expr("m", n))[:, 0]
        .to_list()
    )


def _by_definition(mask: int | None, n: int) -> int:
    best = run = 0
    for slot in range(n):
        run = 0 if (mask or 0) >> slot & 1 else run + 1
        best = max(best, run)
    return best


def test_hand_worked_masks() -> None:
    paid_all = (1 << 36) - 1
    masks = [
        0,  # nothing paid: 36
        None,  # no pension record at all: same as nothing paid
        paid_all,  # every month paid: 0
        paid_all & ~(0b111111 << 10),  # slots 10-15 unpaid: 6
        paid_all & ~(((1 << 6) - 1) << 15),  # slots 15-20: a gap across the two 18-bit chunks, 6
        1 << 35,  # only the oldest slot paid: 35 (slots 0-34)
        1,  # only the current slot paid: 35 (slots 1-35)
        (1 << 17) | (1 << 18),  # the two slots around the chunk boundary paid: 17 (slots 0-16, 19-35)
    ]
    assert _expr(masks, 36) == [36, 36, 0, 6, 6, 35, 35, 17]
    # Twelve slots: bits 12 and above do not count.
    assert _expr([0, 1 << 11, 1 << 12], 12) == [12, 11, 12]


@given(st.lists(st.integers(0, (1 << 36) - 1), min_size=1, max_size=30), st.integers(1, 36))
def test_expression_matches_definition_and_vectorised_loop(masks: list[int], n: int) -> None:
    expected = [_by_definition(m, n) for m in masks]
    assert _expr(list(masks), n) == expected
    assert longest_zero_run(pl.Series("m", masks, dtype=pl.Int64), n).to_list() == expected


def test_more_than_36_slots_is_refused() -> None:
    with pytest.raises(ValueError, match="n must be"):
        longest_zero_run_expr("m", 37)
