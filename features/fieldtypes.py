"""How each catalogue field type is read from text, checked, and written as canonical JSON.

``FieldExprs.of(spec)`` gives polars expressions for one field: its typed value (computed from
the raw text column), the "cannot be read" test and the range tests (which read the typed column
``_t_<name>``), and the date used by the future-date test. ``json_pair`` and ``json_object``
build canonical JSON (sorted keys, nulls left out) from typed columns without encoding row by row.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

import polars as pl

from features.catalogue import FieldSpec

__all__ = [
    "DATE_RE",
    "INT_RE",
    "MONTH_RE",
    "FieldExprs",
    "json_object",
    "json_pair",
    "mask_id_numbers",
    "shown",
]

DATE_RE = r"^\d{4}-\d{2}-\d{2}$"
MONTH_RE = r"^\d{4}-\d{2}$"
INT_RE = r"^[+-]?\d+$"
SHOW = 40  # characters of a bad value shown in a message
# Anything shaped like a resident identity number, wherever it turns up (a shifted column, say).
_ID_LIKE = r"(\d{4})\d{10}(\d{3}[\dXx])"
_ID_MASK = "${1}**********${2}"


def mask_id_numbers(text: str) -> str:
    """Mask identity-number-shaped parts of a text as ``3201**********123X``."""
    return re.sub(_ID_LIKE, r"\1**********\2", text)


def shown(col: str | pl.Expr) -> pl.Expr:
    """A raw value as a message may show it: shortened, identity numbers masked."""
    expr = pl.col(col) if isinstance(col, str) else col
    return expr.str.replace_all(_ID_LIKE, _ID_MASK).str.slice(0, SHOW)


def _num(v: float) -> str:
    return str(int(v)) if float(v).is_integer() else str(v)


def json_object(pairs: Iterable[pl.Expr]) -> pl.Expr:
    """``{pair,pair,...}`` from ``"name":value`` fragments, null fragments left out."""
    return pl.concat_str(
        [pl.lit("{"), pl.concat_str(list(pairs), separator=",", ignore_nulls=True), pl.lit("}")]
    )


def _safe_text(values: Iterable[str]) -> bool:
    """Text that needs no escaping inside a JSON string."""
    return all(v.isprintable() and '"' not in v and "\\" not in v for v in values)


def json_pair(name: str, f: FieldSpec, value: pl.Expr) -> pl.Expr:
    """``"name":value`` as canonical JSON text, or null when the value is null."""
    key = pl.lit(f'"{name}":')
    if f.type in ("integer", "number"):
        text = key + value.cast(pl.Utf8)
    elif f.type == "date":
        text = key + pl.lit('"') + value.dt.to_string("%Y-%m-%d") + pl.lit('"')
    elif f.type in ("month", "person_id") or (f.type == "enum" and _safe_text(f.values)):
        text = key + pl.lit('"') + value + pl.lit('"')  # digits, dashes, hex or catalogue words
    else:
        text = pl.struct(value.alias(name)).struct.json_encode().str.slice(1).str.strip_suffix("}")
    return pl.when(value.is_not_null()).then(text)


@dataclass(frozen=True)
class FieldExprs:
    """How one field is typed and checked. ``bad``, ``ranges`` and ``day`` read the typed column
    ``_t_<name>`` (and ``_d_<name>``), which ``value`` (and ``day``) compute from the raw text."""

    value: pl.Expr
    bad: pl.Expr | None = None
    ranges: tuple[tuple[pl.Expr, pl.Expr], ...] = ()
    day: pl.Expr | None = None

    @classmethod
    def of(cls, f: FieldSpec) -> FieldExprs:
        c, t = pl.col(f.name), pl.col(f"_t_{f.name}")
        if f.type in ("integer", "number"):
            if f.type == "integer":
                value = c.cast(pl.Int64, strict=False)
                bad = ~c.str.contains(INT_RE) | t.is_null()
            else:
                value = c.cast(pl.Float64, strict=False)
                bad = t.is_null() | ~t.is_finite()
            ranges = []
            if f.min is not None:
                msg = pl.format(f"field {f.name}: {{}} is below the minimum {_num(f.min)}", shown(c))
                ranges.append((t < f.min, msg))
            if f.max is not None:
                msg = pl.format(f"field {f.name}: {{}} is above the maximum {_num(f.max)}", shown(c))
                ranges.append((t > f.max, msg))
            return cls(value, bad, tuple(ranges))
        if f.type == "date":
            value = c.str.to_date("%Y-%m-%d", strict=False)
            return cls(value, ~c.str.contains(DATE_RE) | t.is_null(), day=value)
        if f.type == "month":
            day = (c + "-01").str.to_date("%Y-%m-%d", strict=False)
            return cls(c, ~c.str.contains(MONTH_RE) | pl.col(f"_d_{f.name}").is_null(), day=day)
        if f.type == "enum":
            return cls(c, ~c.is_in(list(f.values)))
        if f.type == "person_id":
            return cls(pl.col(f"_pkey_{f.name}"))
        if f.max_length is None:
            return cls(c)
        length = c.str.len_chars()
        msg = pl.format(f"field {f.name}: {{}} characters, more than {f.max_length}", length)
        return cls(c, ranges=((length > f.max_length, msg),))
