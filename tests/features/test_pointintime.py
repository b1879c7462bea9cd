"""Two timelines: valid time (event, publicity, effective dates) and transaction time (recorded_at)."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest
from feature_frames import event, events, rec, records
from hypothesis import given
from hypothesis import strategies as st

from features.catalogue import add_months
from features.pipelines._common import age_tables
from features.pointintime import PointInTimeError, end_of_day, usable_records

D = dt.date(2026, 2, 15)


def uids(frame: pl.DataFrame) -> list[str]:
    return sorted(frame["record_uid"].to_list())


def usable(rows: list[dict], evs: list[dict] | None = None, **kw: object) -> list[str]:
    return uids(usable_records(records(rows), events(evs or []), as_of=kw.pop("as_of", D), **kw))  # type: ignore[arg-type]


def test_valid_time_window_event_date_and_publicity_end() -> None:
    rows = [
        rec(1, "traffic_violation", D, uid="on_d", recorded_at=dt.datetime(2026, 2, 15, 18)),
        rec(1, "traffic_violation", D + dt.timedelta(days=1), uid="after_d", recorded_at=end_of_day(D)),
        rec(1, "traffic_violation", dt.date(2025, 11, 15), uid="ends_on_d", publicity_end=D),
        rec(
            1,
            "traffic_violation",
            dt.date(2025, 11, 16),
            uid="ends_after_d",
            publicity_end=D + dt.timedelta(1),
        ),
    ]
    assert usable(rows) == ["ends_after_d", "on_d"]


def test_known_at_defaults_to_end_of_day() -> None:
    late_on_d = rec(
        1, "award", dt.date(2026, 1, 5), uid="same_day", recorded_at=dt.datetime(2026, 2, 15, 23, 59, 59)
    )
    next_day = rec(
        1, "award", dt.date(2026, 1, 5), uid="next_day", recorded_at=dt.datetime(2026, 2, 16, 0, 0)
    )
    assert usable([late_on_d, next_day]) == ["same_day"]
    assert usable([late_on_d, next_day], known_at=dt.datetime(2026, 2, 15, 12)) == []


def test_latest_version_as_known_at_known_at() -> None:
    v1 = rec(
        1, "utility_bill", dt.date(2026, 1, 10), uid="u", outcome="late", recorded_at=dt.datetime(2026, 1, 11)
    )
    v2 = {**v1, "version": 2, "outcome": "on_time", "recorded_at": dt.datetime(2026, 3, 1)}
    before = usable_records(records([v1, v2]), None, as_of=D)
    assert before["outcome"].to_list() == ["late"]
    after = usable_records(records([v1, v2]), None, as_of=D, known_at=dt.datetime(2026, 3, 2))
    assert after["outcome"].to_list() == ["on_time"]
    assert after["version"].to_list() == [2]


def test_correction_moving_event_date_after_d_removes_the_record() -> None:
    v1 = rec(1, "enforcement_case", dt.date(2026, 1, 10), uid="e", recorded_at=dt.datetime(2026, 1, 11))
    v2 = {**v1, "version": 2, "event_date": dt.date(2026, 3, 10), "recorded_at": dt.datetime(2026, 1, 20)}
    assert usable([v1, v2]) == []
    assert usable([v1, v2], known_at=dt.datetime(2026, 1, 15)) == ["e"]


@pytest.mark.parametrize("kind", ["withdrawn", "repaired", "expired"])
def test_withdrawn_later_is_usable_as_known_before_not_after(kind: str) -> None:
    r = rec(
        1, "administrative_penalty", dt.date(2026, 1, 10), uid="p", outcome="fine_mid", severity="general"
    )
    # Withdrawn with effect from 1 February, recorded on 2 March.
    ev = [event("p", kind, dt.date(2026, 2, 1), dt.datetime(2026, 3, 2, 10))]
    assert usable([r], ev) == ["p"]  # as known on D: the withdrawal was not yet recorded
    assert usable([r], ev, known_at=dt.datetime(2026, 3, 2, 9)) == ["p"]
    assert usable([r], ev, known_at=dt.datetime(2026, 3, 2, 10)) == []
    # Effective after D: on D the record was still in force, whatever we know now.
    later = [event("p", kind, dt.date(2026, 2, 20), dt.datetime(2026, 2, 20, 10))]
    assert usable([r], later, known_at=dt.datetime(2026, 6, 1)) == ["p"]
    assert usable([r], later, as_of=dt.date(2026, 2, 20), known_at=dt.datetime(2026, 6, 1)) == []


def _disputed(*evs: tuple[str, dt.date, dt.datetime]) -> list[dict]:
    return [event("n", t, eff, at) for t, eff, at in evs]


NEG = rec(1, "tax_arrears", dt.date(2026, 1, 5), uid="n", amount=500.0)
POS = rec(1, "red_list", dt.date(2026, 1, 5), uid="n", outcome="A")
T0 = dt.datetime(2026, 2, 1, 9)


def test_open_dispute_is_not_used_against_the_subject() -> None:
    assert usable([NEG], _disputed(("disputed", dt.date(2026, 2, 1), T0))) == []


def test_disputed_positive_record_stays_usable() -> None:
    assert usable([POS], _disputed(("disputed", dt.date(2026, 2, 1), T0))) == ["n"]


@pytest.mark.parametrize("decision", ["dispute_rejected", "dispute_upheld"])
def test_decided_dispute_makes_the_record_usable_again(decision: str) -> None:
    evs = _disputed(
        ("disputed", dt.date(2026, 2, 1), T0), (decision, dt.date(2026, 2, 6), T0 + dt.timedelta(5))
    )
    assert usable([NEG], evs) == ["n"]
    # Decision not yet recorded, or not yet in effect, on D.
    assert usable([NEG], evs, known_at=dt.datetime(2026, 2, 5)) == []
    assert usable([NEG], evs, as_of=dt.date(2026, 2, 5), known_at=dt.datetime(2026, 3, 1)) == []


def test_second_dispute_after_rejection_is_open_again() -> None:
    evs = _disputed(
        ("disputed", dt.date(2026, 1, 20), T0),
        ("dispute_rejected", dt.date(2026, 1, 25), T0),
        ("disputed", dt.date(2026, 2, 10), T0 + dt.timedelta(9)),
    )
    assert usable([NEG], evs) == []
    assert usable([NEG], evs, as_of=dt.date(2026, 2, 9)) == ["n"]


def test_dispute_and_decision_on_the_same_day_order_by_recording_time() -> None:
    day = dt.date(2026, 2, 1)
    assert usable(
        [NEG], _disputed(("disputed", day, T0), ("dispute_rejected", day, T0 + dt.timedelta(hours=3)))
    ) == ["n"]
    assert (
        usable([NEG], _disputed(("dispute_rejected", day, T0), ("disputed", day, T0 + dt.timedelta(hours=3))))
        == []
    )
    # A full tie: the decision follows the objection.
    assert usable([NEG], _disputed(("disputed", day, T0), ("dispute_rejected", day, T0))) == ["n"]


def test_dispute_unknown_on_d_does_not_hide_the_record() -> None:
    assert usable([NEG], _disputed(("disputed", dt.date(2026, 2, 1), dt.datetime(2026, 2, 16, 8)))) == ["n"]


def test_events_of_other_records_do_not_matter() -> None:
    other = rec(1, "tax_arrears", dt.date(2026, 1, 6), uid="m", amount=1.0)
    assert usable([NEG, other], [event("m", "withdrawn", dt.date(2026, 1, 7))]) == ["n"]


def test_unknown_event_type_and_missing_columns_are_errors() -> None:
    with pytest.raises(PointInTimeError, match=r"unknown record event types \['withdraw'\]"):
        usable([NEG], [event("n", "withdraw", dt.date(2026, 1, 7))])
    with pytest.raises(PointInTimeError, match=r"records frame lacks columns \['publicity_end'\]"):
        usable_records(records([NEG]).drop("publicity_end"), None, as_of=D)
    with pytest.raises(PointInTimeError, match="as_of must be a date"):
        usable_records(records([NEG]), None, as_of=dt.datetime(2026, 1, 1))  # type: ignore[arg-type]


def test_lazy_input_and_many_subjects_at_once() -> None:
    rows = [rec(s, "award", dt.date(2026, 1, s), uid=f"a{s}") for s in range(1, 6)]
    evs = [event("a3", "withdrawn", dt.date(2026, 1, 20))]
    out = usable_records(records(rows).lazy(), events(evs).lazy(), as_of=D)
    assert uids(out) == ["a1", "a2", "a4", "a5"]
    assert out.columns == records(rows).columns


@given(
    as_of=st.dates(dt.date(2020, 1, 1), dt.date(2030, 12, 31)),
    event_date=st.dates(dt.date(2016, 1, 1), dt.date(2030, 12, 31)),
)
def test_month_slot_matches_calendar_definition(as_of: dt.date, event_date: dt.date) -> None:
    """Slot k: add_months(D, -(k+1)) < event_date <= add_months(D, -k); windows agree with it."""
    if event_date > as_of:
        return
    slots, bits, weights = age_tables(as_of, 365.25)
    age = (as_of - event_date).days
    k = slots[age]
    assert add_months(as_of, -(k + 1)) < event_date <= add_months(as_of, -k)
    assert bits[age] == (2**k if k < 36 else 0)
    assert weights[age] == pytest.approx(0.5 ** (age / 365.25), rel=1e-12)  # numpy pow may differ by an ulp
    for n in (1, 12, 36):
        assert (add_months(as_of, -n) < event_date) == (k < n)
