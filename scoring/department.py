"""What a department pushes over the API: a batch of records, checked to be its own, then
ingested exactly as ``credit ingest`` does (``scoring.ingest.ingest_file``: validation,
quarantine, reconciliation, idempotency by content hash).

Every row must name the sending department in its ``department`` column: a push with rows of
another department (or none) is refused as a whole. A row of a kind the department does not
report (catalogue ``department`` of the kind) is quarantined by validation with reason
``department_not_allowed``.

* ``PushRefused`` (a ``ValueError``): the push is not ingested; ``code`` says why, ``lines``
  where (the first few).
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import polars as pl
import sqlalchemy as sa
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from features.catalogue import Catalogue
from features.fieldtypes import mask_id_numbers
from features.validate import LINE
from scoring.db.tables import IngestBatch, QuarantinedRow
from scoring.identity import IdentityVault
from scoring.ingest import BatchResult, IngestError, ingest_file
from scoring.ingest_read import ReadError, file_format, read_rows

__all__ = [
    "PushRefused",
    "batch_of",
    "department_batches",
    "department_kinds",
    "push_batch",
    "quarantine_of",
    "records_to_jsonl",
]

_SHOW_LINES = 20


class PushRefused(ValueError):
    def __init__(self, code: str, message: str, lines: Sequence[int] = ()) -> None:
        super().__init__(message)
        self.code = code
        self.lines = list(lines)[:_SHOW_LINES]


def department_kinds(catalogue: Catalogue, department: str) -> list[str]:
    return sorted(code for code, kind in catalogue.kinds.items() if department in kind.departments)


def records_to_jsonl(records: Sequence[Mapping[str, Any]], department: str) -> bytes:
    """JSON Lines of the records (keys sorted, so the same records give the same bytes), each
    naming ``department`` where it names none."""
    lines = []
    for rec in records:
        row = dict(rec)
        if row.get("department") in (None, ""):
            row["department"] = department
        lines.append(json.dumps(row, sort_keys=True, ensure_ascii=False, separators=(",", ":")))
    return ("\n".join(lines) + "\n").encode()


def push_batch(
    engine: Engine,
    data: bytes,
    filename: str,
    *,
    department: str,
    catalogue: Catalogue,
    vault: IdentityVault,
) -> BatchResult:
    """Check and ingest one pushed file (CSV, JSON Lines or Parquet by ``filename``'s extension)."""
    fmt = file_format(filename)
    if fmt is None:
        raise PushRefused("unsupported-file", "the file name must end in .csv, .jsonl, .ndjson or .parquet")
    try:
        raw = read_rows(data, fmt)
    except ReadError as exc:
        raise PushRefused("unreadable-file", mask_id_numbers(str(exc))) from None
    if raw.rows_read == 0:
        raise PushRefused("empty-batch", "the batch has no rows")
    dept = pl.col("department").str.strip_chars()
    foreign = raw.frame.filter(dept.is_null() | (dept != department))
    if foreign.height:
        raise PushRefused(
            "foreign-department",
            f"{foreign.height} rows do not name the sending department {department!r}",
            foreign[LINE].to_list(),
        )
    suffix = Path(filename).suffix.lower()
    with tempfile.TemporaryDirectory(prefix="push-") as tmp:
        path = Path(tmp) / f"batch{suffix}"
        path.write_bytes(data)
        try:
            return ingest_file(
                engine,
                path,
                catalogue=catalogue,
                vault=vault,
                source_name=f"api/{department}/{Path(filename).name}",
            )
        except IngestError as exc:
            raise PushRefused("unreadable-file", str(exc)) from None


def batch_of(session: Session, batch_id: int, department: str) -> IngestBatch | None:
    """The batch, if it is this department's."""
    batch = session.get(IngestBatch, batch_id)
    return batch if batch is not None and batch.department == department else None


def department_batches(session: Session, department: str, limit: int = 100) -> list[IngestBatch]:
    stmt = (
        sa.select(IngestBatch)
        .where(IngestBatch.department == department)
        .order_by(IngestBatch.id.desc())
        .limit(limit)
    )
    return list(session.execute(stmt).scalars())


def quarantine_of(
    session: Session, batch_id: int, vault: IdentityVault, *, limit: int = 100, offset: int = 0
) -> list[dict[str, Any]]:
    """A batch's quarantined rows by line, with the row as sent (identity numbers masked)."""
    rows = session.execute(
        sa.select(QuarantinedRow)
        .where(QuarantinedRow.batch_id == batch_id)
        .order_by(QuarantinedRow.line_no, QuarantinedRow.id)
        .limit(limit)
        .offset(offset)
    ).scalars()
    return [
        {
            "line_no": q.line_no,
            "reason_code": q.reason_code,
            "message": q.message,
            "kind": q.kind,
            "department": q.department,
            "row": json.loads(mask_id_numbers(vault.decrypt(q.raw_cipher))),
        }
        for q in rows
    ]
