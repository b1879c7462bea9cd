"""Bulk reads from the records store into polars frames, and Parquet snapshots of the store.

PostgreSQL streams ``COPY (SELECT ...) TO STDOUT`` as CSV straight into polars' multi-threaded
CSV reader (no row objects in Python). SQLite is read through its cursor in batches and typed in
polars. Both return the same frames (same columns, types and values). Reads of given subjects
use the ``subject_id`` indexes; batch builds read subject-id ranges (``subject_range``) so memory
stays bounded, or a Parquet snapshot (``export_snapshot`` / ``scan_snapshot``).

* ``StoreError`` (a ``ValueError``): an unsupported database or a bad argument.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import logging
import shutil
import threading
import weakref
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl
from sqlalchemy import Connection, Engine, event

from features.pipelines import PAYLOAD_KINDS

__all__ = [
    "EVENT_SCHEMA",
    "LINK_SCHEMA",
    "RECORD_SCHEMA",
    "SUBJECT_SCHEMA",
    "ParquetSnapshot",
    "StoreError",
    "StoreSnapshot",
    "export_snapshot",
    "read_events",
    "read_links",
    "read_records",
    "read_snapshot",
    "read_subject",
    "read_subjects",
    "scan_snapshot",
    "subject_id_range",
]

logger = logging.getLogger(__name__)

RECORD_SCHEMA: dict[str, pl.DataType] = {
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
EVENT_SCHEMA: dict[str, pl.DataType] = {
    "record_uid": pl.String(),
    "subject_id": pl.Int64(),
    "event_type": pl.String(),
    "effective_date": pl.Date(),
    "recorded_at": pl.Datetime("us"),
}
# Audit attributes (birth year, gender, district) are read for fairness reports only: the feature
# pipelines read subject_id, subject_type and registered_on.
SUBJECT_SCHEMA: dict[str, pl.DataType] = {
    "subject_id": pl.Int64(),
    "subject_type": pl.String(),
    "subject_key": pl.String(),
    "registered_on": pl.Date(),
    "sector": pl.String(),
    "size": pl.String(),
    "birth_year": pl.Int64(),
    "gender": pl.String(),
    "district_code": pl.String(),
    "created_at": pl.Datetime("us"),
}
LINK_SCHEMA: dict[str, pl.DataType] = {
    "org_subject_id": pl.Int64(),
    "person_subject_id": pl.Int64(),
    "role": pl.String(),
    "valid_from": pl.Date(),
    "valid_to": pl.Date(),
    "recorded_at": pl.Datetime("us"),
}
_SQLITE_BATCH = 200_000
_FEW_IDS = 1000  # up to this many subjects, a plain SELECT beats COPY
_SNAPSHOT_TABLES = ("records", "events", "subjects", "links")


class StoreError(ValueError):
    """An unsupported database or a bad read argument."""


Bind = Engine | Connection


@dataclass(frozen=True)
class _Query:
    """A SELECT with named parameters (``:name``), and the polars schema of its columns in order."""

    columns: Sequence[str]  # SQL expressions, one per schema column
    table: str
    where: list[str]
    params: dict[str, Any]
    schema: dict[str, pl.DataType]

    def sql(self, style: str, *, dates_as_days: bool = False) -> str:
        cols = [
            f"({c} - DATE '1970-01-01')" if dates_as_days and dtype == pl.Date() else c
            for c, dtype in zip(self.columns, self.schema.values(), strict=True)
        ]
        return self._bind(f"SELECT {', '.join(cols)} FROM {self.table}{self._where()}", style)

    def array_sql(self, prefix: str) -> str:
        """One row: an array per column (PostgreSQL ``array_agg``; NULL arrays when no row
        matches), dates as day numbers and timestamps as microseconds since 1970 (integers are
        far cheaper to turn into polars columns than Python date objects). Parameters are
        renamed ``prefix + name`` so that several such queries can share one statement."""
        cols = []
        for c, dtype in zip(self.columns, self.schema.values(), strict=True):
            if dtype == pl.Date():
                c = f"{c} - DATE '1970-01-01'"
            elif dtype == pl.Datetime("us"):
                c = f"CAST(EXTRACT(EPOCH FROM {c}) * 1000000 AS BIGINT)"
            cols.append(f"array_agg({c})")
        return self._bind(f"SELECT {', '.join(cols)} FROM {self.table}{self._where()}", "pyformat", prefix)

    def _where(self) -> str:
        return " WHERE " + " AND ".join(self.where) if self.where else ""

    def _bind(self, sql: str, style: str, prefix: str = "") -> str:
        if style == "pyformat":  # psycopg: %(name)s, and a literal % doubled
            sql = sql.replace("%", "%%")
            for name in sorted(self.params, key=len, reverse=True):
                sql = sql.replace(f":{name}", f"%({prefix}{name})s")
        return sql


def _dialect(bind: Bind) -> str:
    name = bind.dialect.name
    if name not in ("postgresql", "sqlite"):
        raise StoreError(f"unsupported database {name!r}: PostgreSQL or SQLite")
    return name


@contextmanager
def _connection(bind: Bind) -> Iterator[Connection]:
    if isinstance(bind, Connection):
        yield bind
    else:
        with bind.connect() as conn:
            yield conn


def _ids(values: Iterable[int] | None) -> list[int] | None:
    return None if values is None else sorted({int(v) for v in values})


def _filters(
    q: _Query,
    dialect: str,
    *,
    column: str,
    ids: list[int] | None = None,
    subject_range: tuple[int, int] | None = None,
    known_at: dt.datetime | None = None,
    texts: dict[str, list[str] | None] | None = None,
) -> None:
    """Add WHERE clauses with named parameters."""
    if ids is not None:
        if len(ids) == 1:
            q.where.append(f"{column} = :ids")
            q.params["ids"] = ids[0]
        elif dialect == "postgresql":
            q.where.append(f"{column} = ANY(:ids)")
            q.params["ids"] = ids
        else:
            q.where.append(f"{column} IN (SELECT value FROM json_each(:ids))")
            q.params["ids"] = json.dumps(ids)
    if subject_range is not None:
        lo, hi = subject_range
        if lo > hi:
            raise StoreError(f"subject_range: start {lo} after end {hi}")
        q.where.append(f"{column} >= :lo AND {column} < :hi")
        q.params.update(lo=int(lo), hi=int(hi))
    if known_at is not None:
        if known_at.tzinfo is not None:
            raise StoreError("known_at must be naive UTC, like the store's timestamps")
        q.where.append("recorded_at <= :known_at")
        q.params["known_at"] = (
            known_at if dialect == "postgresql" else known_at.isoformat(sep=" ", timespec="microseconds")
        )
    for name, values in (texts or {}).items():
        if values is None:
            continue
        if dialect == "postgresql":
            q.where.append(f"{name} = ANY(:{name}_values)")
            q.params[f"{name}_values"] = list(values)
        else:
            q.where.append(f"{name} IN (SELECT value FROM json_each(:{name}_values))")
            q.params[f"{name}_values"] = json.dumps(list(values))


def _run(bind: Bind, q: _Query, *, few: bool = False) -> pl.DataFrame:
    """Run a query: SQLite through its cursor; PostgreSQL by COPY, or by a plain SELECT when
    ``few`` rows are expected (a handful of subjects: one round trip, no COPY set-up)."""
    with _connection(bind) as conn:
        if _dialect(bind) == "sqlite":
            return _run_sqlite(conn, q)
        if few:
            return _run_postgres_select(conn, q)
        return _run_postgres_copy(conn, q)


def _run_postgres_select(conn: Connection, q: _Query) -> pl.DataFrame:
    raw: Any = conn.connection.driver_connection
    with raw.cursor() as cur:
        cur.execute(q.sql("pyformat"), q.params)
        rows = cur.fetchall()
    return pl.DataFrame(rows, schema=q.schema, orient="row")


def _run_many(bind: Bind, queries: Sequence[_Query]) -> list[pl.DataFrame]:
    """Several small queries; on PostgreSQL in one statement and one round trip, SQLite in turn.

    PostgreSQL: each query becomes one row of column arrays (``_Query.array_sql``), the queries
    are cross-joined into a single row, fetched in binary and prepared on the server (the
    statement text is the same for every subject). Through an engine, the statement runs on one
    of the engine's direct connections (``_DirectConnections``: autocommit, so no BEGIN and no
    ROLLBACK round trip, and no pool pre-ping); on a given connection, in autocommit mode when no
    transaction is open.
    """
    if _dialect(bind) == "sqlite":
        with _connection(bind) as conn:
            return [_run_sqlite(conn, q) for q in queries]
    sql = _many_sql(queries)
    params = {f"q{i}_{name}": value for i, q in enumerate(queries) for name, value in q.params.items()}
    if isinstance(bind, Engine):
        row = _direct_connections(bind).fetch_one(sql, params)
    else:
        raw: Any = bind.connection.driver_connection
        idle = not raw.autocommit and raw.info.transaction_status == _PG_IDLE
        if idle:
            raw.autocommit = True
        try:
            row = _fetch_one(raw, sql, params)
        finally:
            if idle:
                raw.autocommit = False
    frames, at = [], 0
    for q in queries:
        arrays = row[at : at + len(q.schema)]
        at += len(q.schema)
        frames.append(_frame_from_arrays(q.schema, arrays))
    return frames


def _many_sql(queries: Sequence[_Query]) -> str:
    """The one statement of ``_run_many``, built once per query shape (columns, table, conditions
    and parameter names: the values travel apart)."""
    key = tuple(
        (tuple(q.columns), q.table, tuple(q.where), tuple(q.params), tuple(q.schema)) for q in queries
    )
    sql = _MANY_SQL.get(key)
    if sql is None:
        parts = ", ".join(f"({q.array_sql(f'q{i}_')}) AS q{i}" for i, q in enumerate(queries))
        sql = _MANY_SQL[key] = f"SELECT * FROM {parts}"
    return sql


_MANY_SQL: dict[tuple[Any, ...], str] = {}


def _fetch_one(raw: Any, sql: str, params: dict[str, Any]) -> Any:
    with raw.cursor(binary=True) as cur:
        cur.execute(sql, params, prepare=True)
        return cur.fetchone()


class _DirectConnections:
    """A few idle PostgreSQL connections of one engine, kept for one-subject reads.

    The engine's pool pings every connection it hands out (``pool_pre_ping``): one more round
    trip per read, a large share of a read that is itself one round trip. These connections are
    opened with the engine's own connection arguments but outside its pool, in autocommit mode,
    and are checked optimistically instead: a read that fails on a broken connection (the server
    restarted, a network cut) is retried once on a new connection; reads have no side effects.
    They are closed when the engine is disposed, and their prepared statements stay with them.
    """

    MAX_IDLE = 4

    def __init__(self, engine: Engine) -> None:
        # The dialect and URL only: the engine is the key of a weak mapping to this object.
        self._dialect, self._url = engine.dialect, engine.url
        self._idle: list[Any] = []

    def _connect(self) -> Any:
        cargs, cparams = self._dialect.create_connect_args(self._url)
        conn = self._dialect.connect(*cargs, **cparams)
        conn.autocommit = True
        return conn

    def fetch_one(self, sql: str, params: dict[str, Any]) -> Any:
        for attempt in (1, 2):
            try:
                conn = self._idle.pop()
            except IndexError:
                conn = self._connect()
            try:
                row = _fetch_one(conn, sql, params)
            except Exception as exc:
                broken = conn.closed or isinstance(exc, self._dialect.loaded_dbapi.OperationalError)
                conn.close()
                if broken and attempt == 1:
                    continue
                raise
            if len(self._idle) < self.MAX_IDLE:
                self._idle.append(conn)
            else:
                conn.close()
            return row
        raise AssertionError("unreachable")

    def close(self) -> None:
        while self._idle:
            self._idle.pop().close()


_DIRECT: weakref.WeakKeyDictionary[Engine, _DirectConnections] = weakref.WeakKeyDictionary()
_DIRECT_LOCK = threading.Lock()


def _direct_connections(engine: Engine) -> _DirectConnections:
    found = _DIRECT.get(engine)
    if found is not None:
        return found
    with _DIRECT_LOCK:
        if engine not in _DIRECT:
            direct = _DirectConnections(engine)
            event.listen(engine, "engine_disposed", lambda _engine: direct.close())
            _DIRECT[engine] = direct
        return _DIRECT[engine]


def _frame_from_arrays(schema: dict[str, pl.DataType], arrays: Sequence[list[Any] | None]) -> pl.DataFrame:
    plan = _column_plan(schema)
    if all(values is None for values in arrays):  # no row matched (NULL arrays)
        return plan.empty.clear()
    columns = []
    for (name, dtype, wire), values in zip(plan.columns, arrays, strict=True):
        if wire is None:
            columns.append(pl.Series(name, values or [], dtype=dtype))
        else:
            columns.append(pl.Series(name, values or [], dtype=wire).cast(dtype))
    return pl.DataFrame(columns)


@dataclass(frozen=True)
class _ColumnPlan:
    """How to build a frame of a schema from column arrays, worked out once per schema."""

    columns: tuple[tuple[str, pl.DataType, pl.DataType | None], ...]  # name, dtype, wire dtype
    empty: pl.DataFrame


_COLUMN_PLANS: dict[tuple[tuple[str, pl.DataType], ...], _ColumnPlan] = {}


def _column_plan(schema: dict[str, pl.DataType]) -> _ColumnPlan:
    key = tuple(schema.items())
    plan = _COLUMN_PLANS.get(key)
    if plan is None:
        plan = _ColumnPlan(
            tuple((name, dtype, _WIRE_TYPES.get(dtype)) for name, dtype in schema.items()),
            pl.DataFrame(schema=schema),
        )
        _COLUMN_PLANS[key] = plan
    return plan


# How ``array_sql`` sends dates (day numbers) and timestamps (microseconds since 1970).
_WIRE_TYPES: dict[pl.DataType, pl.DataType] = {pl.Date(): pl.Int32(), pl.Datetime("us"): pl.Int64()}
_PG_IDLE = 0  # psycopg.pq.TransactionStatus.IDLE


def _copy_out(conn: Connection, q: _Query, sink: Any) -> int:
    """``COPY (query) TO STDOUT`` as CSV into a binary file-like; returns the bytes written.
    Dates travel as day numbers (cheaper to print and to parse than text); timestamps as ISO text."""
    sql = q.sql("pyformat", dates_as_days=True)
    written = 0
    raw: Any = conn.connection.driver_connection
    with raw.cursor() as cur:
        cur.execute("SET LOCAL datestyle TO 'ISO, YMD'")
        with cur.copy(f"COPY ({sql}) TO STDOUT WITH (FORMAT csv, NULL '\\N')", q.params) as copy:
            for block in copy:
                written += sink.write(block)
    conn.rollback()
    return written


def _wire_schema(q: _Query) -> dict[str, pl.DataType]:
    return {name: pl.Int32() if dtype == pl.Date() else dtype for name, dtype in q.schema.items()}


def _dates_from_days(q: _Query) -> list[pl.Expr]:
    return [pl.col(name).cast(pl.Date) for name, dtype in q.schema.items() if dtype == pl.Date()]


def _run_postgres_copy(conn: Connection, q: _Query) -> pl.DataFrame:
    buf = io.BytesIO()
    if _copy_out(conn, q, buf) == 0:
        return pl.DataFrame(schema=q.schema)
    frame = pl.read_csv(
        buf.getvalue(),
        has_header=False,
        schema=_wire_schema(q),
        null_values="\\N",
        empty_string_is_null=False,
    )
    return frame.with_columns(_dates_from_days(q))


def _run_sqlite(conn: Connection, q: _Query) -> pl.DataFrame:
    text_schema = {
        name: pl.String() if dtype in (pl.Date(), pl.Datetime("us")) else dtype
        for name, dtype in q.schema.items()
    }
    parts: list[pl.DataFrame] = []
    raw: Any = conn.connection.driver_connection
    cur = raw.cursor()
    try:
        cur.execute(q.sql("named"), q.params)
        while rows := cur.fetchmany(_SQLITE_BATCH):
            parts.append(pl.DataFrame(rows, schema=text_schema, orient="row"))
    finally:
        cur.close()
    frame = pl.concat(parts) if parts else pl.DataFrame(schema=text_schema)
    typed = []
    for name, dtype in q.schema.items():
        col = pl.col(name)
        if dtype == pl.Date():
            typed.append(col.str.slice(0, 10).str.to_date("%Y-%m-%d"))
        elif dtype == pl.Datetime("us"):
            typed.append(
                col.str.replace("T", " ", literal=True).str.to_datetime(
                    "%Y-%m-%d %H:%M:%S%.f", time_unit="us"
                )
            )
        else:
            typed.append(col)
    return frame.select(typed)


def _payload_column(payload: bool | Iterable[str]) -> tuple[str, list[str] | None]:
    if payload is True:
        return "payload", None
    if payload is False:
        return "NULL", None
    kinds = sorted(set(payload))
    if not kinds:
        return "NULL", None
    return "CASE WHEN kind IN (" + ", ".join(
        f":pk{i}" for i in range(len(kinds))
    ) + ") THEN payload END", kinds


def _record_query(
    dialect: str,
    *,
    payload: bool | Iterable[str],
    columns: Sequence[str] | None,
    known_at: dt.datetime | None,
    in_force_on: dt.date | None,
    kinds: list[str] | None = None,
) -> _Query:
    names = list(RECORD_SCHEMA) if columns is None else [c for c in RECORD_SCHEMA if c in set(columns)]
    if columns is not None and (unknown := sorted(set(columns) - set(RECORD_SCHEMA))):
        raise StoreError(f"unknown record columns {unknown}")
    payload_sql, payload_kinds = _payload_column(payload)
    q = _Query(
        [payload_sql if c == "payload" else c for c in names],  # columns are read by position
        "records",
        [],
        {},
        {c: RECORD_SCHEMA[c] for c in names},
    )
    if payload_kinds and "payload" in names:
        q.params.update({f"pk{i}": k for i, k in enumerate(payload_kinds)})
    _filters(q, dialect, column="subject_id", known_at=known_at, texts={"kind": kinds})
    if in_force_on is not None:
        q.where.append("((event_date <= :in_force_on AND publicity_end > :in_force_on) OR version > 1)")
        q.params["in_force_on"] = in_force_on if dialect == "postgresql" else in_force_on.isoformat()
    return q


def read_subject(
    bind: Bind,
    subject_id: int,
    *,
    known_at: dt.datetime | None = None,
    in_force_on: dt.date | None = None,
    role: str = "legal_representative",
    payload: bool | Iterable[str] = True,
    columns: Sequence[str] | None = None,
) -> StoreSnapshot:
    """One subject's file for scoring: the subject, its links of ``role`` and the records and
    events of the subject and of the persons it links to, in one round trip (indexed reads).

    Arguments as for ``read_records``; ``subjects`` holds the one subject (empty if unknown).
    """
    dialect = _dialect(bind)
    sid = int(subject_id)
    subjects = _Query(
        ["id", *list(SUBJECT_SCHEMA)[1:]], "subjects", ["id = :sid"], {"sid": sid}, SUBJECT_SCHEMA
    )
    links = _Query(list(LINK_SCHEMA), "subject_links", ["org_subject_id = :sid"], {"sid": sid}, LINK_SCHEMA)
    _filters(links, dialect, column="org_subject_id", known_at=known_at, texts={"role": [role]})
    # The subject's rows and its linked persons' rows (legal representatives of an organisation).
    linked = "SELECT person_subject_id FROM subject_links WHERE org_subject_id = :sid AND role = :link_role"
    if known_at is not None:
        linked += " AND recorded_at <= :known_at"
    # Written so that both databases look the ids up in the subject_id index (an OR with a
    # subquery would scan the table): PostgreSQL evaluates the array once, SQLite the IN list.
    if dialect == "postgresql":
        whose = f"subject_id = ANY(ARRAY({linked}) || CAST(:sid AS BIGINT))"
    else:
        whose = f"subject_id IN (SELECT :sid UNION {linked})"
    records = _record_query(
        dialect, payload=payload, columns=columns, known_at=known_at, in_force_on=in_force_on
    )
    records.where.insert(0, whose)
    events = _Query(list(EVENT_SCHEMA), "record_events", [whose], {}, EVENT_SCHEMA)
    _filters(events, dialect, column="subject_id", known_at=known_at)
    for q in (records, events):
        q.params.update(sid=sid, link_role=role)
    subject_rows, link_rows, record_rows, event_rows = _run_many(bind, [subjects, links, records, events])
    return StoreSnapshot(record_rows, event_rows, subject_rows, link_rows, known_at)


def read_records(
    bind: Bind,
    subject_ids: Iterable[int] | None = None,
    kinds: Iterable[str] | None = None,
    known_at: dt.datetime | None = None,
    *,
    subject_range: tuple[int, int] | None = None,
    payload: bool | Iterable[str] = True,
    columns: Sequence[str] | None = None,
    in_force_on: dt.date | None = None,
    streams: int = 1,
) -> pl.DataFrame:
    """Record versions (all versions; the point-in-time selection picks) as a polars frame.

    ``subject_ids``: only these subjects (indexed); ``subject_range``: ``lo <= subject_id < hi``;
    ``kinds``: only these kinds; ``known_at``: only versions recorded by then. ``payload``: the
    JSON payload of every kind (``True``), of none (``False``, a null column), or only of the
    given kinds (the payload is most of the bytes; pipelines need it for few kinds).
    ``columns``: a subset of ``RECORD_SCHEMA`` (default: all). ``in_force_on``: leave out the
    versions that cannot matter on that date: those not in force on it, except corrections
    (version > 1), which the point-in-time selection needs to supersede older versions; exact
    for features as of that date. ``streams``: parallel COPY streams over subject-id sub-ranges
    (PostgreSQL, range or whole-table reads through an engine). Row order is unspecified.
    """
    dialect = _dialect(bind)
    q = _record_query(dialect, payload=payload, columns=columns, known_at=known_at, in_force_on=None)
    ids = _ids(subject_ids)
    kind_list = None if kinds is None else sorted(set(kinds))
    if ids == [] or kind_list == []:
        return pl.DataFrame(schema=q.schema)
    _filters(q, dialect, column="subject_id", ids=ids, texts={"kind": kind_list})
    if in_force_on is not None:
        q.where.append("((event_date <= :in_force_on AND publicity_end > :in_force_on) OR version > 1)")
        q.params["in_force_on"] = in_force_on if dialect == "postgresql" else in_force_on.isoformat()
    few = ids is not None and len(ids) <= _FEW_IDS
    if streams > 1 and dialect == "postgresql" and ids is None and isinstance(bind, Engine):
        if subject_range is None:
            return _parallel_heap(bind, q, streams)
        return _parallel(bind, q, subject_range, streams)
    if subject_range is not None:
        _filters(q, dialect, column="subject_id", subject_range=subject_range)
    return _run(bind, q, few=few)


def _parallel(engine: Engine, q: _Query, bounds: tuple[int, int], streams: int) -> pl.DataFrame:
    """COPY sub-ranges of subject ids over several connections at once."""
    lo, hi = bounds
    step = max(1, -(-(hi - lo) // streams))
    parts = []
    for start in range(lo, hi, step):
        part = _Query(q.columns, q.table, list(q.where), dict(q.params), q.schema)
        _filters(part, "postgresql", column="subject_id", subject_range=(start, min(start + step, hi)))
        parts.append(part)
    with ThreadPoolExecutor(max_workers=len(parts)) as pool:
        frames = list(pool.map(lambda part: _run(engine, part), parts))
    return pl.concat(frames) if frames else pl.DataFrame(schema=q.schema)


def _parallel_heap(engine: Engine, q: _Query, streams: int) -> pl.DataFrame:
    """The whole table over several connections at once, each stream scanning its own block range
    of the heap (TID range scans): a split by subject id would have each stream scan every block,
    since the heap is not clustered by subject. The last range is open-ended (rows appended since)."""
    with _connection(engine) as conn:
        raw: Any = conn.connection.driver_connection
        with raw.cursor() as cur:
            cur.execute(
                "SELECT pg_relation_size(%s::regclass) / current_setting('block_size')::int", (q.table,)
            )
            blocks = int(cur.fetchone()[0])
        conn.rollback()
    step = max(1, -(-blocks // streams))
    parts = []
    for i, start in enumerate(range(0, max(blocks, 1), step)):
        part = _Query(q.columns, q.table, list(q.where), dict(q.params), q.schema)
        part.where.append(f"ctid >= '({start},0)'::tid")
        if i < streams - 1 and start + step < blocks:
            part.where.append(f"ctid < '({start + step},0)'::tid")
        parts.append(part)
    with ThreadPoolExecutor(max_workers=len(parts)) as pool:
        frames = list(pool.map(lambda part: _run(engine, part), parts))
    return pl.concat(frames) if frames else pl.DataFrame(schema=q.schema)


def read_events(
    bind: Bind,
    subject_ids: Iterable[int] | None = None,
    known_at: dt.datetime | None = None,
    *,
    subject_range: tuple[int, int] | None = None,
) -> pl.DataFrame:
    """Record status events (``EVENT_SCHEMA``), optionally of some subjects and as known at ``known_at``."""
    dialect = _dialect(bind)
    q = _Query(list(EVENT_SCHEMA), "record_events", [], {}, EVENT_SCHEMA)
    ids = _ids(subject_ids)
    if ids == []:
        return pl.DataFrame(schema=EVENT_SCHEMA)
    _filters(q, dialect, column="subject_id", ids=ids, subject_range=subject_range, known_at=known_at)
    return _run(bind, q, few=ids is not None and len(ids) <= _FEW_IDS)


def read_subjects(
    bind: Bind,
    subject_ids: Iterable[int] | None = None,
    subject_types: Iterable[str] | None = None,
    *,
    subject_range: tuple[int, int] | None = None,
) -> pl.DataFrame:
    """Subjects (``SUBJECT_SCHEMA``): id, type, pseudonymous key, organisation facts, audit attributes.

    Never the identity number (not even encrypted)."""
    dialect = _dialect(bind)
    q = _Query(["id", *list(SUBJECT_SCHEMA)[1:]], "subjects", [], {}, SUBJECT_SCHEMA)
    ids = _ids(subject_ids)
    if ids == []:
        return pl.DataFrame(schema=SUBJECT_SCHEMA)
    types = None if subject_types is None else sorted(set(subject_types))
    _filters(q, dialect, column="id", ids=ids, subject_range=subject_range, texts={"subject_type": types})
    return _run(bind, q, few=ids is not None and len(ids) <= _FEW_IDS)


def read_links(
    bind: Bind,
    org_ids: Iterable[int] | None = None,
    known_at: dt.datetime | None = None,
    *,
    roles: Iterable[str] | None = None,
) -> pl.DataFrame:
    """Organisation-person links (``LINK_SCHEMA``), optionally of some organisations and roles."""
    dialect = _dialect(bind)
    q = _Query(list(LINK_SCHEMA), "subject_links", [], {}, LINK_SCHEMA)
    ids = _ids(org_ids)
    if ids == []:
        return pl.DataFrame(schema=LINK_SCHEMA)
    role_list = None if roles is None else sorted(set(roles))
    _filters(q, dialect, column="org_subject_id", ids=ids, known_at=known_at, texts={"role": role_list})
    return _run(bind, q, few=ids is not None and len(ids) <= _FEW_IDS)


def subject_id_range(bind: Bind, subject_types: Iterable[str] | None = None) -> tuple[int, int] | None:
    """``(min id, max id + 1)`` of the subjects of the given types, or ``None`` when there are none."""
    dialect = _dialect(bind)
    q = _Query(["min(id)", "max(id)"], "subjects", [], {}, {"lo": pl.Int64(), "hi": pl.Int64()})
    types = None if subject_types is None else sorted(set(subject_types))
    _filters(q, dialect, column="id", texts={"subject_type": types})
    lo, hi = _run(bind, q, few=True).row(0)
    return None if lo is None else (int(lo), int(hi) + 1)


@dataclass(frozen=True)
class StoreSnapshot:
    """The store (or part of it) in memory, as the pipelines take it."""

    records: pl.DataFrame
    events: pl.DataFrame
    subjects: pl.DataFrame
    links: pl.DataFrame
    known_at: dt.datetime | None = None


def read_snapshot(
    engine: Engine,
    *,
    known_at: dt.datetime | None = None,
    subject_ids: Iterable[int] | None = None,
    payload: bool | Iterable[str] = PAYLOAD_KINDS,
    columns: Sequence[str] | None = None,
    streams: int = 1,
) -> StoreSnapshot:
    """Every record version, event, subject and link (of ``subject_ids`` if given) in memory.

    By default only the payloads the feature pipelines read are loaded (``PAYLOAD_KINDS``);
    ``columns`` and ``streams`` as for ``read_records``. For a store too big for memory, read
    subject ranges or export a Parquet snapshot.
    """
    ids = None if subject_ids is None else _ids(subject_ids)
    return StoreSnapshot(
        records=read_records(
            engine, ids, known_at=known_at, payload=payload, columns=columns, streams=streams
        ),
        events=read_events(engine, ids, known_at=known_at),
        subjects=read_subjects(engine, ids),
        links=read_links(engine, known_at=known_at),
        known_at=known_at,
    )


@dataclass(frozen=True)
class ParquetSnapshot:
    """Lazy scans of an exported store snapshot. ``records`` is partitioned by subject-id range
    (``part = subject_id // subjects_per_part``, a hive folder per part)."""

    path: Path
    records: pl.LazyFrame
    events: pl.LazyFrame
    subjects: pl.LazyFrame
    links: pl.LazyFrame
    manifest: dict[str, Any]

    @property
    def subjects_per_part(self) -> int:
        return int(self.manifest["subjects_per_part"])

    def part_records(self, part: int) -> pl.LazyFrame:
        """The records of one part (subject ids ``part * n .. (part + 1) * n - 1``)."""
        folder = self.path / "records" / f"part={part}"
        if not folder.exists():
            return pl.LazyFrame(schema=self.records.drop("part").collect_schema())
        return pl.scan_parquet(folder / "*.parquet", hive_partitioning=False)


def export_snapshot(
    bind: Bind,
    out_dir: str | Path,
    *,
    known_at: dt.datetime | None = None,
    subjects_per_part: int = 100_000,
    payload: bool | Iterable[str] = True,
    columns: Sequence[str] | None = None,
) -> Path:
    """Write the store (as known at ``known_at``) as Parquet under ``out_dir``, for batch builds.

    One pass over the records table: on PostgreSQL one ``COPY`` streamed to a temporary CSV file
    on disk, then converted by polars' streaming engine (memory stays flat) into
    ``records/part=N/*.parquet`` by subject-id range. Also ``events.parquet``,
    ``subjects.parquet``, ``links.parquet`` and ``manifest.json`` (row counts, ``known_at``,
    ``subjects_per_part``).
    """
    if subjects_per_part < 1:
        raise StoreError("subjects_per_part must be positive")
    out = Path(out_dir)
    records_dir = out / "records"
    if records_dir.exists():
        shutil.rmtree(records_dir)
    out.mkdir(parents=True, exist_ok=True)
    dialect = _dialect(bind)
    q = _record_query(dialect, payload=payload, columns=columns, known_at=known_at, in_force_on=None)
    tmp = out / ".records.csv"
    try:
        if dialect == "postgresql":
            with _connection(bind) as conn, tmp.open("wb") as fh:
                size = _copy_out(conn, q, fh)
            rows = (
                pl.scan_csv(
                    tmp,
                    has_header=False,
                    schema=_wire_schema(q),
                    null_values="\\N",
                    empty_string_is_null=False,
                ).with_columns(_dates_from_days(q))
                if size
                else pl.LazyFrame(schema=q.schema)
            )
        else:
            rows = _run(bind, q).lazy()
        n_records = rows.select(pl.len()).collect().item()
        if n_records:
            rows.with_columns(part=pl.col("subject_id") // subjects_per_part).sink_parquet(
                pl.PartitionBy(records_dir, key="part", include_key=False), mkdir=True
            )
        else:
            (records_dir / "part=0").mkdir(parents=True)
            pl.DataFrame(schema=q.schema).write_parquet(records_dir / "part=0" / "00000000.parquet")
    finally:
        tmp.unlink(missing_ok=True)
    counts = {"records": int(n_records)}
    for name, frame in (
        ("events", read_events(bind, known_at=known_at)),
        ("subjects", read_subjects(bind)),
        ("links", read_links(bind, known_at=known_at)),
    ):
        frame.write_parquet(out / f"{name}.parquet")
        counts[name] = frame.height
    manifest = {
        "known_at": known_at.isoformat() if known_at else None,
        "exported_at": dt.datetime.now(dt.UTC).replace(tzinfo=None).isoformat(),
        "subjects_per_part": subjects_per_part,
        "counts": counts,
    }
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2), encoding="utf-8")
    logger.info("store snapshot written: %s", counts)
    return out


def scan_snapshot(path: str | Path) -> ParquetSnapshot:
    """Lazy frames over a snapshot written by ``export_snapshot``."""
    p = Path(path)
    missing = [
        n
        for n in ("manifest.json", "events.parquet", "subjects.parquet", "links.parquet", "records")
        if not (p / n).exists()
    ]
    if missing:
        raise StoreError(f"not a store snapshot: {p} lacks {missing}")
    return ParquetSnapshot(
        path=p,
        records=pl.scan_parquet(p / "records" / "**" / "*.parquet", hive_partitioning=True),
        events=pl.scan_parquet(p / "events.parquet"),
        subjects=pl.scan_parquet(p / "subjects.parquet"),
        links=pl.scan_parquet(p / "links.parquet"),
        manifest=json.loads((p / "manifest.json").read_text(encoding="utf-8")),
    )
