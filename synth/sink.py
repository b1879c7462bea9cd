"""Department files: one per department and calendar quarter, appended chunk by chunk.

``files/<department>/<department>_<YYYYQn>.<ext>``. Every file of a department has the same
columns: the four common ones, then the union of the fields of every kind the catalogue lets that
department report (catalogue order). Cells of fields a row's kind lacks stay empty (CSV), null
(Parquet) or absent (JSON Lines: each line carries only its kind's fields).

Formats follow how the departments send them: UTF-8 CSV, GB18030 CSV for the departments with
Chinese text (market regulation, the court, the credit office), JSON Lines from the systems with
APIs, Parquet from the big data exchanges (social insurance, medical insurance, banks, housing).
Numbers are written with two decimals in CSV; dates as YYYY-MM-DD and months as YYYY-MM text in
every format.
"""

from __future__ import annotations

import io
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq

from features.catalogue import COMMON_COLUMNS, Catalogue
from synth.batch import dtype_of

__all__ = ["FORMATS", "Sink"]

# department -> (format, text encoding)
FORMATS: dict[str, tuple[str, str | None]] = {
    "hrss": ("parquet", None),
    "medical_insurance": ("parquet", None),
    "bank": ("parquet", None),
    "housing": ("parquet", None),
    "tax": ("csv", "utf-8"),
    "power": ("csv", "utf-8"),
    "water": ("csv", "utf-8"),
    "environment": ("csv", "utf-8"),
    "health_commission": ("csv", "utf-8"),
    "public_security": ("csv", "utf-8"),
    "market_regulation": ("csv", "gb18030"),
    "court": ("csv", "gb18030"),
    "credit_office": ("csv", "gb18030"),
    "gas": ("csv", "utf-8"),
    "heating": ("jsonl", "utf-8"),
    "traffic_police": ("jsonl", "utf-8"),
    "emergency": ("jsonl", "utf-8"),
    "civilization_office": ("jsonl", "utf-8"),
}
_ARROW = {pl.Float64: pa.float64(), pl.Int64: pa.int64(), pl.String: pa.string()}


@dataclass
class _File:
    path: Path
    fmt: str
    encoding: str | None
    rows: int = 0
    handle: BinaryIO | None = None
    writer: pq.ParquetWriter | None = None


@dataclass
class Sink:
    root: Path
    catalogue: Catalogue
    files: dict[str, _File] = field(default_factory=dict)
    rows_by_format: Counter[str] = field(default_factory=Counter)

    def __post_init__(self) -> None:
        self.columns: dict[str, list[str]] = {}
        self.dtypes: dict[str, pl.DataType | type[pl.DataType]] = {c: pl.String for c in COMMON_COLUMNS}
        for dept in self.catalogue.departments:
            cols = list(COMMON_COLUMNS)
            for kind in self.catalogue.kinds.values():
                if dept not in kind.departments:
                    continue
                for name, spec in kind.fields.items():
                    dtype = dtype_of(spec.type)
                    if self.dtypes.setdefault(name, dtype) != dtype:
                        raise AssertionError(f"field {name} has two types in the catalogue")
                    if name not in cols:
                        cols.append(name)
            self.columns[dept] = cols
        self.kind_columns = {k.code: [*COMMON_COLUMNS, *k.fields] for k in self.catalogue.kinds.values()}
        missing = set(self.catalogue.departments) - set(FORMATS)
        if missing:
            raise AssertionError(f"no file format for departments {sorted(missing)}")

    def relative(self, dept: str, period: str) -> str:
        return f"{dept}/{dept}_{period}.{FORMATS[dept][0]}"

    def header_lines(self, dept: str) -> int:
        """Lines before the first data row (1 for CSV, 0 otherwise)."""
        return 1 if FORMATS[dept][0] == "csv" else 0

    def write(self, dept: str, period: str, frame: pl.DataFrame) -> int:
        """Append ``frame`` (already in file order) to the department's file for ``period``.

        Returns the number of data rows the file held before."""
        rel = self.relative(dept, period)
        f = self.files.get(rel)
        if f is None:
            fmt, enc = FORMATS[dept]
            f = self.files[rel] = _File(self.root / rel, fmt, enc)
            f.path.parent.mkdir(parents=True, exist_ok=True)
        before = f.rows
        cols = self.columns[dept]
        present = set(frame.columns)
        table = frame.select(
            [pl.col(c) if c in present else pl.lit(None, dtype=self.dtypes[c]).alias(c) for c in cols]
        )
        if f.fmt == "parquet":
            arrow = table.to_arrow().cast(pa.schema([(c, _ARROW[self.dtypes[c]]) for c in cols]))  # type: ignore[index]
            if f.writer is None:
                f.writer = pq.ParquetWriter(
                    f.path, arrow.schema, compression="snappy", write_statistics=False
                )
            f.writer.write_table(arrow)
        else:
            if f.handle is None:
                f.handle = f.path.open("wb")
            if f.fmt == "csv":
                buf = io.BytesIO()
                table.write_csv(buf, include_header=before == 0, float_precision=2)
                data = buf.getvalue()
                if f.encoding and f.encoding != "utf-8":
                    data = data.decode("utf-8").encode(f.encoding)
            else:
                data = self._json_lines(frame)
            f.handle.write(data)
        f.rows += frame.height
        self.rows_by_format[f.fmt if f.encoding in (None, "utf-8") else f"{f.fmt}-{f.encoding}"] += (
            frame.height
        )
        return before

    def _json_lines(self, frame: pl.DataFrame) -> bytes:
        # A file frame is a sequence of runs of one kind: encode each run with its own fields.
        runs = frame["_kind"].rle()
        parts = []
        start = 0
        for length, kind in runs.struct.unnest().iter_rows():
            cols = self.kind_columns[str(kind)]
            run = frame.slice(start, int(length))
            parts.append(run.select(pl.struct(cols).struct.json_encode().alias("j")))
            start += int(length)
        lines = pl.concat(parts)
        buf = io.BytesIO()
        lines.write_csv(buf, include_header=False, quote_style="never")
        return buf.getvalue()

    def close(self) -> None:
        for f in self.files.values():
            if f.writer is not None:
                f.writer.close()
            if f.handle is not None:
                f.handle.close()

    def file_counts(self) -> Counter[str]:
        return Counter(
            f.fmt if f.encoding in (None, "utf-8") else f"{f.fmt}-{f.encoding}" for f in self.files.values()
        )
