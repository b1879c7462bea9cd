"""Pieces shared by the person and enterprise pipelines: windows, month slots, decay, masks."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
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
    "RECORD_INPUT_COLUMNS",
    "Context",
    "age_tables",
    "as_lazy",
    "cached_exprs",
    "is_kind",
    "longest_zero_run",
    "longest_zero_run_expr",
    "low_bits_count",
    "make_context",
    "run",
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
# The record columns the pipelines read (the store's other columns may be left out of reads).
RECORD_INPUT_COLUMNS = (
    "record_uid",
    "version",
    "subject_id",
    "kind",
    "event_date",
    "publicity_end",
    "severity",
    "recorded_at",
    "amount",
    "quantity",
    "outcome",
    "payload",
)
SLOT_WINDOW = 36  # month slots tracked in contribution masks (bits 0..35)
SMALL_INPUT_ROWS = 100_000
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


def is_kind(*codes: str) -> pl.Expr:
    """``kind`` is one of ``codes`` (on the enum codes of ``usable_base``)."""
    return pl.col("kind") == codes[0] if len(codes) == 1 else pl.col("kind").is_in(list(codes))


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


MAX_AGE_DAYS = 200 * 366  # lookup tables by age cover 200 years; older rows take the last entry


def age_tables(as_of: dt.date, half_life_days: float) -> tuple[pl.Series, pl.Series, pl.Series]:
    """Month slot, slot bit (2 ** slot for slots 0..35, else 0) and decay weight of every age in
    days, 0..MAX_AGE_DAYS (computed once per D).

    Slot k of a record: add_months(as_of, -(k+1)) < event_date <= add_months(as_of, -k). With
    a = as_of and e = event_date: k = (12*a.year + a.month) - (12*e.year + e.month), minus one
    when e.day > a.day (the clamped boundary of a shorter month never lies above a.day).
    """
    ages = np.arange(MAX_AGE_DAYS + 1)
    days = (np.datetime64(as_of, "D") - ages).astype("datetime64[D]")
    months = days.astype("datetime64[M]")
    day_of_month = (days - months.astype("datetime64[D]")).astype(np.int64) + 1
    month_index = months.astype(np.int64)  # months since 1970-01
    a_index = (as_of.year - 1970) * 12 + as_of.month - 1
    k = a_index - month_index - (day_of_month > as_of.day)
    weight = 0.5 ** (ages / half_life_days)
    bit = np.where(k < SLOT_WINDOW, np.left_shift(1, np.clip(k, 0, SLOT_WINDOW - 1)), 0)
    return (
        pl.Series("_k", k, dtype=pl.Int32),
        pl.Series("_bit", bit, dtype=pl.Int64),
        pl.Series("_w", weight, dtype=pl.Float64),
    )


def usable_base(
    records: FrameLike,
    events: FrameLike | None,
    ctx: Context,
) -> pl.LazyFrame:
    """Usable records with the helper columns the aggregations read.

    ``_k`` month slot, ``_bit`` its bit in a contribution mask and ``_w`` decay weight
    (0.5 ** (age in days / half-life)), looked up by the record's age in days in tables built
    once per as-of date; ``kind`` as an enum of the catalogue's codes (comparisons on integers).
    """
    # Unused columns are left to the plan's projection pushdown (an eager select costs more).
    recs = records
    names = recs.columns if isinstance(recs, pl.DataFrame) else recs.collect_schema().names()
    if "payload" not in names:
        recs = recs.with_columns(payload=pl.lit(None, pl.String))
    ev: pl.DataFrame | None = None
    if isinstance(events, pl.DataFrame) and events.height:
        ev = events
    elif isinstance(events, pl.LazyFrame):
        ev = events.select("record_uid", "event_type", "effective_date", "recorded_at").collect()
    if ev is not None:
        check_event_types(ev)
    usable = usable_lazy(recs, ev, as_of=ctx.as_of, known_at=ctx.known_at, catalogue=ctx.catalogue)
    return usable.select(cached_exprs(("base", *ctx.key), lambda: _base_exprs(ctx)))


def _base_exprs(ctx: Context) -> list[pl.Expr]:
    k_table, bit_table, w_table = age_tables(ctx.as_of, ctx.half_life_days)
    as_of_days = (ctx.as_of - dt.date(1970, 1, 1)).days
    age = (pl.lit(as_of_days, pl.Int32) - pl.col("event_date").cast(pl.Int32)).clip(0, MAX_AGE_DAYS)
    return [
        pl.col("subject_id").cast(pl.Int64),
        pl.col("kind").cast(pl.String).cast(pl.Enum(list(ctx.catalogue.kinds))),
        *[
            pl.col(c)
            for c in ("event_date", "recorded_at", "severity", "amount", "quantity", "outcome", "payload")
        ],
        pl.lit(k_table).gather(age).alias("_k"),
        pl.lit(bit_table).gather(age).alias("_bit"),
        pl.lit(w_table).gather(age).alias("_w"),
    ]


def low_bits_count(mask: str | pl.Expr, n: int) -> pl.Expr:
    """Number of set bits among the lowest ``n`` (month slots 0..n-1) of a mask (a column name
    or an expression)."""
    return (_as_expr(mask) & ((1 << n) - 1)).bitwise_count_ones().cast(pl.Int64)


def _as_expr(column: str | pl.Expr) -> pl.Expr:
    return pl.col(column) if isinstance(column, str) else column


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


_RUN_CHUNK = 18  # bits per lookup: two chunks cover the 36 month slots


@lru_cache(maxsize=1)
def _zero_run_tables() -> tuple[pl.Series, pl.Series, pl.Series]:
    """For every value of ``_RUN_CHUNK`` bits: the longest run of unset bits, the run at the low
    end (from bit 0 up) and the run at the high end (all ``_RUN_CHUNK`` for 0)."""
    width = _RUN_CHUNK
    values = np.arange(1 << width, dtype=np.int64)
    z = ~values & ((1 << width) - 1)
    inner = np.zeros(len(values), dtype=np.int64)
    while (alive := z != 0).any():
        inner += alive
        z &= z >> 1
    low = np.full(len(values), width, dtype=np.int64)
    high = np.full(len(values), width, dtype=np.int64)
    for bit in reversed(range(width)):  # lowest set bit last: the run below it
        low[(values >> bit) & 1 == 1] = bit
    for bit in range(width):  # highest set bit last: the run above it
        high[(values >> bit) & 1 == 1] = width - 1 - bit
    return (
        pl.Series("_inner", inner, dtype=pl.Int64),
        pl.Series("_low", low, dtype=pl.Int64),
        pl.Series("_high", high, dtype=pl.Int64),
    )


def longest_zero_run_expr(mask: str | pl.Expr, n: int) -> pl.Expr:
    """``longest_zero_run`` as an expression (no Python callback): the mask is split into two
    chunks of ``_RUN_CHUNK`` bits looked up in tables; the longest run lies inside a chunk or
    spans the boundary (high-end run of the low chunk plus low-end run of the high chunk). Slots
    ``n`` and above are set first, so they never extend a run (``n`` at most 36)."""
    if not 0 < n <= 2 * _RUN_CHUNK:
        raise ValueError(f"n must be 1..{2 * _RUN_CHUNK}, got {n}")
    inner, low, high = (pl.lit(t) for t in _zero_run_tables())
    chunk = (1 << _RUN_CHUNK) - 1
    above = ((1 << (2 * _RUN_CHUNK)) - 1) & ~((1 << n) - 1)
    m = _as_expr(mask).fill_null(0) | above
    lo, hi = m & chunk, (m // (1 << _RUN_CHUNK)) & chunk
    return pl.max_horizontal(inner.gather(lo), inner.gather(hi), high.gather(lo) + low.gather(hi))


def cached_exprs(key: tuple[Any, ...], build: Callable[[], T]) -> T:
    """Expressions built once per (pipeline, as-of, known-at, registry): building them costs more
    than running them on one subject's rows."""
    if key not in _EXPR_CACHE:
        if len(_EXPR_CACHE) >= 64:
            _EXPR_CACHE.pop(next(iter(_EXPR_CACHE)))
        _EXPR_CACHE[key] = build()
    return cast(T, _EXPR_CACHE[key])


_EXPR_CACHE: dict[tuple[Any, ...], Any] = {}


def run(plan: pl.LazyFrame, records: FrameLike) -> pl.DataFrame:
    """Collect a pipeline's plan. For one subject's rows (a small in-memory frame), the in-memory
    engine without plan optimisations: optimising costs more than it saves on a few hundred rows.
    Large or lazy inputs get the default engine and every optimisation."""
    if isinstance(records, pl.DataFrame) and records.height < SMALL_INPUT_ROWS:
        return plan.collect(engine="in-memory", optimizations=_SMALL_INPUT_FLAGS)
    return plan.collect()


_SMALL_INPUT_FLAGS = pl.QueryOptFlags.none()


def subjects_of(subjects: FrameLike, types: tuple[str, ...]) -> pl.LazyFrame:
    """The ``subject_id`` of every subject of the given types (one output row each)."""
    s = as_lazy(subjects)
    names = subjects.columns if isinstance(subjects, pl.DataFrame) else s.collect_schema().names()
    missing = [c for c in ("subject_id", "subject_type") if c not in names]
    if missing:
        raise PointInTimeError(f"subjects frame lacks columns {missing}")
    return s.filter(_type_filter(types)).select(pl.col("subject_id").cast(pl.Int64)).unique()


@lru_cache(maxsize=8)
def _type_filter(types: tuple[str, ...]) -> pl.Expr:
    return pl.col("subject_type").is_in(list(types))
