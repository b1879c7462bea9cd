"""Machine-readable reasons a row is quarantined at ingestion, with their meaning.

The synthetic city's defect manifest and the ingestion code both use these codes.
"""

from __future__ import annotations

__all__ = ["QUARANTINE_REASONS", "ROW_OUTCOMES"]

QUARANTINE_REASONS: dict[str, str] = {
    "unknown_kind": "the kind is not in the record catalogue",
    "forbidden_data": (
        "the row carries data the law forbids collecting (religion, health, genetics, biometrics)"
    ),
    "unknown_column": "a non-empty value in a column that the kind does not define",
    "missing_field": "a required field (or common column) is empty or absent",
    "wrong_type": "a value cannot be read as its field's type (number, integer, date, month, enum value)",
    "out_of_range": "a value lies outside its field's allowed range or length",
    "future_date": "the event date (or another date) lies after the time of ingestion",
    "bad_identifier": "the identity number or credit code fails its structure or check character",
    "subject_type_mismatch": "the kind does not apply to the subject's type",
    "department_not_allowed": "the department is unknown or does not report this kind",
    "minor_listing": "a person under 18 on the event date cannot be placed on a list",
    "conflict": "same natural key as a stored record, different content, sent by another department",
}

# What can happen to a row: accepted as a new record, a duplicate of a stored one (nothing
# changes), a correction (a new version of the stored record), or quarantined with a reason.
ROW_OUTCOMES = ("accepted", "duplicate", "correction", "quarantined")
