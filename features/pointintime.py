"""Point-in-time selection of usable records: two timelines, one function for a batch or one subject.

Valid time is ``event_date`` / ``publicity_end`` / ``effective_date`` (when things are true in
the world); transaction time is ``recorded_at`` (when the store learnt them). A feature as of
the date D, as known at ``known_at``, only sees what the store held at ``known_at``:

1. record versions with ``recorded_at <= known_at``; per ``record_uid`` the highest version;
2. of those, records with ``event_date <= D < publicity_end``;
3. events with ``recorded_at <= known_at`` and ``effective_date <= D`` decide the status:
   ``withdrawn``, ``repaired`` or ``expired`` drop the record; a ``disputed`` event not followed
   (by effective date, then recording time) by ``dispute_upheld`` or ``dispute_rejected`` leaves
   the record under dispute, and a disputed record is not used against its subject: it is
   dropped unless its kind's polarity is positive. A rejection makes it usable again; an upheld
   objection ends the dispute (the department then corrects the record with a new version or
   withdraws it).

The default ``known_at`` is the end of D: what was known on D. Everything is polars over whole
columns; the single-subject path is the same code on one subject's rows.

* ``PointInTimeError`` (a ``ValueError``): a frame lacks a column, or holds an unknown event type.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from functools import lru_cache

import polars as pl

from features.catalogue import Catalogue, add_months, load_catalogue

__all__ = [
    "DISPUTE_CLOSE",
    "DISPUTE_OPEN",
    "DROP_EVENTS",
    "EVENT_COLUMNS",
    "EVENT_TYPES",
    "RECORD_COLUMNS",
    "PointInTimeError",
    "add_months",
    "check_event_types",
    "end_of_day",
    "latest_versions",
    "record_status",
    "resolve_known_at",
    "usable_lazy",
    "usable_records",
]

FrameLike = pl.DataFrame | pl.LazyFrame

# The columns of the records store that the selection reads (others pass through untouched).
RECORD_COLUMNS: dict[str, pl.DataType] = {
    "record_uid": pl.String(),
    "version": pl.Int64(),
    "subject_id": pl.Int64(),
    "kind": pl.String(),
    "department": pl.String(),
    "event_date": pl.Date(),
    "publicity_end": pl.Date(),
    "severity": pl.String(),
    "recorded_at": pl.Datetime("us"),
    "amount": pl.Float64(),
    "quantity": pl.Float64(),
    "outcome": pl.String(),
    "payload": pl.String(),
}
EVENT_COLUMNS: dict[str, pl.DataType] = {
    "record_uid": pl.String(),
    "subject_id": pl.Int64(),
    "event_type": pl.String(),
    "effective_date": pl.Date(),
    "recorded_at": pl.Datetime("us"),
}
DROP_EVENTS = ("withdrawn", "repaired", "expired")
DISPUTE_OPEN = "disputed"
DISPUTE_CLOSE = ("dispute_upheld", "dispute_rejected")
EVENT_TYPES = (*DROP_EVENTS, DISPUTE_OPEN, *DISPUTE_CLOSE)
_NEEDED_RECORD = ("record_uid", "version", "subject_id", "kind", "event_date", "publicity_end", "recorded_at")
_NEEDED_EVENT = ("record_uid", "event_type", "effective_date", "recorded_at")


class PointInTimeError(ValueError):
    """Input frames that the point-in-time selection cannot read."""


def end_of_day(day: dt.date) -> dt.datetime:
    """The last microsecond of ``day``: what was known on that day."""
    return dt.datetime.combine(day, dt.time.max)


def resolve_known_at(as_of: dt.date, known_at: dt.datetime | None) -> dt.datetime:
    if isinstance(as_of, dt.datetime) or not isinstance(as_of, dt.date):
        raise PointInTimeError(f"as_of must be a date, got {type(as_of).__name__}")
    if known_at is None:
        return end_of_day(as_of)
    if not isinstance(known_at, dt.datetime):
        raise PointInTimeError(f"known_at must be a datetime, got {type(known_at).__name__}")
    if known_at.tzinfo is not None:
        raise PointInTimeError("known_at must be naive UTC, like the store's timestamps")
    return known_at


def _lazy(frame: FrameLike) -> pl.LazyFrame:
    return frame.lazy() if isinstance(frame, pl.DataFrame) else frame


def _require(frame: pl.LazyFrame, needed: Iterable[str], what: str) -> None:
    names = frame.collect_schema().names()
    missing = [c for c in needed if c not in names]
    if missing:
        raise PointInTimeError(f"{what} frame lacks columns {missing}")


def _event_status(events: pl.LazyFrame, as_of: dt.date, known_at: dt.datetime) -> pl.LazyFrame:
    """Per record_uid: ``dropped`` (withdrawn, repaired or expired) and ``disputed`` (open dispute)."""
    visible = events.filter((pl.col("recorded_at") <= known_at) & (pl.col("effective_date") <= as_of)).select(
        "record_uid", "event_type", "effective_date", "recorded_at"
    )
    dropped = (
        visible.filter(pl.col("event_type").is_in(DROP_EVENTS))
        .select("record_uid")
        .unique()
        .with_columns(dropped=pl.lit(True))
    )
    # Order of dispute events: effective date, then recording time; on a full tie the decision
    # follows the objection. The record is under dispute when the last one is an objection.
    disputed = (
        visible.filter(pl.col("event_type").is_in([DISPUTE_OPEN, *DISPUTE_CLOSE]))
        .with_columns(_order=pl.when(pl.col("event_type") == DISPUTE_OPEN).then(0).otherwise(1))
        .group_by("record_uid")
        .agg(_last=pl.col("event_type").sort_by(["effective_date", "recorded_at", "_order"]).last())
        .filter(pl.col("_last") == DISPUTE_OPEN)
        .select("record_uid", disputed=pl.lit(True))
    )
    return dropped.join(disputed, on="record_uid", how="full", coalesce=True)


def check_event_types(events: pl.DataFrame) -> None:
    """Raise on event types that the selection does not know (a typo must not keep a record in use)."""
    if "event_type" not in events.columns:
        raise PointInTimeError("events frame lacks columns ['event_type']")
    types = events.get_column("event_type")
    # A few events (one subject): a Python set is cheaper than a polars ``unique``.
    seen = set(types.to_list() if types.len() < 1_000 else types.unique().to_list())
    unknown = sorted(t for t in seen - set(EVENT_TYPES) if t is not None)
    if unknown:
        raise PointInTimeError(f"unknown record event types {unknown}; known: {list(EVENT_TYPES)}")


def latest_versions(records: pl.LazyFrame, known_at: dt.datetime) -> pl.LazyFrame:
    """Per ``record_uid`` the highest version recorded by ``known_at``."""
    visible = records.filter(pl.col("recorded_at") <= known_at)
    corrected = (
        visible.filter(pl.col("version") > 1).group_by("record_uid").agg(_max_version=pl.col("version").max())
    )
    return (
        visible.join(corrected, on="record_uid", how="left")
        .filter(pl.col("_max_version").is_null() | (pl.col("version") == pl.col("_max_version")))
        .drop("_max_version")
    )


def _status_plan(
    records: pl.LazyFrame, events: pl.LazyFrame | None, as_of: dt.date, known_at: dt.datetime
) -> pl.LazyFrame:
    corrected = (
        records.filter((pl.col("recorded_at") <= known_at) & (pl.col("version") > 1))
        .group_by("record_uid")
        .agg(_max_version=pl.col("version").max())
    )
    if events is None:
        return corrected.with_columns(_dropped=pl.lit(None, pl.Boolean), _disputed=pl.lit(None, pl.Boolean))
    _require(events, _NEEDED_EVENT, "events")
    flags = _event_status(events, as_of, known_at).rename({"dropped": "_dropped", "disputed": "_disputed"})
    return corrected.join(flags, on="record_uid", how="full", coalesce=True)


def record_status(
    records: FrameLike,
    events: FrameLike | None,
    *,
    as_of: dt.date,
    known_at: dt.datetime,
) -> pl.DataFrame:
    """The few records whose use is not decided by their own row, per ``record_uid``.

    ``_max_version``: highest version known at ``known_at`` when above 1 (older versions are
    superseded); ``_dropped``: withdrawn, repaired or expired by D; ``_disputed``: under an open
    dispute on D. Small (corrections and events are rare).
    """
    return _status_plan(_lazy(records), None if events is None else _lazy(events), as_of, known_at).collect()


_SMALL_ROWS = 100_000  # in-memory inputs below this size (one subject) join the status directly


def usable_lazy(
    records: FrameLike,
    events: FrameLike | None,
    *,
    as_of: dt.date,
    known_at: dt.datetime | None = None,
    catalogue: Catalogue | None = None,
) -> pl.LazyFrame:
    """The lazy form of ``usable_records``, for pipelines that build on it in one query.

    Most rows are decided by their own columns (recorded by ``known_at``, in force on D). The few
    records with corrections or events (``record_status``) are found through a 64-bit hash of
    ``record_uid`` and then joined on the text itself, so a hash collision cannot change the
    result and no join runs over every row. Small in-memory inputs (one subject's rows) take a
    shorter route to the same result: a window maximum for versions, the events' verdicts as lists
    of uids (``_small_usable``); tests check both routes agree.
    """
    known = resolve_known_at(as_of, known_at)
    cat = catalogue if catalogue is not None else load_catalogue()
    recs = _lazy(records)
    _require(recs, _NEEDED_RECORD, "records")
    in_force = recs.filter(_in_force(as_of, known))
    no_versions = isinstance(records, pl.DataFrame) and (records.height == 0 or records["version"].max() == 1)
    no_events = events is None or (isinstance(events, pl.DataFrame) and events.height == 0)
    if no_versions and no_events:
        return in_force
    positive = tuple(k for k, spec in cat.kinds.items() if spec.polarity == "positive")
    if isinstance(records, pl.DataFrame) and records.height < _SMALL_ROWS:
        ev = (
            None
            if no_events or events is None
            else events
            if isinstance(events, pl.DataFrame)
            else events.collect()
        )
        return _small_usable(recs, ev, no_versions, as_of, known, positive)
    keep = _keep(positive)
    helper = ["_max_version", "_dropped", "_disputed"]
    status = record_status(records, events, as_of=as_of, known_at=known)
    if status.height == 0:
        return in_force
    # Candidates: rows whose uid hash is a status record's (a superset: collisions only add
    # candidates). Only they are joined, on the text itself, so the join stays small.
    hashes = status.select(pl.col("record_uid").hash(_HASH_SEED)).to_series().implode()
    candidate = pl.col("record_uid").hash(_HASH_SEED).is_in(hashes)
    rest = in_force.filter(~candidate)
    decided = (
        in_force.filter(candidate).join(status.lazy(), on="record_uid", how="left").filter(keep).drop(helper)
    )
    return pl.concat([rest, decided])


def _small_usable(
    recs: pl.LazyFrame,
    events: pl.DataFrame | None,
    no_versions: bool,
    as_of: dt.date,
    known: dt.datetime,
    positive: tuple[str, ...],
) -> pl.LazyFrame:
    """The same rules for a few hundred rows (one subject), in the fewest polars operations:
    the latest known version by a window maximum, the events' verdicts as lists of uids
    (decided in Python: one subject has a handful of events, and building polars plans for them
    costs more than the rows), and filters from expressions built once per (D, known_at)."""
    rules = _small_rules(as_of, known)
    plan = recs.filter(rules[0] if no_versions else rules[1])
    if events is None:
        return plan
    if missing := [c for c in _NEEDED_EVENT if c not in events.columns]:
        raise PointInTimeError(f"events frame lacks columns {missing}")
    dropped, open_disputes = _event_verdicts(events, as_of, known)
    uid = pl.col("record_uid")
    if dropped:
        plan = plan.filter(~uid.is_in(pl.Series(dropped, dtype=pl.String).implode()))
    if open_disputes:
        plan = plan.filter(
            ~uid.is_in(pl.Series(open_disputes, dtype=pl.String).implode()) | _positive_kind(positive)
        )
    return plan


def _event_verdicts(events: pl.DataFrame, as_of: dt.date, known: dt.datetime) -> tuple[list[str], list[str]]:
    """The uids dropped (withdrawn, repaired, expired) and under an open dispute on ``as_of``, as
    known at ``known``, from a few events. Dispute events are ordered by effective date, then
    recording time, a decision after an objection on a full tie; the last one decides."""
    dropped: set[str] = set()
    disputes: list[tuple[dt.date, dt.datetime, int, str, str]] = []
    columns = [events.get_column(c).to_list() for c in _NEEDED_EVENT]
    for uid, event_type, effective, recorded in zip(*columns, strict=True):
        if uid is None or effective is None or recorded is None or recorded > known or effective > as_of:
            continue
        if event_type in DROP_EVENTS:
            dropped.add(uid)
        elif event_type == DISPUTE_OPEN or event_type in DISPUTE_CLOSE:
            disputes.append((effective, recorded, 0 if event_type == DISPUTE_OPEN else 1, uid, event_type))
    last: dict[str, str] = {}
    for _, _, _, uid, event_type in sorted(disputes, key=lambda d: d[:3]):
        last[uid] = event_type
    return sorted(dropped), sorted(uid for uid, event_type in last.items() if event_type == DISPUTE_OPEN)


@lru_cache(maxsize=64)
def _small_rules(as_of: dt.date, known: dt.datetime) -> tuple[pl.Expr, pl.Expr]:
    """Row filters of the small route: recorded by ``known`` and in force on ``as_of``; the same
    keeping only the latest version known (the window maximum runs on the rows recorded by then)."""
    recorded = pl.col("recorded_at") <= known
    in_force = (pl.col("event_date") <= as_of) & (pl.col("publicity_end") > as_of)
    latest = pl.col("version") == pl.col("version").filter(recorded).max().over("record_uid")
    return recorded & in_force, recorded & latest & in_force


@lru_cache(maxsize=8)
def _positive_kind(positive: tuple[str, ...]) -> pl.Expr:
    return pl.col("kind").cast(pl.String).is_in(list(positive))


@lru_cache(maxsize=8)
def _keep(positive: tuple[str, ...]) -> pl.Expr:
    """A row of a status record stays when it is the latest version and not dropped or disputed
    (a disputed record of a positive kind stays)."""
    superseded = pl.col("_max_version").is_not_null() & (pl.col("version") != pl.col("_max_version"))
    not_used = pl.col("_dropped").fill_null(False) | (
        pl.col("_disputed").fill_null(False) & ~pl.col("kind").cast(pl.String).is_in(list(positive))
    )
    return ~(superseded | not_used)


_HASH_SEED = 20261125


@lru_cache(maxsize=64)
def _in_force(as_of: dt.date, known_at: dt.datetime) -> pl.Expr:
    """Recorded by ``known_at`` and in force on ``as_of`` (built once per pair)."""
    return (
        (pl.col("recorded_at") <= known_at)
        & (pl.col("event_date") <= as_of)
        & (pl.col("publicity_end") > as_of)
    )


def usable_records(
    records: FrameLike,
    events: FrameLike | None,
    *,
    as_of: dt.date,
    known_at: dt.datetime | None = None,
    catalogue: Catalogue | None = None,
) -> pl.DataFrame:
    """Records usable on ``as_of`` as known at ``known_at`` (default: the end of ``as_of``).

    ``records`` has the records store's columns (at least ``record_uid, version, subject_id,
    kind, event_date, publicity_end, recorded_at``; others pass through); ``events`` the record
    events' (``record_uid, event_type, effective_date, recorded_at``) or ``None``. Works on any
    number of subjects at once; the result keeps the input's columns.
    """
    if events is not None:
        check_event_types(_lazy(events).select("event_type").collect())
    return usable_lazy(records, events, as_of=as_of, known_at=known_at, catalogue=catalogue).collect()
