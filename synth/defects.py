"""Defective rows: what real department files contain, each failing for exactly one reason.

A share ``rate`` of the rows of every department (never a protected row: outcome events and
registrations) is made defective, by type:

=====================  ======================================================  =================
defect                 what is done                                            expected outcome
=====================  ======================================================  =================
bad_check_character    the last character of subject_id is changed             bad_identifier
duplicate_row          an exact copy, later in the same file or the next one   duplicate
conflicting_version    same natural key, one field changed, sent by another    conflict
                       department allowed for the kind whose folder sorts
                       after the original's
unknown_kind           the kind is renamed to a code the catalogue lacks       unknown_kind
missing_field          a required field outside the natural key is emptied     missing_field
future_date            event_date moved to the 2090s                           future_date
out_of_range           a numeric field set beyond its catalogue maximum        out_of_range
minor_listing          an extra judgment-defaulter or serious-dishonesty row   minor_listing
                       about a person under 18 on its event date
=====================  ======================================================  =================

A defect type that does not fit the chosen row's kind (no later department, no numeric maximum,
no required field outside the natural key) falls back to ``bad_check_character``. Copies get new
row ids; ``_src`` keeps the id of the row they copy, so the manifest can name the original's line.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
import polars as pl

from features.catalogue import Catalogue, RecordKind
from synth.batch import nulls
from synth.names import COURT_PREFIX

__all__ = ["DEFECT_SHARES", "EXPECTED", "Defector", "Key", "MinorCandidates"]

DEFECT_SHARES: dict[str, float] = {
    "bad_check_character": 0.22,
    "duplicate_row": 0.20,
    "conflicting_version": 0.10,
    "unknown_kind": 0.10,
    "missing_field": 0.14,
    "future_date": 0.10,
    "out_of_range": 0.10,
}
MINOR_LISTING_SHARE = 0.04
EXPECTED = {
    "bad_check_character": "bad_identifier",
    "duplicate_row": "duplicate",
    "conflicting_version": "conflict",
    "unknown_kind": "unknown_kind",
    "missing_field": "missing_field",
    "future_date": "future_date",
    "out_of_range": "out_of_range",
    "minor_listing": "minor_listing",
}
UNKNOWN_KINDS = (
    "parking_fee",
    "library_fine",
    "utility_bil",
    "tax_payments",
    "rental_contract",
    "property_fee",
)


class MinorCandidates:
    """People under 18 and a day of the window on which each of them is under 18."""

    def __init__(self, ids: np.ndarray, day: np.ndarray) -> None:
        self.ids = ids
        self.day = day


def _later_departments(kind: RecordKind, dept: str) -> list[str]:
    return sorted(d for d in kind.departments if d > dept)


def _missing_candidates(kind: RecordKind) -> list[str]:
    return [n for n, f in kind.fields.items() if f.required and n not in kind.natural_key]


def _range_candidates(kind: RecordKind) -> list[str]:
    numeric = [n for n, f in kind.fields.items() if f.type in ("number", "integer") and f.max is not None]
    amounts = [
        n for n in numeric if kind.fields[n].column == "amount" or n in ("amount", "fine", "amount_due")
    ]
    return amounts or numeric


def _fits(defect: str, kind: RecordKind | None, dept: str) -> bool:
    if kind is None:
        return False
    if defect == "conflicting_version":
        return bool(_later_departments(kind, dept)) and bool(_change_candidates(kind))
    if defect == "missing_field":
        return bool(_missing_candidates(kind))
    if defect == "out_of_range":
        return bool(_range_candidates(kind))
    return True


def _change_candidates(kind: RecordKind) -> list[str]:
    return [
        n
        for n, f in kind.fields.items()
        if n not in kind.natural_key and f.type in ("number", "string", "enum")
    ]


def _bad_id(value: str, u: float) -> str:
    """The identifier with its last character replaced by another digit (a wrong check character
    for both identity numbers and credit codes; the structure stays valid)."""
    last = value[17]
    others = [ch for ch in "0123456789" if ch != last]
    return value[:17] + others[int(u * len(others))]


def _future(value: str, u: float) -> str:
    day = dt.date.fromisoformat(value)
    year = 2090 + int(u * 10)
    return dt.date(year, day.month, min(day.day, 28)).isoformat()


def _change(kind: RecordKind, row: dict[str, Any], u: float) -> str:
    """Change one non-key field of ``row`` to another valid value; return its name."""
    names = [n for n in _change_candidates(kind) if row.get(n) is not None]
    if not names:
        raise AssertionError(f"{kind.code}: nothing to change")
    name = names[int(u * len(names))]
    spec = kind.fields[name]
    value = row[name]
    if spec.type == "number":
        new = round(float(value) * 1.1 + 1.0, 2)
        if spec.max is not None and new > spec.max:
            new = round(float(value) * 0.9, 2)
        row[name] = new
    elif spec.type == "enum":
        others = [v for v in spec.values if v != value]
        row[name] = others[int(u * len(others))]
    else:
        text = str(value) + "（更正）"
        row[name] = text[: spec.max_length] if spec.max_length else text
    return name


def _out_of_range(kind: RecordKind, u: float) -> tuple[str, float | int]:
    """A numeric field of the kind and a value beyond its maximum."""
    names = _range_candidates(kind)
    name = names[int(u * len(names))]
    spec = kind.fields[name]
    top = float(spec.max) if spec.max is not None else 0.0
    return name, (int(top * 1.5 + 1) if spec.type == "integer" else round(top * 1.5, 2))


Key = tuple[str, int]  # (department, quarter index)


class Defector:
    """Makes rows defective as they are built (``Batch.add`` calls ``apply`` before a part becomes
    a frame, so cells are changed in place), and keeps the copies until the chunk is assembled."""

    def __init__(self, catalogue: Catalogue, rng: np.random.Generator, rate: float, n_quarters: int) -> None:
        self.catalogue = catalogue
        self.rng = rng
        self.rate = rate
        self.n_quarters = n_quarters
        self.copies: dict[Key, list[dict[str, Any]]] = {}
        self.copy_schemas: dict[str, dict[str, Any]] = {}

    def apply(
        self,
        kind: RecordKind,
        cols: dict[str, pl.Series],
        departments: tuple[str, ...],
        dept_code: np.ndarray,
        quarter: np.ndarray,
        protect: np.ndarray,
        rid: np.ndarray,
    ) -> None:
        """Change cells of ``cols`` in place, add ``_defect``/``_expected`` when any row is hit."""
        n = len(quarter)
        candidates = np.flatnonzero(~protect)
        k = min(int(self.rng.binomial(n, self.rate)), len(candidates)) if self.rate > 0 else 0
        if k == 0:
            return
        rng = self.rng
        idx = np.sort(rng.choice(candidates, size=k, replace=False))
        types = list(DEFECT_SHARES)
        shares = np.array([DEFECT_SHARES[t] for t in types])
        drawn = rng.choice(len(types), size=k, p=shares / shares.sum())
        uniform = rng.random((k, 2))
        # A defect that does not fit the kind (or the row's department) becomes a bad check char.
        fits = np.array([[_fits(t, kind, d) for d in departments] for t in types])
        codes = dept_code[idx]
        drawn = np.where(fits[drawn, codes], drawn, types.index("bad_check_character"))
        updates: dict[str, tuple[list[int], list[Any]]] = {}

        def put(name: str, at: np.ndarray, values: list[Any]) -> None:
            rows, vals = updates.setdefault(name, ([], []))
            rows.extend(int(a) for a in at)
            vals.extend(values)

        def of(defect: str) -> tuple[np.ndarray, np.ndarray]:
            sel = drawn == types.index(defect)
            return idx[sel], uniform[sel, 0]

        at, u = of("bad_check_character")
        put("subject_id", at, [_bad_id(v, w) for v, w in zip(cols["subject_id"].gather(at), u, strict=True)])
        at, u = of("unknown_kind")
        put("kind", at, [UNKNOWN_KINDS[int(w * len(UNKNOWN_KINDS))] for w in u])
        at, u = of("future_date")
        put("event_date", at, [_future(v, w) for v, w in zip(cols["event_date"].gather(at), u, strict=True)])
        at, u = of("missing_field")
        names = _missing_candidates(kind) if len(at) else []
        for j, name in enumerate(names):
            hit = (u * len(names)).astype(np.int64) == j
            put(name, at[hit], [None] * int(hit.sum()))
        at, u = of("out_of_range")
        for a, w in zip(at, u, strict=True):
            name, value = _out_of_range(kind, float(w))
            put(name, np.array([a]), [value])
        for defect in ("bad_check_character", "unknown_kind", "future_date", "missing_field", "out_of_range"):
            at, _ = of(defect)
            put("_defect", at, [defect] * len(at))
            put("_expected", at, [EXPECTED[defect]] * len(at))
        # Copies: the same row (a duplicate) or a changed one from another department (a conflict).
        copying = np.isin(drawn, [types.index("duplicate_row"), types.index("conflicting_version")])
        if copying.any():
            at = idx[copying]
            rows = pl.DataFrame(cols)[at].to_dicts()
            for row, a, d, (u1, u2) in zip(rows, at, drawn[copying], uniform[copying], strict=True):
                defect = types[d]
                dept, q = departments[dept_code[a]], int(quarter[a])
                row.update(
                    _rid=None, _src=int(rid[a]), _defect=defect, _expected=EXPECTED[defect], _kind=kind.code
                )
                target = (dept, q)
                if defect == "duplicate_row":
                    if u1 < 0.5 and q + 1 < self.n_quarters:
                        target = (dept, q + 1)
                else:
                    later = _later_departments(kind, dept)
                    row["department"] = later[int(u1 * len(later))]
                    _change(kind, row, u2)
                    target = (row["department"], q)
                self.copies.setdefault(target, []).append(row)
            self.copy_schemas.setdefault(kind.code, {c: cols[c].dtype for c in cols})
        if updates.get("_defect", ([], []))[0]:
            cols["_defect"] = nulls(n, pl.String)
            cols["_expected"] = nulls(n, pl.String)
        for name, (rows_at, values) in updates.items():
            if rows_at:
                cols[name].scatter(rows_at, pl.Series(values, dtype=cols[name].dtype))

    def copy_frames(self, next_rid: int) -> tuple[dict[Key, pl.DataFrame], int]:
        """The duplicate and conflicting copies of the chunk, one frame per file, with new row ids."""
        out: dict[Key, pl.DataFrame] = {}
        for key in sorted(self.copies):
            rows = self.copies[key]
            parts = []
            for code in dict.fromkeys(r["_kind"] for r in rows):
                mine = [r for r in rows if r["_kind"] == code]
                schema = {**self.copy_schemas[code], **_PRIVATE}
                frame = pl.DataFrame([{c: r.get(c) for c in schema} for r in mine], schema=schema)
                frame = frame.with_columns(
                    pl.int_range(next_rid, next_rid + len(mine), dtype=pl.Int64).alias("_rid")
                )
                next_rid += len(mine)
                parts.append(frame)
            out[key] = pl.concat(parts, how="diagonal")
        self.copies.clear()
        return out, next_rid

    def minor_listings(
        self,
        total: int,
        minors: MinorCandidates,
        serial_base: int,
        next_rid: int,
        quarter_of_day: np.ndarray,
        first_day: int,
    ) -> dict[Key, pl.DataFrame]:
        """Extra rows listing minors, in the court's or the credit office's file of their quarter."""
        rng = self.rng
        n_minor = (
            min(int(rng.binomial(total, self.rate * MINOR_LISTING_SHARE)), len(minors.ids))
            if self.rate > 0
            else 0
        )
        if n_minor == 0:
            return {}
        pick = rng.choice(len(minors.ids), size=n_minor, replace=False)
        court = rng.random(n_minor) < 0.5
        amounts = np.round(rng.uniform(2000, 50000, size=n_minor), 2)
        rows: dict[Key, list[dict[str, Any]]] = {}
        for j in range(n_minor):
            day = int(minors.day[pick[j]])
            date = dt.date(1970, 1, 1) + dt.timedelta(days=day)
            serial = serial_base + j
            row: dict[str, Any] = {
                "subject_id": str(minors.ids[pick[j]]),
                "event_date": date.isoformat(),
                "_rid": next_rid + j,
                "_src": None,
                "_defect": "minor_listing",
                "_expected": "minor_listing",
            }
            if court[j]:
                dept = "court"
                row.update(
                    kind="judgment_defaulter",
                    doc_no=f"({date.year}){COURT_PREFIX}执{serial}号之一",
                    amount=amounts[j],
                )
            else:
                dept = "credit_office"
                row.update(kind="serious_dishonesty_list", doc_no=f"YZSX{date.year}{serial}", area="社会保险")
            row.update(department=dept, _kind=row["kind"])
            rows.setdefault((dept, int(quarter_of_day[day - first_day])), []).append(row)
        out = {}
        for key, listed in sorted(rows.items()):
            names = dict.fromkeys(c for r in listed for c in r)
            out[key] = pl.DataFrame(
                [{c: r.get(c) for c in names} for r in listed], schema={c: _MINOR_TYPES[c] for c in names}
            )
        return out


_PRIVATE: dict[str, Any] = {
    "_kind": pl.String,
    "_rid": pl.Int64,
    "_src": pl.Int64,
    "_defect": pl.String,
    "_expected": pl.String,
}
_MINOR_TYPES: dict[str, Any] = {
    **dict.fromkeys(("kind", "subject_id", "event_date", "department", "doc_no", "area"), pl.String),
    "amount": pl.Float64,
    **_PRIVATE,
}
