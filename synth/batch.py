"""Rows of one chunk, built kind by kind from numpy arrays and grouped by department.

Every row gets the common columns (kind, subject_id, event_date, department), the fields of its
kind (typed from the catalogue: text, Float64 numbers, Int64 integers) and private columns the
writer drops: ``_kind`` (the true kind, kept when a defect renames ``kind``), ``_rid`` (row id in
the chunk) and, where a defect was injected, ``_defect``/``_expected``. Rows are made defective
as they are added (``protect`` marks outcome events and registrations, which never are).

Text with few distinct values travels as ``Codes`` (labels + integer codes): turning numpy text
arrays into polars columns row by row is slow, gathering from a short label list is not.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import polars as pl

from features.catalogue import Catalogue
from synth.timeline import Timeline

if TYPE_CHECKING:
    from synth.defects import Defector

__all__ = ["Batch", "Codes", "dtype_of", "nulls"]

_DTYPES = {"number": pl.Float64, "integer": pl.Int64}


def dtype_of(field_type: str) -> type[pl.DataType]:
    return _DTYPES.get(field_type, pl.String)


def nulls(n: int, dtype: type[pl.DataType]) -> pl.Series:
    """An all-null column (faster than ``pl.repeat(None, ...)``)."""
    return pl.Series([None], dtype=dtype).extend_constant(None, n - 1)


@dataclass(frozen=True)
class Codes:
    """A text column as labels and integer codes."""

    labels: tuple[str, ...]
    codes: np.ndarray

    @classmethod
    def where(cls, cond: np.ndarray, yes: str, no: str) -> Codes:
        return cls((no, yes), np.asarray(cond, dtype=np.int64))

    def __len__(self) -> int:
        return len(self.codes)

    def __getitem__(self, sel: Any) -> Codes:
        return Codes(self.labels, self.codes[sel])

    def eq(self, label: str) -> np.ndarray:
        if label not in self.labels:
            return np.zeros(len(self.codes), dtype=bool)
        out: np.ndarray = self.codes == self.labels.index(label)
        return out

    def isin(self, labels: Sequence[str]) -> np.ndarray:
        wanted = [k for k, lab in enumerate(self.labels) if lab in labels]
        out: np.ndarray = np.isin(self.codes, wanted)
        return out

    def map(self, mapping: Mapping[str, str]) -> Codes:
        return Codes(tuple(mapping[lab] for lab in self.labels), self.codes)

    def series(self, name: str = "") -> pl.Series:
        return pl.Series(name, list(self.labels), dtype=pl.String).gather(self.codes)


class Batch:
    def __init__(
        self,
        catalogue: Catalogue,
        timeline: Timeline,
        chunk: int,
        count_until: int,
        quarter_of_day: np.ndarray,
        defector: Defector | None = None,
    ) -> None:
        self.catalogue = catalogue
        self.timeline = timeline
        self.chunk = chunk
        self._first_day = timeline.first_day
        self._days = timeline.day_strings()
        self._months = pl.Series("m", timeline.month_labels)
        self._serial: dict[str, int] = defaultdict(int)
        self._ids: list[np.ndarray] = []
        self._series: pl.Series | None = None
        self._counts = np.zeros(0, dtype=np.int64)
        self._count_until = count_until
        self._quarter_of_day = quarter_of_day
        self._next_rid = 0
        self.rows_by_kind: Counter[str] = Counter()
        self.defector: Defector | None = defector
        self._n_quarters = int(quarter_of_day.max()) + 1
        self.parts: dict[tuple[str, int], list[pl.DataFrame]] = defaultdict(list)

    # -- subjects --------------------------------------------------------------------------------
    def register(self, ids: np.ndarray) -> int:
        """Register the subject ids of a group; returns the offset of its first subject."""
        offset = len(self._counts)
        self._ids.append(np.asarray(ids))
        self._series = None
        self._counts = np.concatenate([self._counts, np.zeros(len(ids), dtype=np.int64)])
        return offset

    @property
    def ids(self) -> pl.Series:
        if self._series is None:
            self._series = pl.Series("subject_id", self.subject_ids, dtype=pl.String)
        return self._series

    @property
    def subject_ids(self) -> np.ndarray:
        return np.concatenate(self._ids) if self._ids else np.zeros(0, dtype=str)

    @property
    def counts(self) -> np.ndarray:
        """Rows per registered subject with an event day on or before ``count_until``."""
        return self._counts

    # -- helpers ---------------------------------------------------------------------------------
    def month(self, t: np.ndarray) -> pl.Series:
        """Period labels (YYYY-MM) of window months."""
        return self._months.gather(np.asarray(t, dtype=np.int64))

    def serials(self, key: str, n: int) -> np.ndarray:
        """``n`` numbers unique across the whole city for ``key`` (chunk number in the high digits)."""
        start = self._serial[key]
        self._serial[key] = start + n
        return self.chunk * 10_000_000 + start + np.arange(n, dtype=np.int64)

    # -- building --------------------------------------------------------------------------------
    def add(
        self,
        kind: str,
        subject: np.ndarray,
        day: np.ndarray,
        department: str | Codes,
        fields: Mapping[str, Any],
        protect: np.ndarray | bool = False,
    ) -> None:
        """Add rows of one kind. ``fields`` values: arrays, Series, Codes, scalars, or None (empty)."""
        subject = np.asarray(subject, dtype=np.int64)
        n = len(subject)
        if n == 0:
            return
        spec = self.catalogue.kind(kind)
        day = np.asarray(day, dtype=np.int64)
        if day.min() < self._first_day or day.max() > self.timeline.last_day:
            raise AssertionError(f"{kind}: event day outside the window")
        np.add.at(self._counts, subject[day <= self._count_until], 1)
        self.rows_by_kind[kind] += n
        labels = (department,) if isinstance(department, str) else department.labels
        dept_code = np.zeros(n, dtype=np.int64) if isinstance(department, str) else department.codes
        cols: dict[str, pl.Series] = {
            "kind": pl.repeat(kind, n, eager=True, dtype=pl.String),
            "subject_id": self.ids.gather(subject),
            "event_date": self._days.gather(day - self._first_day),
            "department": pl.Series(list(labels), dtype=pl.String).gather(dept_code),
        }
        unknown = set(fields) - set(spec.fields)
        if unknown:
            raise AssertionError(f"{kind}: fields {sorted(unknown)} not in the catalogue")
        for name, fs in spec.fields.items():
            value = fields.get(name)
            dtype = dtype_of(fs.type)
            if value is None:
                cols[name] = nulls(n, dtype)
            elif isinstance(value, str | int | float):
                cols[name] = pl.repeat(value, n, eager=True, dtype=dtype)
            elif isinstance(value, Codes):
                cols[name] = value.series().cast(dtype)
            else:
                cols[name] = pl.Series(name, value, nan_to_null=True).cast(dtype)
            if len(cols[name]) != n:
                raise AssertionError(f"{kind}.{name}: {len(cols[name])} values for {n} rows")
        quarter = self._quarter_of_day[day - self._first_day]
        rid = self._next_rid + np.arange(n, dtype=np.int64)
        self._next_rid += n
        cols["_kind"] = cols["kind"].clone()
        cols["_rid"] = pl.Series(rid)
        if self.defector is not None:
            protected = np.broadcast_to(np.asarray(protect, dtype=bool), (n,))
            self.defector.apply(spec, cols, labels, dept_code, quarter, protected, rid)
        frame = pl.DataFrame([v.alias(k) for k, v in cols.items()])
        # Split by (department, quarter of the event) with one stable sort and zero-copy slices.
        key = dept_code * self._n_quarters + quarter
        if np.any(key[1:] < key[:-1]):
            order = np.argsort(key, kind="stable")
            key = key[order]
            frame = frame[order]
        bounds = np.flatnonzero(np.diff(key)) + 1
        starts = np.concatenate([[0], bounds])
        ends = np.concatenate([bounds, [n]])
        for a, b in zip(starts, ends, strict=True):
            d, q = divmod(int(key[a]), self._n_quarters)
            self.parts[(labels[d], q)].append(frame.slice(int(a), int(b - a)))

    def file_frames(
        self, extra: Sequence[tuple[tuple[str, int], pl.DataFrame]] = ()
    ) -> dict[tuple[str, int], pl.DataFrame]:
        """One frame per (department, quarter) (union of the kinds' columns), emptying the batch.

        ``extra`` frames (defect copies, listings of minors) go after the rows of their file."""
        for key, frame in extra:
            self.parts[key].append(frame)
            for kind, count in frame.group_by("_kind").len().iter_rows():
                self.rows_by_kind[str(kind)] += int(count)
        out = {key: pl.concat(parts, how="diagonal") for key, parts in sorted(self.parts.items())}
        self.parts.clear()
        return out

    @property
    def next_rid(self) -> int:
        return self._next_rid
