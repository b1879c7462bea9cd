"""Published scores: snapshots, the score rows (history included) and the publication pointer.

A batch publication writes a ``score_snapshots`` row (status ``building``), then its ``scores``
rows, then — in one transaction — moves ``score_publications`` (one row per subject type) to
the new snapshot and marks it ``published`` and the previous one ``superseded``. Readers resolve
the pointer first, so they see the old snapshot or the new one, never a mix; a job killed midway
leaves a ``building`` snapshot nobody reads (the next run marks it ``failed``).

A rescore appends a ``scores`` row (origin ``rescore``) to the snapshot in force: a subject's
current score is its latest row in the published snapshot, and all its rows of published or
superseded snapshots are its history. Rows are never updated.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Date, DateTime, Float, Index, Integer, SmallInteger, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from scoring.db.tables import Base, BigId

__all__ = ["ScorePublication", "ScoreRow", "ScoreSnapshot"]


class ScoreSnapshot(Base):
    """One batch publication for one subject type (person or enterprise)."""

    __tablename__ = "score_snapshots"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    subject_type: Mapped[str] = mapped_column(String(16))  # person | enterprise
    as_of: Mapped[dt.date] = mapped_column(Date)
    known_at: Mapped[dt.datetime] = mapped_column(DateTime)
    model_name: Mapped[str | None] = mapped_column(String(64))
    model_version: Mapped[str | None] = mapped_column(String(16))
    registry_version: Mapped[str] = mapped_column(String(64))
    feature_names: Mapped[str] = mapped_column(Text)  # JSON list: the order of ``scores.features``
    status: Mapped[str] = mapped_column(String(12))  # building | published | superseded | failed
    rows: Mapped[int] = mapped_column(Integer, default=0)
    actor: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime)
    published_at: Mapped[dt.datetime | None] = mapped_column(DateTime)


class ScorePublication(Base):
    """The snapshot in force per subject type: the single pointer readers follow."""

    __tablename__ = "score_publications"

    subject_type: Mapped[str] = mapped_column(String(16), primary_key=True)
    snapshot_id: Mapped[int] = mapped_column(BigId)
    published_at: Mapped[dt.datetime] = mapped_column(DateTime)


class ScoreRow(Base):
    """A subject's score (or its state) with everything needed to explain and replay it."""

    __tablename__ = "scores"
    __table_args__ = (Index("ix_scores_subject_snapshot", "subject_id", "snapshot_id", "id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    snapshot_id: Mapped[int] = mapped_column(BigId, index=True)
    subject_id: Mapped[int] = mapped_column(BigId)
    subject_type: Mapped[str] = mapped_column(String(24))
    origin: Mapped[str] = mapped_column(String(8))  # batch | rescore
    cause: Mapped[str | None] = mapped_column(String(200))
    # scored | insufficient_record | minor (persons); scored | insufficient_record (organisations)
    state: Mapped[str] = mapped_column(String(20))
    pd: Mapped[float | None] = mapped_column(Float)
    score: Mapped[int | None] = mapped_column(SmallInteger)  # persons, 350-950
    grade: Mapped[str | None] = mapped_column(String(20))  # person tier code or enterprise class
    model_grade: Mapped[str | None] = mapped_column(String(4))  # enterprise class before listing caps
    downgrades: Mapped[str | None] = mapped_column(String(200))  # listings that capped the class
    flags: Mapped[str | None] = mapped_column(String(200))  # active listings, comma-separated
    as_of: Mapped[dt.date] = mapped_column(Date)
    known_at: Mapped[dt.datetime] = mapped_column(DateTime)
    model_version: Mapped[str | None] = mapped_column(String(16))
    registry_version: Mapped[str] = mapped_column(String(64))
    feature_hash: Mapped[str] = mapped_column(String(64))
    features: Mapped[str] = mapped_column(Text)  # canonical values, '|'-separated (see scoring.scores)
    feature_names: Mapped[str | None] = mapped_column(Text)  # JSON list when not the snapshot's
    contributions: Mapped[str | None] = mapped_column(Text)  # log-odds of default, '|'-separated, bias last
    reasons_lowering: Mapped[str | None] = mapped_column(Text)  # "feature:points,..." most lowering first
    reasons_raising: Mapped[str | None] = mapped_column(Text)
    scored_at: Mapped[dt.datetime] = mapped_column(DateTime)
