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


def _row_exprs(ctx: Context) -> list[pl.Expr]:
    """Row-wise conditions that several aggregates share, computed once per row (helper columns
    ``_in3`` ... ``_late``): an expression repeated inside every aggregate would be evaluated once
    per use, and on one subject's rows the number of expression nodes is what costs."""
    outcome = pl.col("outcome")
    contribution = is_kind("social_insurance_contribution")
    return [
        ctx.within(3).alias("_in3"),
        ctx.within(6).alias("_in6"),
        ctx.within(12).alias("_in12"),
        ctx.within(36).alias("_in36"),
        is_kind("utility_bill").alias("_bill"),
        is_kind("loan_repayment").alias("_loan"),
        is_kind("tax_payment").alias("_tax"),
        contribution.alias("_contribution"),
        outcome.is_in(["late", "arrears"]).alias("_late"),
        is_kind(*ctx.kinds(SUBJECT, "negative_minor_decayed")).alias("_negative"),
        is_kind(*ctx.kinds(SUBJECT, "record_count")).alias("_everything"),
        # Pension contributions carry the insurance only in the payload (compact JSON).
        (contribution & pl.col("payload").str.contains('"pension"', literal=True)).alias("_pension"),
        # Payments due (bills, repayments, taxes, contributions): late, unpaid or overdue ones,
        # and those left unpaid (in arrears) or at least 30 days overdue.
        is_kind(*_PAYMENT_KINDS).alias("_payment"),
        (
            (is_kind(*_STATUS_PAYMENT_KINDS) & outcome.is_in(["late", "arrears"]))
            | (is_kind("loan_repayment") & (pl.col("quantity") >= 1))
        ).alias("_payment_late"),
        (
            (is_kind(*_STATUS_PAYMENT_KINDS) & (outcome == "arrears"))
            | (is_kind("loan_repayment") & (pl.col("quantity") >= _SERIOUSLY_OVERDUE_DAYS))
        ).alias("_payment_arrears"),
    ]


# Payments a person owes: the first three carry a status (on time, late, arrears; contributions
# paid or arrears), loan repayments the days overdue.
_STATUS_PAYMENT_KINDS = ("utility_bill", "tax_payment", "social_insurance_contribution")
_PAYMENT_KINDS = (*_STATUS_PAYMENT_KINDS, "loan_repayment")
_SERIOUSLY_OVERDUE_DAYS = 30


def _aggregate_exprs(ctx: Context) -> list[pl.Expr]:
    """Per subject, the registry's person columns (in registry order, with their declared types)
    but those computed from month masks, then the masks (``_pension_mask``...): sums, maxima and
    bit-ors of row-wise values, and shares of them.

    A subject without usable rows has one all-null row (``person_features``), so every aggregate
    also gives the value of an empty file (counts 0, shares null)."""
    in3, in6, in12, in36 = (pl.col(c) for c in ("_in3", "_in6", "_in12", "_in36"))
    bill, loan, tax_kind, contribution = (pl.col(c) for c in ("_bill", "_loan", "_tax", "_contribution"))
    late, negative, everything, pension_row = (
        pl.col(c) for c in ("_late", "_negative", "_everything", "_pension")
    )
    outcome, qty, amount = pl.col("outcome"), pl.col("quantity").fill_null(0), pl.col("amount").fill_null(0)
    payment, payment_late, w = pl.col("_payment"), pl.col("_payment_late"), pl.col("_w")
    paid = outcome == "paid"
    tax = tax_kind & in12
    utility = bill & in12
    bill_late = bill & late
    pension_due = pension_row & in12
    # Only employees pay unemployment insurance (through their employer): a sign of a job.
    employed = contribution & pl.col("payload").str.contains('"unemployment"', literal=True)
    cap = ctx.months_since_cap

    def count(cond: pl.Expr) -> pl.Expr:
        return cond.sum().cast(pl.Int64)

    def total(cond: pl.Expr, value: pl.Expr) -> pl.Expr:
        return pl.when(cond).then(value).otherwise(0.0).sum()

    def most(cond: pl.Expr, value: pl.Expr) -> pl.Expr:
        return pl.when(cond).then(value).otherwise(0.0).max().cast(pl.Int64)

    def any_of(cond: pl.Expr) -> pl.Expr:
        return cond.any().cast(pl.Int64)

    def mask(cond: pl.Expr) -> pl.Expr:
        return pl.when(cond).then(pl.col("_bit")).otherwise(0).bitwise_or()

    def decayed(severity: str) -> pl.Expr:
        return total(negative & (pl.col("severity") == severity), pl.col("_w"))

    def share(part: pl.Expr, whole: pl.Expr) -> pl.Expr:
        """part / whole (counts), null when whole is 0."""
        n = whole.sum()
        return pl.when(n > 0).then(part.sum() / n)

    exprs = {
        "_pension_mask": mask(pension_row & paid & in36),
        "_medical_mask": mask(is_kind("medical_insurance_contribution") & paid & in12),
        "_employed_mask": mask(employed),
        "tax_payments_12m": count(tax),
        "tax_on_time_share_12m": share(tax & (outcome == "on_time"), tax),
        "tax_arrears_amount": total(is_kind(*ctx.kinds(SUBJECT, "tax_arrears_amount")), amount),
        "utility_bills_12m": count(utility),
        "utility_late_12m": count(utility & late),
        "utility_arrears_12m": count(utility & (outcome == "arrears")),
        "utility_max_days_late_12m": most(utility, qty),
        "has_loan": any_of(loan & in12),
        "loan_overdue_12m": count(loan & in12 & (qty >= 1)),
        "loan_max_days_overdue_36m": most(loan & in36, qty),
        "negative_minor_decayed": decayed("minor"),
        "negative_general_decayed": decayed("general"),
        "negative_serious_decayed": decayed("serious"),
        "months_since_negative": pl.when(negative)
        .then(pl.col("_k"))
        .min()
        .clip(upper_bound=cap)
        .fill_null(cap)
        .cast(pl.Int64),
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
        "utility_late_share_36m": share(bill_late & in36, bill & in36),
        "loan_repayments_3m": count(loan & in3),
        "loan_overdue_3m": count(loan & in3 & (qty >= 1)),
        "loan_days_overdue_12m": total(loan & in12, qty),
        "social_insurance_arrears_6m": count(contribution & in6 & (outcome == "arrears")),
        "pension_contribution_avg_12m": pl.when(pension_due.sum() > 0).then(
            total(pension_due, amount) / pension_due.sum()
        ),
        "tax_paid_12m": total(tax, amount),
        "months_since_employed_36m": pl.when(employed & in36)
        .then(pl.col("_k"))
        .min()
        .fill_null(SLOT_WINDOW)
        .cast(pl.Int64),
        "utility_avg_days_late_12m": pl.when((utility & (outcome == "late")).sum() > 0).then(
            total(utility & (outcome == "late"), qty) / (utility & (outcome == "late")).sum()
        ),
        "payment_late_share_decayed_36m": pl.when(total(payment & in36, w) > 0).then(
            total(payment_late & in36, w) / total(payment & in36, w)
        ),
        "payment_arrears_decayed_36m": total(pl.col("_payment_arrears") & in36, w),
        "record_tenure_months": pl.when(everything).then(pl.col("_k")).max().fill_null(0).cast(pl.Int64),
        "record_count": count(everything),
    }
    names = [f.name for f in ctx.registry.for_subject(SUBJECT) if f.name not in _FROM_MASKS]
    missing = [n for n in names if n not in exprs]
    if missing:
        raise KeyError(f"person pipeline has no definition for registry features {missing}")
    return [exprs[n].alias(n) for n in [*names, *(n for n in exprs if n.startswith("_"))]]


# Features computed from the month masks after the aggregation (a lookup table gathered inside
# an aggregation runs once per group, not once per column).
_FROM_MASKS = {
    "pension_paid_months_12m": low_bits_count("_pension_mask", 12),
    "pension_paid_months_36m": low_bits_count("_pension_mask", SLOT_WINDOW),
    "pension_longest_gap_36m": longest_zero_run_expr("_pension_mask", SLOT_WINDOW),
    "medical_paid_months_12m": low_bits_count("_medical_mask", 12),
    "employment_insurance_months_3m": low_bits_count("_employed_mask", 3),
}


def _output_exprs(ctx: Context) -> list[pl.Expr]:
    """The registry's columns in order: those computed from the masks, the others as aggregated."""
    return [
        pl.col("subject_id"),
        *(
            _FROM_MASKS[f.name].alias(f.name) if f.name in _FROM_MASKS else pl.col(f.name)
            for f in ctx.registry.for_subject(SUBJECT)
        ),
    ]


def person_aggregates(base: pl.LazyFrame, ctx: Context, *extra: pl.Expr) -> pl.LazyFrame:
    """Per ``subject_id`` of ``base`` (usable rows from ``usable_base``): the person aggregates
    (``_aggregate_exprs``) and ``extra`` aggregates. Subjects without rows are absent
    (``person_features`` adds an empty row for each person). Also used for the legal representatives in the
    enterprise pipeline."""
    rows = cached_exprs(("person-rows", *ctx.key), lambda: _row_exprs(ctx))
    aggs = cached_exprs(("person-agg", *ctx.key), lambda: _aggregate_exprs(ctx))
    return base.with_columns(rows).group_by("subject_id").agg(*aggs, *extra)


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
    # One all-null row per person, marked ``_person``: every person gets a group (an empty
    # file's values) without a join and a fill per column afterwards, and only the groups with
    # the mark are kept (the records may hold other subjects' rows).
    persons = subjects_of(subjects, (SUBJECT,)).with_columns(_person=pl.lit(True))
    base = pl.concat([usable_base(records, events, ctx), persons], how="diagonal")
    plan = (
        person_aggregates(base, ctx, pl.col("_person").any())
        .filter(pl.col("_person"))
        .select(cached_exprs(("person-out", *ctx.key), lambda: _output_exprs(ctx)))
        .sort("subject_id")
    )
    return ctx.registry.conform(run(plan, records), SUBJECT)
