"""The record catalogue (信用信息目录): versioned data, validated when loaded.

* ``CatalogueError`` (a ``ValueError``): the catalogue file breaks a rule; the message names the
  kind and the rule.

``load_catalogue()`` reads ``features/catalogue.yaml`` (or a given path) and returns a frozen
``Catalogue``. Nothing here touches a database or the environment.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

__all__ = [
    "COMMON_COLUMNS",
    "FIELD_TYPES",
    "PROMOTED_COLUMNS",
    "SUBJECT_TYPES",
    "Catalogue",
    "CatalogueError",
    "FieldSpec",
    "RecordKind",
    "add_months",
    "load_catalogue",
]

DEFAULT_PATH = Path(__file__).with_name("catalogue.yaml")
SUBJECT_TYPES = (
    "person",
    "enterprise",
    "individual_business",
    "social_organization",
    "public_institution",
    "government_body",
)
FIELD_TYPES = ("string", "integer", "number", "date", "month", "enum", "person_id")
PROMOTED_COLUMNS = ("amount", "quantity", "outcome")
COMMON_COLUMNS = ("kind", "subject_id", "event_date", "department")
POLARITIES = ("positive", "negative", "neutral")
SEVERITIES = ("minor", "general", "serious")


class CatalogueError(ValueError):
    """The catalogue breaks one of its rules."""


@dataclass(frozen=True, slots=True)
class FieldSpec:
    name: str
    type: str
    required: bool
    unit: str | None = None
    min: float | None = None
    max: float | None = None
    values: tuple[str, ...] = ()
    max_length: int | None = None
    column: str | None = None


@dataclass(frozen=True)
class RecordKind:
    code: str
    zh: str
    en: str
    subject_types: frozenset[str]
    departments: tuple[str, ...]
    polarity: str
    severity: str
    publicity_min_months: int
    publicity_max_months: int
    legal_basis: str
    natural_key: tuple[str, ...]
    fields: Mapping[str, FieldSpec]
    listing: bool = False
    disclosure: str | None = None
    severity_field: str | None = None
    severity_map: Mapping[str, str] = field(default_factory=dict)

    def severity_of(self, payload: Mapping[str, Any]) -> str:
        """Severity of one record: from its own field where the catalogue says so."""
        if self.severity_field is not None:
            value = payload.get(self.severity_field)
            if value is not None and str(value) in self.severity_map:
                return self.severity_map[str(value)]
        return self.severity

    def publicity_end(
        self, event_date: dt.date, payload: Mapping[str, Any], periods: Mapping[str, Any]
    ) -> dt.date:
        """Last day + 1 on which the record may be published and used.

        A listing with its own end date lasts until that date; any other record lasts the maximum
        publicity period of its kind, capped for negative records by the statutory maximum of its
        own severity.
        """
        end = payload.get("end_date")
        if self.listing and isinstance(end, dt.date):
            return end
        months = self.publicity_max_months
        if self.polarity == "negative":
            months = min(months, int(periods[self.severity_of(payload)]["max"]))
        return add_months(event_date, months)

    @property
    def promoted(self) -> dict[str, str]:
        """Promoted column name -> field name."""
        return {f.column: f.name for f in self.fields.values() if f.column}


@dataclass(frozen=True)
class Catalogue:
    version: str
    digest: str
    kinds: Mapping[str, RecordKind]
    departments: Mapping[str, Mapping[str, str]]
    severity_periods: Mapping[str, Mapping[str, int]]
    forbidden: Mapping[str, tuple[str, ...]]

    def kind(self, code: str) -> RecordKind:
        return self.kinds[code]

    def forbidden_category(self, name: str) -> str | None:
        """The forbidden data category a kind code or column name belongs to, if any."""
        low = name.strip().lower()
        for category, terms in self.forbidden.items():
            for term in terms:
                if term.isascii():
                    if re.search(rf"(^|_){re.escape(term)}($|_|s$)", low):
                        return category
                elif term in low:
                    return category
        return None


def add_months(day: dt.date, months: int) -> dt.date:
    """Add calendar months, clamping the day to the month's length."""
    y, m = divmod(day.month - 1 + months, 12)
    year, month = day.year + y, m + 1
    for d in (day.day, 30, 29, 28):
        try:
            return dt.date(year, month, d)
        except ValueError:
            continue
    raise AssertionError("unreachable")


def _req(d: Mapping[str, Any], key: str, where: str) -> Any:
    if key not in d:
        raise CatalogueError(f"{where}: missing '{key}'")
    return d[key]


def _parse_field(kind: str, name: str, spec: Mapping[str, Any]) -> FieldSpec:
    where = f"kind {kind}, field {name}"
    ftype = _req(spec, "type", where)
    if ftype not in FIELD_TYPES:
        raise CatalogueError(f"{where}: unknown type {ftype!r}")
    unknown = set(spec) - {"type", "required", "unit", "min", "max", "values", "max_length", "column"}
    if unknown:
        raise CatalogueError(f"{where}: unknown attributes {sorted(unknown)}")
    values = tuple(str(v) for v in spec.get("values", ()))
    if ftype == "enum" and not values:
        raise CatalogueError(f"{where}: enum without values")
    column = spec.get("column")
    if column is not None and column not in PROMOTED_COLUMNS:
        raise CatalogueError(f"{where}: column must be one of {PROMOTED_COLUMNS}")
    lo, hi = spec.get("min"), spec.get("max")
    if lo is not None and hi is not None and lo > hi:
        raise CatalogueError(f"{where}: min {lo} > max {hi}")
    return FieldSpec(
        name=name,
        type=ftype,
        required=bool(spec.get("required", False)),
        unit=spec.get("unit"),
        min=lo,
        max=hi,
        values=values,
        max_length=spec.get("max_length"),
        column=column,
    )


def _parse(raw: Mapping[str, Any], digest: str) -> Catalogue:
    version = str(_req(raw, "version", "catalogue"))
    groups = {k: tuple(v) for k, v in raw.get("subject_groups", {}).items()}
    periods = _req(raw, "severity_periods", "catalogue")
    if set(periods) != set(SEVERITIES):
        raise CatalogueError(f"severity_periods must define exactly {SEVERITIES}")
    departments = _req(raw, "departments", "catalogue")
    forbidden = {f["category"]: tuple(str(t).lower() for t in f["terms"]) for f in raw.get("forbidden", [])}
    kinds: dict[str, RecordKind] = {}
    probe = Catalogue(version, digest, {}, departments, periods, forbidden)
    for k in _req(raw, "kinds", "catalogue"):
        code = _req(k, "code", "kind")
        where = f"kind {code}"
        if code in kinds:
            raise CatalogueError(f"{where}: defined twice")
        if (cat := probe.forbidden_category(code)) is not None:
            raise CatalogueError(f"{where}: names forbidden data ({cat})")
        subject_types: set[str] = set()
        for s in _req(k, "subject_types", where):
            subject_types.update(groups.get(s, (s,)))
        if not subject_types or not subject_types <= set(SUBJECT_TYPES):
            raise CatalogueError(
                f"{where}: unknown subject types {sorted(subject_types - set(SUBJECT_TYPES))}"
            )
        depts = _req(k, "department", where)
        depts = (depts,) if isinstance(depts, str) else tuple(depts)
        for d in depts:
            if d not in departments:
                raise CatalogueError(f"{where}: unknown department {d!r}")
        polarity, severity = _req(k, "polarity", where), _req(k, "severity", where)
        if polarity not in POLARITIES:
            raise CatalogueError(f"{where}: polarity must be one of {POLARITIES}")
        if severity not in SEVERITIES:
            raise CatalogueError(f"{where}: severity must be one of {SEVERITIES}")
        pub = _req(k, "publicity_months", where)
        pmin, pmax = int(pub["min"]), int(pub["max"])
        if not 0 <= pmin <= pmax:
            raise CatalogueError(f"{where}: publicity min {pmin} / max {pmax} out of order")
        fields = {n: _parse_field(code, n, s) for n, s in _req(k, "fields", where).items()}
        for n in fields:
            if n in COMMON_COLUMNS:
                raise CatalogueError(f"{where}: field {n} shadows a common column")
            if (cat := probe.forbidden_category(n)) is not None:
                raise CatalogueError(f"{where}: field {n} names forbidden data ({cat})")
        columns = [f.column for f in fields.values() if f.column]
        if len(columns) != len(set(columns)):
            raise CatalogueError(f"{where}: a promoted column is used twice")
        natural_key = tuple(_req(k, "natural_key", where))
        for n in natural_key:
            if n not in fields or not fields[n].required:
                raise CatalogueError(f"{where}: natural key field {n} must be a required field")
        sev_by = k.get("severity_by")
        sev_field, sev_map = None, {}
        if sev_by:
            sev_field, sev_map = sev_by["field"], {str(a): b for a, b in sev_by["map"].items()}
            if sev_field not in fields:
                raise CatalogueError(f"{where}: severity_by names unknown field {sev_field}")
            if set(sev_map.values()) - set(SEVERITIES):
                raise CatalogueError(f"{where}: severity_by maps to unknown severities")
            if fields[sev_field].values and set(sev_map) != set(fields[sev_field].values):
                raise CatalogueError(f"{where}: severity_by must map every value of {sev_field}")
        if polarity == "negative":
            # The statutory bounds: the kind's period must fit inside the bounds of every severity
            # its records can take (national 信用修复管理办法, 2026).
            for sev in {severity, *sev_map.values()}:
                bound = periods[sev]
                if pmin < bound["min"] and sev == severity:
                    raise CatalogueError(
                        f"{where}: minimum publicity {pmin} below the {sev} minimum {bound['min']}"
                    )
                if sev == severity and pmax > bound["max"]:
                    raise CatalogueError(
                        f"{where}: maximum publicity {pmax} above the {sev} maximum {bound['max']}"
                    )
        listing = bool(k.get("listing", False))
        if listing and "doc_no" not in fields:
            raise CatalogueError(f"{where}: a listing needs a document number (doc_no)")
        kinds[code] = RecordKind(
            code=code,
            zh=_req(k, "zh", where),
            en=_req(k, "en", where),
            subject_types=frozenset(subject_types),
            departments=depts,
            polarity=polarity,
            severity=severity,
            publicity_min_months=pmin,
            publicity_max_months=pmax,
            legal_basis=_req(k, "legal_basis", where),
            natural_key=natural_key,
            fields=fields,
            listing=listing,
            disclosure=k.get("disclosure"),
            severity_field=sev_field,
            severity_map=sev_map,
        )
    return Catalogue(version, digest, kinds, departments, periods, forbidden)


def load_catalogue(path: str | Path | None = None) -> Catalogue:
    """Load and validate a catalogue file (the packaged one by default)."""
    p = Path(path) if path is not None else DEFAULT_PATH
    return _load_cached(str(p.resolve()))


@lru_cache(maxsize=8)
def _load_cached(path: str) -> Catalogue:
    data = Path(path).read_bytes()
    raw = yaml.safe_load(data)
    if not isinstance(raw, dict):
        raise CatalogueError("catalogue: top level must be a mapping")
    return _parse(raw, hashlib.sha256(data).hexdigest()[:16])
