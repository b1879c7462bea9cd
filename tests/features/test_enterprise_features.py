"""Enterprise features: hand-worked examples of every family, exact values (as of D = 2026-06-15)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import polars as pl
import pytest
from feature_frames import event, events, link, links, monthly, rec, records, subjects

from features.pipelines import enterprise_features
from features.registry import load_registry

D = dt.date(2026, 6, 15)
REGISTRY = load_registry()
ORG, REP, OTHER_REP = 1, 10, 11


def w(day: dt.date) -> float:
    return 0.5 ** ((D - day).days / 365.25)


def org(
    rows: list[dict],
    evs: list[dict] | None = None,
    lks: list[dict] | None = None,
    subject_type: str = "enterprise",
    registered_on: dt.date | None = None,
    **kw: Any,
) -> dict[str, Any]:
    subs = subjects([(ORG, subject_type, registered_on), (REP, "person"), (OTHER_REP, "person")])
    kw.setdefault("as_of", D)
    out = enterprise_features(records(rows), events(evs or []), subs, links(lks or []), **kw)
    assert out["subject_id"].to_list() == [ORG]
    return out.row(0, named=True)


def test_empty_organisation() -> None:
    f = org([])
    nullable = {f.name for f in REGISTRY.for_subject("enterprise") if f.nullable}
    assert nullable == {
        "tax_credit_level",
        "tax_late_share_12m",
        "utility_late_share_12m",
        "years_in_operation",
        "size_level",
        "tax_late_share_36m",
        "utility_late_share_36m",
        "legal_rep_utility_late_share_36m",
        "payment_late_share_6m",
        "payment_late_share_decayed_36m",
        "tax_credit_level_avg_36m",
    }
    assert f == {"subject_id": ORG, **{n: None if n in nullable else 0 for n in REGISTRY.names("enterprise")}}


def test_tax_credit_level_latest_and_none() -> None:
    rows = [
        rec(ORG, "tax_credit_level", dt.date(2024, 4, 1), outcome="A"),
        rec(ORG, "tax_credit_level", dt.date(2025, 4, 1), outcome="M"),
        rec(
            ORG, "tax_credit_level", dt.date(2026, 7, 1), outcome="D", recorded_at=dt.datetime(2026, 6, 1)
        ),  # after D
    ]
    f = org(rows)
    assert (f["tax_credit_level"], f["has_tax_credit_level"]) == (2, 1)
    corrected = {**rows[1], "version": 2, "outcome": "C", "recorded_at": dt.datetime(2025, 5, 1)}
    assert org([*rows, corrected])["tax_credit_level"] == 1
    assert org(rows[:1])["tax_credit_level"] == 4


def test_tax_and_social_insurance_arrears_and_late_shares() -> None:
    rows = [
        rec(ORG, "tax_payment", dt.date(2025, 8, 15), outcome="on_time", quantity=0),
        rec(ORG, "tax_payment", dt.date(2025, 11, 15), outcome="late", quantity=12),
        rec(ORG, "tax_payment", dt.date(2026, 2, 15), outcome="arrears", quantity=60),
        rec(ORG, "tax_payment", dt.date(2026, 5, 15), outcome="on_time", quantity=0),
        rec(ORG, "tax_arrears", dt.date(2026, 2, 1), amount=30000.0),
        rec(ORG, "tax_arrears", dt.date(2026, 4, 1), amount=12000.5),
        rec(ORG, "employer_social_insurance_arrears", dt.date(2026, 1, 20), amount=88000.0, quantity=12),
    ]
    rows += [
        rec(ORG, "utility_bill", d, outcome="on_time", quantity=0) for d in monthly(3, dt.date(2025, 7, 1), D)
    ]
    rows[-1] = {**rows[-1], "outcome": "late", "quantity": 9.0}
    f = org(rows)
    assert f["tax_late_share_12m"] == 0.5
    assert (f["tax_arrears_amount"], f["employer_si_arrears_amount"]) == (42000.5, 88000.0)
    assert f["utility_late_share_12m"] == pytest.approx(1 / 12)


def test_penalties_listings_incidents_and_inspections() -> None:
    rows = [
        rec(ORG, "administrative_penalty", dt.date(2026, 4, 1), severity="minor", outcome="warning"),
        rec(
            ORG, "administrative_penalty", dt.date(2026, 3, 1), severity="minor", outcome="warning"
        ),  # ended 06-01
        rec(ORG, "administrative_penalty", dt.date(2025, 12, 1), severity="general", outcome="fine_mid"),
        rec(ORG, "administrative_penalty", dt.date(2025, 10, 1), severity="serious", outcome="fine_high"),
        rec(
            ORG,
            "administrative_penalty",
            dt.date(2025, 7, 1),
            severity="serious",
            outcome="licence_suspension",
        ),
        rec(
            ORG, "administrative_penalty", dt.date(2024, 10, 1), severity="serious", outcome="fine_high"
        ),  # ended
        rec(ORG, "abnormal_operation", dt.date(2026, 5, 1), outcome="no_annual_report"),
        rec(ORG, "serious_dishonesty_list", dt.date(2025, 1, 1), outcome="tax", uid="sd"),
        rec(ORG, "judgment_defaulter", dt.date(2026, 1, 1)),
        rec(ORG, "enforcement_case", dt.date(2025, 10, 1), outcome="bank", amount=1.0),
        rec(ORG, "environmental_violation", dt.date(2025, 11, 1), severity="general", outcome="general"),
        rec(ORG, "safety_incident", dt.date(2024, 1, 1), severity="serious", outcome="larger", quantity=3),
        rec(ORG, "safety_incident", dt.date(2023, 6, 1), severity="general", outcome="general", quantity=0),
        rec(ORG, "inspection_result", dt.date(2024, 3, 1), outcome="compliant"),
        rec(ORG, "inspection_result", dt.date(2025, 3, 1), outcome="non_compliant"),
        rec(ORG, "inspection_result", dt.date(2026, 3, 1), outcome="not_found"),
        rec(ORG, "inspection_result", dt.date(2023, 6, 10), outcome="non_compliant"),  # publicity ended
    ]
    f = org(rows, [event("sd", "repaired", dt.date(2026, 3, 1))])
    assert f["penalty_minor_decayed"] == pytest.approx(w(dt.date(2026, 4, 1)), rel=1e-12)
    assert f["penalty_general_decayed"] == pytest.approx(w(dt.date(2025, 12, 1)), rel=1e-12)
    assert f["penalty_serious_decayed"] == pytest.approx(
        w(dt.date(2025, 10, 1)) + w(dt.date(2025, 7, 1)), rel=1e-12
    )
    assert (
        f["abnormal_operation_active"],
        f["serious_dishonesty_active"],
        f["judgment_defaulter_active"],
    ) == (1, 0, 1)
    assert f["enforcement_cases_12m"] == 1
    # 2024-01-01 is within 36 months (after 2023-06-15); 2023-06-01 is not (and its publicity ended).
    assert (f["environmental_violations_36m"], f["safety_incidents_36m"]) == (1, 1)
    assert (f["inspections_36m"], f["inspection_failures_36m"]) == (3, 2)


def test_licences_commitments_awards_and_age() -> None:
    rows = [
        rec(
            ORG,
            "org_registration",
            dt.date(2016, 6, 20),
            payload={"registered_on": "2016-06-15", "name": "x"},
        ),
        rec(
            ORG,
            "administrative_licence",
            dt.date(2024, 1, 1),
            outcome="food",
            payload={"valid_to": "2027-01-01"},
        ),
        rec(
            ORG,
            "administrative_licence",
            dt.date(2023, 1, 1),
            outcome="pharma",
            payload={"valid_to": "2026-06-15"},
        ),
        rec(
            ORG, "administrative_licence", dt.date(2025, 1, 1), outcome="waste", payload={"licence_no": "L3"}
        ),
        rec(ORG, "credit_commitment", dt.date(2025, 1, 1), outcome="fulfilled"),
        rec(ORG, "credit_commitment", dt.date(2025, 6, 1), outcome="broken"),
        rec(ORG, "award", dt.date(2025, 6, 1), outcome="province"),
        rec(ORG, "red_list", dt.date(2022, 6, 1), outcome="A taxpayers"),  # publicity ended 2025-06-01
        rec(ORG, "loan_repayment", dt.date(2026, 1, 20), outcome="overdue", quantity=31),
    ]
    f = org(rows)
    assert f["licences_active"] == 2  # the pharma licence ran out on D
    assert (f["commitments_kept"], f["commitments_broken"], f["awards"], f["red_list_active"]) == (1, 1, 1, 0)
    assert f["loan_overdue_12m"] == 1
    assert f["years_in_operation"] == pytest.approx(3652 / 365.25)
    # Registration (2016-06-20, slot 119) is the earliest usable record.
    assert (f["record_tenure_months"], f["record_count"]) == (119, 8)
    # Without a usable registration record, the subject's registration date is used.
    fallback = org(rows[1:], subject_type="individual_business", registered_on=dt.date(2021, 6, 15))
    assert fallback["years_in_operation"] == pytest.approx((D - dt.date(2021, 6, 15)).days / 365.25)


def test_legal_representative_standing_as_of_d() -> None:
    rep_rows = [
        rec(REP, "judgment_defaulter", dt.date(2026, 2, 1)),
        rec(REP, "traffic_violation", dt.date(2026, 5, 1), severity="minor", outcome="minor"),
        rec(REP, "utility_bill", dt.date(2026, 1, 1), outcome="late", quantity=15),
        rec(REP, "utility_bill", dt.date(2026, 2, 1), outcome="arrears", quantity=40),
        rec(REP, "loan_repayment", dt.date(2026, 3, 1), outcome="overdue", quantity=3),
        rec(OTHER_REP, "enforcement_case", dt.date(2026, 3, 1), outcome="bank", amount=1.0),
        rec(OTHER_REP, "judgment_defaulter", dt.date(2023, 1, 1)),
    ]
    current = [
        link(ORG, OTHER_REP, dt.date(2018, 1, 1), valid_to=dt.date(2024, 1, 1)),
        link(ORG, REP, dt.date(2024, 1, 1)),
    ]
    f = org(rep_rows, lks=current)
    assert f["has_legal_rep"] == 1
    assert f["legal_rep_negative_decayed"] == pytest.approx(
        w(dt.date(2026, 2, 1)) + w(dt.date(2026, 5, 1)), rel=1e-12
    )
    assert (
        f["legal_rep_defaulter_active"],
        f["legal_rep_utility_late_12m"],
        f["legal_rep_loan_overdue_12m"],
    ) == (1, 2, 1)
    # The organisation's own features do not include its representative's records.
    assert (f["judgment_defaulter_active"], f["record_count"]) == (0, 0)
    # Before 2024 the other person represented the organisation: their standing then counts.
    earlier = org(rep_rows, lks=current, as_of=dt.date(2023, 6, 1))
    assert (earlier["has_legal_rep"], earlier["legal_rep_defaulter_active"]) == (1, 1)
    assert earlier["legal_rep_negative_decayed"] == pytest.approx(0.5 ** (151 / 365.25), rel=1e-12)
    # A link recorded after known_at is not known yet; a link of another role is not a representative.
    late = [link(ORG, REP, dt.date(2024, 1, 1), recorded_at=dt.datetime(2026, 7, 1))]
    assert org(rep_rows, lks=late)["has_legal_rep"] == 0
    assert org(rep_rows, lks=[link(ORG, REP, dt.date(2024, 1, 1), role="shareholder")])["has_legal_rep"] == 0


def test_every_org_type_is_an_enterprise_subject() -> None:
    types = [
        "enterprise",
        "individual_business",
        "social_organization",
        "public_institution",
        "government_body",
    ]
    subs = subjects([(i + 1, t) for i, t in enumerate(types)] + [(99, "person")])
    out = enterprise_features(records([]), None, subs, None, as_of=D)
    assert out["subject_id"].to_list() == [1, 2, 3, 4, 5]
    assert out.columns == ["subject_id", *REGISTRY.names("enterprise")]
    assert dict(out.schema) == REGISTRY.schema("enterprise")


def registration(day: dt.date, sector: str, size: str) -> dict:
    return rec(
        ORG,
        "org_registration",
        day,
        payload={"registered_on": "2019-03-01", "name": "x", "sector": sector, "size": size},
    )


def test_profile_from_the_latest_registration_or_the_subject() -> None:
    first = registration(dt.date(2019, 3, 5), "chemicals", "small")
    f = org([first])
    assert (f["size_level"], f["environment_sector"], f["safety_sector"], f["public_body"]) == (1, 1, 1, 0)
    # A later registration record (a change of sector and size) replaces it.
    changed = org([first, registration(dt.date(2025, 2, 1), "retail", "medium")])
    assert (changed["size_level"], changed["environment_sector"], changed["safety_sector"]) == (2, 0, 0)
    assert org([registration(dt.date(2019, 3, 5), "transport", "micro")])["safety_sector"] == 1
    # Without a registration record: the subject's own facts, when the store has them.
    subs = pl.DataFrame(
        {
            "subject_id": [ORG],
            "subject_type": ["government_body"],
            "registered_on": [dt.date(2001, 1, 1)],
            "sector": ["public"],
            "size": ["large"],
        }
    )
    gov = enterprise_features(records([]), events([]), subs, links([]), as_of=D).row(0, named=True)
    assert (gov["size_level"], gov["public_body"], gov["environment_sector"], gov["safety_sector"]) == (
        3,
        1,
        0,
        0,
    )
    assert org([], subject_type="public_institution")["public_body"] == 1
    unknown = org([])
    assert (unknown["size_level"], unknown["environment_sector"], unknown["public_body"]) == (None, 0, 0)


def test_recent_and_long_run_conduct() -> None:
    tax_late = {dt.date(2026, 6, 14): "late", dt.date(2026, 1, 14): "arrears", dt.date(2025, 11, 14): "late"}
    tax_late[dt.date(2024, 2, 14)] = "late"
    rows = [
        rec(ORG, "tax_payment", d, outcome=tax_late.get(d, "on_time"), quantity=0, amount=100.0)
        for d in monthly(14, dt.date(2023, 7, 1), D)  # 36 payments, July 2023 to June 2026
    ]
    bill_late = {dt.date(2026, 2, 1), dt.date(2024, 1, 1)}
    rows += [
        rec(ORG, "utility_bill", d, outcome="late" if d in bill_late else "on_time", quantity=0)
        for d in monthly(1, dt.date(2023, 7, 1), D)
    ]
    rows += [
        rec(ORG, "employer_social_insurance_arrears", d, amount=1000.0)
        for d in (dt.date(2026, 5, 1), dt.date(2025, 7, 1), dt.date(2025, 6, 1))
    ]
    f = org(rows)
    # 6 months: after 2025-12-15 (the November 2025 late payment is older).
    assert (f["tax_late_6m"], f["tax_late_share_36m"]) == (2, pytest.approx(4 / 36))
    assert (f["utility_late_6m"], f["utility_late_share_36m"]) == (1, pytest.approx(2 / 36))
    # The notice of 2025-06-01 is older than 12 months, and its publicity (12 months) has ended.
    assert (f["employer_si_arrears_12m"], f["employer_si_arrears_amount"]) == (2, 2000.0)


def test_legal_representative_long_run_utility_conduct() -> None:
    rep_rows = [
        rec(REP, "utility_bill", d, outcome="arrears" if d.month == 3 else "on_time", quantity=0)
        for d in monthly(1, dt.date(2025, 9, 1), D)  # 10 bills, one unpaid
    ]
    lks = [link(ORG, REP, dt.date(2024, 1, 1))]
    assert org(rep_rows, lks=lks)["legal_rep_utility_late_share_36m"] == pytest.approx(0.1)
    assert org(rep_rows)["legal_rep_utility_late_share_36m"] is None  # no representative


def test_legal_form_payment_conduct_and_tax_levels_over_three_years() -> None:
    rows = [
        rec(ORG, "tax_payment", dt.date(2026, 6, 10), outcome="late", quantity=5),
        rec(ORG, "tax_payment", dt.date(2026, 3, 10), outcome="arrears", quantity=40),
        rec(ORG, "tax_payment", dt.date(2025, 12, 10), outcome="on_time", quantity=0),  # before 2025-12-15
        rec(ORG, "tax_payment", dt.date(2025, 9, 10), outcome="on_time", quantity=0),
        rec(ORG, "utility_bill", dt.date(2026, 5, 1), outcome="on_time", quantity=0),
        rec(ORG, "utility_bill", dt.date(2026, 1, 1), outcome="arrears", quantity=60),
        rec(ORG, "utility_bill", dt.date(2025, 5, 1), outcome="arrears", quantity=60),  # older than 12 months
        rec(ORG, "loan_repayment", dt.date(2026, 2, 20), outcome="overdue", quantity=3),
        rec(ORG, "loan_repayment", dt.date(2026, 4, 20), outcome="on_time", quantity=0),
        rec(ORG, "tax_credit_level", dt.date(2026, 4, 10), outcome="B"),
        rec(ORG, "tax_credit_level", dt.date(2025, 4, 10), outcome="C"),
        rec(ORG, "tax_credit_level", dt.date(2024, 4, 10), outcome="A"),
        rec(ORG, "tax_credit_level", dt.date(2023, 4, 10), outcome="D"),  # older than 36 months
    ]
    f = org(rows, subject_type="individual_business")
    assert (f["individual_business"], f["social_organization"], f["public_body"]) == (1, 0, 0)
    assert f["tax_payments_12m"] == 4
    # 6 months (after 2025-12-15): taxes of June and March, bills of May and January, both
    # repayments; late, unpaid or overdue: June, March, January, February.
    assert f["payment_late_share_6m"] == pytest.approx(4 / 6)
    late = [
        dt.date(2026, 6, 10),
        dt.date(2026, 3, 10),
        dt.date(2026, 1, 1),
        dt.date(2025, 5, 1),
        dt.date(2026, 2, 20),
    ]
    due = [*late, dt.date(2025, 12, 10), dt.date(2025, 9, 10), dt.date(2026, 5, 1), dt.date(2026, 4, 20)]
    share = sum(w(d) for d in late) / sum(w(d) for d in due)
    assert f["payment_late_share_decayed_36m"] == pytest.approx(share, rel=1e-12)
    assert f["payment_arrears_12m"] == 2  # the tax of March and the bill of January
    assert f["tax_credit_level_avg_36m"] == pytest.approx((3 + 1 + 4) / 3)
    assert f["tax_credit_level"] == 3
    social = org([], subject_type="social_organization")
    assert (social["individual_business"], social["social_organization"]) == (0, 1)
