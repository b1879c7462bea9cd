"""Tables of tiered supervision and of the subject's rights (revision 0009).

* ``inspectors`` and ``inspector_exclusions``: who may inspect, for which department and sectors,
  and the enterprises each must never be sent to (declared links: former employer, relatives,
  shareholdings, earlier cases). Links recorded in ``subject_links`` (an inspector who is, say, an
  enterprise's legal representative) are conflicts too.
* ``inspection_plans``: a published random inspection plan (双随机、一公开) with everything needed
  to recompute it: seed, ratios, and the population, roster and conflicts it was drawn from
  (gzip-compressed CSV), the selection drawn, and their SHA-256 digests.
  ``inspection_results``: results as they come back (each is also an ``inspection_result`` record).
* ``objections`` (异议), ``repair_applications`` (信用修复) and ``score_reviews`` (申诉和复核):
  one row per case, updated as it moves on (status, who decided, when, why), with its deadlines.
  Every step is also an audit-log entry; status changes of records are ``record_events``.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from scoring.db.tables import Base, BigId

__all__ = [
    "InspectionPlan",
    "InspectionResult",
    "Inspector",
    "InspectorExclusion",
    "Objection",
    "RepairApplication",
    "ScoreReview",
]


class Inspector(Base):
    """A law-enforcement officer who may be drawn for inspections (执法检查人员名录库)."""

    __tablename__ = "inspectors"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)  # enforcement certificate number
    name: Mapped[str] = mapped_column(String(100))
    department: Mapped[str] = mapped_column(String(48))
    sectors: Mapped[str] = mapped_column(String(400))  # comma-separated sector codes, or *
    person_key: Mapped[str | None] = mapped_column(String(64))  # the officer's subject_key, if a subject
    active: Mapped[bool] = mapped_column(Boolean)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime)


class InspectorExclusion(Base):
    """An enterprise an inspector must never inspect, while the link holds."""

    __tablename__ = "inspector_exclusions"
    __table_args__ = (Index("ix_inspector_exclusions_inspector_org", "inspector_id", "org_code"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    inspector_id: Mapped[int] = mapped_column(ForeignKey("inspectors.id"))
    org_code: Mapped[str] = mapped_column(String(18), index=True)
    relation: Mapped[str] = mapped_column(
        String(32)
    )  # employment | family | shareholding | prior_case | declared
    note: Mapped[str | None] = mapped_column(Text)
    valid_from: Mapped[dt.date] = mapped_column(Date)
    valid_to: Mapped[dt.date | None] = mapped_column(Date)
    recorded_at: Mapped[dt.datetime] = mapped_column(DateTime)
    recorded_by: Mapped[str] = mapped_column(String(128))


class InspectionPlan(Base):
    """A published random inspection plan and the inputs that recompute it."""

    __tablename__ = "inspection_plans"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    plan_no: Mapped[str] = mapped_column(String(64), unique=True)
    department: Mapped[str] = mapped_column(String(48))
    sector: Mapped[str] = mapped_column(String(40))
    period: Mapped[str] = mapped_column(String(16))
    plan_date: Mapped[dt.date] = mapped_column(Date)
    algorithm: Mapped[str] = mapped_column(String(32))
    seed: Mapped[str] = mapped_column(String(128))
    seed_source: Mapped[str | None] = mapped_column(String(200))
    ratios: Mapped[str] = mapped_column(Text)  # JSON {class: "0.05"}
    inspectors_per_check: Mapped[int] = mapped_column(SmallInteger)
    snapshot_id: Mapped[int | None] = mapped_column(BigId)
    max_score_id: Mapped[int | None] = mapped_column(BigId)  # score rows read: id <= this
    population: Mapped[bytes] = mapped_column(LargeBinary)  # gzip CSV code,class (sorted by code)
    roster: Mapped[bytes] = mapped_column(LargeBinary)  # gzip CSV inspector code (sorted)
    conflicts: Mapped[bytes] = mapped_column(LargeBinary)  # gzip CSV org code,inspector code
    selection: Mapped[bytes] = mapped_column(LargeBinary)  # gzip CSV position,code,class,inspectors
    population_digest: Mapped[str] = mapped_column(String(64))
    roster_digest: Mapped[str] = mapped_column(String(64))
    conflicts_digest: Mapped[str] = mapped_column(String(64))
    selection_digest: Mapped[str] = mapped_column(String(64))
    counts: Mapped[str] = mapped_column(Text)  # JSON {class: [population, drawn]}
    created_by: Mapped[str] = mapped_column(String(128))
    published_at: Mapped[dt.datetime] = mapped_column(DateTime)


class InspectionResult(Base):
    """The result of one drawn inspection, as reported back (also an ``inspection_result`` record)."""

    __tablename__ = "inspection_results"
    __table_args__ = (UniqueConstraint("plan_id", "org_code"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("inspection_plans.id"))
    org_code: Mapped[str] = mapped_column(String(18))
    result: Mapped[str] = mapped_column(String(20))
    inspected_on: Mapped[dt.date] = mapped_column(Date)
    record_uid: Mapped[str | None] = mapped_column(String(32))
    reported_by: Mapped[str] = mapped_column(String(128))
    recorded_at: Mapped[dt.datetime] = mapped_column(DateTime)


class Objection(Base):
    """A subject's objection to a record (异议): marked disputed, then upheld or rejected."""

    __tablename__ = "objections"
    __table_args__ = (Index("ix_objections_subject", "subject_id", "id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    subject_id: Mapped[int] = mapped_column(ForeignKey("subjects.id"))
    record_uid: Mapped[str] = mapped_column(String(32), index=True)
    record_version: Mapped[int] = mapped_column(SmallInteger)
    department: Mapped[str] = mapped_column(String(48))  # the record's department decides
    reason: Mapped[str] = mapped_column(Text)
    evidence: Mapped[str | None] = mapped_column(Text)
    filed_by: Mapped[str] = mapped_column(String(128))
    filed_at: Mapped[dt.datetime] = mapped_column(DateTime)
    mark_due: Mapped[dt.date] = mapped_column(Date)
    decide_due: Mapped[dt.date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(16))  # filed | disputed | upheld | rejected
    marked_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    decided_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    decided_by: Mapped[str | None] = mapped_column(String(128))
    action: Mapped[str | None] = mapped_column(String(16))  # upheld: withdrawn | corrected
    decision_reason: Mapped[str | None] = mapped_column(Text)
    score_before_id: Mapped[int | None] = mapped_column(BigId)
    score_after_id: Mapped[int | None] = mapped_column(BigId)


class RepairApplication(Base):
    """An application for credit repair (信用修复) of one record."""

    __tablename__ = "repair_applications"
    __table_args__ = (Index("ix_repair_applications_subject", "subject_id", "id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    subject_id: Mapped[int] = mapped_column(ForeignKey("subjects.id"))
    record_uid: Mapped[str] = mapped_column(String(32), index=True)
    kind: Mapped[str] = mapped_column(String(48))
    severity: Mapped[str] = mapped_column(String(8))
    department: Mapped[str] = mapped_column(String(48))
    proof: Mapped[str] = mapped_column(Text)  # proof that the conduct was corrected and duties fulfilled
    commitment: Mapped[str] = mapped_column(Text)  # the credit commitment (信用承诺)
    applied_by: Mapped[str] = mapped_column(String(128))
    applied_at: Mapped[dt.datetime] = mapped_column(DateTime)
    eligible_from: Mapped[dt.date] = mapped_column(Date)
    accept_due: Mapped[dt.date] = mapped_column(Date)
    # applied | accepted | not_accepted | repaired | rejected
    status: Mapped[str] = mapped_column(String(16))
    accepted_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    accept_by: Mapped[str | None] = mapped_column(String(128))
    accept_reason: Mapped[str | None] = mapped_column(Text)
    complex: Mapped[bool] = mapped_column(Boolean, default=False)
    result_due: Mapped[dt.date | None] = mapped_column(Date)
    decided_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    decided_by: Mapped[str | None] = mapped_column(String(128))
    decision_reason: Mapped[str | None] = mapped_column(Text)
    false_materials: Mapped[bool] = mapped_column(Boolean, default=False)
    score_before_id: Mapped[int | None] = mapped_column(BigId)
    score_after_id: Mapped[int | None] = mapped_column(BigId)


class ScoreReview(Base):
    """A request that a person review a score (申诉和复核), and the reviewer's outcome.

    The reviewed score row is never changed: a correction fixes the record(s) behind it and
    rescores, so the corrected score is a new ``scores`` row (``new_score_id``) and the original
    still replays.
    """

    __tablename__ = "score_reviews"
    __table_args__ = (Index("ix_score_reviews_subject", "subject_id", "id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    subject_id: Mapped[int] = mapped_column(ForeignKey("subjects.id"))
    score_id: Mapped[int] = mapped_column(BigId)
    reason: Mapped[str] = mapped_column(Text)
    requested_by: Mapped[str] = mapped_column(String(128))
    requested_at: Mapped[dt.datetime] = mapped_column(DateTime)
    due: Mapped[dt.date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(16))  # requested | confirmed | corrected
    reviewer: Mapped[str | None] = mapped_column(String(128))
    decided_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    decision_reason: Mapped[str | None] = mapped_column(Text)
    fixed_records: Mapped[str | None] = mapped_column(Text)  # JSON list of record uids withdrawn
    new_score_id: Mapped[int | None] = mapped_column(BigId)
    score_before: Mapped[int | None] = mapped_column(Integer)
    score_after: Mapped[int | None] = mapped_column(Integer)
    grade_before: Mapped[str | None] = mapped_column(String(20))
    grade_after: Mapped[str | None] = mapped_column(String(20))
