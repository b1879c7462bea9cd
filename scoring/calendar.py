"""Working days: weekends, public holidays and make-up working days (调休上班).

Deadlines of objections, credit repair and score reviews count working days. A day is a working
day when it is Monday to Friday and not a public holiday, or when it is a make-up working day (a
Saturday or Sunday worked in exchange for a bridged holiday). The holidays and make-up days are
data (``scoring/holidays.yaml``: the State Council's annual notices for 2025 and 2026; 2027 holds
the statutory days until its notice is published), or any file of the same shape
(``CREDIT_HOLIDAY_CALENDAR_FILE``).

``add_working_days(day, n)``: the n-th working day after ``day`` (``day`` itself never counts,
whether or not it is a working day), so "within 1 working day" of a filing on a Friday before a
holiday week is the first working day after it. ``n = 0`` gives ``day`` if it is a working day,
else the next working day.

* ``CalendarError`` (a ``ValueError``): a calendar file that does not validate.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

__all__ = [
    "DEFAULT_CALENDAR_FILE",
    "CalendarError",
    "WorkCalendar",
    "add_working_days",
    "default_calendar",
    "is_working_day",
    "load_calendar",
    "working_days_between",
]

DEFAULT_CALENDAR_FILE = Path(__file__).with_name("holidays.yaml")


class CalendarError(ValueError):
    """A holiday calendar that does not validate."""


@dataclass(frozen=True)
class WorkCalendar:
    """Public holidays and make-up working days by date; ``years``: year -> status."""

    holidays: frozenset[dt.date] = frozenset()
    workdays: frozenset[dt.date] = frozenset()
    years: dict[int, str] = field(default_factory=dict)
    version: str = ""

    def is_working_day(self, day: dt.date) -> bool:
        if day in self.workdays:
            return True
        return day.weekday() < 5 and day not in self.holidays

    def add_working_days(self, day: dt.date, n: int) -> dt.date:
        """The n-th working day after ``day`` (n >= 1), or ``day``/the next working day (n = 0)."""
        if n < 0:
            raise ValueError("n must be at least 0")
        current = day
        if n == 0:
            while not self.is_working_day(current):
                current += dt.timedelta(days=1)
            return current
        left = n
        while left:
            current += dt.timedelta(days=1)
            if self.is_working_day(current):
                left -= 1
        return current

    def working_days_between(self, start: dt.date, end: dt.date) -> int:
        """Working days in (start, end]: how many working days after ``start`` ``end`` is."""
        if end <= start:
            return 0
        return sum(
            self.is_working_day(start + dt.timedelta(days=k)) for k in range(1, (end - start).days + 1)
        )

    def provisional(self, day: dt.date) -> bool:
        """True when ``day`` falls in a year without the State Council's notice (or no data)."""
        return self.years.get(day.year) != "official"


def _date(value: Any, where: str) -> dt.date:
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        raise CalendarError(f"{where}: not a date: {value!r}") from None


def _span(start: dt.date, end: dt.date) -> Iterable[dt.date]:
    for k in range((end - start).days + 1):
        yield start + dt.timedelta(days=k)


def load_calendar(path: str | Path | None = None) -> WorkCalendar:
    """Read and check a holiday calendar (default: ``scoring/holidays.yaml``)."""
    raw = yaml.safe_load(Path(path or DEFAULT_CALENDAR_FILE).read_text(encoding="utf-8"))
    if not isinstance(raw, dict) or not isinstance(raw.get("years"), dict):
        raise CalendarError("a calendar has `years`: year -> {status, holidays, workdays}")
    holidays: set[dt.date] = set()
    workdays: set[dt.date] = set()
    years: dict[int, str] = {}
    for year, spec in raw["years"].items():
        status = spec.get("status")
        if status not in ("official", "provisional"):
            raise CalendarError(f"{year}: status must be official or provisional")
        years[int(year)] = status
        for i, h in enumerate(spec.get("holidays") or []):
            start, end = (
                _date(h.get("from"), f"{year} holiday {i}"),
                _date(h.get("to"), f"{year} holiday {i}"),
            )
            if end < start or start.year != int(year):
                raise CalendarError(f"{year} holiday {i}: {start}..{end} is not a span within the year")
            holidays.update(_span(start, end))
        for w in spec.get("workdays") or []:
            day = _date(w, f"{year} workday")
            if day.weekday() < 5:
                raise CalendarError(f"{year}: make-up working day {day} is not a Saturday or Sunday")
            workdays.add(day)
    both = holidays & workdays
    if both:
        raise CalendarError(f"days both holiday and working day: {sorted(both)}")
    return WorkCalendar(frozenset(holidays), frozenset(workdays), years, str(raw.get("version", "")))


@lru_cache
def default_calendar() -> WorkCalendar:
    return load_calendar()


def is_working_day(day: dt.date, calendar: WorkCalendar | None = None) -> bool:
    return (calendar or default_calendar()).is_working_day(day)


def add_working_days(day: dt.date, n: int, calendar: WorkCalendar | None = None) -> dt.date:
    """The n-th working day after ``day`` under ``calendar`` (default: the shipped one)."""
    return (calendar or default_calendar()).add_working_days(day, n)


def working_days_between(start: dt.date, end: dt.date, calendar: WorkCalendar | None = None) -> int:
    return (calendar or default_calendar()).working_days_between(start, end)
