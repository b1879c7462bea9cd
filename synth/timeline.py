"""The time grid of a synthetic city: months, yearly outcome blocks and labelled as-of dates.

* ``TimelineError`` (a ``ValueError``): an as-of date or window the generator cannot honour.

``--as-of D`` is the last labelled as-of date. Records cover the window (D − months, D + 12 months].
The window is cut into yearly blocks; block ``b`` covers months ``12b … 12b+11`` of the window,
i.e. the days (start_b, end_b]. Every block start except the first is a labelled as-of date, so
with 36 months the labelled dates are D − 24m, D − 12m and D, and block 0 is pure history.

Days are held as integer day numbers since 1970-01-01 (numpy ``datetime64[D]`` as ``int``).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import polars as pl

from features.catalogue import add_months

__all__ = ["Timeline", "TimelineError", "age_years", "month_end"]

_EPOCH = dt.date(1970, 1, 1)


class TimelineError(ValueError):
    """The requested window cannot be generated."""


def month_end(day: dt.date) -> dt.date:
    """Last day of the month of ``day``."""
    return add_months(dt.date(day.year, day.month, 1), 1) - dt.timedelta(days=1)


def _ordinal(day: dt.date) -> int:
    return (day - _EPOCH).days


@dataclass(frozen=True)
class Timeline:
    as_of: dt.date
    months: int
    today: dt.date

    def __post_init__(self) -> None:
        if self.as_of != month_end(self.as_of):
            raise TimelineError(f"--as-of must be the last day of a month, got {self.as_of.isoformat()}")
        if self.months < 36 or self.months % 12:
            raise TimelineError(f"--months must be a multiple of 12 and at least 36, got {self.months}")
        if self.end > self.today:
            end, today = self.end.isoformat(), self.today.isoformat()
            raise TimelineError(f"the outcome year after --as-of ends {end}, after today ({today})")

    # -- dates -----------------------------------------------------------------------------------
    @property
    def start(self) -> dt.date:
        """Exclusive start of the window (a month end)."""
        return month_end(add_months(self.as_of, -self.months))

    @property
    def end(self) -> dt.date:
        """Inclusive end of the window: the end of the outcome year after the last as-of date."""
        return month_end(add_months(self.as_of, 12))

    @property
    def n_months(self) -> int:
        return self.months + 12

    @property
    def n_blocks(self) -> int:
        return self.n_months // 12

    def month_date(self, t: int) -> dt.date:
        """First day of window month ``t``."""
        first = self.start + dt.timedelta(days=1)
        return add_months(first, t)

    @property
    def month_first(self) -> np.ndarray:
        """Day number of the first day of every window month (length n_months + 1: one past the end)."""
        return np.array([_ordinal(self.month_date(t)) for t in range(self.n_months + 1)], dtype=np.int64)

    @property
    def month_len(self) -> np.ndarray:
        return np.diff(self.month_first)

    @property
    def month_of_year(self) -> np.ndarray:
        """Calendar month (1–12) of every window month."""
        return np.array([self.month_date(t).month for t in range(self.n_months)], dtype=np.int64)

    @property
    def year_of(self) -> np.ndarray:
        return np.array([self.month_date(t).year for t in range(self.n_months)], dtype=np.int64)

    @property
    def month_labels(self) -> list[str]:
        return [f"{self.month_date(t):%Y-%m}" for t in range(self.n_months)]

    @property
    def quarter_labels(self) -> list[str]:
        out = []
        for t in range(self.n_months):
            d = self.month_date(t)
            out.append(f"{d.year}Q{(d.month - 1) // 3 + 1}")
        return out

    # -- blocks ----------------------------------------------------------------------------------
    def block_start(self, b: int) -> dt.date:
        """Exclusive start of block ``b`` (the as-of date whose outcome year it is)."""
        return month_end(add_months(self.start, 12 * b))

    @property
    def block_first_day(self) -> np.ndarray:
        """First day number inside each block, plus one past the last block."""
        return np.array([_ordinal(self.block_start(b)) + 1 for b in range(self.n_blocks + 1)], dtype=np.int64)

    @property
    def labelled_blocks(self) -> list[int]:
        """Blocks whose start is a labelled as-of date (every block but the first)."""
        return list(range(1, self.n_blocks))

    @property
    def as_of_dates(self) -> list[dt.date]:
        return [self.block_start(b) for b in self.labelled_blocks]

    # -- day numbers -----------------------------------------------------------------------------
    @property
    def first_day(self) -> int:
        return _ordinal(self.start) + 1

    @property
    def last_day(self) -> int:
        return _ordinal(self.end)

    def day_strings(self) -> pl.Series:
        """ISO strings of every day of the window, indexed by ``day - first_day``."""
        days = np.arange(self.first_day, self.last_day + 1).astype("datetime64[D]")
        return pl.Series("d", days).dt.strftime("%Y-%m-%d")

    @staticmethod
    def ordinal(day: dt.date) -> int:
        return _ordinal(day)

    @staticmethod
    def date_of(day: int) -> dt.date:
        return _EPOCH + dt.timedelta(days=int(day))


def age_years(birth_day: np.ndarray, day: np.ndarray) -> np.ndarray:
    """Age in completed years on ``day`` of people born on ``birth_day`` (day numbers, broadcast)."""
    b = np.asarray(birth_day).astype("datetime64[D]")
    d = np.asarray(day).astype("datetime64[D]")

    def parts(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        year = x.astype("datetime64[Y]")
        month = x.astype("datetime64[M]")
        key = (month - year.astype("datetime64[M]")).astype(np.int64) * 32 + (
            x - month.astype("datetime64[D]")
        ).astype(np.int64)
        return year.astype(np.int64), key

    by, bk = parts(b)
    dy, dk = parts(d)
    out: np.ndarray = dy - by - (dk < bk).astype(np.int64)
    return out
