"""Validation of department rows against the record catalogue, a whole batch at a time.

``RecordValidator(catalogue, now=...).validate(rows)`` takes a polars frame of strings (one
column per file column, plus a ``line_no`` column) and returns a ``ValidationResult``: the rows
that pass, normalised and typed, and the rows that fail, each with one reason code from
``features.reasons`` and a message. Nothing here touches a database or the environment; identity
numbers are pseudonymised only through the ``person_key`` function the caller passes in.

Checks run in this order and the first that fails is the row's reason:

1. ``forbidden_data`` (a non-empty column, or the kind itself, names forbidden data),
   ``missing_field`` for an empty kind, ``unknown_kind``
2. ``department_not_allowed``
3. ``missing_field`` (common columns, then required fields in catalogue order)
4. ``unknown_column``
5. ``bad_identifier`` (the subject, then ``person_id`` fields)
6. ``subject_type_mismatch``
7. ``wrong_type`` (``event_date``, then fields; an enum value that is not allowed counts here)
8. ``out_of_range`` (numbers beyond min/max, text beyond max_length)
9. ``future_date`` (``event_date``, date and month fields; not end or expiry dates)
10. ``minor_listing``

Columns are vectorised polars expressions; identifiers are parsed once per distinct value.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import polars as pl

from features.catalogue import COMMON_COLUMNS, Catalogue, FieldSpec, RecordKind
from features.fieldtypes import (
    DATE_RE,
    SHOW,
    FieldExprs,
    json_object,
    json_pair,
    mask_id_numbers,
    shown,
)
from features.ids import IdentifierError, PersonId, parse_org_code, parse_person_id

__all__ = [
    "FORWARD_DATE_FIELDS",
    "LINE",
    "QUARANTINE_SCHEMA",
    "RECORD_SCHEMA",
    "RecordValidator",
    "ValidationResult",
    "normalise_rows",
]

LINE = "line_no"
# Date fields that name an end or an expiry and so may lie in the future.
FORWARD_DATE_FIELDS = frozenset({"end_date", "valid_to"})

RECORD_SCHEMA: dict[str, Any] = {
    LINE: pl.Int64,
    "kind": pl.Utf8,
    "subject_id": pl.Utf8,  # normalised identifier; for persons the clear number (never stored)
    "subject_type": pl.Utf8,
    "birth_date": pl.Date,
    "gender": pl.Utf8,
    "district_code": pl.Utf8,
    "event_date": pl.Date,
    "department": pl.Utf8,
    "severity": pl.Utf8,
    "publicity_end": pl.Date,
    "amount": pl.Float64,
    "quantity": pl.Float64,
    "outcome": pl.Utf8,
    "natural_key": pl.Utf8,
    "payload": pl.Utf8,  # canonical JSON of the typed fields (person_id fields through person_key)
    "content": pl.Utf8,  # canonical JSON of event_date and the fields
    "person_refs": pl.List(pl.Utf8),  # clear numbers named in person_id fields (to create subjects)
}
QUARANTINE_SCHEMA: dict[str, Any] = {
    LINE: pl.Int64,
    "reason_code": pl.Utf8,
    "message": pl.Utf8,
    "kind": pl.Utf8,
    "department": pl.Utf8,
}


@dataclass(frozen=True)
class ValidationResult:
    records: pl.DataFrame  # RECORD_SCHEMA, sorted by line
    quarantine: pl.DataFrame  # QUARANTINE_SCHEMA, sorted by line
    forbidden_columns: tuple[str, ...] = ()  # columns whose values must never be stored


@dataclass(frozen=True, slots=True)
class _Parsed:
    number: str | None = None
    subject_type: str | None = None
    error: str | None = None
    person: PersonId | None = None
    district_code: str | None = None


@dataclass
class _Caches:
    subjects: dict[tuple[str, str], _Parsed] = field(default_factory=dict)
    persons: dict[str, _Parsed] = field(default_factory=dict)
    keys: dict[str, str] = field(default_factory=dict)


def normalise_rows(rows: pl.DataFrame) -> pl.DataFrame:
    """Strip every text value; empty text becomes null; common columns always present."""
    exprs = [
        pl.col(c).cast(pl.Utf8).str.strip_chars().replace("", None).alias(c)
        for c in rows.columns
        if c != LINE
    ]
    out = rows.with_columns(exprs)
    missing = [c for c in COMMON_COLUMNS if c not in out.columns]
    if missing:
        out = out.with_columns([pl.lit(None, pl.Utf8).alias(c) for c in missing])
    return out.with_columns(pl.col(LINE).cast(pl.Int64))


class RecordValidator:
    """Validates batches of raw rows; identifier parses are cached across batches.

    ``person_key`` maps a valid identity number to its pseudonym (the lookup key); payloads carry
    that instead of the number. Without it payloads keep the number (pure tests only).
    """

    def __init__(
        self,
        catalogue: Catalogue,
        *,
        now: dt.datetime,
        person_key: Callable[[str], str] | None = None,
    ) -> None:
        self.catalogue = catalogue
        self.now = now
        self.person_key = person_key
        self._today = now.date()
        self._caches = _Caches()

    # -- identifiers -------------------------------------------------------------------------

    def _parse_subject(self, mode: str, value: str) -> _Parsed:
        cached = self._caches.subjects.get((mode, value))
        if cached is not None:
            return cached
        s = value.strip().upper()
        if mode == "both":
            order = ("person", "org") if len(s) == 18 and s[:17].isdigit() and s[:17].isascii() else ("org",)
        else:
            order = (mode, "org" if mode == "person" else "person")
        first_error: str | None = None
        result: _Parsed | None = None
        for how in order:
            try:
                if how == "person":
                    p = parse_person_id(s, today=self._today)
                    result = _Parsed(p.number, "person", None, p, p.district_code)
                else:
                    o = parse_org_code(s)
                    result = _Parsed(o.code, o.subject_type, None, None, o.district_code)
                break
            except IdentifierError as exc:
                first_error = first_error or exc.message
        if result is None:
            result = _Parsed(error=first_error)
        self._caches.subjects[(mode, value)] = result
        return result

    def _parse_person(self, value: str) -> _Parsed:
        cached = self._caches.persons.get(value)
        if cached is None:
            try:
                p = parse_person_id(value, today=self._today)
                cached = _Parsed(p.number, "person", None, p)
            except IdentifierError as exc:
                cached = _Parsed(error=exc.message)
            self._caches.persons[value] = cached
        return cached

    def _key(self, number: str) -> str:
        if self.person_key is None:
            return number
        key = self._caches.keys.get(number)
        if key is None:
            key = self._caches.keys[number] = self.person_key(number)
        return key

    def _subject_table(self, kind: RecordKind, values: pl.Series) -> pl.DataFrame:
        if kind.subject_types == {"person"}:
            mode = "person"
        elif "person" not in kind.subject_types:
            mode = "org"
        else:
            mode = "both"
        raw = [v for v in values.to_list() if v is not None]
        parsed = [self._parse_subject(mode, v) for v in raw]
        return pl.DataFrame(
            {
                "subject_id": raw,
                "_sid": [p.number for p in parsed],
                "_stype": [p.subject_type for p in parsed],
                "_sid_err": [p.error for p in parsed],
                "_birth": [p.person.birth_date if p.person else None for p in parsed],
                "_gender": [p.person.gender if p.person else None for p in parsed],
                "_district": [p.district_code for p in parsed],
            },
            schema={
                "subject_id": pl.Utf8,
                "_sid": pl.Utf8,
                "_stype": pl.Utf8,
                "_sid_err": pl.Utf8,
                "_birth": pl.Date,
                "_gender": pl.Utf8,
                "_district": pl.Utf8,
            },
        )

    def _person_table(self, name: str, values: pl.Series) -> pl.DataFrame:
        raw = [v for v in values.to_list() if v is not None]
        parsed = [self._parse_person(v) for v in raw]
        return pl.DataFrame(
            {
                name: raw,
                f"_pid_{name}": [p.number for p in parsed],
                f"_pkey_{name}": [self._key(p.number) if p.number else None for p in parsed],
                f"_perr_{name}": [p.error for p in parsed],
            },
            schema={
                name: pl.Utf8,
                f"_pid_{name}": pl.Utf8,
                f"_pkey_{name}": pl.Utf8,
                f"_perr_{name}": pl.Utf8,
            },
        )

    # -- batches -----------------------------------------------------------------------------

    def validate(self, rows: pl.DataFrame) -> ValidationResult:
        """Validate a batch; every input row ends in exactly one of the two output frames."""
        rows = normalise_rows(rows)
        cat = self.catalogue
        forbidden = {c: cat.forbidden_category(c) for c in rows.columns if c != LINE}
        forbidden_cols = {c: f for c, f in forbidden.items() if f is not None}
        records: list[pl.DataFrame] = []
        quarantine: list[pl.DataFrame] = []
        if rows.height:
            for (code,), sub in rows.partition_by("kind", as_dict=True, maintain_order=True).items():
                kind = cat.kinds.get(code) if isinstance(code, str) else None
                if kind is None or cat.forbidden_category(kind.code) is not None:
                    quarantine.append(self._reject_kind(sub, code, forbidden_cols))
                    continue
                ok, bad = self._validate_kind(kind, sub, forbidden_cols)
                records.append(ok)
                quarantine.append(bad)
        rec = pl.concat(records) if records else pl.DataFrame(schema=RECORD_SCHEMA)
        qua = pl.concat(quarantine) if quarantine else pl.DataFrame(schema=QUARANTINE_SCHEMA)
        return ValidationResult(rec.sort(LINE), qua.sort(LINE), tuple(forbidden_cols))

    def _forbidden_checks(self, forbidden_cols: dict[str, str]) -> list[tuple[pl.Expr, str, pl.Expr]]:
        return [
            (
                pl.col(c).is_not_null(),
                "forbidden_data",
                pl.lit(f"column {c} carries forbidden data ({cat})"),
            )
            for c, cat in forbidden_cols.items()
        ]

    def _reject_kind(self, sub: pl.DataFrame, code: Any, forbidden_cols: dict[str, str]) -> pl.DataFrame:
        checks = self._forbidden_checks(forbidden_cols)
        if code is None:
            checks.append((pl.lit(True), "missing_field", pl.lit("kind is empty")))
        elif (cat := self.catalogue.forbidden_category(str(code))) is not None:
            checks.append(
                (
                    pl.lit(True),
                    "forbidden_data",
                    pl.lit(f"kind {mask_id_numbers(str(code))[:SHOW]} names forbidden data ({cat})"),
                )
            )
        else:
            text = mask_id_numbers(str(code))[:SHOW]
            checks.append((pl.lit(True), "unknown_kind", pl.lit(f"kind '{text}' is not in the catalogue")))
        return self._first_failure(sub, checks)[1]

    @staticmethod
    def _first_failure(
        sub: pl.DataFrame, checks: list[tuple[pl.Expr, str, pl.Expr]]
    ) -> tuple[pl.DataFrame, pl.DataFrame]:
        """Split rows into those passing every check and those failing one (first failure wins).

        Conditions are evaluated for every row; messages only for the failing rows.
        """
        index: Any = pl.lit(None, pl.Int32)
        for i in reversed(range(len(checks))):
            index = pl.when(checks[i][0].fill_null(False)).then(pl.lit(i, pl.Int32)).otherwise(index)
        sub = sub.with_columns(index.alias("_check"))
        good = sub.filter(pl.col("_check").is_null())
        bad = sub.filter(pl.col("_check").is_not_null())
        reason: Any = pl.lit(None, pl.Utf8)
        message: Any = pl.lit(None, pl.Utf8)
        for i in reversed(range(len(checks))):
            hit = pl.col("_check") == i
            reason = pl.when(hit).then(pl.lit(checks[i][1])).otherwise(reason)
            message = pl.when(hit).then(checks[i][2]).otherwise(message)
        bad = bad.with_columns(reason.alias("reason_code"), message.alias("message"))
        return good, bad.select(list(QUARANTINE_SCHEMA))

    def _validate_kind(
        self, kind: RecordKind, sub: pl.DataFrame, forbidden_cols: dict[str, str]
    ) -> tuple[pl.DataFrame, pl.DataFrame]:
        cat = self.catalogue
        file_cols = [c for c in sub.columns if c != LINE]
        for name in kind.fields:
            if name not in sub.columns:
                sub = sub.with_columns(pl.lit(None, pl.Utf8).alias(name))
        sub = sub.join(self._subject_table(kind, sub["subject_id"].unique()), on="subject_id", how="left")
        person_fields = [f for f in kind.fields.values() if f.type == "person_id"]
        for f in person_fields:
            sub = sub.join(self._person_table(f.name, sub[f.name].unique()), on=f.name, how="left")
        # Typed values once, as columns; the checks below read them.
        fields = {f.name: FieldExprs.of(f) for f in kind.fields.values()}
        ev_raw = pl.col("event_date")
        sub = sub.with_columns(
            ev_raw.str.to_date("%Y-%m-%d", strict=False).alias("_ev"),
            *[fx.value.alias(f"_t_{n}") for n, fx in fields.items()],
            *[fx.day.alias(f"_d_{n}") for n, fx in fields.items() if fx.day is not None],
        )

        dept = pl.col("department")
        known = list(cat.departments)
        checks = self._forbidden_checks(forbidden_cols)
        checks.append(
            (
                dept.is_not_null() & ~dept.is_in(list(kind.departments)),
                "department_not_allowed",
                pl.when(dept.is_in(known))
                .then(pl.format("department {} does not report kind {}", dept, pl.lit(kind.code)))
                .otherwise(pl.format("unknown department '{}'", shown(dept))),
            )
        )
        for c in ("subject_id", "event_date", "department"):
            checks.append((pl.col(c).is_null(), "missing_field", pl.lit(f"{c} is empty")))
        for f in kind.fields.values():
            if f.required:
                checks.append(
                    (pl.col(f.name).is_null(), "missing_field", pl.lit(f"field {f.name} is missing"))
                )
        known_cols = {*COMMON_COLUMNS, *kind.fields}
        for c in (c for c in file_cols if c not in known_cols and c not in forbidden_cols):
            msg = f"column {c} is not a field of kind {kind.code}"
            checks.append((pl.col(c).is_not_null(), "unknown_column", pl.lit(msg)))
        checks.append((pl.col("_sid_err").is_not_null(), "bad_identifier", pl.col("_sid_err")))
        for f in person_fields:
            err = pl.col(f"_perr_{f.name}")
            checks.append((err.is_not_null(), "bad_identifier", pl.format(f"field {f.name}: {{}}", err)))
        allowed = sorted(kind.subject_types)
        checks.append(
            (
                pl.col("_stype").is_not_null() & ~pl.col("_stype").is_in(allowed),
                "subject_type_mismatch",
                pl.format(f"kind {kind.code} does not apply to subject type {{}}", pl.col("_stype")),
            )
        )
        ev = pl.col("_ev")
        ev_ok = ev_raw.str.contains(DATE_RE) & ev.is_not_null()
        checks.append(
            (
                ev_raw.is_not_null() & ~ev_ok,
                "wrong_type",
                pl.format("event_date: '{}' is not a date (YYYY-MM-DD)", shown("event_date")),
            )
        )
        for f in kind.fields.values():
            if (bad := fields[f.name].bad) is not None:
                checks.append((pl.col(f.name).is_not_null() & bad, "wrong_type", self._type_message(f)))
        for fx in fields.values():
            checks.extend((cond, "out_of_range", msg) for cond, msg in fx.ranges)
        today = pl.lit(self._today)
        checks.append(
            (
                ev_ok & (ev > today),
                "future_date",
                pl.format(f"event_date {{}} is after the ingestion date {self._today}", ev_raw),
            )
        )
        for n, fx in fields.items():
            if fx.day is not None and n not in FORWARD_DATE_FIELDS:
                later = pl.format(f"field {n} {{}} is after the ingestion date {self._today}", pl.col(n))
                checks.append((pl.col(f"_d_{n}") > today, "future_date", later))
        if kind.listing and kind.polarity == "negative":
            b = pl.col("_birth")

            def month_day(d: pl.Expr) -> pl.Expr:  # month and day are Int8 in polars: widen first
                return d.dt.month().cast(pl.Int32) * 100 + d.dt.day().cast(pl.Int32)

            age = (ev.dt.year() - b.dt.year()) - (month_day(ev) < month_day(b)).cast(pl.Int32)
            checks.append(
                (
                    (pl.col("_stype") == "person") & ev_ok & (age < 18),
                    "minor_listing",
                    pl.format("the person is {} on the event date; under 18 cannot be listed", age),
                )
            )
        good, bad_rows = self._first_failure(sub, checks)
        return self._normalised(kind, good), bad_rows

    @staticmethod
    def _type_message(f: FieldSpec) -> pl.Expr:
        what = {
            "integer": "is not an integer",
            "number": "is not a number",
            "date": "is not a date (YYYY-MM-DD)",
            "month": "is not a month (YYYY-MM)",
            "enum": "is not one of " + ", ".join(f.values),
        }[f.type]
        return pl.format(f"field {f.name}: '{{}}' {what}", shown(f.name))

    def _normalised(self, kind: RecordKind, good: pl.DataFrame) -> pl.DataFrame:
        # Severity and publicity end through the catalogue's own rules, once per distinct input.
        sev_field = kind.severity_field
        end_field = "end_date" if kind.listing and "end_date" in kind.fields else None
        keys = ["_ev"] + [f"_t_{n}" for n in (sev_field, end_field) if n]
        combos = good.select(keys).unique()
        sev, pub = [], []
        for row in combos.iter_rows(named=True):
            values = {}
            if sev_field:
                values[sev_field] = row[f"_t_{sev_field}"]
            if end_field:
                values[end_field] = row[f"_t_{end_field}"]
            sev.append(kind.severity_of(values))
            pub.append(kind.publicity_end(row["_ev"], values, self.catalogue.severity_periods))
        combos = combos.with_columns(
            pl.Series("severity", sev, dtype=pl.Utf8), pl.Series("publicity_end", pub, dtype=pl.Date)
        )
        good = good.join(combos, on=keys, how="left", nulls_equal=True)

        # Canonical JSON (sorted keys, nulls left out), one fragment per field.
        names = sorted(kind.fields)
        good = good.with_columns(
            [json_pair(n, kind.fields[n], pl.col(f"_t_{n}")).alias(f"_j_{n}") for n in names]
        )
        ev_pair = pl.lit('"event_date":"') + pl.col("_ev").dt.to_string("%Y-%m-%d") + pl.lit('"')
        payload = json_object(pl.col(f"_j_{n}") for n in names)
        content = json_object(
            ev_pair if n == "event_date" else pl.col(f"_j_{n}") for n in sorted([*names, "event_date"])
        )
        parts = []
        for n in kind.natural_key:
            text = pl.col(f"_t_{n}").cast(pl.Utf8)
            parts.append(
                text.str.replace_all("\\", "\\\\", literal=True).str.replace_all("|", "\\|", literal=True)
            )
        natural_key = pl.concat_str(parts, separator="|") if parts else pl.lit("")
        promoted = kind.promoted
        person_cols = [pl.col(f"_pid_{f.name}") for f in kind.fields.values() if f.type == "person_id"]
        refs = pl.concat_list(person_cols).list.drop_nulls() if person_cols else pl.lit([], pl.List(pl.Utf8))
        out = good.select(
            pl.col(LINE),
            pl.lit(kind.code).alias("kind"),
            pl.col("_sid").alias("subject_id"),
            pl.col("_stype").alias("subject_type"),
            pl.col("_birth").alias("birth_date"),
            pl.col("_gender").alias("gender"),
            pl.col("_district").alias("district_code"),
            pl.col("_ev").alias("event_date"),
            pl.col("department"),
            pl.col("severity"),
            pl.col("publicity_end"),
            *[
                (pl.col(f"_t_{promoted[c]}") if c in promoted else pl.lit(None))
                .cast(RECORD_SCHEMA[c])
                .alias(c)
                for c in ("amount", "quantity", "outcome")
            ],
            natural_key.alias("natural_key"),
            payload.alias("payload"),
            content.alias("content"),
            refs.alias("person_refs"),
        )
        return out.cast(RECORD_SCHEMA)  # type: ignore[arg-type]
