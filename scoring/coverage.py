"""Coverage: the share of adult residents the score reaches, by district and age band, with the trend.

A person *is covered* by a snapshot when their row's state is ``scored`` (not ``insufficient_record``);
minors are not in the denominator (they are never scored). The source documents set a target
of 70 % of adult residents. Districts and ages come from the fairness-audit attributes kept on
the subject (``district_code``, ``birth_year``; age = as-of year − birth year). The figures are
computed from each published (or since superseded) person snapshot's batch rows, so the trend
shows how coverage moved from one publication to the next.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import polars as pl
from sqlalchemy import Engine, text

from models.fairness import age_band

__all__ = ["COVERAGE_TARGET", "Coverage", "coverage", "coverage_trend"]

COVERAGE_TARGET = 0.70


@dataclass(frozen=True)
class Coverage:
    snapshot_id: int
    as_of: dt.date
    adults: int
    scored: int
    by_district: pl.DataFrame  # district, adults, scored, share
    by_age_band: pl.DataFrame  # age_band, adults, scored, share
    target: float = COVERAGE_TARGET

    @property
    def share(self) -> float:
        return self.scored / self.adults if self.adults else 0.0

    @property
    def meets_target(self) -> bool:
        return self.share >= self.target


def _snapshots(engine: Engine) -> list[tuple[int, dt.date]]:
    sql = text(
        "SELECT id, as_of FROM score_snapshots WHERE subject_type = 'person'"
        " AND status IN ('published', 'superseded') ORDER BY id"
    )
    with engine.connect() as conn:
        rows = conn.execute(sql).all()
    return [(int(i), d if isinstance(d, dt.date) else dt.date.fromisoformat(str(d))) for i, d in rows]


def _share(frame: pl.DataFrame, by: str) -> pl.DataFrame:
    return (
        frame.group_by(by)
        .agg(pl.len().alias("adults"), (pl.col("state") == "scored").sum().alias("scored"))
        .with_columns((pl.col("scored") / pl.col("adults")).alias("share"))
        .sort(by)
    )


def coverage(engine: Engine, snapshot_id: int | None = None) -> Coverage:
    """Coverage of one person snapshot (default: the one in force)."""
    snaps = dict(_snapshots(engine))
    if snapshot_id is None:
        with engine.connect() as conn:
            current = conn.execute(
                text("SELECT snapshot_id FROM score_publications WHERE subject_type = 'person'")
            ).scalar()
        if current is None:
            raise LookupError("no person snapshot published")
        snapshot_id = int(current)
    if snapshot_id not in snaps:
        raise LookupError(f"no published person snapshot {snapshot_id}")
    as_of = snaps[snapshot_id]
    sql = text(
        "SELECT s.state, j.district_code, j.birth_year FROM scores s JOIN subjects j ON j.id = s.subject_id"
        " WHERE s.snapshot_id = :s AND s.origin = 'batch' AND s.state <> 'minor'"
    )
    with engine.connect() as conn:
        rows = conn.execute(sql, {"s": snapshot_id}).all()
    frame = pl.DataFrame(
        {
            "state": [r[0] for r in rows],
            "district": [r[1] or "(missing)" for r in rows],
            "birth_year": [r[2] for r in rows],
        },
        schema={"state": pl.Utf8, "district": pl.Utf8, "birth_year": pl.Float64},
    )
    ages = as_of.year - frame["birth_year"].to_numpy()
    frame = frame.with_columns(
        pl.Series("age_band", age_band(np.asarray(ages, dtype=np.float64)).astype(str))
    )
    return Coverage(
        snapshot_id,
        as_of,
        frame.height,
        int((frame["state"] == "scored").sum()),
        _share(frame, "district"),
        _share(frame, "age_band"),
    )


def coverage_trend(engine: Engine) -> list[Coverage]:
    """Coverage of every published or superseded person snapshot, oldest first."""
    return [coverage(engine, sid) for sid, _ in _snapshots(engine)]
