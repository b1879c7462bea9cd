"""Time semantics: the window, the yearly blocks and the labelled as-of dates."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from synth.timeline import Timeline, TimelineError, age_years

TODAY = dt.date(2026, 11, 25)


def test_default_window_and_as_of_dates() -> None:
    tl = Timeline(dt.date(2025, 6, 30), 36, TODAY)
    assert (tl.start, tl.end) == (dt.date(2022, 6, 30), dt.date(2026, 6, 30))
    assert tl.n_months == 48 and tl.n_blocks == 4
    assert tl.as_of_dates == [dt.date(2023, 6, 30), dt.date(2024, 6, 30), dt.date(2025, 6, 30)]
    assert tl.month_labels[0] == "2022-07" and tl.month_labels[-1] == "2026-06"
    first = [Timeline.date_of(int(d)) for d in tl.block_first_day]
    assert first == [dt.date(y, 7, 1) for y in (2022, 2023, 2024, 2025, 2026)]


def test_longer_history_adds_labelled_dates() -> None:
    tl = Timeline(dt.date(2025, 2, 28), 48, TODAY)
    assert tl.as_of_dates == [dt.date(y, 2, 28 if y % 4 else 29) for y in (2022, 2023, 2024, 2025)]
    assert tl.start == dt.date(2021, 2, 28)


@pytest.mark.parametrize(
    ("as_of", "months", "message"),
    [
        (dt.date(2025, 6, 15), 36, "last day of a month"),
        (dt.date(2025, 6, 30), 30, "multiple of 12"),
        (dt.date(2025, 6, 30), 24, "at least 36"),
        (dt.date(2026, 6, 30), 36, "after today"),
    ],
)
def test_refused_windows(as_of: dt.date, months: int, message: str) -> None:
    with pytest.raises(TimelineError, match=message):
        Timeline(as_of, months, TODAY)


def test_age_in_completed_years() -> None:
    o = Timeline.ordinal
    born = np.array([o(dt.date(2008, 3, 1)), o(dt.date(2000, 2, 29)), o(dt.date(2007, 12, 31))])
    assert age_years(born, np.array(o(dt.date(2026, 2, 28)))).tolist() == [17, 25, 18]
    assert age_years(born, np.array(o(dt.date(2026, 3, 1)))).tolist() == [18, 26, 18]
