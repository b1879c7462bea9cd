"""Builders of small record, event, subject and link frames in the store's shape, for pipeline tests."""

from __future__ import annotations

import datetime as dt
import itertools
import json
from typing import Any

import polars as pl

from features.catalogue import add_months, load_catalogue
from features.pointintime import EVENT_COLUMNS, RECORD_COLUMNS

CATALOGUE = load_catalogue()
_uids = itertools.count(1)

LINK_SCHEMA = {
    "org_subject_id": pl.Int64,
    "person_subject_id": pl.Int64,
    "role": pl.String,
    "valid_from": pl.Date,
    "valid_to": pl.Date,
    "recorded_at": pl.Datetime("us"),
}
SUBJECT_SCHEMA = {"subject_id": pl.Int64, "subject_type": pl.String, "registered_on": pl.Date}


def rec(
    subject_id: int,
    kind: str,
    event_date: dt.date,
    *,
    uid: str | None = None,
    version: int = 1,
    outcome: str | None = None,
    amount: float | None = None,
    quantity: float | None = None,
    severity: str | None = None,
    publicity_end: dt.date | None = None,
    recorded_at: dt.datetime | None = None,
    payload: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """One record version. Defaults: the kind's severity, the publicity end the catalogue gives
    (capped by the severity for negative kinds), recorded at 09:00 the day after the event."""
    spec = CATALOGUE.kind(kind)
    sev = severity or spec.severity
    if publicity_end is None:
        months = spec.publicity_max_months
        if spec.polarity == "negative":
            months = min(months, int(CATALOGUE.severity_periods[sev]["max"]))
        publicity_end = add_months(event_date, months)
    return {
        "record_uid": uid or f"r{next(_uids):06d}",
        "version": version,
        "subject_id": subject_id,
        "kind": kind,
        "department": spec.departments[0],
        "event_date": event_date,
        "publicity_end": publicity_end,
        "severity": sev,
        "recorded_at": recorded_at or dt.datetime.combine(event_date + dt.timedelta(days=1), dt.time(9)),
        "amount": amount,
        "quantity": quantity,
        "outcome": outcome,
        "payload": json.dumps(payload or {}, separators=(",", ":"), sort_keys=True),
    }


def records(rows: list[dict[str, Any]]) -> pl.DataFrame:
    return (
        pl.DataFrame(rows, schema=RECORD_COLUMNS, orient="row")
        if rows
        else pl.DataFrame(schema=RECORD_COLUMNS)
    )


def event(
    uid: str,
    event_type: str,
    effective_date: dt.date,
    recorded_at: dt.datetime | None = None,
    subject_id: int = 0,
) -> dict[str, Any]:
    return {
        "record_uid": uid,
        "subject_id": subject_id,
        "event_type": event_type,
        "effective_date": effective_date,
        "recorded_at": recorded_at or dt.datetime.combine(effective_date, dt.time(12)),
    }


def events(rows: list[dict[str, Any]]) -> pl.DataFrame:
    return (
        pl.DataFrame(rows, schema=EVENT_COLUMNS, orient="row") if rows else pl.DataFrame(schema=EVENT_COLUMNS)
    )


def subjects(rows: list[tuple[int, str] | tuple[int, str, dt.date | None]]) -> pl.DataFrame:
    full = [(r[0], r[1], r[2] if len(r) > 2 else None) for r in rows]
    return pl.DataFrame(full, schema=SUBJECT_SCHEMA, orient="row")


def link(
    org: int,
    person: int,
    valid_from: dt.date,
    valid_to: dt.date | None = None,
    recorded_at: dt.datetime | None = None,
    role: str = "legal_representative",
) -> dict[str, Any]:
    return {
        "org_subject_id": org,
        "person_subject_id": person,
        "role": role,
        "valid_from": valid_from,
        "valid_to": valid_to,
        "recorded_at": recorded_at or dt.datetime.combine(valid_from, dt.time(8)),
    }


def links(rows: list[dict[str, Any]]) -> pl.DataFrame:
    return pl.DataFrame(rows, schema=LINK_SCHEMA, orient="row") if rows else pl.DataFrame(schema=LINK_SCHEMA)


def monthly(day: int, first: dt.date, last: dt.date) -> list[dt.date]:
    """The given day of every month from ``first``'s month to ``last``'s month."""
    out, d = [], first.replace(day=day)
    while d <= last:
        out.append(d)
        d = add_months(d, 1)
    return out
