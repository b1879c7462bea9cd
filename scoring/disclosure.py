"""Public disclosure of administrative licences and penalties (双公示).

The kinds the catalogue marks ``disclosure: double_publicity`` (administrative licences and
penalties) are published on a public feed. The rules:

* only organisations: records about natural persons are never on the feed;
* a record is on the feed on day D when the point-in-time selection would use it on D as known
  at the end of D (``features.pointintime.usable_records``): recorded by then, ``event_date <= D
  < publicity_end``, not withdrawn, repaired or expired, not under an open dispute — so it leaves
  the feed when its publicity period ends or an event withdraws or repairs it;
* a record is published the day the department's submission is recorded (its first version);
  the decision (``event_date``) must be published within 7 days: ``on_time`` says whether it was.

``disclosure_feed(engine, D)`` returns the entries on D in the standard format and the entries
withdrawn on D (on the feed on D-1, not on D) with why. ``department_metrics`` measures each
department over a period: submission rate (submitted / decisions the department reports having
made, when given), compliance (rows accepted / rows sent, quarantined ones counted against) and
timeliness (published within 7 days / submitted).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import polars as pl
import sqlalchemy as sa
from sqlalchemy import Engine

from features.catalogue import Catalogue, load_catalogue
from features.pointintime import end_of_day, usable_records
from scoring.db.tables import IngestBatch, QuarantinedRow
from scoring.store import read_events, read_records

__all__ = [
    "DEADLINE_DAYS",
    "DISCLOSURE",
    "DepartmentMetrics",
    "Feed",
    "department_metrics",
    "disclosure_feed",
    "disclosure_kinds",
]

DISCLOSURE = "double_publicity"
DEADLINE_DAYS = 7
# The decision number and the decision's own words, per kind, in the standard format.
_NUMBER_FIELDS = ("doc_no", "licence_no")
_MATTER_FIELDS = ("matter", "licence_type", "penalty_type")


def disclosure_kinds(catalogue: Catalogue | None = None) -> list[str]:
    cat = catalogue or load_catalogue()
    return sorted(k for k, spec in cat.kinds.items() if spec.disclosure == DISCLOSURE)


@dataclass
class Feed:
    on: dt.date
    entries: list[dict[str, Any]] = field(default_factory=list)
    withdrawn: list[dict[str, Any]] = field(default_factory=list)


def _org_subjects(engine: Engine) -> dict[int, tuple[str, str | None, str]]:
    """Organisations: id -> (credit code, name, subject type)."""
    with engine.connect() as conn:
        rows = conn.execute(
            sa.text("SELECT id, subject_key, name, subject_type FROM subjects WHERE subject_type <> 'person'")
        ).all()
    return {int(r[0]): (str(r[1]), r[2], str(r[3])) for r in rows}


def _load(engine: Engine, known_at: dt.datetime, kinds: list[str]) -> tuple[pl.DataFrame, pl.DataFrame]:
    records = read_records(engine, kinds=kinds, known_at=known_at)
    if records.height == 0:
        return records, read_events(engine, [], known_at)
    events = read_events(engine, records["subject_id"].unique().to_list(), known_at)
    return records, events


def _entries(
    records: pl.DataFrame,
    events: pl.DataFrame,
    on: dt.date,
    orgs: Mapping[int, tuple[str, str | None, str]],
    catalogue: Catalogue,
) -> dict[str, dict[str, Any]]:
    known = end_of_day(on)
    mine = records.filter(pl.col("subject_id").is_in(list(orgs)) & (pl.col("recorded_at") <= known))
    if mine.height == 0:
        return {}
    first = mine.group_by("record_uid").agg(pl.col("recorded_at").min().alias("_first"))
    usable = usable_records(mine, events, as_of=on, known_at=known, catalogue=catalogue)
    usable = usable.join(first, on="record_uid", how="left")
    out: dict[str, dict[str, Any]] = {}
    for r in usable.sort(["event_date", "record_uid"]).iter_rows(named=True):
        spec = catalogue.kinds[r["kind"]]
        payload = json.loads(r["payload"] or "{}")
        code, name, stype = orgs[int(r["subject_id"])]
        published_on: dt.date = r["_first"].date()
        dept = catalogue.departments.get(r["department"], {})
        out[r["record_uid"]] = {
            "record_uid": r["record_uid"],
            "kind": r["kind"],
            "kind_zh": spec.zh,
            "kind_en": spec.en,
            "subject_name": name,
            "subject_code": code,
            "subject_type": stype,
            "decision_no": next((payload[f] for f in _NUMBER_FIELDS if payload.get(f)), None),
            "decision_date": r["event_date"].isoformat(),
            "matter": next((payload[f] for f in _MATTER_FIELDS if payload.get(f)), None),
            "amount": r["amount"],
            "valid_to": payload.get("valid_to"),
            "department": r["department"],
            "department_zh": dept.get("zh", r["department"]),
            "legal_basis": spec.legal_basis,
            "published_on": published_on.isoformat(),
            "publicity_end": r["publicity_end"].isoformat(),
            "on_time": (published_on - r["event_date"]).days <= DEADLINE_DAYS,
            "version": int(r["version"]),
        }
    return out


def _why_withdrawn(uid: str, entry: Mapping[str, Any], events: pl.DataFrame, on: dt.date) -> str:
    if dt.date.fromisoformat(str(entry["publicity_end"])) <= on:
        return "publicity_ended"
    mine = events.filter(
        (pl.col("record_uid") == uid)
        & (pl.col("effective_date") <= on)
        & (pl.col("recorded_at") <= end_of_day(on))
    ).sort(["effective_date", "recorded_at"])
    kinds = mine["event_type"].to_list()
    for reason in ("withdrawn", "repaired", "expired"):
        if reason in kinds:
            return "publicity_ended" if reason == "expired" else reason
    if kinds and kinds[-1] == "disputed":
        return "disputed"
    return "corrected"


def disclosure_feed(engine: Engine, on_date: dt.date, *, catalogue: Catalogue | None = None) -> Feed:
    """The public feed on ``on_date``: entries in force, and those withdrawn that day."""
    cat = catalogue or load_catalogue()
    kinds = disclosure_kinds(cat)
    orgs = _org_subjects(engine)
    records, events = _load(engine, end_of_day(on_date), kinds)
    today = _entries(records, events, on_date, orgs, cat)
    before = _entries(records, events, on_date - dt.timedelta(days=1), orgs, cat)
    withdrawn = [
        {**entry, "withdrawn_on": on_date.isoformat(), "reason": _why_withdrawn(uid, entry, events, on_date)}
        for uid, entry in before.items()
        if uid not in today
    ]
    return Feed(on=on_date, entries=list(today.values()), withdrawn=withdrawn)


@dataclass(frozen=True)
class DepartmentMetrics:
    department: str
    submitted: int  # decisions of the period submitted (organisations, first versions)
    on_time: int  # of those, published within 7 days of the decision
    quarantined: int  # rows of disclosure kinds the department sent in the period that were refused
    accepted: int  # rows of disclosure kinds the department sent in the period that were stored
    expected: int | None  # decisions the department reports having made in the period
    submission_rate: float | None
    compliance: float | None
    timeliness: float | None

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def _rate(num: int, den: int | None) -> float | None:
    return None if not den else round(num / den, 4)


def department_metrics(
    engine: Engine,
    start: dt.date,
    end: dt.date,
    *,
    expected: Mapping[str, int] | None = None,
    as_of: dt.datetime | None = None,
    catalogue: Catalogue | None = None,
) -> list[DepartmentMetrics]:
    """Per department, for decisions dated ``start <= event_date <= end`` (timeliness,
    submission) and rows sent between ``start`` and ``end`` (compliance), as known at ``as_of``
    (default: end of ``end`` + 7 days, when the last decision's deadline has passed)."""
    cat = catalogue or load_catalogue()
    kinds = disclosure_kinds(cat)
    known = as_of or end_of_day(end + dt.timedelta(days=DEADLINE_DAYS))
    orgs = _org_subjects(engine)
    records = read_records(engine, kinds=kinds, known_at=known, payload=False)
    firsts = (
        records.filter(pl.col("subject_id").is_in(list(orgs)))
        .sort(["record_uid", "version"])
        .group_by("record_uid")
        .agg(pl.col("department").first(), pl.col("event_date").first(), pl.col("recorded_at").first())
    )
    in_period = firsts.filter(pl.col("event_date").is_between(start, end))
    late = (pl.col("recorded_at").dt.date() - pl.col("event_date")).dt.total_days() > DEADLINE_DAYS
    per_dept = in_period.group_by("department").agg(
        pl.len().alias("submitted"), (~late).sum().alias("on_time")
    )
    sent_lo, sent_hi = dt.datetime.combine(start, dt.time.min), end_of_day(end)
    accepted = (
        records.filter(pl.col("version") == 1)
        .filter(pl.col("recorded_at").is_between(sent_lo, sent_hi))
        .group_by("department")
        .agg(pl.len().alias("accepted"))
    )
    with engine.connect() as conn:
        refused = conn.execute(
            sa.select(QuarantinedRow.department, sa.func.count())
            .join(IngestBatch, IngestBatch.id == QuarantinedRow.batch_id)
            .where(
                QuarantinedRow.kind.in_(kinds),
                IngestBatch.finished_at >= sent_lo,
                IngestBatch.finished_at <= sent_hi,
            )
            .group_by(QuarantinedRow.department)
        ).all()
    quarantined = {str(d): int(n) for d, n in refused if d is not None}
    sub = {r["department"]: r for r in per_dept.iter_rows(named=True)}
    acc = {r["department"]: int(r["accepted"]) for r in accepted.iter_rows(named=True)}
    exp = dict(expected or {})
    out = []
    for dept in sorted(set(sub) | set(acc) | set(quarantined) | set(exp)):
        submitted = int(sub[dept]["submitted"]) if dept in sub else 0
        on_time = int(sub[dept]["on_time"]) if dept in sub else 0
        a, q = acc.get(dept, 0), quarantined.get(dept, 0)
        e = exp.get(dept)
        out.append(
            DepartmentMetrics(
                department=dept,
                submitted=submitted,
                on_time=on_time,
                quarantined=q,
                accepted=a,
                expected=e,
                submission_rate=_rate(submitted, e),
                compliance=_rate(a, a + q),
                timeliness=_rate(on_time, submitted),
            )
        )
    return out
