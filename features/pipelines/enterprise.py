"""Enterprise (all organisation types) features as of a date: one row per organisation.

One implementation for a batch and for one subject. ``records`` must also hold the rows of the
organisations' legal representatives (persons): their standing is computed from their own usable
records with the person aggregates, through ``links`` (the store's subject links) as of D.
"""

from __future__ import annotations

import datetime as dt

import polars as pl

from features.catalogue import Catalogue
from features.pipelines._common import (
    ORG_TYPES,
    Context,
    as_lazy,
    is_kind,
    make_context,
    run,
    subjects_of,
    usable_base,
)
from features.pipelines.person import person_aggregates
from features.pointintime import FrameLike, PointInTimeError
from features.registry import Registry

__all__ = ["enterprise_features", "legal_representatives"]

SUBJECT = "enterprise"
LINK_COLUMNS = ("org_subject_id", "person_subject_id", "role", "valid_from", "valid_to", "recorded_at")


def _json_date(field: str) -> pl.Expr:
    return pl.col("payload").str.json_path_match(f"$.{field}").str.to_date("%Y-%m-%d", strict=False)


def legal_representatives(links: FrameLike | None, ctx: Context) -> pl.LazyFrame:
    """``org_subject_id -> rep_subject_id`` as of D, as known at ``known_at``.

    A link counts when its role is the registry's legal-representative role, ``valid_from <= D``,
    ``valid_to`` is empty or after D, and it was recorded by ``known_at``. With several, the one
    valid from the latest date (then recorded last) wins.
    """
    empty = pl.LazyFrame(schema={"org_subject_id": pl.Int64, "rep_subject_id": pl.Int64})
    if links is None:
        return empty
    lk = as_lazy(links)
    missing = [c for c in LINK_COLUMNS if c not in lk.collect_schema().names()]
    if missing:
        raise PointInTimeError(f"links frame lacks columns {missing}")
    role = ctx.registry.parameters["legal_representative_role"]
    return (
        lk.filter(
            (pl.col("role") == role)
            & (pl.col("valid_from") <= ctx.as_of)
            & (pl.col("valid_to").is_null() | (pl.col("valid_to") > ctx.as_of))
            & (pl.col("recorded_at") <= ctx.known_at)
        )
        .group_by("org_subject_id")
        .agg(rep_subject_id=pl.col("person_subject_id").sort_by(["valid_from", "recorded_at"]).last())
        .select(pl.col("org_subject_id").cast(pl.Int64), pl.col("rep_subject_id").cast(pl.Int64))
    )


def _org_aggregates(base: pl.LazyFrame, ctx: Context) -> pl.LazyFrame:
    in12, in36 = ctx.within(12), ctx.within(36)
    outcome, qty, amount = pl.col("outcome"), pl.col("quantity").fill_null(0), pl.col("amount").fill_null(0)
    everything = is_kind(*ctx.kinds(SUBJECT, "record_count"))
    penalty = is_kind(*ctx.kinds(SUBJECT, "penalty_minor_decayed"))
    tax = is_kind("tax_payment") & in12
    utility = is_kind("utility_bill") & in12
    inspection = is_kind("inspection_result") & in36
    in6 = ctx.within(6)
    tax_late = is_kind("tax_payment") & outcome.is_in(["late", "arrears"])
    bill, bill_late = is_kind("utility_bill"), is_kind("utility_bill") & outcome.is_in(["late", "arrears"])
    # Payments due (taxes, utility bills, loan repayments): late, unpaid or overdue ones.
    payment = is_kind("tax_payment", "utility_bill", "loan_repayment")
    with_status = is_kind("tax_payment", "utility_bill")
    payment_late = (with_status & outcome.is_in(["late", "arrears"])) | (
        is_kind("loan_repayment") & (qty >= 1)
    )

    def count(cond: pl.Expr) -> pl.Expr:
        return cond.sum().cast(pl.Int64)

    def total(cond: pl.Expr, value: pl.Expr) -> pl.Expr:
        return pl.when(cond).then(value).otherwise(0.0).sum()

    def flag(code: str) -> pl.Expr:
        return count(is_kind(code)).clip(upper_bound=1)

    return base.group_by("subject_id").agg(
        tax_arrears_amount=total(is_kind(*ctx.kinds(SUBJECT, "tax_arrears_amount")), amount),
        _tax_n=count(tax),
        _tax_late=count(tax & outcome.is_in(["late", "arrears"])),
        employer_si_arrears_amount=total(is_kind(*ctx.kinds(SUBJECT, "employer_si_arrears_amount")), amount),
        penalty_minor_decayed=total(penalty & (pl.col("severity") == "minor"), pl.col("_w")),
        penalty_general_decayed=total(penalty & (pl.col("severity") == "general"), pl.col("_w")),
        penalty_serious_decayed=total(penalty & (pl.col("severity") == "serious"), pl.col("_w")),
        abnormal_operation_active=flag("abnormal_operation"),
        serious_dishonesty_active=flag("serious_dishonesty_list"),
        judgment_defaulter_active=flag("judgment_defaulter"),
        enforcement_cases_12m=count(is_kind("enforcement_case") & in12),
        environmental_violations_36m=count(is_kind("environmental_violation") & in36),
        safety_incidents_36m=count(is_kind("safety_incident") & in36),
        inspections_36m=count(inspection),
        inspection_failures_36m=count(inspection & outcome.is_in(["non_compliant", "not_found"])),
        commitments_kept=count(is_kind("credit_commitment") & (outcome == "fulfilled")),
        commitments_broken=count(is_kind("credit_commitment") & (outcome == "broken")),
        _utility_n=count(utility),
        _utility_late=count(utility & outcome.is_in(["late", "arrears"])),
        loan_overdue_12m=count(is_kind("loan_repayment") & in12 & (qty >= 1)),
        awards=count(is_kind("award")),
        red_list_active=flag("red_list"),
        record_tenure_months=pl.when(everything).then(pl.col("_k")).otherwise(None).max(),
        record_count=count(everything),
        tax_late_6m=count(tax_late & in6),
        _tax_36m=count(is_kind("tax_payment") & in36),
        _tax_late_36m=count(tax_late & in36),
        utility_late_6m=count(bill_late & in6),
        _utility_36m=count(bill & in36),
        _utility_late_36m=count(bill_late & in36),
        employer_si_arrears_12m=count(is_kind("employer_social_insurance_arrears") & in12),
        tax_payments_12m=count(tax),
        _payments_6m=count(payment & in6),
        _payments_late_6m=count(payment_late & in6),
        _payments_w=total(payment & in36, pl.col("_w")),
        _payments_late_w=total(payment_late & in36, pl.col("_w")),
        payment_arrears_12m=count(with_status & (outcome == "arrears") & in12),
    )


def _latest(base: pl.LazyFrame, kind: str, **values: pl.Expr) -> pl.LazyFrame:
    """Per subject, each value of its latest usable record of ``kind`` (event date, then recording time)."""
    return (
        base.filter(pl.col("kind") == kind)
        .group_by("subject_id")
        .agg(v.sort_by(["event_date", "recorded_at"]).last().alias(name) for name, v in values.items())
    )


def _json_text(field: str) -> pl.Expr:
    return pl.col("payload").str.json_path_match(f"$.{field}")


def enterprise_features(
    records: FrameLike,
    events: FrameLike | None,
    subjects: FrameLike,
    links: FrameLike | None = None,
    *,
    as_of: dt.date,
    known_at: dt.datetime | None = None,
    catalogue: Catalogue | None = None,
    registry: Registry | None = None,
) -> pl.DataFrame:
    """Features of every organisation in ``subjects`` on ``as_of`` as known at ``known_at``.

    ``subjects``: ``subject_id, subject_type`` and optionally ``registered_on`` (used when no
    usable registration record gives the date). ``links``: the store's subject links.
    """
    ctx = make_context(as_of, known_at, catalogue, registry)
    base = usable_base(records, events, ctx)
    orgs = subjects_of(subjects, ORG_TYPES)
    points = ctx.registry.parameters["tax_level_points"]

    level_points = pl.col("outcome").replace_strict(points, default=None, return_dtype=pl.Int64)
    level = (
        base.filter(pl.col("kind") == "tax_credit_level")
        .group_by("subject_id")
        .agg(
            _lvl=level_points.sort_by(["event_date", "recorded_at"]).last(),
            tax_credit_level_avg_36m=level_points.filter(ctx.within(36)).mean(),
        )
    )
    registered = _latest(
        base,
        "org_registration",
        _reg_record=_json_date("registered_on"),
        _sector_record=_json_text("sector"),
        _size_record=_json_text("size"),
    )
    licences = (
        base.filter(is_kind("administrative_licence"))
        .filter(_json_date("valid_to").is_null() | (_json_date("valid_to") > ctx.as_of))
        .group_by("subject_id")
        .agg(licences_active=pl.len().cast(pl.Int64))
    )
    reps = legal_representatives(links, ctx)
    rep_ids = reps.select(subject_id="rep_subject_id").unique()
    rep_stats = person_aggregates(base.join(rep_ids, on="subject_id"), ctx)
    rep_cols = rep_stats.select(
        rep_subject_id="subject_id",
        legal_rep_negative_decayed=pl.col("negative_minor_decayed")
        + pl.col("negative_general_decayed")
        + pl.col("negative_serious_decayed"),
        legal_rep_defaulter_active=pl.max_horizontal(
            "judgment_defaulter_active", "consumption_restriction_active"
        ),
        legal_rep_utility_late_12m="utility_late_12m",
        legal_rep_loan_overdue_12m="loan_overdue_12m",
        legal_rep_utility_late_share_36m="utility_late_share_36m",
    )

    s = as_lazy(subjects)
    # The subject's own registration facts, where no usable registration record gives them.
    have = s.collect_schema().names()
    fallback = s.select(
        pl.col("subject_id").cast(pl.Int64),
        pl.col("subject_type").cast(pl.String).alias("_type"),
        *(
            (pl.col(c).cast(dtype) if c in have else pl.lit(None, dtype)).alias(f"_{c}_subject")
            for c, dtype in (("registered_on", pl.Date), ("sector", pl.String), ("size", pl.String))
        ),
    ).rename({"_registered_on_subject": "_reg_subject"})
    sizes = ctx.registry.parameters["size_levels"]
    sector = pl.coalesce("_sector_record", "_sector_subject")
    frame = (
        orgs.join(_org_aggregates(base, ctx), on="subject_id", how="left")
        .join(level, on="subject_id", how="left")
        .join(registered, on="subject_id", how="left")
        .join(licences, on="subject_id", how="left")
        .join(fallback.unique("subject_id"), on="subject_id", how="left")
        .join(reps.rename({"org_subject_id": "subject_id"}), on="subject_id", how="left")
        .join(rep_cols, on="rep_subject_id", how="left")
    )
    reg_date = pl.coalesce(
        "_reg_record", pl.when(pl.col("_reg_subject") <= ctx.as_of).then(pl.col("_reg_subject"))
    )
    keep_null = (
        "_lvl",
        "_reg_record",
        "_reg_subject",
        "rep_subject_id",
        "record_tenure_months",
        "_type",
        "_sector_record",
        "_sector_subject",
        "_size_record",
        "_size_subject",
        "legal_rep_utility_late_share_36m",
        "tax_credit_level_avg_36m",
    )
    zero_fill = [c for c in frame.collect_schema().names() if c not in ("subject_id", *keep_null)]
    derived = {
        "tax_credit_level": pl.col("_lvl"),
        "has_tax_credit_level": pl.col("_lvl").is_not_null().cast(pl.Int64),
        "tax_late_share_12m": _share("_tax_late", "_tax_n"),
        "utility_late_share_12m": _share("_utility_late", "_utility_n"),
        "years_in_operation": ((pl.lit(ctx.as_of) - reg_date).dt.total_days() / 365.25).clip(lower_bound=0.0),
        "record_tenure_months": pl.col("record_tenure_months").fill_null(0),
        "has_legal_rep": pl.col("rep_subject_id").is_not_null().cast(pl.Int64),
        "size_level": pl.coalesce("_size_record", "_size_subject").replace_strict(
            sizes, default=None, return_dtype=pl.Int64
        ),
        "public_body": pl.col("_type").is_in(ctx.registry.parameters["public_body_types"]).cast(pl.Int64),
        "environment_sector": _in_group(sector, ctx.registry.parameters["environment_sectors"]),
        "safety_sector": _in_group(sector, ctx.registry.parameters["safety_sectors"]),
        "tax_late_share_36m": _share("_tax_late_36m", "_tax_36m"),
        "utility_late_share_36m": _share("_utility_late_36m", "_utility_36m"),
        "individual_business": (pl.col("_type") == "individual_business").cast(pl.Int64),
        "social_organization": (pl.col("_type") == "social_organization").cast(pl.Int64),
        "payment_late_share_6m": _share("_payments_late_6m", "_payments_6m"),
        "payment_late_share_decayed_36m": _share("_payments_late_w", "_payments_w"),
    }
    columns = [derived[c].alias(c) if c in derived else pl.col(c) for c in ctx.registry.names(SUBJECT)]
    out = frame.with_columns(pl.col(zero_fill).fill_null(0)).select("subject_id", *columns)
    return ctx.registry.conform(run(out.sort("subject_id"), records), SUBJECT)


def _in_group(value: pl.Expr, group: list[str]) -> pl.Expr:
    """1 when ``value`` is one of ``group``, else 0 (also when it is unknown)."""
    return value.is_in(group).fill_null(False).cast(pl.Int64)


def _share(part: str, whole: str) -> pl.Expr:
    """part / whole, null when whole is 0."""
    return pl.when(pl.col(whole) > 0).then(pl.col(part) / pl.col(whole))
