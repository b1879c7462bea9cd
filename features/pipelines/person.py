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
    is_kind,
    longest_zero_run_expr,
    low_bits_count,
    make_context,
    run,
    subjects_of,
    usable_base,
)
from features.pointintime import FrameLike
from features.registry import Registry

__all__ = ["person_aggregates", "person_features"]

SUBJECT = "person"


def _aggregate_exprs(ctx: Context) -> list[pl.Expr]:
    """Per-subject aggregates of usable rows: simple sums, maxima and bit-ors of row-wise values."""
    in12, in36 = ctx.within(12), ctx.within(36)
    outcome, qty, amount = pl.col("outcome"), pl.col("quantity").fill_null(0), pl.col("amount").fill_null(0)
    negative = is_kind(*ctx.kinds(SUBJECT, "negative_minor_decayed"))
    everything = is_kind(*ctx.kinds(SUBJECT, "record_count"))
    tax = is_kind("tax_payment") & in12
    utility = is_kind("utility_bill") & in12
    loan = is_kind("loan_repayment")
    # Pension months need the insurance, kept only in the payload (compact JSON: "insurance":"pension").
    pension = (
        is_kind("social_insurance_contribution")
        & (outcome == "paid")
        & in36
        & pl.col("payload").str.contains('"pension"', literal=True)
    )
    medical = is_kind("medical_insurance_contribution") & (outcome == "paid") & in12
    in3, in6 = ctx.within(3), ctx.within(6)
    bill = is_kind("utility_bill")
    bill_late = bill & outcome.is_in(["late", "arrears"])
    contribution = is_kind("social_insurance_contribution")
    # Only employees pay unemployment insurance (through their employer): a sign of a job.
    employed = contribution & pl.col("payload").str.contains('"unemployment"', literal=True)
    pension_due = contribution & in12 & pl.col("payload").str.contains('"pension"', literal=True)

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
        "_pension_mask": pl.when(pension).then(pl.col("_bit")).otherwise(0).bitwise_or(),
        "_medical_mask": pl.when(medical).then(pl.col("_bit")).otherwise(0).bitwise_or(),
        "tax_payments_12m": count(tax),
        "_tax_on_time": count(tax & (outcome == "on_time")),
        "tax_arrears_amount": total(is_kind(*ctx.kinds(SUBJECT, "tax_arrears_amount")), amount),
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
        "judgment_defaulter_active": any_of(is_kind("judgment_defaulter")),
        "consumption_restriction_active": any_of(is_kind("high_consumption_restriction")),
        "serious_dishonesty_active": any_of(is_kind("serious_dishonesty_list")),
        "enforcement_cases_12m": count(is_kind("enforcement_case") & in12),
        "commitments_kept": count(is_kind("credit_commitment") & (outcome == "fulfilled")),
        "commitments_broken": count(is_kind("credit_commitment") & (outcome == "broken")),
        "volunteer_hours_36m": total(is_kind("volunteer_service") & in36, qty),
        "blood_donations_36m": count(is_kind("blood_donation") & in36),
        "awards": count(is_kind("award")),
        "red_list_active": any_of(is_kind("red_list")),
        "utility_late_3m": count(bill_late & in3),
        "utility_late_6m": count(bill_late & in6),
        "utility_days_late_3m": total(bill & in3, qty),
        "utility_days_late_12m": total(utility, qty),
        "_utility_36m": count(bill & in36),
        "_utility_late_36m": count(bill_late & in36),
        "loan_repayments_3m": count(loan & in3),
        "loan_overdue_3m": count(loan & in3 & (qty >= 1)),
        "loan_days_overdue_12m": total(loan & in12, qty),
        "_employed_mask": pl.when(employed).then(pl.col("_bit")).otherwise(0).bitwise_or(),
        "social_insurance_arrears_6m": count(contribution & in6 & (outcome == "arrears")),
        "_pension_due_n": count(pension_due),
        "_pension_due_amount": total(pension_due, amount),
        "tax_paid_12m": total(tax, amount),
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


def _output_exprs(ctx: Context) -> list[pl.Expr]:
    """From the aggregates (null for persons without usable records) to the registry's columns,
    in registry order and with the registry's types."""
    cap = ctx.months_since_cap
    special = {
        "pension_paid_months_12m": low_bits_count("_pension_mask", 12),
        "pension_paid_months_36m": low_bits_count("_pension_mask", SLOT_WINDOW),
        "pension_longest_gap_36m": longest_zero_run_expr("_pension_mask", SLOT_WINDOW),
        "medical_paid_months_12m": low_bits_count("_medical_mask", 12),
        "tax_on_time_share_12m": pl.when(pl.col("tax_payments_12m") > 0).then(
            pl.col("_tax_on_time") / pl.col("tax_payments_12m")
        ),
        "months_since_negative": pl.col("_last_negative").clip(upper_bound=cap).fill_null(cap),
        "utility_late_share_36m": _share("_utility_late_36m", "_utility_36m"),
        "employment_insurance_months_3m": low_bits_count("_employed_mask", 3),
        "pension_contribution_avg_12m": _share("_pension_due_amount", "_pension_due_n"),
    }
    out = [pl.col("subject_id")]
    for f in ctx.registry.for_subject(SUBJECT):
        expr = special.get(f.name, pl.col(f.name))
        if not f.nullable:
            expr = expr.fill_null(0)
        out.append(expr.cast(f.polars_dtype).alias(f.name))
    return out


def _share(part: str, whole: str) -> pl.Expr:
    """part / whole, null when whole is 0."""
    return pl.when(pl.col(whole) > 0).then(pl.col(part) / pl.col(whole))


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
    plan = (
        subjects_of(subjects, (SUBJECT,))
        .join(person_aggregates(base, ctx), on="subject_id", how="left")
        .select(cached_exprs(("person-out", *ctx.key), lambda: _output_exprs(ctx)))
        .sort("subject_id")
    )
    return ctx.registry.conform(run(plan, records), SUBJECT)
