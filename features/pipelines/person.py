"""Person features as of a date: one row per person, exactly the registry's person columns.

One implementation for a batch and for one subject: pass every person's rows or one person's.
All work is polars expressions over whole columns (filters, ``group_by``/``agg``, joins); the
only Python loop runs over the 36 month slots of the contribution masks, never over subjects or
records. Definitions are in ``features/registry.yaml`` and ``docs/features.md``.
"""

from __future__ import annotations

import datetime as dt

import polars as pl

from features.catalogue import Catalogue
from features.pipelines._common import (
    SLOT_WINDOW,
    Context,
    cached_exprs,
    longest_zero_run,
    low_bits_count,
    make_context,
    slot_bit,
    subjects_of,
    usable_base,
)
from features.pointintime import FrameLike
from features.registry import Registry

__all__ = ["person_aggregates", "person_features"]

SUBJECT = "person"


def _is(*codes: str) -> pl.Expr:
    return pl.col("kind").is_in(list(codes)) if len(codes) > 1 else pl.col("kind") == codes[0]


def _aggregate_exprs(ctx: Context) -> list[pl.Expr]:
    """Per-subject aggregates of usable rows: simple sums, maxima and bit-ors of row-wise values."""
    in12, in36 = ctx.within(12), ctx.within(36)
    outcome, qty, amount = pl.col("outcome"), pl.col("quantity").fill_null(0), pl.col("amount").fill_null(0)
    negative = _is(*ctx.kinds(SUBJECT, "negative_minor_decayed"))
    everything = _is(*ctx.kinds(SUBJECT, "record_count"))
    tax = _is("tax_payment") & in12
    utility = _is("utility_bill") & in12
    loan = _is("loan_repayment")
    # Pension months need the insurance, kept only in the payload (compact JSON: "insurance":"pension").
    pension = (
        _is("social_insurance_contribution")
        & (outcome == "paid")
        & in36
        & pl.col("payload").str.contains('"pension"', literal=True)
    )
    medical = _is("medical_insurance_contribution") & (outcome == "paid") & in12

    def count(cond: pl.Expr) -> pl.Expr:
        return cond.sum().cast(pl.Int64)

    def total(cond: pl.Expr, value: pl.Expr) -> pl.Expr:
        return pl.when(cond).then(value).otherwise(0.0).sum()

    def most(cond: pl.Expr, value: pl.Expr) -> pl.Expr:
        return pl.when(cond).then(value).otherwise(0.0).max()

    def any_of(cond: pl.Expr) -> pl.Expr:
        return cond.any().cast(pl.Int64)

    def decayed(severity: str) -> pl.Expr:
        return total(negative & (pl.col("severity") == severity), pl.col("_w"))

    exprs = {
        "_pension_mask": pl.when(pension).then(slot_bit()).otherwise(0).bitwise_or(),
        "_medical_mask": pl.when(medical).then(slot_bit()).otherwise(0).bitwise_or(),
        "tax_payments_12m": count(tax),
        "_tax_on_time": count(tax & (outcome == "on_time")),
        "tax_arrears_amount": total(_is(*ctx.kinds(SUBJECT, "tax_arrears_amount")), amount),
        "utility_bills_12m": count(utility),
        "utility_late_12m": count(utility & outcome.is_in(["late", "arrears"])),
        "utility_arrears_12m": count(utility & (outcome == "arrears")),
        "utility_max_days_late_12m": most(utility, qty),
        "has_loan": any_of(loan & in12),
        "loan_overdue_12m": count(loan & in12 & (qty >= 1)),
        "loan_max_days_overdue_36m": most(loan & in36, qty),
        "negative_minor_decayed": decayed("minor"),
        "negative_general_decayed": decayed("general"),
        "negative_serious_decayed": decayed("serious"),
        "_last_negative": pl.when(negative).then(pl.col("_k")).min(),
        "judgment_defaulter_active": any_of(_is("judgment_defaulter")),
        "consumption_restriction_active": any_of(_is("high_consumption_restriction")),
        "serious_dishonesty_active": any_of(_is("serious_dishonesty_list")),
        "enforcement_cases_12m": count(_is("enforcement_case") & in12),
        "commitments_kept": count(_is("credit_commitment") & (outcome == "fulfilled")),
        "commitments_broken": count(_is("credit_commitment") & (outcome == "broken")),
        "volunteer_hours_36m": total(_is("volunteer_service") & in36, qty),
        "blood_donations_36m": count(_is("blood_donation") & in36),
        "awards": count(_is("award")),
        "red_list_active": any_of(_is("red_list")),
        "record_tenure_months": pl.when(everything).then(pl.col("_k")).max(),
        "record_count": count(everything),
    }
    return [e.alias(name) for name, e in exprs.items()]


def person_aggregates(base: pl.LazyFrame, ctx: Context) -> pl.LazyFrame:
    """Per ``subject_id`` of ``base`` (usable rows from ``usable_base``): the raw person aggregates.

    Subjects without rows are absent; ``person_features`` fills them in. Also used for the legal
    representatives in the enterprise pipeline.
    """
    return base.group_by("subject_id").agg(
        cached_exprs(("person-agg", *ctx.key), lambda: _aggregate_exprs(ctx))
    )


def _finish_exprs(ctx: Context) -> list[pl.Expr]:
    cap = ctx.months_since_cap
    return [
        low_bits_count("_pension_mask", 12).alias("pension_paid_months_12m"),
        low_bits_count("_pension_mask", SLOT_WINDOW).alias("pension_paid_months_36m"),
        low_bits_count("_medical_mask", 12).alias("medical_paid_months_12m"),
        pl.when(pl.col("tax_payments_12m") > 0)
        .then(pl.col("_tax_on_time") / pl.col("tax_payments_12m"))
        .alias("tax_on_time_share_12m"),
        pl.col("_last_negative").clip(upper_bound=cap).fill_null(cap).alias("months_since_negative"),
        pl.col("record_tenure_months").fill_null(0),
    ]


def person_features(
    records: FrameLike,
    events: FrameLike | None,
    subjects: FrameLike,
    *,
    as_of: dt.date,
    known_at: dt.datetime | None = None,
    catalogue: Catalogue | None = None,
    registry: Registry | None = None,
) -> pl.DataFrame:
    """Person features on ``as_of`` as known at ``known_at`` (default: the end of ``as_of``).

    ``records``/``events``: the store's columns (see ``features.pointintime``); ``subjects``:
    ``subject_id, subject_type``. One row per person in ``subjects`` (persons without usable
    records get the values of an empty file), sorted by ``subject_id``.
    """
    ctx = make_context(as_of, known_at, catalogue, registry)
    base = usable_base(records, events, ctx)
    people = subjects_of(subjects, (SUBJECT,))
    # Every person gets a row: an empty row per person joins the aggregation (all its conditions
    # are null, so it adds nothing), which spares a fill of every column afterwards.
    rows = pl.concat([base, people], how="diagonal")
    plan = (
        person_aggregates(rows, ctx)
        .join(people, on="subject_id", how="semi")
        .with_columns(cached_exprs(("person-finish", *ctx.key), lambda: _finish_exprs(ctx)))
        .sort("subject_id")
    )
    frame = plan.collect()
    frame = frame.with_columns(
        longest_zero_run(frame["_pension_mask"], SLOT_WINDOW).alias("pension_longest_gap_36m")
    )
    return ctx.registry.conform(frame, SUBJECT)
