"""Pieces shared by the person and enterprise pipelines: windows, month slots, decay, masks."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar, cast

import numpy as np
import polars as pl

from features.catalogue import Catalogue, add_months, load_catalogue
from features.pointintime import (
    FrameLike,
    PointInTimeError,
    check_event_types,
    resolve_known_at,
    usable_lazy,
)
from features.registry import Registry, load_registry

__all__ = [
    "ORG_TYPES",
    "PAYLOAD_KINDS",
    "Context",
    "as_lazy",
    "cached_exprs",
    "longest_zero_run",
    "low_bits_count",
    "make_context",
    "slot_bit",
    "subjects_of",
    "usable_base",
]

ORG_TYPES = (
    "enterprise",
    "individual_business",
    "social_organization",
    "public_institution",
    "government_body",
)
# Kinds whose features read a field kept only in the JSON payload (the store may omit the payload
# of every other kind): the insurance of a contribution, a licence's end, a registration date.
PAYLOAD_KINDS = ("social_insurance_contribution", "administrative_licence", "org_registration")
SLOT_WINDOW = 36  # month slots tracked in contribution masks (bits 0..35)
T = TypeVar("T")


@dataclass(frozen=True)
class Context:
    as_of: dt.date
    known_at: dt.datetime
    catalogue: Catalogue
    registry: Registry

    def start(self, months: int) -> dt.date:
        """Exclusive lower bound of a window of ``months``: ``add_months(as_of, -months)``."""
        return add_months(self.as_of, -months)

    def within(self, months: int) -> pl.Expr:
        """The last ``months`` months: ``start(months) < event_date`` (usable rows are <= as_of)."""
        return pl.col("event_date") > self.start(months)

    @property
    def key(self) -> tuple[Any, ...]:
        """Identifies everything expressions built for this context depend on."""
        return (self.as_of, self.known_at, self.registry.version, self.catalogue.digest)

    def kinds(self, subject: str, feature: str) -> list[str]:
        """Source kinds of a feature, as the registry declares them."""
        return list(self.registry.feature(subject, feature).kinds)

    @property
    def half_life_days(self) -> float:
        return float(self.registry.parameters["decay_half_life_days"])

    @property
    def months_since_cap(self) -> int:
        return int(self.registry.parameters["months_since_cap"])


def make_context(
    as_of: dt.date,
    known_at: dt.datetime | None,
    catalogue: Catalogue | None,
    registry: Registry | None,
) -> Context:
    cat = catalogue if catalogue is not None else load_catalogue()
    reg = registry if registry is not None else load_registry(catalogue=cat)
    if reg.catalogue_version != cat.version:
        raise PointInTimeError(
            f"registry {reg.version} was checked against catalogue {reg.catalogue_version}, not {cat.version}"
        )
    return Context(as_of, resolve_known_at(as_of, known_at), cat, reg)


def as_lazy(frame: FrameLike) -> pl.LazyFrame:
    return frame.lazy() if isinstance(frame, pl.DataFrame) else frame


def months_ago(as_of: dt.date) -> pl.Expr:
    """Month slot k of ``event_date``: add_months(as_of, -(k+1)) < event_date <= add_months(as_of, -k).

    With a = as_of and e = event_date: k = (12*a.year + a.month) - (12*e.year + e.month), minus one
    when e.day > a.day (the clamped boundary of a shorter month never lies above a.day).
    """
    e = pl.col("event_date")
    diff = pl.lit(12 * as_of.year + as_of.month, pl.Int32) - (
        e.dt.year().cast(pl.Int32) * 12 + e.dt.month().cast(pl.Int32)
    )
    return diff - (e.dt.day() > as_of.day).cast(pl.Int32)


def usable_base(
    records: FrameLike,
    events: FrameLike | None,
    ctx: Context,
) -> pl.LazyFrame:
    """Usable records with the helper columns the aggregations read.

    ``_k`` month slot, ``_w`` decay weight (0.5 ** (age in days / half-life)); ``kind`` as an enum
    of the catalogue's kinds (comparisons on codes, not text).
    """
    recs = records
    names = recs.columns if isinstance(recs, pl.DataFrame) else recs.collect_schema().names()
    if "payload" not in names:
        recs = recs.with_columns(payload=pl.lit(None, pl.String))
    ev: pl.DataFrame | None = None
    if events is not None:
        cols = ("record_uid", "event_type", "effective_date", "recorded_at")
        ev = events.select(cols) if isinstance(events, pl.DataFrame) else events.select(cols).collect()
        if ev.height:
            check_event_types(ev)
        else:
            ev = None
    usable = usable_lazy(recs, ev, as_of=ctx.as_of, known_at=ctx.known_at, catalogue=ctx.catalogue)
    return usable.select(cached_exprs(("base", *ctx.key), lambda: _base_exprs(ctx)))


def _base_exprs(ctx: Context) -> list[pl.Expr]:
    age = (pl.lit(ctx.as_of) - pl.col("event_date")).dt.total_days()
    return [
        pl.col("subject_id"),
        pl.col("kind").cast(pl.Enum(list(ctx.catalogue.kinds))),
        *[
            pl.col(c)
            for c in ("event_date", "recorded_at", "severity", "amount", "quantity", "outcome", "payload")
        ],
        months_ago(ctx.as_of).alias("_k"),
        pl.lit(0.5).pow(age.cast(pl.Float64) / ctx.half_life_days).alias("_w"),
    ]


def slot_bit() -> pl.Expr:
    """2 ** _k for month slots 0..35 (Int64), the bit of a slot in a contribution mask."""
    return pl.lit(2.0).pow(pl.col("_k").cast(pl.Float64)).cast(pl.Int64)


def low_bits_count(mask: str, n: int) -> pl.Expr:
    """Number of set bits among the lowest ``n`` (month slots 0..n-1)."""
    return (pl.col(mask) & ((1 << n) - 1)).bitwise_count_ones().cast(pl.Int64)


def longest_zero_run(mask: pl.Series, n: int) -> pl.Series:
    """Longest run of unset bits among slots 0..n-1 of each mask (0 = slot paid in every month).

    Vectorised over subjects: ``z & (z >> 1)`` shortens every run of set bits of the complement
    by one, so the number of steps until it is empty is the longest run (at most ``n`` steps).
    """
    z = ~mask.fill_null(0).to_numpy().astype(np.int64) & ((1 << n) - 1)
    run = np.zeros(len(z), dtype=np.int64)
    while True:
        alive = z != 0
        if not alive.any():
            break
        run += alive
        z &= z >> 1
    return pl.Series(mask.name, run, dtype=pl.Int64)


def cached_exprs(key: tuple[Any, ...], build: Callable[[], T]) -> T:
    """Expressions built once per (pipeline, as-of, known-at, registry): building them costs more
    than running them on one subject's rows."""
    if key not in _EXPR_CACHE:
        if len(_EXPR_CACHE) >= 64:
            _EXPR_CACHE.pop(next(iter(_EXPR_CACHE)))
        _EXPR_CACHE[key] = build()
    return cast(T, _EXPR_CACHE[key])


_EXPR_CACHE: dict[tuple[Any, ...], Any] = {}


def subjects_of(subjects: FrameLike, types: tuple[str, ...]) -> pl.LazyFrame:
    """The ``subject_id`` of every subject of the given types (one output row each)."""
    s = as_lazy(subjects)
    names = s.collect_schema().names()
    missing = [c for c in ("subject_id", "subject_type") if c not in names]
    if missing:
        raise PointInTimeError(f"subjects frame lacks columns {missing}")
    return s.filter(pl.col("subject_type").is_in(types)).select(pl.col("subject_id").cast(pl.Int64)).unique()
