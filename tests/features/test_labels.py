"""Labels: the adverse outcome in the 12 months after D, on hand-built records."""

from __future__ import annotations

import datetime as dt

import pytest
from feature_frames import event, events, rec, records, subjects

from features.labels import build_labels, label_window

D = dt.date(2026, 1, 31)  # window: 2026-01-31 < event_date <= 2027-01-31, known at 2027-01-31 23:59:59.999999


def test_window_clamps_the_month_end() -> None:
    assert label_window(dt.date(2025, 2, 28)) == (
        dt.date(2025, 2, 28),
        dt.date(2026, 2, 28),
        dt.datetime(2026, 2, 28, 23, 59, 59, 999999),
    )
    assert label_window(dt.date(2024, 2, 29))[1] == dt.date(2025, 2, 28)


def test_person_labels() -> None:
    v1 = rec(8, "loan_repayment", dt.date(2026, 6, 1), uid="l8", outcome="overdue", quantity=95)
    w1 = rec(9, "loan_repayment", dt.date(2026, 6, 1), uid="l9", outcome="overdue", quantity=10)
    rows = [
        rec(1, "loan_repayment", dt.date(2026, 5, 1), outcome="overdue", quantity=90),
        rec(2, "loan_repayment", dt.date(2026, 5, 1), outcome="overdue", quantity=89),
        rec(2, "loan_repayment", D, outcome="overdue", quantity=120, recorded_at=dt.datetime(2026, 1, 31, 8)),
        rec(
            3,
            "enforcement_case",
            dt.date(2027, 1, 31),
            outcome="bank",
            recorded_at=dt.datetime(2027, 1, 31, 10),
        ),
        rec(4, "judgment_defaulter", dt.date(2027, 2, 1)),
        rec(5, "enforcement_case", dt.date(2026, 12, 1), outcome="bank", recorded_at=dt.datetime(2027, 2, 1)),
        rec(6, "enforcement_case", dt.date(2026, 3, 1), outcome="bank", uid="e6"),
        rec(7, "judgment_defaulter", dt.date(2026, 2, 1), uid="j7", publicity_end=dt.date(2026, 3, 1)),
        v1,
        {**v1, "version": 2, "quantity": 10.0, "recorded_at": dt.datetime(2026, 7, 1)},
        w1,
        {**w1, "version": 2, "quantity": 95.0, "recorded_at": dt.datetime(2026, 7, 1)},
        rec(10, "traffic_violation", dt.date(2026, 3, 1), severity="serious", outcome="serious"),
        rec(11, "administrative_penalty", dt.date(2026, 3, 1), severity="serious", outcome="fine_high"),
    ]
    evs = [
        event("e6", "withdrawn", dt.date(2026, 4, 1), dt.datetime(2026, 6, 1)),
        event("j7", "repaired", dt.date(2026, 2, 20)),
    ]
    subs = subjects([(i, "person") for i in range(1, 12)])
    out = build_labels(records(rows), events(evs), subs, D)
    assert out.columns == ["subject_id", "label"]
    assert dict(out.iter_rows()) == {1: 1, 2: 0, 3: 1, 4: 0, 5: 0, 6: 0, 7: 1, 8: 0, 9: 1, 10: 0, 11: 0}


def test_organisation_labels() -> None:
    day = dt.date(2026, 6, 1)
    rows = [
        rec(1, "administrative_penalty", day, severity="serious", outcome="fine_high"),
        rec(2, "administrative_penalty", day, severity="general", outcome="fine_mid"),
        rec(3, "environmental_violation", day, severity="serious", outcome="serious"),
        rec(4, "safety_incident", day, severity="serious", outcome="major", quantity=1),
        rec(5, "safety_incident", day, severity="general", outcome="general", quantity=0),
        rec(6, "abnormal_operation", day, outcome="unreachable_address"),
        rec(7, "tax_credit_level", day, outcome="D"),
        rec(8, "tax_credit_level", day, outcome="C"),
        rec(9, "enforcement_case", day, outcome="bank"),
        rec(10, "loan_repayment", day, outcome="overdue", quantity=120),
        rec(11, "abnormal_operation", D, outcome="other"),  # on D: before the window
    ]
    subs = subjects(
        [(i, "enterprise") for i in range(1, 11)] + [(11, "individual_business"), (12, "public_institution")]
    )
    out = build_labels(records(rows), None, subs, D)
    assert dict(out.iter_rows()) == {
        1: 1,
        2: 0,
        3: 1,
        4: 1,
        5: 0,
        6: 1,
        7: 1,
        8: 0,
        9: 0,
        10: 0,
        11: 0,
        12: 0,
    }


@pytest.mark.parametrize("as_of", [dt.date(2026, 1, 31), dt.date(2026, 7, 15)])
def test_labels_cover_every_subject_once(as_of: dt.date) -> None:
    subs = subjects([(3, "person"), (1, "enterprise"), (2, "person")])
    out = build_labels(records([]), None, subs, as_of)
    assert out.rows() == [(1, 0), (2, 0), (3, 0)]
