"""Training labels: the adverse outcome in the 12 months after the as-of date D (training only).

The outcome window holds the records with ``D < event_date <= add_months(D, 12)``, as known at
the end of that window: the latest version of each record recorded by then, without the records
withdrawn by then (a withdrawal means the record was wrong). Publicity periods, repairs and
disputes do not matter here: they limit how a record may be *used*, not whether the event
happened. A subject's label is 1 when the window holds any of:

* persons: a ``loan_repayment`` with ``quantity`` (days overdue) >= 90, an ``enforcement_case``,
  a ``judgment_defaulter`` listing;
* organisations: an ``administrative_penalty``, ``environmental_violation`` or
  ``safety_incident`` of ``serious`` severity (the record's ``severity``), an
  ``abnormal_operation`` listing, a ``tax_credit_level`` with outcome ``D``.

The synthetic city generator uses exactly this definition.
"""

from __future__ import annotations

import datetime as dt

import polars as pl

from features.catalogue import Catalogue, add_months, load_catalogue
from features.pipelines._common import ORG_TYPES, as_lazy, subjects_of
from features.pointintime import FrameLike, check_event_types, end_of_day, latest_versions

__all__ = ["LABEL_WINDOW_MONTHS", "build_labels", "label_window", "org_adverse", "person_adverse"]

LABEL_WINDOW_MONTHS = 12
SERIOUS_ORG_KINDS = ("administrative_penalty", "environmental_violation", "safety_incident")


def label_window(as_of: dt.date) -> tuple[dt.date, dt.date, dt.datetime]:
    """(exclusive start D, inclusive end D + 12 months, known_at = end of the window's last day)."""
    end = add_months(as_of, LABEL_WINDOW_MONTHS)
    return as_of, end, end_of_day(end)


def person_adverse() -> pl.Expr:
    kind = pl.col("kind")
    return (
        ((kind == "loan_repayment") & (pl.col("quantity").fill_null(0) >= 90))
        | (kind == "enforcement_case")
        | (kind == "judgment_defaulter")
    )


def org_adverse() -> pl.Expr:
    kind = pl.col("kind")
    return (
        (kind.is_in(SERIOUS_ORG_KINDS) & (pl.col("severity") == "serious"))
        | (kind == "abnormal_operation")
        | ((kind == "tax_credit_level") & (pl.col("outcome") == "D"))
    )


def build_labels(
    records: FrameLike,
    events: FrameLike | None,
    subjects: FrameLike,
    as_of: dt.date,
    catalogue: Catalogue | None = None,
    known_at: dt.datetime | None = None,
) -> pl.DataFrame:
    """``subject_id, label`` (0/1) for every person and organisation in ``subjects``, sorted.

    ``known_at`` defaults to the end of the label window; a store back-filled later (records
    recorded after the window, as a synthetic city or a migration is) needs a later one.
    """
    catalogue = catalogue if catalogue is not None else load_catalogue()
    start, end, window_known = label_window(as_of)
    known_at = known_at or window_known
    latest = latest_versions(as_lazy(records), known_at).filter(
        (pl.col("event_date") > start) & (pl.col("event_date") <= end)
    )
    if events is not None:
        ev = as_lazy(events).select("record_uid", "event_type", "effective_date", "recorded_at").collect()
        check_event_types(ev)
        withdrawn = ev.lazy().filter(
            (pl.col("event_type") == "withdrawn") & (pl.col("recorded_at") <= known_at)
        )
        latest = latest.join(withdrawn.select("record_uid").unique(), on="record_uid", how="anti")
    kind_type = pl.Enum(list(catalogue.kinds))
    latest = latest.with_columns(pl.col("kind").cast(kind_type))
    bad_person = latest.filter(person_adverse()).select("subject_id").unique()
    bad_org = latest.filter(org_adverse()).select("subject_id").unique()
    people = subjects_of(subjects, ("person",))
    orgs = subjects_of(subjects, ORG_TYPES)

    def flagged(who: pl.LazyFrame, bad: pl.LazyFrame) -> pl.LazyFrame:
        hit = bad.select(pl.col("subject_id").cast(pl.Int64), label=pl.lit(1, pl.Int64))
        return who.join(hit, on="subject_id", how="left").with_columns(pl.col("label").fill_null(0))

    out = pl.concat([flagged(people, bad_person), flagged(orgs, bad_org)])
    return out.sort("subject_id").collect()
