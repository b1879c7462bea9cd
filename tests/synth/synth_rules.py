"""A reference reading of the ingestion rules, row by row, for checking small synthetic cities.

``judge(rows, catalogue, today)`` returns, for every row (in file order: files sorted by relative
path, then line), every rule the row breaks (reason codes of ``features.reasons``) or, for a valid
row whose natural key was seen before, ``duplicate`` / ``correction`` / ``conflict``.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from typing import Any

import polars as pl

from features.catalogue import COMMON_COLUMNS, Catalogue, RecordKind
from features.ids import IdentifierError, parse_org_code, parse_person_id

__all__ = ["judge"]

_MONTH = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")


def _number(value: str) -> float | None:
    try:
        out = float(value)
    except ValueError:
        return None
    return out if math.isfinite(out) else None


def _date(value: str) -> dt.date | None:
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        return None


def _field_reasons(name: str, value: str, spec: Any, today: dt.date) -> set[str]:
    out: set[str] = set()
    if spec.type in ("number", "integer"):
        num = _number(value)
        if num is None or (spec.type == "integer" and num != int(num)):
            return {"wrong_type"}
        if (spec.min is not None and num < spec.min) or (spec.max is not None and num > spec.max):
            out.add("out_of_range")
    elif spec.type == "date":
        day = _date(value)
        if day is None:
            return {"wrong_type"}
        if day > today:
            out.add("future_date")
    elif spec.type == "month":
        if not _MONTH.match(value):
            return {"wrong_type"}
    elif spec.type == "enum":
        if value not in spec.values:
            return {"wrong_type"}
    elif spec.type == "person_id":
        try:
            parse_person_id(value, today=today)
        except IdentifierError:
            out.add("bad_identifier")
    if spec.max_length is not None and len(value) > spec.max_length:
        out.add("out_of_range")
    return out


def _subject(value: str, today: dt.date) -> tuple[str | None, dt.date | None]:
    try:
        pid = parse_person_id(value, today=today)
        return "person", pid.birth_date
    except IdentifierError:
        pass
    try:
        return parse_org_code(value).subject_type, None
    except IdentifierError:
        return None, None


def _reasons(row: dict[str, Any], catalogue: Catalogue, today: dt.date) -> tuple[set[str], RecordKind | None]:
    reasons: set[str] = set()
    kind = catalogue.kinds.get(row.get("kind") or "")
    if kind is None:
        return {"unknown_kind"}, None
    for c in COMMON_COLUMNS:
        if not row.get(c):
            reasons.add("missing_field")
    for c, v in row.items():
        if c in COMMON_COLUMNS or c in ("file", "line") or v in (None, ""):
            continue
        if c not in kind.fields:
            reasons.add("unknown_column")
    for name, spec in kind.fields.items():
        value = row.get(name)
        if value in (None, ""):
            if spec.required:
                reasons.add("missing_field")
            continue
        reasons |= _field_reasons(name, str(value), spec, today)
    event = _date(row.get("event_date") or "")
    if row.get("event_date") and event is None:
        reasons.add("wrong_type")
    if event is not None and event > today:
        reasons.add("future_date")
    subject_type, birth = _subject(row.get("subject_id") or "", today)
    if subject_type is None:
        reasons.add("bad_identifier")
    elif subject_type not in kind.subject_types:
        reasons.add("subject_type_mismatch")
    if row.get("department") not in kind.departments:
        reasons.add("department_not_allowed")
    if kind.listing and birth is not None and event is not None:
        age = event.year - birth.year - ((event.month, event.day) < (birth.month, birth.day))
        if age < 18:
            reasons.add("minor_listing")
    return reasons, kind


def _content(row: dict[str, Any], kind: RecordKind) -> tuple[Any, ...]:
    out: list[Any] = [row.get("event_date")]
    for name, spec in kind.fields.items():
        value = row.get(name)
        if value in (None, ""):
            out.append(None)
        elif spec.type in ("number", "integer"):
            out.append(_number(str(value)))
        else:
            out.append(str(value))
    return tuple(out)


def judge(rows: pl.DataFrame, catalogue: Catalogue, today: dt.date) -> pl.DataFrame:
    """Columns file, line, reasons (sorted, ';'-joined), outcome (a reason, a key outcome or accepted)."""
    seen: dict[tuple[Any, ...], tuple[tuple[Any, ...], str]] = {}
    out = []
    for row in rows.sort(["file", "line"]).iter_rows(named=True):
        reasons, kind = _reasons(row, catalogue, today)
        outcome = "accepted"
        if reasons:
            outcome = ";".join(sorted(reasons))
        elif kind is not None:
            key = (kind.code, row["subject_id"], *(row.get(k) for k in kind.natural_key))
            content = _content(row, kind)
            if key in seen:
                first, dept = seen[key]
                if first == content:
                    outcome = "duplicate"
                else:
                    outcome = "correction" if dept == row["department"] else "conflict"
            else:
                seen[key] = (content, row["department"])
        out.append({"file": row["file"], "line": row["line"], "outcome": outcome})
    return pl.DataFrame(out, schema={"file": pl.String, "line": pl.Int64, "outcome": pl.String})
