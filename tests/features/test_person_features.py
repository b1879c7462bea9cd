"""Person features: hand-worked examples of every family, exact values (as of D = 2026-06-15)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from feature_frames import event, events, monthly, rec, records, subjects

from features.pipelines import person_features
from features.registry import load_registry

D = dt.date(2026, 6, 15)
HALF_LIFE = 365.25
REGISTRY = load_registry()


def w(day: dt.date) -> float:
    return 0.5 ** ((D - day).days / HALF_LIFE)


def person(rows: list[dict], evs: list[dict] | None = None, **kw: Any) -> dict[str, Any]:
    out = person_features(records(rows), events(evs or []), subjects([(1, "person")]), as_of=D, **kw)
    assert out.height == 1
    return out.row(0, named=True)


def pension(day: dt.date, status: str = "paid", insurance: str = "pension") -> dict:
    return rec(
        1,
        "social_insurance_contribution",
        day,
        outcome=status,
        amount=800.0,
        payload={"period": day.strftime("%Y-%m"), "insurance": insurance, "amount": 800.0, "status": status},
    )


def test_empty_file_gets_explicit_values() -> None:
    f = person([])
    assert f == {
        "subject_id": 1,
        **{name: 0 for name in REGISTRY.names("person")},
        "pension_longest_gap_36m": 36,
        "tax_on_time_share_12m": None,
        "months_since_negative": 120,
        "utility_late_share_36m": None,
        "pension_contribution_avg_12m": None,
        "utility_avg_days_late_12m": None,
        "payment_late_share_decayed_36m": None,
        "months_since_employed_36m": 36,
    }


def test_pension_and_medical_months() -> None:
    missing = {dt.date(2025, 3, 10), dt.date(2025, 4, 10), dt.date(2025, 5, 10)}
    rows = [pension(d) for d in monthly(10, dt.date(2024, 1, 1), D) if d not in missing]
    rows += [
        pension(dt.date(2026, 2, 20)),  # a second payment in the slot of 10 March: counts once
        pension(dt.date(2025, 4, 10), insurance="unemployment"),  # not pension
        pension(dt.date(2025, 5, 10), status="arrears"),  # not paid
        pension(dt.date(2026, 6, 16)),  # after D
    ]
    medical = [d for d in monthly(10, dt.date(2025, 7, 1), D) if d != dt.date(2026, 1, 10)]
    rows += [rec(1, "medical_insurance_contribution", d, outcome="paid", amount=300.0) for d in medical]
    rows += [rec(1, "medical_insurance_contribution", dt.date(2026, 1, 10), outcome="arrears", amount=300.0)]
    f = person(rows)
    # Slots: 10 June 2026 is slot 0, January 2024 slot 29. Unpaid: slots 13-15 (March-May 2025)
    # and 30-35 (before January 2024).
    assert f["pension_paid_months_12m"] == 12
    assert f["pension_paid_months_36m"] == 27
    assert f["pension_longest_gap_36m"] == 6
    assert f["medical_paid_months_12m"] == 11


def test_tax_share_and_arrears() -> None:
    rows = [
        rec(1, "tax_payment", dt.date(2025, 6, 15), outcome="on_time", quantity=0),  # window start: excluded
        rec(1, "tax_payment", dt.date(2025, 6, 16), outcome="on_time", quantity=0),
        rec(1, "tax_payment", dt.date(2025, 9, 15), outcome="on_time", quantity=0),
        rec(1, "tax_payment", dt.date(2025, 12, 15), outcome="late", quantity=10),
        rec(1, "tax_payment", dt.date(2026, 3, 15), outcome="on_time", quantity=0),
        rec(1, "tax_arrears", dt.date(2026, 3, 1), amount=1200.0),
        rec(1, "tax_arrears", dt.date(2025, 1, 1), amount=999.0),  # publicity ended 2026-01-01
    ]
    f = person(rows)
    assert (f["tax_payments_12m"], f["tax_on_time_share_12m"], f["tax_arrears_amount"]) == (4, 0.75, 1200.0)


def test_utility_lateness() -> None:
    rows = [
        rec(1, "utility_bill", d, outcome="on_time", quantity=0)
        for d in monthly(1, dt.date(2025, 7, 1), dt.date(2026, 4, 1))
    ]
    rows += [
        rec(1, "utility_bill", dt.date(2026, 5, 1), outcome="late", quantity=20),
        rec(1, "utility_bill", dt.date(2026, 6, 1), outcome="arrears", quantity=45),
        rec(1, "utility_bill", dt.date(2025, 6, 1), outcome="late", quantity=90),  # older than 12 months
    ]
    f = person(rows)
    assert (f["utility_bills_12m"], f["utility_late_12m"], f["utility_arrears_12m"]) == (12, 2, 1)
    assert f["utility_max_days_late_12m"] == 45


def test_loans_and_no_loan() -> None:
    rows = [
        rec(1, "loan_repayment", d, outcome="on_time", quantity=0, amount=1000.0)
        for d in monthly(5, dt.date(2025, 7, 1), D)
    ]
    rows += [
        {**rows[3], "record_uid": "late1", "quantity": 35.0, "outcome": "overdue"},  # 2025-10-05
        {**rows[7], "record_uid": "late2", "quantity": 5.0, "outcome": "overdue"},  # 2026-02-05
        rec(1, "loan_repayment", dt.date(2024, 8, 5), outcome="overdue", quantity=60, amount=1000.0),
    ]
    f = person(rows)
    assert (f["has_loan"], f["loan_overdue_12m"], f["loan_max_days_overdue_36m"]) == (1, 2, 60)
    none = person([rec(1, "utility_bill", dt.date(2026, 1, 1), outcome="on_time", quantity=0)])
    assert (none["has_loan"], none["loan_overdue_12m"], none["loan_max_days_overdue_36m"]) == (0, 0, 0)


def test_negative_records_decay_listings_and_disputes() -> None:
    rows = [
        rec(1, "traffic_violation", dt.date(2026, 5, 15), severity="minor", outcome="minor"),
        rec(
            1, "traffic_violation", dt.date(2025, 12, 15), severity="general", outcome="general"
        ),  # ended 2026-03-15
        rec(1, "administrative_penalty", dt.date(2025, 12, 15), severity="general", outcome="fine_mid"),
        rec(1, "enforcement_case", dt.date(2026, 1, 15), outcome="bank", amount=5000.0),
        rec(1, "judgment_defaulter", dt.date(2025, 9, 1), amount=5000.0),
        rec(1, "high_consumption_restriction", dt.date(2026, 4, 1), uid="hcr"),
    ]
    f = person(rows, [event("hcr", "disputed", dt.date(2026, 4, 10))])
    assert (D - dt.date(2025, 9, 1)).days == 287
    assert f["negative_minor_decayed"] == pytest.approx(w(dt.date(2026, 5, 15)), rel=1e-12)
    assert f["negative_general_decayed"] == pytest.approx(
        w(dt.date(2025, 12, 15)) + w(dt.date(2026, 1, 15)), rel=1e-12
    )
    assert f["negative_serious_decayed"] == pytest.approx(0.5 ** (287 / 365.25), rel=1e-12)
    assert f["months_since_negative"] == 1  # 2026-05-15 <= add_months(D, -1)
    assert (f["judgment_defaulter_active"], f["consumption_restriction_active"]) == (1, 0)
    assert (f["serious_dishonesty_active"], f["enforcement_cases_12m"]) == (0, 1)


def test_positive_records_and_commitments() -> None:
    rows = [
        rec(1, "credit_commitment", dt.date(2025, 2, 1), outcome="fulfilled"),
        rec(1, "credit_commitment", dt.date(2025, 8, 1), outcome="fulfilled"),
        rec(1, "credit_commitment", dt.date(2025, 9, 1), outcome="broken"),
        rec(1, "credit_commitment", dt.date(2026, 1, 1), outcome="signed"),
        rec(1, "volunteer_service", dt.date(2025, 1, 1), quantity=4),
        rec(1, "volunteer_service", dt.date(2026, 2, 1), quantity=2.5),
        rec(1, "volunteer_service", dt.date(2023, 5, 1), quantity=10),  # publicity ended 2026-05-01
        rec(1, "blood_donation", dt.date(2025, 5, 1), quantity=400),
        rec(1, "award", dt.date(2024, 1, 1), outcome="city"),
        rec(1, "red_list", dt.date(2026, 1, 1), outcome="honest taxpayers"),
    ]
    f = person(rows)
    assert (f["commitments_kept"], f["commitments_broken"]) == (2, 1)
    assert (f["volunteer_hours_36m"], f["blood_donations_36m"], f["awards"], f["red_list_active"]) == (
        6.5,
        1,
        1,
        1,
    )
    assert f["months_since_negative"] == 120
    # Earliest usable record: the award of 2024-01-01, slot 29; the expired one does not count.
    assert (f["record_tenure_months"], f["record_count"]) == (29, 9)


def test_output_columns_are_exactly_the_registry() -> None:
    out = person_features(
        records([]), None, subjects([(3, "person"), (1, "person"), (2, "enterprise")]), as_of=D
    )
    assert out.columns == ["subject_id", *REGISTRY.names("person")]
    assert out["subject_id"].to_list() == [1, 3]
    assert dict(out.schema) == REGISTRY.schema("person")


def contribution(day: dt.date, insurance: str, status: str = "paid", amount: float = 800.0) -> dict:
    return rec(
        1,
        "social_insurance_contribution",
        day,
        outcome=status,
        amount=amount,
        payload={"period": day.strftime("%Y-%m"), "insurance": insurance, "amount": amount, "status": status},
    )


def test_recent_and_long_run_conduct() -> None:
    late = {
        dt.date(2026, 6, 1): ("late", 20),
        dt.date(2026, 4, 1): ("arrears", 45),
        dt.date(2026, 3, 1): ("late", 10),  # before 2026-03-15: in 6 months, not in 3
        dt.date(2024, 1, 1): ("late", 5),  # in 36 months only
    }
    rows = [
        rec(1, "utility_bill", d, outcome=late.get(d, ("on_time", 0))[0], quantity=late.get(d, ("", 0))[1])
        for d in monthly(1, dt.date(2023, 7, 1), D)
    ]
    rows.append(rec(1, "utility_bill", dt.date(2023, 6, 1), outcome="late", quantity=9))  # 36 months ago
    for d in monthly(5, dt.date(2025, 7, 1), D):  # overdue (10 days) in February and May 2026
        overdue = d.month in (2, 5)
        rows.append(
            rec(1, "loan_repayment", d, outcome="overdue" if overdue else "on_time", quantity=10 * overdue)
        )
    f = person(rows)
    # 3 months: after 2026-03-15 (bills of April, May, June); 6 months: after 2025-12-15.
    assert (f["utility_late_3m"], f["utility_late_6m"], f["utility_late_12m"]) == (2, 3, 3)
    assert f["utility_days_late_3m"] == 65.0  # 45 + 0 + 20
    assert f["utility_days_late_12m"] == 75.0  # and 10 on 2026-03-01
    assert f["utility_late_share_36m"] == pytest.approx(4 / 36)  # July 2023 to June 2026
    # Repayments of 5 April, 5 May (10 days overdue) and 5 June; 5 February is older.
    assert (f["loan_repayments_3m"], f["loan_overdue_3m"], f["loan_overdue_12m"]) == (3, 1, 2)
    assert f["loan_days_overdue_12m"] == 20.0


def test_employment_and_income_from_contributions_and_tax() -> None:
    rows = [
        contribution(dt.date(2026, 6, 10), "unemployment"),  # slot 0
        contribution(dt.date(2026, 6, 1), "unemployment"),  # slot 0 again: counts once
        contribution(dt.date(2026, 5, 10), "unemployment"),  # slot 1
        contribution(dt.date(2026, 4, 10), "unemployment", "arrears"),  # slot 2: a contribution all the same
        contribution(dt.date(2026, 3, 10), "unemployment"),  # slot 3: not in the last 3 months
        contribution(dt.date(2026, 6, 10), "work_injury"),
        contribution(dt.date(2026, 6, 10), "pension"),
        contribution(dt.date(2026, 1, 10), "pension", "arrears"),
        contribution(dt.date(2025, 11, 10), "pension", "arrears"),  # before 2025-12-15: not in 6 months
        contribution(dt.date(2025, 7, 10), "pension", amount=1200.0),
        contribution(dt.date(2025, 6, 10), "pension", amount=5000.0),  # older than 12 months
        rec(1, "tax_payment", dt.date(2026, 3, 15), outcome="on_time", quantity=0, amount=300.0),
        rec(1, "tax_payment", dt.date(2025, 9, 15), outcome="late", quantity=3, amount=200.0),
        # On the window start (2025-06-15): excluded.
        rec(1, "tax_payment", dt.date(2025, 6, 15), outcome="on_time", quantity=0, amount=999.0),
    ]
    f = person(rows)
    assert f["employment_insurance_months_3m"] == 3
    assert f["months_since_employed_36m"] == 0  # slot 0
    assert f["social_insurance_arrears_6m"] == 2  # unemployment 2026-04-10, pension 2026-01-10
    # Pension contributions due in 12 months, paid or not: 800, 800, 800, 1200.
    assert f["pension_contribution_avg_12m"] == 900.0
    assert f["tax_paid_12m"] == 500.0
    nothing = person([rec(1, "utility_bill", dt.date(2026, 1, 1), outcome="on_time", quantity=0)])
    assert (nothing["employment_insurance_months_3m"], nothing["pension_contribution_avg_12m"]) == (0, None)
    assert nothing["months_since_employed_36m"] == 36
    # The last employer contribution in the slot of 10 November 2025 (slot 7), the one of 10 May
    # 2023 outside the 36 months.
    left = person(
        [
            contribution(dt.date(2025, 11, 10), "unemployment"),
            contribution(dt.date(2023, 5, 10), "unemployment"),
        ]
    )
    assert left["months_since_employed_36m"] == 7


def test_payment_conduct_across_every_payment() -> None:
    late = [
        rec(1, "utility_bill", dt.date(2026, 5, 1), outcome="late", quantity=20),
        rec(1, "utility_bill", dt.date(2026, 2, 1), outcome="late", quantity=6),
        rec(1, "utility_bill", dt.date(2026, 4, 1), outcome="arrears", quantity=45),  # unpaid
        rec(1, "utility_bill", dt.date(2025, 3, 1), outcome="late", quantity=8),  # older than 12 months
        rec(1, "loan_repayment", dt.date(2026, 3, 5), outcome="overdue", quantity=35),  # 30+ days
        rec(1, "loan_repayment", dt.date(2025, 12, 5), outcome="overdue", quantity=5),
        rec(1, "tax_payment", dt.date(2025, 9, 15), outcome="late", quantity=3),
        contribution(dt.date(2026, 1, 10), "pension", "arrears"),
    ]
    on_time = [
        rec(1, "utility_bill", dt.date(2026, 6, 1), outcome="on_time", quantity=0),
        rec(1, "loan_repayment", dt.date(2026, 6, 5), outcome="on_time", quantity=0),
        contribution(dt.date(2026, 6, 10), "pension"),
    ]
    older = [
        # Before 2023-06-15: outside the 36 months.
        rec(1, "utility_bill", dt.date(2023, 6, 1), outcome="arrears", quantity=60),
        # Not a payment.
        rec(1, "traffic_violation", dt.date(2026, 5, 15), severity="minor", outcome="minor"),
    ]
    f = person(late + on_time + older)
    assert f["utility_avg_days_late_12m"] == 13.0  # (20 + 6) / 2: unpaid bills are not "paid late"
    weights = {r["event_date"]: w(r["event_date"]) for r in late + on_time}
    share = sum(w(r["event_date"]) for r in late) / sum(weights.values())
    assert f["payment_late_share_decayed_36m"] == pytest.approx(share, rel=1e-12)
    arrears = w(dt.date(2026, 4, 1)) + w(dt.date(2026, 3, 5)) + w(dt.date(2026, 1, 10))
    assert f["payment_arrears_decayed_36m"] == pytest.approx(arrears, rel=1e-12)
    paid = person(on_time)
    assert (paid["payment_late_share_decayed_36m"], paid["payment_arrears_decayed_36m"]) == (0.0, 0.0)
    assert paid["utility_avg_days_late_12m"] is None
