"""Lossless ingestion of department files into the append-only records store.

Errors (nothing of the file is stored when one is raised):

* ``IngestError``
  + ``UnsupportedFile``: the file's extension is not ``.csv``, ``.jsonl``/``.ndjson`` or ``.parquet``
  + ``UnreadableFile``: the file cannot be parsed at all: binary content, text that is neither
    UTF-8 nor GB18030 (or not the ``encoding`` given), an invalid JSON line, an unreadable
    Parquet file, or a header without the common columns

A row that fails a check is not an error: it is quarantined with a reason code.

``ingest_file`` stores one file as one batch in one transaction: subjects, records, quarantined
rows and the ``ingest_batches`` row with its counts are committed together or not at all. Every
row ends as exactly one of ``accepted`` (version 1 of a new record), ``duplicate`` (same record
and content as the latest stored version or an earlier row; nothing stored), ``correction``
(same record, new content, same department: version n+1 appended) or ``quarantined``, so
``rows_read = accepted + duplicate + correction + quarantined``. A file whose SHA-256 already has
a committed batch is not ingested again: its stored counts come back with
``already_ingested=True``.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import json
import logging
import queue
import threading
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl
import sqlalchemy as sa
from sqlalchemy import Engine

from features.catalogue import Catalogue
from features.fieldtypes import mask_id_numbers
from features.ids import parse_person_id
from features.validate import LINE, RecordValidator, ValidationResult
from scoring.db import ingest_repository as repo
from scoring.dedup import classify, with_identity
from scoring.identity import IdentityVault
from scoring.ingest_read import RawRows, ReadError, file_format, read_rows

__all__ = [
    "BatchResult",
    "IngestError",
    "Progress",
    "UnreadableFile",
    "UnsupportedFile",
    "discover_files",
    "ingest_file",
    "ingest_path",
]

logger = logging.getLogger(__name__)

# progress(phase, done, total); phases: "reading", "validating", "inserting", "done". Validation
# and inserting go step by step together: "inserting" counts rows of the file (total: rows read).
Progress = Callable[[str, int, int], None]


class IngestError(Exception):
    """A file that cannot be ingested at all."""


class UnsupportedFile(IngestError):
    """The file's format is not one ingestion reads."""


class UnreadableFile(IngestError):
    """The file cannot be parsed."""


@dataclass(frozen=True)
class BatchResult:
    batch_id: int
    source_name: str
    file_sha256: str
    file_format: str
    encoding: str | None
    rows_read: int
    accepted: int
    duplicate: int
    correction: int
    quarantined: int
    quarantine_by_reason: Mapping[str, int] = field(default_factory=dict)
    already_ingested: bool = False

    @property
    def reconciles(self) -> bool:
        return self.rows_read == self.accepted + self.duplicate + self.correction + self.quarantined


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def _stored(row: Mapping[str, Any], counts: Mapping[str, int]) -> BatchResult:
    return BatchResult(
        batch_id=int(row["id"]),
        source_name=str(row["source_name"]),
        file_sha256=str(row["file_sha256"]),
        file_format=str(row["file_format"]),
        encoding=row["encoding"],
        rows_read=int(row["rows_read"]),
        accepted=int(row["accepted"]),
        duplicate=int(row["duplicate"]),
        correction=int(row["correction"]),
        quarantined=int(row["quarantined"]),
        quarantine_by_reason=dict(sorted(counts.items())),
        already_ingested=True,
    )


def discover_files(path: str | Path) -> list[tuple[Path, str]]:
    """The files ingestion reads under ``path`` with their names relative to it, sorted."""
    p = Path(path)
    if p.is_file():
        return [(p, p.name)]
    found = [(f, f.relative_to(p).as_posix()) for f in p.rglob("*") if f.is_file() and file_format(f.name)]
    return sorted(found, key=lambda t: t[1])


def ingest_path(
    engine: Engine,
    path: str | Path,
    *,
    catalogue: Catalogue,
    vault: IdentityVault,
    now: dt.datetime | None = None,
    encoding: str | None = None,
    progress: Progress | None = None,
) -> list[BatchResult]:
    """Ingest a file, or every .csv/.jsonl/.parquet file below a folder in order of relative path.

    Each file is its own batch; an ``IngestError`` stops at that file (earlier ones stay stored).
    One validator (and its identifier cache) serves every file; dates are checked against ``now``
    or the start of the run.
    """
    validator = RecordValidator(catalogue, now=now or _utcnow(), person_key=vault.lookup_key)
    return [
        ingest_file(
            engine,
            f,
            catalogue=catalogue,
            vault=vault,
            now=now,
            encoding=encoding,
            progress=progress,
            source_name=name,
            validator=validator,
        )
        for f, name in discover_files(path)
    ]


def ingest_file(
    engine: Engine,
    path: str | Path,
    *,
    catalogue: Catalogue,
    vault: IdentityVault,
    now: dt.datetime | None = None,
    encoding: str | None = None,
    progress: Progress | None = None,
    source_name: str | None = None,
    validator: RecordValidator | None = None,
) -> BatchResult:
    """Ingest one file as one batch (one transaction).

    ``now`` (naive UTC) is the ingestion time: dates after it are quarantined and records are
    stamped with it (default: the current time). ``source_name`` names the batch (default: the
    file name). ``validator``: reuse one across files (``ingest_path`` does), with its own ``now``.
    """
    path = Path(path)
    report: Progress = progress or (lambda _phase, _done, _total: None)
    name = mask_id_numbers(source_name or path.name)[:300]
    fmt = file_format(path.name)
    if fmt is None:
        raise UnsupportedFile(f"{name}: not a .csv, .jsonl or .parquet file")
    data = path.read_bytes()
    sha = hashlib.sha256(data).hexdigest()
    with engine.connect() as conn:
        if (row := repo.find_batch(conn, sha)) is not None:
            return _stored(row, repo.quarantine_counts(conn, int(row["id"])))

    started = _utcnow()
    now = now or started
    report("reading", 0, 0)
    try:
        raw = read_rows(data, fmt, encoding=encoding)
    except ReadError as exc:
        raise UnreadableFile(f"{name}: {exc}") from None
    del data
    report("validating", 0, raw.rows_read)
    validator = validator or RecordValidator(catalogue, now=now, person_key=vault.lookup_key)
    # Validation and record identities of the next rows run in a thread while the current ones
    # are stored (polars, Arrow and the database release the GIL).
    with _Prepared(raw.frame, validator, vault, _STEP_ROWS) as prepared, engine.begin() as conn:
        repo.lock_ingestion(conn)
        if (row := repo.find_batch(conn, sha)) is not None:
            return _stored(row, repo.quarantine_counts(conn, int(row["id"])))
        depts = raw.frame["department"].drop_nulls().unique().to_list() if raw.frame.height else []
        batch_id = repo.insert_batch(
            conn,
            {
                "source_name": name,
                "file_sha256": sha,
                "file_format": raw.file_format,
                "encoding": raw.encoding[:16] if raw.encoding else None,
                "channel": "file",
                "department": mask_id_numbers(str(depts[0]).strip())[:48] if len(depts) == 1 else None,
                "rows_read": raw.rows_read,
                "accepted": 0,
                "duplicate": 0,
                "correction": 0,
                "quarantined": 0,
                "started_at": started,
                "finished_at": started,
            },
        )
        step = _Step(conn, batch_id, vault, now)
        total = raw.frame.height
        report("inserting", 0, total)
        invalid: list[pl.DataFrame] = []
        forbidden: tuple[str, ...] = ()
        before = 0  # rows of the earlier steps
        for result, rec in prepared:
            invalid.append(result.quarantine)
            forbidden = result.forbidden_columns
            step.store(rec, functools.partial(lambda b, d: report("inserting", b + d, total), before))
            before += rec.height + result.quarantine.height
        _register_organisations(conn, pl.concat(step.registrations), step.ids, now)
        quarantine = _quarantine_rows(raw, pl.concat(invalid), step.conflicts, forbidden, vault)
        for q in quarantine:
            q["batch_id"] = batch_id
        repo.insert_quarantine(conn, quarantine)
        by_reason: dict[str, int] = {}
        for q in quarantine:
            by_reason[q["reason_code"]] = by_reason.get(q["reason_code"], 0) + 1
        summary: dict[str, Any] = {
            "accepted": step.outcomes.get("accepted", 0),
            "duplicate": step.outcomes.get("duplicate", 0),
            "correction": step.outcomes.get("correction", 0),
            "quarantined": len(quarantine),
        }
        if sum(summary.values()) != raw.rows_read:  # pragma: no cover - a bug, never a data problem
            raise AssertionError(f"{name}: counts do not reconcile: {summary} vs {raw.rows_read} read")
        repo.finish_batch(conn, batch_id, {**summary, "finished_at": _utcnow()})
    report("done", total, total)
    logger.info("batch %s (%s): %s", batch_id, name, summary)
    return BatchResult(
        batch_id=batch_id,
        source_name=name,
        file_sha256=sha,
        file_format=raw.file_format,
        encoding=raw.encoding,
        rows_read=raw.rows_read,
        quarantine_by_reason=dict(sorted(by_reason.items())),
        **summary,
    )


# Rows validated and stored per step: the next step is validated while this one is stored.
_STEP_ROWS = 250_000
_END = object()


class _Prepared:
    """Validated rows with their record identities, ``step`` raw rows at a time in line order,
    computed by a thread one step ahead of the caller. Use as a context manager."""

    def __init__(self, frame: pl.DataFrame, validator: RecordValidator, vault: IdentityVault, step: int):
        self._frame, self._validator, self._vault, self._step = frame, validator, vault, step
        self._queue: queue.Queue[Any] = queue.Queue(maxsize=1)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="ingest-validate", daemon=True)

    def __enter__(self) -> _Prepared:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _put(self, item: Any) -> None:
        while not self._stop.is_set():
            try:
                self._queue.put(item, timeout=0.1)
                return
            except queue.Full:
                continue

    def _run(self) -> None:
        try:
            # The first step is smaller: storing starts sooner, and nothing overlaps it.
            start, size = 0, max(1, self._step // 5)
            while start < max(self._frame.height, 1) and not self._stop.is_set():
                result = self._validator.validate(self._frame.slice(start, size))
                self._put((result, with_identity(result.records, self._vault)))
                start, size = start + size, self._step
            self._put(_END)
        except BaseException as exc:  # handed to the caller, raised there
            self._put(exc)

    def __iter__(self) -> Iterator[tuple[ValidationResult, pl.DataFrame]]:
        while (item := self._queue.get()) is not _END:
            if isinstance(item, BaseException):
                raise item
            yield item


class _Step:
    """Stores a batch's valid rows step by step in its transaction. Each step is classified
    against the records stored before it (earlier steps included), so outcomes are those of the
    whole file in line order."""

    def __init__(self, conn: sa.Connection, batch_id: int, vault: IdentityVault, now: dt.datetime):
        self.conn, self.batch_id, self.vault, self.now = conn, batch_id, vault, now
        self.ids: dict[str, int] = {}  # subject_key -> subjects.id, every subject met so far
        self.created: set[str] = set()  # subject keys created by this batch
        self.stored_uids: list[pl.Series] = []  # record_uid of the rows earlier steps stored
        self.registrations: list[pl.DataFrame] = []
        self.conflicts: list[dict[str, Any]] = []
        self.outcomes: dict[str, int] = {}

    def store(self, rec: pl.DataFrame, progress: Callable[[int], None]) -> None:
        conn, now = self.conn, self.now
        keys = rec["subject_key"].unique()
        unseen = keys.filter(~keys.is_in(list(self.ids))).to_list()
        self.ids.update(repo.subject_ids(conn, unseen))
        # Stored versions can exist only for subjects that existed before the batch, or for
        # records an earlier step of this batch stored.
        before = [k for k in keys.to_list() if k in self.ids and k not in self.created]
        maybe = pl.col("subject_key").is_in(before)
        if self.stored_uids:
            maybe = maybe | pl.col("record_uid").is_in(pl.concat(self.stored_uids).implode())
        stored = repo.latest_versions(conn, rec.filter(maybe)["record_uid"].unique().to_list())
        rec, conflicts = classify(rec, stored)
        self.conflicts.extend(conflicts)
        outcomes = rec["_outcome"].value_counts()
        for outcome, n in zip(outcomes["_outcome"].to_list(), outcomes["count"].to_list(), strict=True):
            self.outcomes[outcome] = self.outcomes.get(outcome, 0) + n
        kept = rec.filter(pl.col("_outcome").is_in(["accepted", "correction"]))
        ids, created = _create_subjects(conn, kept, self.ids, self.vault, now)
        self.ids.update(ids)
        self.created.update(created)
        pks = pl.DataFrame(
            {"subject_key": list(self.ids), "subject_pk": list(self.ids.values())},
            schema={"subject_key": pl.Utf8, "subject_pk": pl.Int64},
        )
        records = kept.join(pks, on="subject_key", how="left")
        # records has no foreign keys (migration 0004): every subject is created above, in this
        # transaction, before any record names it.
        if records["subject_pk"].null_count():  # pragma: no cover - a bug, never a data problem
            raise AssertionError("records without a subject")
        repo.insert_frame(
            conn,
            repo.records,
            records.select(
                pl.col("record_uid"),
                pl.col("_version").alias("version"),
                pl.col("subject_pk").alias("subject_id"),
                "kind",
                "department",
                "event_date",
                "publicity_end",
                "severity",
                pl.lit(now).alias("recorded_at"),
                pl.lit(self.batch_id).alias("batch_id"),
                "content_hash",
                "amount",
                "quantity",
                "outcome",
                "payload",
            ),
            # In record_uid order: the unique index on it then fills page by page.
            order=records.select(pl.arg_sort_by("record_uid", "_version")).to_series(),
            progress=progress,
        )
        self.stored_uids.append(kept["record_uid"])
        self.registrations.append(kept.filter(pl.col("kind") == "org_registration"))


def _create_subjects(
    conn: sa.Connection,
    kept: pl.DataFrame,
    existing: dict[str, int],
    vault: IdentityVault,
    now: dt.datetime,
) -> tuple[dict[str, int], set[str]]:
    """Create the subjects of stored rows (and the persons their person_id fields name).

    Returns every subject id the rows need (``existing`` included) and the keys created."""
    cols = ["subject_key", "subject_id", "subject_type", "birth_date", "gender", "district_code"]
    firsts = (
        kept.select(cols)
        .filter(~pl.col("subject_key").is_in(list(existing)))
        .unique("subject_key", keep="first", maintain_order=True)
    )
    rows: list[dict[str, Any]] = []
    for r in firsts.iter_rows(named=True):
        person = r["subject_type"] == "person"
        birth = r["birth_date"]
        rows.append(
            {
                "subject_type": r["subject_type"],
                "subject_key": r["subject_key"],
                "id_cipher": vault.encrypt(r["subject_id"]) if person else None,
                "key_version": vault.key_version if person else None,
                "birth_year": birth.year if person and birth else None,
                "gender": r["gender"] if person else None,
                "district_code": r["district_code"],
                "created_at": now,
            }
        )
    new_keys = {r["subject_key"] for r in rows}
    numbers = sorted(kept["person_refs"].explode().drop_nulls().unique().to_list())
    ref_keys = {n: vault.lookup_key(n) for n in numbers}
    existing = {**existing, **repo.subject_ids(conn, [k for k in ref_keys.values() if k not in existing])}
    for number, key in ref_keys.items():
        if key in existing or key in new_keys:
            continue
        p = parse_person_id(number, today=now.date())
        new_keys.add(key)
        rows.append(
            {
                "subject_type": "person",
                "subject_key": key,
                "id_cipher": vault.encrypt(number),
                "key_version": vault.key_version,
                "birth_year": p.birth_year,
                "gender": p.gender,
                "district_code": p.district_code,
                "created_at": now,
            }
        )
    if not rows:
        return dict(existing), set()
    repo.insert_frame(conn, repo.subjects, pl.DataFrame(rows, infer_schema_length=None))
    return {**existing, **repo.subject_ids(conn, sorted(new_keys))}, new_keys


def _register_organisations(
    conn: sa.Connection, kept: pl.DataFrame, ids: dict[str, int], now: dt.datetime
) -> None:
    """org_registration rows set the organisation's public details and its legal representative."""
    regs = kept.filter(pl.col("kind") == "org_registration").sort("event_date", LINE)
    if regs.is_empty():
        return
    latest: dict[int, dict[str, Any]] = {}
    reps: list[tuple[int, int, dt.date]] = []
    for key, event_date, payload in regs.select("subject_key", "event_date", "payload").iter_rows():
        org_id = ids[key]
        p = json.loads(payload)
        latest[org_id] = {
            "id": org_id,
            "name": p.get("name"),
            "sector": p.get("sector"),
            "size": p.get("size"),
            "registered_on": dt.date.fromisoformat(p["registered_on"]) if p.get("registered_on") else None,
        }
        if p.get("legal_rep_id"):
            reps.append((org_id, ids[p["legal_rep_id"]], event_date))
    repo.update_organisations(conn, list(latest.values()))
    repo.legal_rep_links(conn, reps, now)


def _quarantine_rows(
    raw: RawRows,
    invalid: pl.DataFrame,
    conflicts: list[dict[str, Any]],
    forbidden: tuple[str, ...],
    vault: IdentityVault,
) -> list[dict[str, Any]]:
    """Quarantined rows with the raw row encrypted, forbidden columns removed first."""
    drop = {*forbidden, LINE}
    reasons = invalid.select(LINE, "reason_code", "message").to_dicts() + conflicts
    by_line = {r[LINE]: r for r in reasons}
    out: list[dict[str, Any]] = []
    if by_line:
        wanted = raw.frame.filter(pl.col(LINE).is_in(list(by_line)))
        for row in wanted.iter_rows(named=True):
            out.append(_quarantined(row, by_line[row[LINE]], drop, vault))
    for line, count, values in raw.ragged:
        width = len(values) - 1
        reason = {
            LINE: line,
            "reason_code": "unknown_column",
            "message": f"line has {count} values but the header has {width} columns",
        }
        out.append(_quarantined({**values, LINE: line}, reason, drop, vault))
    return sorted(out, key=lambda r: r["line_no"])


def _quarantined(
    row: Mapping[str, Any], reason: Mapping[str, Any], drop: set[str], vault: IdentityVault
) -> dict[str, Any]:
    clean = {k: v for k, v in row.items() if k not in drop and v is not None and k.strip() not in drop}
    kind, dept = row.get("kind"), row.get("department")
    return {
        "line_no": int(row[LINE]),
        "reason_code": reason["reason_code"],
        "message": reason["message"],
        "kind": mask_id_numbers(str(kind).strip())[:48] if kind else None,
        "department": mask_id_numbers(str(dept).strip())[:48] if dept else None,
        "raw_cipher": vault.encrypt(json.dumps(clean, ensure_ascii=False)),
    }
