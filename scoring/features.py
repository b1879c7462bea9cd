"""Service-side feature builds: read the store, run the point-in-time pipelines, write the tables.

``build_feature_tables`` computes every person's and organisation's features as of a date in
subject-id chunks (memory stays bounded) and writes one Parquet file per subject type, named and
tagged with the registry version. ``subject_features`` computes one subject's row with the same
pipelines from an indexed read of its own records (and its legal representative's).
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl
from sqlalchemy import Engine

from features.catalogue import Catalogue, load_catalogue
from features.pipelines import (
    ORG_TYPES,
    PAYLOAD_KINDS,
    RECORD_INPUT_COLUMNS,
    enterprise_features,
    person_features,
)
from features.pointintime import resolve_known_at
from features.registry import Registry, load_registry
from scoring.store import (
    ParquetSnapshot,
    read_events,
    read_links,
    read_records,
    read_subject,
    read_subjects,
    scan_snapshot,
    subject_id_range,
)

__all__ = [
    "FeatureBuild",
    "SubjectNotFound",
    "build_feature_tables",
    "feature_file_name",
    "read_feature_table",
    "subject_features",
]

logger = logging.getLogger(__name__)
SUBJECT_KINDS = ("person", "enterprise")


class SubjectNotFound(LookupError):
    """No subject with this id in the store."""


@dataclass(frozen=True)
class FeatureBuild:
    """What a build wrote: rows per subject type, files, and the versions that define them."""

    as_of: dt.date
    known_at: dt.datetime
    registry_version: str
    catalogue_version: str
    rows: dict[str, int] = field(default_factory=dict)
    paths: dict[str, Path] = field(default_factory=dict)
    seconds: float = 0.0


def feature_file_name(subject: str, as_of: dt.date, registry_version: str) -> str:
    """``person-features-2026-06-30-2026.11.1-<hash>.parquet`` (subject: person or enterprise)."""
    return f"{subject}-features-{as_of.isoformat()}-{registry_version}.parquet"


def _rep_role(registry: Registry) -> str:
    return str(registry.parameters["legal_representative_role"])


@dataclass(frozen=True)
class _Chunk:
    """What the pipelines need for the subjects with ``lo <= id < hi``."""

    subjects: pl.DataFrame
    records: pl.DataFrame
    events: pl.DataFrame
    links: pl.DataFrame


class _StoreSource:
    """Chunks read from the database (a range scan per chunk)."""

    def __init__(
        self, engine: Engine, as_of: dt.date, known_at: dt.datetime, role: str, streams: int
    ) -> None:
        self.engine, self.as_of, self.known_at, self.role, self.streams = (
            engine,
            as_of,
            known_at,
            role,
            streams,
        )

    def bounds(self) -> tuple[int, int] | None:
        return subject_id_range(self.engine)

    def chunk(self, lo: int, hi: int) -> _Chunk:
        subjects = read_subjects(self.engine, subject_range=(lo, hi))
        records = self._records(subject_range=(lo, hi), streams=self.streams)
        events = read_events(self.engine, known_at=self.known_at, subject_range=(lo, hi))
        org_ids = subjects.filter(pl.col("subject_type").is_in(ORG_TYPES))["subject_id"].to_list()
        links = read_links(self.engine, org_ids, known_at=self.known_at, roles=[self.role])
        outside = sorted(set(links["person_subject_id"].to_list()) - set(range(lo, hi)))
        if outside:  # legal representatives whose records are not in this chunk
            records = pl.concat([records, self._records(subject_ids=outside)])
            events = pl.concat([events, read_events(self.engine, outside, known_at=self.known_at)])
        return _Chunk(subjects, records, events, links)

    def _records(self, **where: Any) -> pl.DataFrame:
        return read_records(
            self.engine,
            known_at=self.known_at,
            payload=PAYLOAD_KINDS,
            columns=RECORD_INPUT_COLUMNS,
            in_force_on=self.as_of,
            **where,
        )


class _SnapshotSource:
    """Chunks read from a Parquet snapshot: one part (subject-id range) at a time."""

    def __init__(self, snapshot: ParquetSnapshot, known_at: dt.datetime, role: str) -> None:
        taken = snapshot.manifest.get("known_at")
        if taken is not None and known_at > dt.datetime.fromisoformat(taken):
            raise ValueError(f"the snapshot holds what was known at {taken}, not at {known_at.isoformat()}")
        self.snap, self.known_at, self.role = snapshot, known_at, role
        self.step = snapshot.subjects_per_part

    def bounds(self) -> tuple[int, int] | None:
        ids = pl.col("subject_id")
        lo, hi = self.snap.subjects.select(ids.min().alias("lo"), ids.max().alias("hi")).collect().row(0)
        if lo is None:
            return None
        # Chunks follow the parts: start at a part boundary.
        return (int(lo) // self.step) * self.step, int(hi) + 1

    def chunk(self, lo: int, hi: int) -> _Chunk:
        in_range = pl.col("subject_id").is_between(lo, hi, closed="left")
        subjects = self.snap.subjects.filter(in_range).collect()
        known = pl.col("recorded_at") <= self.known_at
        parts = range(lo // self.step, (hi - 1) // self.step + 1)
        records = pl.concat([self.snap.part_records(p).filter(known & in_range) for p in parts]).collect()
        events = self.snap.events.filter(known & in_range).collect()
        org_ids = subjects.filter(pl.col("subject_type").is_in(ORG_TYPES))["subject_id"].implode()
        links = self.snap.links.filter(
            pl.col("org_subject_id").is_in(org_ids) & (pl.col("role") == self.role) & known
        ).collect()
        outside = sorted(set(links["person_subject_id"].to_list()) - set(range(lo, hi)))
        if outside:
            ids = pl.Series(outside).implode()
            rep_parts = sorted({i // self.step for i in outside})
            extra = self.snap.records.filter(
                pl.col("part").is_in(rep_parts) & pl.col("subject_id").is_in(ids) & known
            )
            records = pl.concat([records, extra.drop("part").collect().select(records.columns)])
            events = pl.concat(
                [events, self.snap.events.filter(pl.col("subject_id").is_in(ids) & known).collect()]
            )
        return _Chunk(subjects, records, events, links)


def build_feature_tables(
    engine: Engine | None,
    as_of: dt.date,
    out_dir: str | Path,
    *,
    known_at: dt.datetime | None = None,
    subjects_per_chunk: int = 100_000,
    streams: int = 2,
    snapshot: str | Path | None = None,
    catalogue: Catalogue | None = None,
    registry: Registry | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> FeatureBuild:
    """Write the person and enterprise feature tables as of ``as_of`` (as known at ``known_at``).

    Files: ``out_dir/<subject>-features-<as_of>-<registry version>.parquet`` with key-value
    metadata ``registry_version``, ``catalogue_version``, ``as_of``, ``known_at``.
    ``progress(done_ids, total_ids)`` is called after each chunk. From the database (``engine``)
    each chunk is a range read (``streams`` parallel COPY streams on PostgreSQL); from a Parquet
    ``snapshot`` (``scoring.store.export_snapshot``) chunks follow the snapshot's parts, which
    spares the database a table scan per chunk.
    """
    started = time.perf_counter()
    cat = catalogue if catalogue is not None else load_catalogue()
    reg = registry if registry is not None else load_registry(catalogue=cat)
    known = resolve_known_at(as_of, known_at)
    source: _StoreSource | _SnapshotSource
    if snapshot is not None:
        source = _SnapshotSource(scan_snapshot(snapshot), known, _rep_role(reg))
        subjects_per_chunk = source.step
    elif engine is not None:
        source = _StoreSource(engine, as_of, known, _rep_role(reg), streams)
    else:
        raise ValueError("give an engine or a snapshot")
    frames: dict[str, list[pl.DataFrame]] = {s: [] for s in SUBJECT_KINDS}
    bounds = source.bounds()
    if bounds is not None:
        lo_all, hi_all = bounds
        for lo in range(lo_all, hi_all, subjects_per_chunk):
            hi = min(lo + subjects_per_chunk, hi_all)
            c = source.chunk(lo, hi)
            frames["person"].append(
                person_features(
                    c.records, c.events, c.subjects, as_of=as_of, known_at=known, catalogue=cat, registry=reg
                )
            )
            if c.subjects["subject_type"].is_in(ORG_TYPES).any():
                frames["enterprise"].append(
                    enterprise_features(
                        c.records,
                        c.events,
                        c.subjects,
                        c.links,
                        as_of=as_of,
                        known_at=known,
                        catalogue=cat,
                        registry=reg,
                    )
                )
            if progress is not None:
                progress(hi - lo_all, hi_all - lo_all)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    rows: dict[str, int] = {}
    paths: dict[str, Path] = {}
    for subject in SUBJECT_KINDS:
        table = pl.concat(frames[subject]) if frames[subject] else pl.DataFrame(schema=reg.schema(subject))
        path = out / feature_file_name(subject, as_of, reg.version)
        table.write_parquet(
            path,
            metadata={
                "registry_version": reg.version,
                "catalogue_version": cat.version,
                "subject": subject,
                "as_of": as_of.isoformat(),
                "known_at": known.isoformat(),
            },
        )
        rows[subject] = table.height
        paths[subject] = path
    elapsed = time.perf_counter() - started
    logger.info("features as of %s (registry %s): %s in %.1f s", as_of, reg.version, rows, elapsed)
    return FeatureBuild(as_of, known, reg.version, cat.version, rows, paths, elapsed)


def read_feature_table(path: str | Path) -> tuple[pl.DataFrame, dict[str, str]]:
    """A feature table and its metadata (registry version, as-of date, ...)."""
    meta = pl.read_parquet_metadata(path)
    keep = ("registry_version", "catalogue_version", "subject", "as_of", "known_at")
    return pl.read_parquet(path), {k: v for k, v in meta.items() if k in keep}


def subject_features(
    engine: Engine,
    subject_id: int,
    as_of: dt.date,
    *,
    known_at: dt.datetime | None = None,
    catalogue: Catalogue | None = None,
    registry: Registry | None = None,
) -> pl.DataFrame:
    """One subject's feature row as of ``as_of`` (same pipelines as the batch build), from one
    round trip of indexed reads (``read_subject``).

    Raises ``SubjectNotFound`` when the id is not in the store.
    """
    cat = catalogue if catalogue is not None else load_catalogue()
    reg = registry if registry is not None else load_registry(catalogue=cat)
    known = resolve_known_at(as_of, known_at)
    snap = read_subject(
        engine,
        subject_id,
        known_at=known,
        in_force_on=as_of,
        role=_rep_role(reg),
        payload=PAYLOAD_KINDS,
        columns=RECORD_INPUT_COLUMNS,
    )
    if snap.subjects.height == 0:
        raise SubjectNotFound(f"no subject {subject_id}")
    if snap.subjects["subject_type"][0] == "person":
        return person_features(
            snap.records, snap.events, snap.subjects, as_of=as_of, known_at=known, catalogue=cat, registry=reg
        )
    return enterprise_features(
        snap.records,
        snap.events,
        snap.subjects,
        snap.links,
        as_of=as_of,
        known_at=known,
        catalogue=cat,
        registry=reg,
    )
