"""Working days under the public-holiday calendar with its make-up working days."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from scoring.calendar import CalendarError, add_working_days, default_calendar, load_calendar

D = dt.date


def test_spring_festival_2026_and_its_make_up_saturdays() -> None:
    cal = default_calendar()
    assert not cal.is_working_day(D(2026, 2, 16))  # Monday, Spring Festival
    assert cal.is_working_day(D(2026, 2, 14))  # Saturday, make-up working day
    assert cal.is_working_day(D(2026, 2, 28))
    assert not cal.is_working_day(D(2026, 2, 21))  # an ordinary Saturday inside the holiday
    # Filed on Friday 13 February: the next working day is the make-up Saturday.
    assert add_working_days(D(2026, 2, 13), 1) == D(2026, 2, 14)
    assert add_working_days(D(2026, 2, 13), 2) == D(2026, 2, 24)
    assert add_working_days(D(2026, 2, 13), 7) == D(2026, 3, 2)  # 14, 24, 25, 26, 27, 28 (Sat), 2 Mar
    assert cal.working_days_between(D(2026, 2, 13), D(2026, 3, 2)) == 7


def test_national_day_2026_and_2025() -> None:
    assert add_working_days(D(2026, 9, 30), 1) == D(2026, 10, 8)
    assert add_working_days(D(2026, 9, 30), 3) == D(2026, 10, 10)  # Saturday 10 October is worked
    assert add_working_days(D(2025, 9, 30), 1) == D(2025, 10, 9)  # 1-8 October 2025 off
    assert add_working_days(D(2025, 9, 26), 1) == D(2025, 9, 28)  # Sunday 28 September 2025 worked
    assert add_working_days(D(2026, 1, 3), 0) == D(2026, 1, 4)  # n = 0: the next working day (make-up Sunday)
    assert add_working_days(D(2026, 3, 4), 0) == D(2026, 3, 4)
    with pytest.raises(ValueError):
        add_working_days(D(2026, 3, 4), -1)


def test_years_and_provisional_data() -> None:
    cal = default_calendar()
    assert cal.years == {2025: "official", 2026: "official", 2027: "provisional"}
    assert (
        not cal.provisional(D(2026, 5, 1))
        and cal.provisional(D(2027, 5, 1))
        and cal.provisional(D(2030, 1, 1))
    )
    assert not cal.is_working_day(D(2027, 2, 9))  # statutory day moved off a weekend
    assert cal.is_working_day(D(2030, 1, 1))  # no data: Monday-Friday


def test_a_calendar_file_is_checked(tmp_path: Path) -> None:
    bad = tmp_path / "cal.yaml"
    bad.write_text("years:\n  2026:\n    status: official\n    workdays: [2026-03-04]\n")
    with pytest.raises(CalendarError, match="not a Saturday or Sunday"):
        load_calendar(bad)
    bad.write_text("years:\n  2026:\n    status: maybe\n")
    with pytest.raises(CalendarError, match="status"):
        load_calendar(bad)
    good = tmp_path / "own.yaml"
    good.write_text(
        "years:\n  2026:\n    status: official\n    holidays:\n"
        "      - {from: 2026-03-04, to: 2026-03-05, name: x}\n"
    )
    own = load_calendar(good)
    assert add_working_days(D(2026, 3, 3), 1, own) == D(2026, 3, 6)
