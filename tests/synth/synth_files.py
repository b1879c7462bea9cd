"""Read a synthetic city's department files back as text, the way an ingester sees them."""

from __future__ import annotations

import io
from pathlib import Path

import polars as pl

__all__ = ["read_file", "read_files"]


def _decode(data: bytes) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("gb18030")


def read_file(path: Path, rel: str) -> pl.DataFrame:
    """All columns as text (empty cells as null), plus ``file`` and ``line`` (manifest numbering)."""
    if path.suffix == ".csv":
        frame = pl.read_csv(io.StringIO(_decode(path.read_bytes())), infer_schema=False)
        first = 2
    elif path.suffix == ".jsonl":
        frame = pl.read_ndjson(path, infer_schema_length=None)
        first = 1
    else:
        frame = pl.read_parquet(path)
        first = 1
    frame = frame.with_columns(pl.all().cast(pl.String))
    return frame.with_columns(
        pl.lit(rel).alias("file"), (pl.int_range(pl.len(), dtype=pl.Int64) + first).alias("line")
    )


def read_files(root: Path) -> pl.DataFrame:
    """Every row of every file under ``root`` (one frame, union of the columns)."""
    parts = [read_file(p, p.relative_to(root).as_posix()) for p in sorted(root.rglob("*")) if p.is_file()]
    return pl.concat(parts, how="diagonal")
