"""Generate a synthetic city: department files, ground truth, defect manifest and volumes.

People are processed in chunks of ``CHUNK`` (organisations are spread over the same chunks), so
memory stays flat however large the city is: every chunk appends to the open department files.
Random numbers come from ``SeedSequence([seed, ...])`` per stage and chunk, and every ordering is
stable, so the same arguments give byte-identical output.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
from collections import Counter
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq

from features.catalogue import load_catalogue
from synth.batch import Batch, nulls
from synth.defects import Defector, MinorCandidates
from synth.lives import Lives, live
from synth.org_records import org_rows
from synth.orgs import OrgLives, Orgs, draw_orgs, live_orgs
from synth.people import People, draw_people
from synth.person_records import person_rows
from synth.sink import Sink
from synth.timeline import Timeline, age_years

__all__ = ["CHUNK", "CityConfig", "CitySummary", "generate_city"]

CHUNK = 8192
_MANIFEST_SCHEMA = {
    "file": pl.String,
    "line": pl.Int64,
    "defect": pl.String,
    "expected": pl.String,
    "detail": pl.String,
}


@dataclass(frozen=True)
class CityConfig:
    people: int
    enterprises: int
    months: int = 36
    as_of: dt.date = dt.date(2025, 6, 30)
    seed: int = 0
    defect_rate: float = 0.005
    today: dt.date | None = None  # the real date by default; records must not lie after it


@dataclass
class CitySummary:
    out: Path
    people: int
    organisations: int
    rows: int
    files: int
    defects: Counter[str]
    as_of_dates: list[dt.date]
    base_rates: dict[str, dict[str, float]] = field(default_factory=dict)
    volumes: dict[str, Any] = field(default_factory=dict)


def _clean(out: Path) -> None:
    for sub in ("files", "truth"):
        if (out / sub).exists():
            shutil.rmtree(out / sub)
    for name in ("manifest.csv", "volumes.json"):
        (out / name).unlink(missing_ok=True)


def _quarters(tl: Timeline) -> tuple[np.ndarray, list[str]]:
    """Per window day the index of its calendar quarter, and the quarter labels (2023Q1 …)."""
    days = np.arange(tl.first_day, tl.last_day + 1)
    month = np.searchsorted(tl.month_first, days, side="right") - 1
    labels = list(dict.fromkeys(tl.quarter_labels))
    q_of_month = np.array([labels.index(q) for q in tl.quarter_labels])
    return q_of_month[month], labels


def _minor_candidates(lives: Any, tl: Timeline, rng: np.random.Generator) -> MinorCandidates:
    age, present = lives.age, lives.present
    ok = present & (age >= 10) & (age < 18)
    rows = np.flatnonzero(ok.any(axis=1))
    if len(rows) == 0:
        return MinorCandidates(np.zeros(0, dtype=str), np.zeros(0, dtype=np.int64))
    # A random allowed month per minor, then a day in it on which they are still under 18.
    key = np.where(ok[rows], rng.random(ok[rows].shape), -1.0)
    month = key.argmax(axis=1)
    day = tl.month_first[month] + rng.integers(0, 28, size=len(rows))
    birth = lives.people.birth_day[lives.lo + rows]
    young = age_years(birth, day) < 18
    return MinorCandidates(lives.trait("ids")[rows[young]], day[young])


def generate_city(config: CityConfig, out: Path) -> CitySummary:
    """Write the city under ``out`` (``files/``, ``truth/``, ``manifest.csv``, ``volumes.json``)."""
    if config.people < 1 or config.enterprises < 0:
        raise ValueError("a city needs at least one person and no negative number of enterprises")
    if not 0 <= config.defect_rate < 0.2:
        raise ValueError("--defect-rate must lie in [0, 0.2)")
    catalogue = load_catalogue()
    tl = Timeline(config.as_of, config.months, config.today or dt.date.today())
    out.mkdir(parents=True, exist_ok=True)
    _clean(out)
    static = np.random.default_rng(np.random.SeedSequence([config.seed, 0]))
    people = draw_people(static, config.people, tl)
    orgs = draw_orgs(static, config.enterprises, people, tl)
    sink = Sink(out / "files", catalogue)
    q_of_day, q_labels = _quarters(tl)
    as_of_day = tl.ordinal(tl.as_of)
    n_chunks = -(-config.people // CHUNK)
    truth = _TruthStream(out / "truth")
    parts = out / ".manifest-parts.csv"
    record_counts = np.zeros(config.people + config.enterprises, dtype=np.int64)
    defects: Counter[str] = Counter()
    rows_by_kind: Counter[str] = Counter()
    # Generation of chunk k+1 overlaps the writing of chunk k (one writer thread, files written in
    # chunk order, so the output does not depend on timing).
    pending: Future[pl.DataFrame] | None = None
    with ThreadPoolExecutor(max_workers=1) as writer, parts.open("wb") as manifest:
        for k in range(n_chunks):
            rng = np.random.default_rng(np.random.SeedSequence([config.seed, 1, k]))
            lo, hi = k * CHUNK, min((k + 1) * CHUNK, config.people)
            olo, ohi = k * config.enterprises // n_chunks, (k + 1) * config.enterprises // n_chunks
            lives = live(rng, people, lo, hi, tl)
            olives = live_orgs(rng, orgs, people, olo, ohi, tl, coverage=k == 0)
            defector = Defector(
                catalogue,
                np.random.default_rng(np.random.SeedSequence([config.seed, 2, k])),
                config.defect_rate,
                len(q_labels),
            )
            batch = Batch(catalogue, tl, k, count_until=as_of_day, quarter_of_day=q_of_day, defector=defector)
            person_rows(batch, lives, rng)
            org_rows(batch, olives, people.ids[orgs.rep[olo:ohi]], rng)
            copies, next_rid = defector.copy_frames(batch.next_rid)
            minors = defector.minor_listings(
                sum(batch.rows_by_kind.values()),
                _minor_candidates(lives, tl, rng),
                serial_base=k * 10_000_000 + 9_000_000,
                next_rid=next_rid,
                quarter_of_day=q_of_day,
                first_day=tl.first_day,
            )
            frames = batch.file_frames([*copies.items(), *minors.items()])
            rows_by_kind.update(batch.rows_by_kind)
            record_counts[lo:hi] = batch.counts[: hi - lo]
            record_counts[config.people + olo : config.people + ohi] = batch.counts[hi - lo :]
            truth.add(tl, lives, olives)
            del lives, olives, batch, defector
            if pending is not None:
                pending.result().write_csv(manifest, include_header=k == 1)
            pending = writer.submit(_write, sink, frames, q_labels, defects)
            del frames
        if pending is not None:
            pending.result().write_csv(manifest, include_header=n_chunks == 1)
    sink.close()
    truth.close()
    _write_subjects(out / "truth", people, orgs, tl, record_counts)
    man = pl.read_csv(parts, schema=_MANIFEST_SCHEMA).sort(["file", "line"])
    man.write_csv(out / "manifest.csv")
    parts.unlink()
    volumes = _volumes(config, sink, rows_by_kind, defects, tl)
    (out / "volumes.json").write_text(
        json.dumps(volumes, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    return CitySummary(
        out=out,
        people=config.people,
        organisations=config.enterprises,
        rows=int(sum(rows_by_kind.values())),
        files=len(sink.files),
        defects=defects,
        as_of_dates=tl.as_of_dates,
        base_rates=truth.base_rates(),
        volumes=volumes,
    )


_TRUTH_SCHEMA = pa.schema(
    [
        ("subject_id", pa.string()),
        ("subject_type", pa.string()),
        ("as_of", pa.date32()),
        ("p_true", pa.float64()),
        ("outcome", pa.int8()),
    ]
)
_DRIVER_SCHEMA = pa.schema(
    [
        ("subject_id", pa.string()),
        ("as_of", pa.date32()),
        ("state", pa.float64()),
        ("unemployed", pa.bool_()),
        ("indebted", pa.bool_()),
        ("young", pa.bool_()),
    ]
)


class _TruthStream:
    """Truth and driver rows, appended chunk by chunk (rows grouped by chunk, then as-of date),
    with the outcome counts behind the base rates."""

    def __init__(self, root: Path) -> None:
        root.mkdir(parents=True, exist_ok=True)
        self._truth = pq.ParquetWriter(root / "truth.parquet", _TRUTH_SCHEMA, compression="snappy")
        self._drivers = pq.ParquetWriter(root / "drivers.parquet", _DRIVER_SCHEMA, compression="snappy")
        self._tally: dict[tuple[str, str], list[int]] = {}

    def add(self, tl: Timeline, lives: Lives, olives: OrgLives) -> None:
        truth: dict[str, list[Any]] = {name: [] for name in _TRUTH_SCHEMA.names}
        drivers: dict[str, list[Any]] = {name: [] for name in _DRIVER_SCHEMA.names}
        for b, as_of in zip(tl.labelled_blocks, tl.as_of_dates, strict=True):
            for ids, kinds, life, group in (
                (lives.trait("ids"), "person", lives, "person"),
                (olives.attr("ids"), olives.attr("subject_type"), olives, "organisation"),
            ):
                sel = np.flatnonzero(life.in_city[:, b])
                n = len(sel)
                p, outcome = life.p[sel, b], life.outcome[sel, b]
                truth["subject_id"].append(ids[sel])
                truth["subject_type"].append(np.broadcast_to(np.asarray(kinds), (len(ids),))[sel])
                truth["as_of"].append(np.full(n, np.datetime64(as_of, "D")))
                truth["p_true"].append(p)
                truth["outcome"].append(outcome.astype(np.int8))
                drivers["subject_id"].append(ids[sel])
                drivers["as_of"].append(np.full(n, np.datetime64(as_of, "D")))
                for name in ("state", "unemployed", "indebted", "young"):
                    values = life.drivers.get(name)
                    fill = np.full(n, np.nan) if name == "state" else np.zeros(n, dtype=bool)
                    drivers[name].append(values[sel, b] if values is not None else fill)
                tally = self._tally.setdefault((group, as_of.isoformat()), [0, 0])
                tally[0] += int((p > 0).sum())
                tally[1] += int(outcome[p > 0].sum())
        self._truth.write_table(_table(truth, _TRUTH_SCHEMA))
        self._drivers.write_table(_table(drivers, _DRIVER_SCHEMA))

    def close(self) -> None:
        self._truth.close()
        self._drivers.close()

    def base_rates(self) -> dict[str, dict[str, float]]:
        """Outcome rate per group and as-of date among the scored subjects (minors have p_true 0)."""
        out: dict[str, dict[str, float]] = {}
        for (group, as_of), (n, k) in sorted(self._tally.items()):
            out.setdefault(group, {})[as_of] = round(k / n, 4) if n else 0.0
        return out


def _table(columns: dict[str, list[Any]], schema: pa.Schema) -> pa.Table:
    arrays = [pa.array(np.concatenate(columns[name]), type=schema.field(name).type) for name in schema.names]
    return pa.Table.from_arrays(arrays, schema=schema)


def _write(
    sink: Sink, frames: dict[tuple[str, int], pl.DataFrame], q_labels: list[str], defects: Counter[str]
) -> pl.DataFrame:
    """Write one chunk's file frames; return its manifest rows."""
    flagged: list[pl.DataFrame] = []
    located: list[pl.DataFrame] = []
    sources = pl.concat(
        [f.select(pl.col("_src").drop_nulls()) for f in frames.values() if "_src" in f.columns]
        + [pl.DataFrame(schema={"_src": pl.Int64})]
    )["_src"]
    top = max((int(f["_rid"].max() or 0) for f in frames.values()), default=0)  # type: ignore[arg-type]
    is_source = np.zeros(top + 1, dtype=np.bool_)
    is_source[sources.to_numpy()] = True
    for (dept, q), frame in frames.items():
        # Rows stay in generation order (by kind, then month and subject), as exports do.
        period = q_labels[q]
        before = sink.write(dept, period, frame)
        rel = sink.relative(dept, period)
        first_line = before + 1 + sink.header_lines(dept)
        if "_defect" in frame.columns:
            pos = frame["_defect"].is_not_null().arg_true()
            if len(pos):
                src = frame["_src"].gather(pos) if "_src" in frame.columns else nulls(len(pos), pl.Int64)
                flagged.append(
                    pl.DataFrame(
                        {
                            "file": pl.repeat(rel, len(pos), eager=True),
                            "line": pos.cast(pl.Int64) + first_line,
                            "defect": frame["_defect"].gather(pos),
                            "expected": frame["_expected"].gather(pos),
                            "_src": src.cast(pl.Int64),
                        }
                    )
                )
        if len(sources):
            hit = pl.Series(np.flatnonzero(is_source[frame["_rid"].to_numpy()]))
            if len(hit):
                located.append(
                    pl.DataFrame(
                        {
                            "_rid": frame["_rid"].gather(hit),
                            "src_file": pl.repeat(rel, len(hit), eager=True),
                            "src_line": hit.cast(pl.Int64) + first_line,
                        }
                    )
                )
    rows = (
        pl.concat(flagged)
        if flagged
        else pl.DataFrame(schema={**_MANIFEST_SCHEMA, "_src": pl.Int64}).drop("detail")
    )
    for name, count in rows.group_by("defect").len().iter_rows():
        defects[str(name)] += int(count)
    where = (
        pl.concat(located)
        if located
        else pl.DataFrame(schema={"_rid": pl.Int64, "src_file": pl.String, "src_line": pl.Int64})
    )
    return (
        rows.join(where, left_on="_src", right_on="_rid", how="left", maintain_order="left")
        .with_columns(
            pl.when(pl.col("src_file").is_not_null())
            .then(pl.format("copy of {}:{}", pl.col("src_file"), pl.col("src_line")))
            .otherwise(pl.lit(""))
            .alias("detail")
        )
        .select(*_MANIFEST_SCHEMA)
    )


def _write_subjects(root: Path, people: People, orgs: Orgs, tl: Timeline, counts: np.ndarray) -> None:
    """persons.parquet and organisations.parquet, with the records dated on or before D."""
    arrival = np.where(people.arrive > 0, tl.month_first[np.maximum(people.arrive, 0)], -1)
    persons = pl.DataFrame(
        {
            "subject_id": pl.Series(people.ids, dtype=pl.String),
            "subject_type": pl.repeat("person", people.n, eager=True),
            "birth_date": pl.Series(people.birth_day.astype("datetime64[D]")),
            "birth_year": pl.Series(people.birth_year, dtype=pl.Int32),
            "gender": pl.Series(np.where(people.male, "M", "F")),
            "district": pl.Series(people.district, dtype=pl.String),
            "local_id": pl.Series(people.local),
            "newcomer": pl.Series(people.newcomer),
            "arrival_date": pl.Series(arrival.astype("datetime64[D]")).set(pl.Series(arrival < 0), None),
            "conscientiousness": pl.Series(people.c),
            "fragility": pl.Series(people.f),
            "income_z": pl.Series(people.wage_z),
            "driver": pl.Series(people.driver),
            "volunteer": pl.Series(people.volunteer),
        }
    )
    orgs_frame = pl.DataFrame(
        {
            "subject_id": pl.Series(orgs.ids, dtype=pl.String),
            "subject_type": pl.Series(orgs.subject_type, dtype=pl.String),
            "name": pl.Series(orgs.name, dtype=pl.String),
            "sector": pl.Series(orgs.sector, dtype=pl.String),
            "size": pl.Series(orgs.size, dtype=pl.String),
            "registered_on": pl.Series(orgs.registered_day.astype("datetime64[D]")),
            "district": pl.Series(orgs.district, dtype=pl.String),
            "legal_rep_id": pl.Series(
                people.ids[orgs.rep] if orgs.n else np.zeros(0, dtype=str), dtype=pl.String
            ),
            "weakness": pl.Series(orgs.q, dtype=pl.Float64),
        }
    )
    for name, frame, n in (
        ("persons", persons, slice(0, people.n)),
        ("organisations", orgs_frame, slice(people.n, None)),
    ):
        frame = frame.with_columns(pl.Series("records_to_as_of", counts[n], dtype=pl.Int64))
        frame = frame.with_columns((pl.col("records_to_as_of") < 12).alias("thin_file"))
        frame.write_parquet(root / f"{name}.parquet")


def _volumes(
    config: CityConfig, sink: Sink, rows_by_kind: Counter[str], defects: Counter[str], tl: Timeline
) -> dict[str, Any]:
    rows = int(sum(rows_by_kind.values()))
    return {
        "people": config.people,
        "enterprises": config.enterprises,
        "months": tl.n_months,
        "window": {"after": tl.start.isoformat(), "through": tl.end.isoformat()},
        "as_of_dates": [d.isoformat() for d in tl.as_of_dates],
        "rows": rows,
        "rows_per_person_month": round(rows / max(config.people, 1) / tl.n_months, 3),
        "files": len(sink.files),
        "files_per_format": dict(sorted(sink.file_counts().items())),
        "rows_per_format": dict(sorted(sink.rows_by_format.items())),
        "rows_per_kind": dict(sorted(rows_by_kind.items())),
        "defects": dict(sorted(defects.items())),
    }
