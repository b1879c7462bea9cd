"""Rebuild the yearly outcome labels of a synthetic city from its accepted records."""

from __future__ import annotations

import polars as pl

from features.catalogue import add_months
from features.ids import IdentifierError, parse_org_code, parse_person_id

__all__ = ["outcome_events", "rebuild_labels", "subject_types"]

_SERIOUS_PENALTIES = ["fine_high", "licence_suspension", "licence_revocation"]


def subject_types(ids: pl.Series) -> pl.DataFrame:
    """subject_id -> 'person' or the organisation type read from the credit code."""
    out = []
    for value in ids.unique().to_list():
        try:
            parse_person_id(value)
            out.append((value, "person"))
        except IdentifierError:
            out.append((value, parse_org_code(value).subject_type))
    return pl.DataFrame(out, schema={"subject_id": pl.String, "subject_type": pl.String}, orient="row")


def outcome_events(rows: pl.DataFrame) -> pl.DataFrame:
    """Outcome-event rows of valid records (person and organisation rules): subject_id, day."""
    rows = rows.join(subject_types(rows["subject_id"]), on="subject_id", how="left")
    person_event = (
        (pl.col("kind") == "loan_repayment") & (pl.col("days_overdue").cast(pl.Float64) >= 90)
    ) | pl.col("kind").is_in(["enforcement_case", "judgment_defaulter"])
    org_event = (
        ((pl.col("kind") == "administrative_penalty") & pl.col("penalty_type").is_in(_SERIOUS_PENALTIES))
        | ((pl.col("kind") == "environmental_violation") & (pl.col("level") == "serious"))
        | (
            (pl.col("kind") == "safety_incident")
            & pl.col("level").is_in(["larger", "major", "extraordinary"])
        )
        | (pl.col("kind") == "abnormal_operation")
        | ((pl.col("kind") == "tax_credit_level") & (pl.col("level") == "D"))
    )
    return rows.filter(
        pl.when(pl.col("subject_type") == "person").then(person_event).otherwise(org_event)
    ).select("subject_id", pl.col("event_date").str.to_date().alias("day"))


def rebuild_labels(events: pl.DataFrame, truth: pl.DataFrame) -> pl.DataFrame:
    """truth joined with ``rebuilt``: 1 when an outcome event lies in (as_of, as_of + 12 months]."""
    as_ofs = truth["as_of"].unique().sort().to_list()
    parts = []
    for as_of in as_ofs:
        end = add_months(as_of, 12)
        hit = events.filter((pl.col("day") > as_of) & (pl.col("day") <= end))["subject_id"].unique()
        parts.append(
            pl.DataFrame({"subject_id": hit, "as_of": pl.repeat(as_of, len(hit), eager=True, dtype=pl.Date)})
        )
    flagged = pl.concat(parts).with_columns(pl.lit(1, dtype=pl.Int8).alias("rebuilt"))
    return truth.join(flagged, on=["subject_id", "as_of"], how="left").with_columns(
        pl.col("rebuilt").fill_null(0)
    )
