"""Record validation: every quarantine reason with its exact message, check order, normalised output."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import polars as pl
import pytest

from features.catalogue import load_catalogue
from features.ids import org_check_char, person_check_char, uscc_check_char
from features.reasons import QUARANTINE_REASONS
from features.validate import LINE, RecordValidator, ValidationResult

NOW = dt.datetime(2026, 11, 25, 12, 0)
CAT = load_catalogue()


def pid(birth: str = "19800101", district: str = "110105", seq: str = "001") -> str:
    body = district + birth + seq
    return body + person_check_char(body)


def org(prefix: str = "91", district: str = "350102", org8: str = "MA000001") -> str:
    body = prefix + district + org8 + org_check_char(org8)
    return body + uscc_check_char(body)


def wrong_check(number: str) -> tuple[str, str]:
    """The number with a wrong last character, and that character."""
    bad = "0" if number[-1] != "0" else "1"
    return number[:-1] + bad, bad


ADULT = pid()
CHILD = pid("20120315", seq="002")
ENTERPRISE = org()
GOVERNMENT = org("11")

SIC = {
    "kind": "social_insurance_contribution",
    "subject_id": ADULT,
    "event_date": "2024-01-05",
    "department": "hrss",
    "period": "2024-01",
    "insurance": "pension",
    "amount": "800.50",
    "status": "paid",
}


def validate(*rows: dict[str, Any], person_key: Any = None) -> ValidationResult:
    columns: dict[str, None] = {}
    for r in rows:
        columns.update(dict.fromkeys(r))
    data = {c: [r.get(c) for r in rows] for c in columns}
    data[LINE] = list(range(2, 2 + len(rows)))
    frame = pl.DataFrame(data, schema={**dict.fromkeys(columns, pl.Utf8), LINE: pl.Int64})
    return RecordValidator(CAT, now=NOW, person_key=person_key).validate(frame)


def reasons(result: ValidationResult) -> list[tuple[int, str, str]]:
    return list(result.quarantine.select(LINE, "reason_code", "message").iter_rows())


def row(
    kind: str, subject: str, department: str, event_date: str = "2024-01-05", **fields: str
) -> dict[str, Any]:
    return {"kind": kind, "subject_id": subject, "event_date": event_date, "department": department, **fields}


BAD_PERSON, BAD_PERSON_CHAR = wrong_check(ADULT)
BAD_ORG, BAD_ORG_CHAR = wrong_check(ENTERPRISE)
NO_AMOUNT = {k: v for k, v in SIC.items() if k != "amount"}
TCL = {"year": "2024", "level": "A"}
TRAFFIC = {"offence_class": "minor", "points": "1", "fine": "50"}
SIC_NAME = "social_insurance_contribution"

CASES: list[tuple[str, dict[str, Any], str, str]] = [
    (
        "unknown kind",
        {**SIC, "kind": "parking_fee"},
        "unknown_kind",
        "kind 'parking_fee' is not in the catalogue",
    ),
    (
        "forbidden column",
        {**SIC, "religion": "buddhist"},
        "forbidden_data",
        "column religion carries forbidden data (religion)",
    ),
    (
        "forbidden Chinese column",
        {**SIC, "病史": "无"},
        "forbidden_data",
        "column 病史 carries forbidden data (health)",
    ),
    (
        "forbidden kind",
        {**SIC, "kind": "health_record"},
        "forbidden_data",
        "kind health_record names forbidden data (health)",
    ),
    (
        "department of another kind",
        {**SIC, "department": "tax"},
        "department_not_allowed",
        f"department tax does not report kind {SIC_NAME}",
    ),
    (
        "unknown department",
        {**SIC, "department": "zoo"},
        "department_not_allowed",
        "unknown department 'zoo'",
    ),
    ("empty kind", {**SIC, "kind": ""}, "missing_field", "kind is empty"),
    ("empty subject", {**SIC, "subject_id": " "}, "missing_field", "subject_id is empty"),
    ("empty event date", {**SIC, "event_date": None}, "missing_field", "event_date is empty"),
    ("empty department", {**SIC, "department": ""}, "missing_field", "department is empty"),
    ("missing field", NO_AMOUNT, "missing_field", "field amount is missing"),
    (
        "unknown column",
        {**SIC, "colour": "red"},
        "unknown_column",
        f"column colour is not a field of kind {SIC_NAME}",
    ),
    (
        "bad check character",
        {**SIC, "subject_id": BAD_PERSON},
        "bad_identifier",
        f"check character should be {ADULT[-1]}, got {BAD_PERSON_CHAR}",
    ),
    (
        "short identifier",
        {**SIC, "subject_id": ADULT[:17]},
        "bad_identifier",
        "identity number must have 18 characters, got 17",
    ),
    (
        "bad organisation code",
        row("tax_credit_level", BAD_ORG, "tax", **TCL),
        "bad_identifier",
        f"check character should be {ENTERPRISE[-1]}, got {BAD_ORG_CHAR}",
    ),
    (
        "person for a business kind",
        row("abnormal_operation", ADULT, "market_regulation", doc_no="A1", reason="other"),
        "subject_type_mismatch",
        "kind abnormal_operation does not apply to subject type person",
    ),
    (
        "government for a business kind",
        row("tax_credit_level", GOVERNMENT, "tax", **TCL),
        "subject_type_mismatch",
        "kind tax_credit_level does not apply to subject type government_body",
    ),
    (
        "organisation for a person kind",
        {**SIC, "subject_id": ENTERPRISE},
        "subject_type_mismatch",
        f"kind {SIC_NAME} does not apply to subject type enterprise",
    ),
    ("number", {**SIC, "amount": "abc"}, "wrong_type", "field amount: 'abc' is not a number"),
    ("not a finite number", {**SIC, "amount": "NaN"}, "wrong_type", "field amount: 'NaN' is not a number"),
    (
        "integer",
        row("tax_credit_level", ENTERPRISE, "tax", year="2024.0", level="A"),
        "wrong_type",
        "field year: '2024.0' is not an integer",
    ),
    ("month", {**SIC, "period": "2024-13"}, "wrong_type", "field period: '2024-13' is not a month (YYYY-MM)"),
    (
        "event date",
        {**SIC, "event_date": "2024/01/05"},
        "wrong_type",
        "event_date: '2024/01/05' is not a date (YYYY-MM-DD)",
    ),
    (
        "event date not padded",
        {**SIC, "event_date": "2024-1-5"},
        "wrong_type",
        "event_date: '2024-1-5' is not a date (YYYY-MM-DD)",
    ),
    ("enum", {**SIC, "status": "payed"}, "wrong_type", "field status: 'payed' is not one of paid, arrears"),
    (
        "above maximum",
        {**SIC, "amount": "60000"},
        "out_of_range",
        "field amount: 60000 is above the maximum 50000",
    ),
    (
        "below minimum",
        {**SIC, "amount": "-0.01"},
        "out_of_range",
        "field amount: -0.01 is below the minimum 0",
    ),
    (
        "too long",
        row("traffic_violation", ADULT, "traffic_police", doc_no="D" * 65, **TRAFFIC),
        "out_of_range",
        "field doc_no: 65 characters, more than 64",
    ),
    (
        "future event",
        {**SIC, "event_date": "2026-11-26"},
        "future_date",
        "event_date 2026-11-26 is after the ingestion date 2026-11-25",
    ),
    (
        "future month",
        {**SIC, "period": "2026-12"},
        "future_date",
        "field period 2026-12 is after the ingestion date 2026-11-25",
    ),
    (
        "minor listed",
        row("judgment_defaulter", CHILD, "court", "2026-03-14", doc_no="J1"),
        "minor_listing",
        "the person is 13 on the event date; under 18 cannot be listed",
    ),
]


@pytest.mark.parametrize(("row", "code", "message"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_quarantine_reason_and_message(row: dict[str, Any], code: str, message: str) -> None:
    result = validate(row)
    assert reasons(result) == [(2, code, message)]
    assert result.records.height == 0


def test_every_reason_but_conflict_is_covered_here() -> None:
    # conflict needs the store: tests/scoring/test_ingest.py
    assert {c[2] for c in CASES} | {"conflict"} == set(QUARANTINE_REASONS)


@pytest.mark.parametrize(
    ("row", "code"),
    [
        ({**SIC, "department": "tax", "amount": None}, "department_not_allowed"),  # before missing_field
        ({**SIC, "amount": None, "colour": "red"}, "missing_field"),  # before unknown_column
        ({**SIC, "colour": "red", "subject_id": BAD_PERSON}, "unknown_column"),  # before bad_identifier
        ({**SIC, "subject_id": BAD_PERSON, "amount": "abc"}, "bad_identifier"),  # before wrong_type
        ({**SIC, "subject_id": ENTERPRISE, "amount": "abc"}, "subject_type_mismatch"),
        ({**SIC, "amount": "abc", "period": "2027-01"}, "wrong_type"),  # before future_date
        ({**SIC, "amount": "70000", "event_date": "2027-01-01"}, "out_of_range"),
        ({**SIC, "religion": "x", "kind": "nope"}, "forbidden_data"),  # before unknown_kind
    ],
)
def test_first_failing_check_wins(row: dict[str, Any], code: str) -> None:
    assert reasons(validate(row))[0][1] == code


def test_identity_numbers_in_the_wrong_column_are_masked_in_messages() -> None:
    masked = ADULT[:4] + "*" * 10 + ADULT[-4:]
    result = validate(
        {**SIC, "amount": ADULT},  # a column shift: the number lands in amount
        {**SIC, "event_date": ADULT},
        {**SIC, "kind": ADULT},
        {**SIC, "department": "x" + ADULT},
    )
    assert reasons(result) == [
        (2, "out_of_range", f"field amount: {masked} is above the maximum 50000"),
        (3, "wrong_type", f"event_date: '{masked}' is not a date (YYYY-MM-DD)"),
        (4, "unknown_kind", f"kind '{masked}' is not in the catalogue"),
        (5, "department_not_allowed", f"unknown department 'x{masked}'"),
    ]


def test_empty_values_of_other_columns_are_fine() -> None:
    result = validate({**SIC, "colour": "", "religion": " ", "doc_no": None})
    assert reasons(result) == []
    assert result.records.height == 1
    assert result.forbidden_columns == ("religion",)


def test_normalised_record() -> None:
    result = validate({**SIC, "subject_id": ADULT.lower(), "amount": " 800.50 "})
    rec = result.records.row(0, named=True)
    assert rec == {
        LINE: 2,
        "kind": "social_insurance_contribution",
        "subject_id": ADULT,
        "subject_type": "person",
        "birth_date": dt.date(1980, 1, 1),
        "gender": "M",
        "district_code": "110105",
        "event_date": dt.date(2024, 1, 5),
        "department": "hrss",
        "severity": "minor",
        "publicity_end": dt.date(2029, 1, 5),
        "amount": 800.5,
        "quantity": None,
        "outcome": "paid",
        "natural_key": "2024-01|pension",
        "payload": '{"amount":800.5,"insurance":"pension","period":"2024-01","status":"paid"}',
        "content": (
            '{"amount":800.5,"event_date":"2024-01-05","insurance":"pension","period":"2024-01","status":"paid"}'
        ),
        "person_refs": [],
    }


def test_severity_and_publicity_follow_the_catalogue() -> None:
    base = {"kind": "administrative_penalty", "subject_id": ENTERPRISE, "event_date": "2025-02-10",
            "department": "environment", "doc_no": "P1"}  # fmt: skip
    result = validate(
        {**base, "penalty_type": "warning"},
        {**base, "doc_no": "P2", "penalty_type": "fine_high", "amount": "20000"},
        {"kind": "judgment_defaulter", "subject_id": ADULT, "event_date": "2025-02-10", "department": "court",
         "doc_no": "J1", "end_date": "2027-06-30"},
        {"kind": "judgment_defaulter", "subject_id": ADULT, "event_date": "2025-02-10", "department": "court",
         "doc_no": "J2"},
    )  # fmt: skip
    got = result.records.select(LINE, "severity", "publicity_end", "amount", "outcome").rows()
    assert got == [
        (2, "minor", dt.date(2025, 5, 10), None, "warning"),  # minor: capped at 3 months
        (3, "serious", dt.date(2026, 2, 10), 20000.0, "fine_high"),  # kind maximum 12 < serious 36
        (4, "serious", dt.date(2027, 6, 30), None, None),  # a listing with its own end date
        (5, "serious", dt.date(2028, 2, 10), None, None),  # 36 months
    ]
    assert reasons(result) == []


def test_subject_detection_for_kinds_of_persons_and_organisations() -> None:
    base = {"kind": "tax_arrears", "event_date": "2025-02-10", "department": "tax", "tax_type": "other",
            "amount": "10"}  # fmt: skip
    digits_org = org("91", "350102", "12345678")  # an organisation code whose first 17 characters are digits
    result = validate(
        {**base, "subject_id": ADULT, "notice_no": "N1"},
        {**base, "subject_id": ENTERPRISE, "notice_no": "N2"},
        {**base, "subject_id": digits_org, "notice_no": "N3"},
    )
    assert result.records.select("subject_id", "subject_type", "district_code").rows() == [
        (ADULT, "person", "110105"),
        (ENTERPRISE, "enterprise", "350102"),
        (digits_org, "enterprise", "350102"),
    ]


def test_person_id_fields_are_pseudonymised_and_checked() -> None:
    rep = pid("19750505", seq="013")
    reg = row(
        "org_registration", ENTERPRISE, "market_regulation", "2020-03-01", name="示例科技有限公司",
        sector="technology", size="small", registered_on="2020-02-28", legal_rep_id=rep,
    )  # fmt: skip
    bad_rep, bad_char = wrong_check(rep)
    result = validate(reg, {**reg, "legal_rep_id": bad_rep}, person_key=lambda n: "K" + n[-4:])
    rec = result.records.row(0, named=True)
    assert json.loads(rec["payload"]) == {
        "legal_rep_id": "K" + rep[-4:],
        "name": "示例科技有限公司",
        "registered_on": "2020-02-28",
        "sector": "technology",
        "size": "small",
    }
    assert rep not in rec["payload"] and rep not in rec["content"]
    assert rec["person_refs"] == [rep]
    assert reasons(result) == [
        (3, "bad_identifier", f"field legal_rep_id: check character should be {rep[-1]}, got {bad_char}")
    ]


def test_end_and_expiry_dates_may_lie_in_the_future_but_registration_may_not() -> None:
    lic = row(
        "administrative_licence", ENTERPRISE, "housing", "2025-01-01", licence_no="L1",
        licence_type="construction", valid_to="2030-12-31",
    )  # fmt: skip
    reg = row(
        "org_registration", ENTERPRISE, "market_regulation", "2025-01-01", name="A", sector="retail",
        size="micro", registered_on="2027-01-01",
    )  # fmt: skip
    result = validate(lic, reg)
    assert result.records[LINE].to_list() == [2]
    assert reasons(result) == [
        (3, "future_date", "field registered_on 2027-01-01 is after the ingestion date 2026-11-25")
    ]


def test_minor_listing_only_for_negative_listings_of_minors() -> None:
    teen = pid("20081120", seq="004")  # 18 on 2026-11-20
    listing = {"kind": "judgment_defaulter", "subject_id": teen, "department": "court", "doc_no": "J2"}
    result = validate(
        {"kind": "red_list", "subject_id": CHILD, "event_date": "2025-01-01", "department": "credit_office",
         "doc_no": "R1", "list_name": "youth volunteers"},
        row("traffic_violation", CHILD, "traffic_police", "2025-01-01", doc_no="T1", **TRAFFIC),
        {**listing, "event_date": "2026-11-19"},
        {**listing, "event_date": "2026-11-20"},
    )  # fmt: skip
    assert result.records[LINE].to_list() == [2, 3, 5]
    assert reasons(result) == [
        (4, "minor_listing", "the person is 17 on the event date; under 18 cannot be listed")
    ]


@pytest.mark.parametrize(
    ("birth", "event_date", "age"),
    [
        ("20040910", "2022-08-06", 17),
        ("20040910", "2022-09-09", 17),
        ("20040910", "2022-09-10", 18),
        ("20041201", "2022-08-14", 17),
        ("20041231", "2022-12-31", 18),
        ("20050101", "2022-12-31", 17),
        ("20040229", "2022-02-28", 17),
        ("20040229", "2022-03-01", 18),
    ],
)
def test_age_on_the_event_date(birth: str, event_date: str, age: int) -> None:
    person = pid(birth, seq="006")
    row = {"kind": "serious_dishonesty_list", "subject_id": person, "event_date": event_date,
           "department": "credit_office", "doc_no": "S1", "area": "tax"}  # fmt: skip
    got = reasons(validate(row))
    if age < 18:
        assert got == [
            (2, "minor_listing", f"the person is {age} on the event date; under 18 cannot be listed")
        ]
    else:
        assert got == []


def test_batch_of_mixed_rows_splits_exactly() -> None:
    rows = [{**SIC, "period": f"2024-{m:02d}"} for m in range(1, 13)]
    rows[3] = {**rows[3], "amount": "x"}
    rows[7] = {**rows[7], "kind": "nope"}
    result = validate(*rows)
    assert result.records[LINE].to_list() == [2, 3, 4, 6, 7, 8, 10, 11, 12, 13]
    assert [r[:2] for r in reasons(result)] == [(5, "wrong_type"), (9, "unknown_kind")]
