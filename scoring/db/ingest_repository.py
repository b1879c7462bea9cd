"""Queries and bulk writes of ingestion, on one open connection (the batch's transaction).

PostgreSQL bulk paths use ``COPY ... FROM STDIN (FORMAT binary)`` on the connection's psycopg
driver connection (same transaction), the rows encoded column by column with Arrow kernels (no
Python object per value); SQLite uses Core ``insert()`` with executemany. Lookups are bulk: a
temporary table joined to ``records`` on PostgreSQL, chunked ``IN`` lists on SQLite.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any, cast

import numpy as np
import polars as pl
import pyarrow as pa
import pyarrow.compute as pc
import sqlalchemy as sa
from psycopg.copy import QueuedLibpqWriter
from sqlalchemy import Connection

from scoring.db.tables import IngestBatch, QuarantinedRow, Record, Subject, SubjectLink

__all__ = [
    "find_batch",
    "finish_batch",
    "get_batch",
    "insert_batch",
    "insert_frame",
    "insert_quarantine",
    "latest_versions",
    "legal_rep_links",
    "list_batches",
    "lock_ingestion",
    "quarantine_counts",
    "quarantined_rows",
    "subject_ids",
    "update_organisations",
]

# pg_advisory_xact_lock key of ingestion: one batch at a time, so deduplication sees every
# committed record. (ASCII "cred" + "ingest" folded into a bigint.)
_LOCK_KEY = 0x6372656469_6E67
_CHUNK = 50_000
_SQLITE_DATE, _SQLITE_DATETIME = "%Y-%m-%d", "%Y-%m-%d %H:%M:%S.%6f"  # SQLAlchemy's SQLite storage
_IN_CHUNK = 900
_TEMP_TABLE_FROM = 20_000  # uids; fewer go as one array parameter

batches = cast(sa.Table, IngestBatch.__table__)
quarantined = cast(sa.Table, QuarantinedRow.__table__)
records = cast(sa.Table, Record.__table__)
subjects = cast(sa.Table, Subject.__table__)
links = cast(sa.Table, SubjectLink.__table__)


def _is_pg(conn: Connection) -> bool:
    return conn.dialect.name == "postgresql"


def lock_ingestion(conn: Connection) -> None:
    """Serialise batches. PostgreSQL: a transaction-scoped advisory lock. SQLite: the caller's
    first statement is a write, which takes the database's write lock."""
    if _is_pg(conn):
        conn.execute(sa.text("SELECT pg_advisory_xact_lock(:k)"), {"k": _LOCK_KEY})


def find_batch(conn: Connection, sha256: str) -> Mapping[str, Any] | None:
    row = conn.execute(sa.select(batches).where(batches.c.file_sha256 == sha256)).mappings().first()
    return dict(row) if row is not None else None


def get_batch(conn: Connection, batch_id: int) -> dict[str, Any] | None:
    row = conn.execute(sa.select(batches).where(batches.c.id == batch_id)).mappings().first()
    return dict(row) if row is not None else None


def insert_batch(conn: Connection, values: Mapping[str, Any]) -> int:
    return int(conn.execute(sa.insert(batches).values(**values).returning(batches.c.id)).scalar_one())


def finish_batch(conn: Connection, batch_id: int, values: Mapping[str, Any]) -> None:
    conn.execute(sa.update(batches).where(batches.c.id == batch_id).values(**values))


def quarantine_counts(conn: Connection, batch_id: int) -> dict[str, int]:
    q = (
        sa.select(quarantined.c.reason_code, sa.func.count())
        .where(quarantined.c.batch_id == batch_id)
        .group_by(quarantined.c.reason_code)
    )
    return {str(code): int(n) for code, n in conn.execute(q)}


def list_batches(conn: Connection, limit: int) -> list[dict[str, Any]]:
    rows = conn.execute(sa.select(batches).order_by(batches.c.id.desc()).limit(limit)).mappings()
    return [dict(r) for r in rows]


def quarantined_rows(conn: Connection, batch_id: int, limit: int) -> list[tuple[int, str, str, str | None]]:
    """(line, reason, message, kind) of a batch's quarantined rows, by line."""
    q = quarantined
    rows = conn.execute(
        sa.select(q.c.line_no, q.c.reason_code, q.c.message, q.c.kind)
        .where(q.c.batch_id == batch_id)
        .order_by(q.c.line_no, q.c.id)
        .limit(limit)
    )
    return [(int(a), str(b), str(c), d) for a, b, c, d in rows]


def _chunks(items: Sequence[Any], size: int) -> Iterable[Sequence[Any]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


def subject_ids(conn: Connection, keys: Sequence[str]) -> dict[str, int]:
    """subject_key -> subjects.id for the keys that exist."""
    out: dict[str, int] = {}
    if not keys:
        return out
    if _is_pg(conn):
        q = sa.select(subjects.c.subject_key, subjects.c.id).where(
            subjects.c.subject_key == sa.any_(sa.bindparam("keys", type_=sa.ARRAY(sa.String)))
        )
        return {k: int(i) for k, i in conn.execute(q, {"keys": list(keys)})}
    q = sa.select(subjects.c.subject_key, subjects.c.id).where(
        subjects.c.subject_key.in_(sa.bindparam("keys", expanding=True))
    )
    for chunk in _chunks(keys, _IN_CHUNK):
        out.update({k: int(i) for k, i in conn.execute(q, {"keys": list(chunk)})})
    return out


_VERSION_SCHEMA = {"record_uid": pl.Utf8, "version": pl.Int64, "content_hash": pl.Utf8, "department": pl.Utf8}


def latest_versions(conn: Connection, uids: Sequence[str]) -> pl.DataFrame:
    """The latest stored version of each given record_uid that exists.

    PostgreSQL: one query with the uids as an array up to ``_TEMP_TABLE_FROM``, else the uids are
    copied into a temporary table joined to ``records``. SQLite: chunked ``IN`` lists.
    """
    cols = (records.c.record_uid, records.c.version, records.c.content_hash, records.c.department)
    rows: list[tuple[Any, ...]] = []
    if uids and _is_pg(conn) and len(uids) < _TEMP_TABLE_FROM:
        q = sa.select(*cols).where(
            records.c.record_uid == sa.any_(sa.bindparam("uids", type_=sa.ARRAY(sa.String)))
        )
        rows = [tuple(r) for r in conn.execute(q, {"uids": list(uids)})]
    elif uids and _is_pg(conn):
        raw = conn.connection.driver_connection
        assert raw is not None
        with raw.cursor() as cur:
            cur.execute("CREATE TEMP TABLE _ingest_uids (uid varchar(32) NOT NULL) ON COMMIT DROP")
            with cur.copy("COPY _ingest_uids (uid) FROM STDIN") as copy:
                for chunk in _chunks(uids, _CHUNK):
                    copy.write("\n".join(chunk) + "\n")
            cur.execute("ANALYZE _ingest_uids")
            cur.execute(
                "SELECT r.record_uid, r.version, r.content_hash, r.department"
                " FROM records r JOIN _ingest_uids u ON u.uid = r.record_uid"
            )
            rows = list(cur.fetchall())
            cur.execute("DROP TABLE _ingest_uids")
    elif uids:
        q = sa.select(*cols).where(records.c.record_uid.in_(sa.bindparam("uids", expanding=True)))
        for chunk in _chunks(uids, _IN_CHUNK):
            rows.extend(tuple(r) for r in conn.execute(q, {"uids": list(chunk)}))
    frame = pl.DataFrame(rows, schema=_VERSION_SCHEMA, orient="row")
    return frame.sort("version").group_by("record_uid", maintain_order=True).last()


# -- PostgreSQL binary COPY ------------------------------------------------------------------------

_PG_SIGNATURE = b"PGCOPY\n\xff\r\n\x00" + b"\x00\x00\x00\x00" * 2  # flags, header extension
_PG_TRAILER = b"\xff\xff"
_PG_NULL = pa.scalar(b"\xff\xff\xff\xff", pa.large_binary())  # field length -1
_NO_SEPARATOR = pa.scalar(b"", pa.large_binary())
_PG_EPOCH_DAYS = 10_957  # 2000-01-01 in days since 1970-01-01
_PG_EPOCH_US = _PG_EPOCH_DAYS * 86_400 * 1_000_000


def _pg_fixed(series: pl.Series, numpy_type: str) -> pa.Array:
    """Length-prefixed big-endian values of a fixed-width column; null where the series is."""
    width = np.dtype(numpy_type).itemsize
    field = np.empty(len(series), np.dtype([("n", ">i4"), ("v", numpy_type)]))
    field["n"] = width
    field["v"] = (
        series.to_numpy(allow_copy=True) if not series.has_nulls() else series.fill_null(0).to_numpy()
    )
    out = pc.cast(
        pa.FixedSizeBinaryArray.from_buffers(pa.binary(4 + width), len(series), [None, pa.py_buffer(field)]),
        pa.large_binary(),
    )
    return out if not series.has_nulls() else pc.if_else(series.is_null().to_arrow(), None, out)


def _pg_field(series: pl.Series, column: sa.Column[Any]) -> pa.Array:
    """One column in binary COPY form: 4-byte length then the value, or length -1 for null."""
    kind = column.type
    if isinstance(kind, sa.Date):
        field = _pg_fixed(series.cast(pl.Date).to_physical() - _PG_EPOCH_DAYS, ">i4")
    elif isinstance(kind, sa.DateTime):
        field = _pg_fixed(series.cast(pl.Datetime("us")).to_physical() - _PG_EPOCH_US, ">i8")
    elif isinstance(kind, sa.SmallInteger):
        field = _pg_fixed(series.cast(pl.Int16), ">i2")
    elif isinstance(kind, sa.BigInteger):
        field = _pg_fixed(series.cast(pl.Int64), ">i8")
    elif isinstance(kind, sa.Integer):
        field = _pg_fixed(series.cast(pl.Int32), ">i4")
    elif isinstance(kind, sa.Float):
        field = _pg_fixed(series.cast(pl.Float64), ">f8")
    elif isinstance(kind, sa.String):  # String, Text
        text = pc.cast(series.cast(pl.Utf8).to_arrow(), pa.large_binary())
        width = pc.fill_null(pc.binary_length(text), 0).to_numpy().astype(">i4")
        prefix = pa.FixedSizeBinaryArray.from_buffers(pa.binary(4), len(series), [None, pa.py_buffer(width)])
        field = pc.binary_join_element_wise(pc.cast(prefix, pa.large_binary()), text, _NO_SEPARATOR)
    else:  # pragma: no cover - a table this module does not write
        raise TypeError(f"no binary COPY encoding for {column.name} ({kind})")
    return pc.fill_null(field, _PG_NULL)


def _pg_binary_rows(table: sa.Table, frame: pl.DataFrame) -> bytes:
    """The rows of ``frame`` (columns named as the table's) as binary COPY tuples, no header."""
    count = pa.scalar(len(frame.columns).to_bytes(2, "big"), pa.large_binary())
    fields = [_pg_field(frame.get_column(c), table.c[c]) for c in frame.columns]
    rows = pc.binary_join_element_wise(count, *fields, _NO_SEPARATOR)
    if isinstance(rows, pa.ChunkedArray):
        rows = rows.combine_chunks()
    offsets = np.frombuffer(rows.buffers()[1], dtype=np.int64)[rows.offset : rows.offset + len(rows) + 1]
    return rows.buffers()[2][int(offsets[0]) : int(offsets[-1])].to_pybytes()


def insert_frame(
    conn: Connection,
    table: sa.Table,
    frame: pl.DataFrame,
    *,
    order: pl.Series | None = None,
    progress: Callable[[int], None] | None = None,
) -> None:
    """Bulk insert; the frame's columns name the table's columns. ``order``: row indices to insert
    in (gathered chunk by chunk, so ordering overlaps with the database's work)."""
    if frame.is_empty():
        return
    if not _is_pg(conn):
        # The Core insert statement, executed as the driver's executemany over plain tuples, dates
        # already in the text form SQLAlchemy stores on SQLite (its per-value processing costs
        # more than the insert itself).
        frame = frame.with_columns(
            [pl.col(c).dt.to_string(_SQLITE_DATE) for c, t in frame.schema.items() if t == pl.Date]
            + [pl.col(c).dt.to_string(_SQLITE_DATETIME) for c, t in frame.schema.items() if t == pl.Datetime]
        )
    done = 0

    def chunks() -> Iterator[pl.DataFrame]:
        for start in range(0, frame.height, _CHUNK):
            yield frame[start : start + _CHUNK] if order is None else frame[order[start : start + _CHUNK]]

    if _is_pg(conn):
        raw = conn.connection.driver_connection
        assert raw is not None
        sql = f"COPY {table.name} ({', '.join(frame.columns)}) FROM STDIN (FORMAT binary)"
        # A writer thread sends while the next chunk is gathered and encoded.
        with raw.cursor() as cur, cur.copy(sql, writer=QueuedLibpqWriter(cur)) as copy:
            copy.write(_PG_SIGNATURE)
            for chunk in chunks():
                copy.write(_pg_binary_rows(table, chunk))
                done += chunk.height
                if progress:
                    progress(done)
            copy.write(_PG_TRAILER)
        return
    sql = str(sa.insert(table).compile(dialect=conn.dialect, column_keys=frame.columns))
    for chunk in chunks():
        conn.exec_driver_sql(sql, chunk.rows())
        done += chunk.height
        if progress:
            progress(done)


def insert_quarantine(conn: Connection, rows: Sequence[Mapping[str, Any]]) -> None:
    if rows:
        conn.execute(sa.insert(quarantined), list(rows))


def update_organisations(conn: Connection, rows: Sequence[Mapping[str, Any]]) -> None:
    """Set name, sector, size and registration date of organisations (``id`` plus the values)."""
    if not rows:
        return
    stmt = (
        sa.update(subjects)
        .where(subjects.c.id == sa.bindparam("_id"))
        .values(
            name=sa.bindparam("name"),
            sector=sa.bindparam("sector"),
            size=sa.bindparam("size"),
            registered_on=sa.bindparam("registered_on"),
        )
    )
    conn.execute(
        stmt,
        [{"_id": r["id"], **{k: r[k] for k in ("name", "sector", "size", "registered_on")}} for r in rows],
    )


def legal_rep_links(
    conn: Connection, rows: Sequence[tuple[int, int, dt.date]], recorded_at: dt.datetime
) -> int:
    """Record legal representatives: (org id, person id, valid from). A new representative closes
    the open link of the previous one; an open link to the same person is kept. Returns links added."""
    role = "legal_representative"
    added = 0
    for org_id, person_id, valid_from in rows:
        open_links = conn.execute(
            sa.select(links.c.id, links.c.person_subject_id, links.c.valid_from).where(
                links.c.org_subject_id == org_id, links.c.role == role, links.c.valid_to.is_(None)
            )
        ).all()
        if any(p == person_id for _, p, _ in open_links):
            continue
        for link_id, _, since in open_links:
            conn.execute(
                sa.update(links).where(links.c.id == link_id).values(valid_to=max(since, valid_from))
            )
        exists = conn.execute(
            sa.select(links.c.id).where(
                links.c.org_subject_id == org_id,
                links.c.person_subject_id == person_id,
                links.c.role == role,
                links.c.valid_from == valid_from,
            )
        ).first()
        if exists is not None:
            conn.execute(sa.update(links).where(links.c.id == exists[0]).values(valid_to=None))
        else:
            conn.execute(
                sa.insert(links).values(
                    org_subject_id=org_id,
                    person_subject_id=person_id,
                    role=role,
                    valid_from=valid_from,
                    valid_to=None,
                    recorded_at=recorded_at,
                )
            )
            added += 1
    return added
