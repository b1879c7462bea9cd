"""Reading department files into frames of text: CSV (UTF-8 or GB18030), JSON Lines, Parquet.

* ``ReadError`` (a ``ValueError``): the file cannot be parsed at all; the message says why and,
  where it can, on which line. ``scoring.ingest`` turns it into ``UnreadableFile``.

Every value is read as text (``None`` when absent), with a ``line_no`` column: for CSV the
physical line where the row starts, the header being line 1; for JSON Lines the line; for
Parquet the 1-based row number. A CSV row with more values than the header has columns is not
a parse failure: it comes back in ``RawRows.ragged`` (line, count) and is quarantined by the
caller.
"""

from __future__ import annotations

import csv
import io
import json
import re
from dataclasses import dataclass, field
from typing import Any

import polars as pl

from features.catalogue import COMMON_COLUMNS
from features.validate import LINE

__all__ = ["FORMATS", "RawRows", "ReadError", "file_format", "read_rows"]

FORMATS = {".csv": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl", ".parquet": "parquet"}
_BLANK_LINE = re.compile(rb"\n[ \t\r]*\n")


class ReadError(ValueError):
    """The file cannot be parsed at all."""


@dataclass
class RawRows:
    frame: pl.DataFrame  # text columns + line_no
    file_format: str
    encoding: str | None
    ragged: list[tuple[int, int, dict[str, str | None]]] = field(default_factory=list)

    @property
    def rows_read(self) -> int:
        return self.frame.height + len(self.ragged)


def file_format(name: str) -> str | None:
    for suffix, fmt in FORMATS.items():
        if name.lower().endswith(suffix):
            return fmt
    return None


def read_rows(data: bytes, fmt: str, *, encoding: str | None = None) -> RawRows:
    """Parse file bytes; raise ``ReadError`` when that is impossible."""
    if fmt == "csv":
        return _read_csv(data, encoding)
    if fmt == "jsonl":
        return _read_jsonl(data, encoding)
    if fmt == "parquet":
        return _read_parquet(data)
    raise ReadError(f"unsupported format {fmt!r}")


def _check_header(columns: list[str]) -> None:
    missing = [c for c in COMMON_COLUMNS if c not in columns]
    if missing:
        raise ReadError(f"missing common columns: {', '.join(missing)}")
    dupes = sorted({c for c in columns if columns.count(c) > 1})
    if dupes:
        raise ReadError(f"duplicate columns: {', '.join(dupes)}")
    if LINE in columns:
        raise ReadError(f"reserved column name: {LINE}")


def _decode(data: bytes, encoding: str | None) -> tuple[str, str]:
    if b"\x00" in data:
        raise ReadError("binary content (NUL bytes), not a text file")
    if encoding:
        try:
            return data.decode(encoding), encoding.lower()
        except (UnicodeDecodeError, LookupError) as exc:
            raise ReadError(f"cannot decode as {encoding}: {exc}") from None
    try:
        return data.decode("utf-8-sig"), "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("gb18030"), "gb18030"
    except UnicodeDecodeError as exc:
        raise ReadError(f"neither UTF-8 nor GB18030 text (byte {exc.start})") from None


def _text_frame(columns: list[str], rows: list[list[str | None]], lines: list[int]) -> pl.DataFrame:
    data: dict[str, list[Any]] = {c: [r[i] for r in rows] for i, c in enumerate(columns)}
    data[LINE] = lines
    return pl.DataFrame(data, schema={**dict.fromkeys(columns, pl.Utf8), LINE: pl.Int64})


def _read_csv(data: bytes, encoding: str | None) -> RawRows:
    text, enc = _decode(data, encoding)
    if not text.strip():
        raise ReadError("empty file: no header")
    body = text.encode("utf-8") if enc != "utf-8" or data.startswith(b"\xef\xbb\xbf") else data
    if not _BLANK_LINE.search(body.rstrip(b"\r\n \t")):
        try:
            frame = pl.read_csv(io.BytesIO(body), infer_schema=False)
        except pl.exceptions.PolarsError:
            frame = None
        if frame is not None:
            frame = frame.rename({c: c.strip() for c in frame.columns})
            _check_header(frame.columns)
            line = pl.int_range(pl.len(), dtype=pl.Int64) + 2
            if b'"' in body:
                # A quoted value spanning lines moves every later row down by its newlines.
                newlines = pl.sum_horizontal(
                    [pl.col(c).str.count_matches("\n").fill_null(0) for c in frame.columns]
                )
                line = line + newlines.cum_sum() - newlines
            frame = frame.with_columns(line.cast(pl.Int64).alias(LINE))
            return RawRows(frame, "csv", enc)
    return _read_csv_slow(text, enc)


def _read_csv_slow(text: str, enc: str) -> RawRows:
    """Row by row, for files with blank lines or ragged rows."""
    reader = csv.reader(io.StringIO(text.removeprefix("\ufeff"), newline=""))
    try:
        header = next(reader)
    except (StopIteration, csv.Error) as exc:
        raise ReadError(f"no header: {exc}") from None
    header = [h.strip() for h in header]
    _check_header(header)
    width = len(header)
    rows: list[list[str | None]] = []
    lines: list[int] = []
    ragged: list[tuple[int, int, dict[str, str | None]]] = []
    last = reader.line_num
    try:
        for row in reader:
            start, last = last + 1, reader.line_num
            if not row or (len(row) == 1 and not row[0].strip()):
                continue
            values: list[str | None] = [*row, *([None] * (width - len(row)))]
            if len(row) > width:
                raw = dict(zip(header, values, strict=False))
                raw["_extra"] = ",".join(row[width:])
                ragged.append((start, len(row), raw))
                continue
            rows.append(values)
            lines.append(start)
    except csv.Error as exc:
        raise ReadError(f"line {reader.line_num}: {exc}") from None
    return RawRows(_text_frame(header, rows, lines), "csv", enc, ragged)


def _as_text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    if isinstance(value, int | float):
        return repr(value) if isinstance(value, float) else str(value)
    return json.dumps(value, ensure_ascii=False)


def _read_jsonl(data: bytes, encoding: str | None) -> RawRows:
    text, enc = _decode(data, encoding)
    objects: list[dict[str, Any]] = []
    lines: list[int] = []
    columns: dict[str, None] = {}
    for n, line in enumerate(text.removeprefix("\ufeff").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            raise ReadError(f"line {n}: invalid JSON ({exc.msg})") from None
        if not isinstance(obj, dict):
            raise ReadError(f"line {n}: not a JSON object")
        objects.append(obj)
        lines.append(n)
        columns.update(dict.fromkeys(obj))
    if not objects:
        raise ReadError("no JSON objects")
    cols = list(columns)
    _check_header(cols)
    rows = [[_as_text(o.get(c)) for c in cols] for o in objects]
    return RawRows(_text_frame(cols, rows, lines), "jsonl", enc)


def _read_parquet(data: bytes) -> RawRows:
    try:
        frame = pl.read_parquet(io.BytesIO(data))
    except Exception as exc:  # polars and pyarrow raise many kinds of errors on a bad file
        raise ReadError(f"not a readable Parquet file ({type(exc).__name__})") from None
    _check_header(frame.columns)
    exprs = []
    for c, dtype in frame.schema.items():
        if dtype == pl.Utf8:
            exprs.append(pl.col(c))
        elif dtype.is_nested():
            raise ReadError(f"column {c}: nested values are not supported")
        else:
            exprs.append(pl.col(c).cast(pl.Utf8))
    frame = frame.select(exprs).with_columns((pl.int_range(pl.len()) + 1).cast(pl.Int64).alias(LINE))
    return RawRows(frame, "parquet", None)
