"""Publication of scores: versioned snapshots, atomic switch, history, rescoring and replay.

* :func:`publish_scores` (``credit score --as-of D``): features as of D as known now, the
  champion's probabilities, scores, classes and reasons for every subject, written as a new
  snapshot and switched in atomically (see ``scoring.db.score_tables``).
* :func:`current_score`, :func:`score_history`, :func:`score_row`: what readers see.
* :func:`rescore_subject` / :func:`rescore_changed`: when a subject's records change (a new
  record, a correction, an objection outcome, a repair, a withdrawal or an expiry event), that
  subject alone is rescored against the snapshot in force and, if anything changed, the new row
  is published (it is the subject's current score from that moment).
* :func:`replay`: rebuild a stored score's features from the records store as known at the time
  of scoring, check their hash, and rescore them with the bundle of the model version that made
  the score.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import logging
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
from sqlalchemy import Connection, Engine, text

from features.pipelines import ORG_TYPES
from features.registry import Registry, load_registry
from models.bundle import ServingBundle
from models.explain import PatternTreeShap
from scoring.bundles import ModelUnavailable, champion_version, load_bundle
from scoring.db import score_tables  # noqa: F401  (registers the tables)
from scoring.features import SubjectNotFound, build_feature_tables, read_feature_table, subject_features
from scoring.identity import IdentityVault
from scoring.scores import ScoringPolicy, compute_scores, is_minor

__all__ = [
    "Publication",
    "PublishError",
    "Replay",
    "ReplayError",
    "Rescore",
    "changed_subjects",
    "current_score",
    "publish_scores",
    "replay",
    "rescore_after_change",
    "rescore_changed",
    "rescore_subject",
    "score_group",
    "score_history",
    "score_row",
]

logger = logging.getLogger(__name__)
GROUPS = ("person", "enterprise")
_COLUMNS = (
    "snapshot_id",
    "subject_id",
    "subject_type",
    "origin",
    "cause",
    "state",
    "pd",
    "score",
    "grade",
    "model_grade",
    "downgrades",
    "flags",
    "as_of",
    "known_at",
    "model_version",
    "registry_version",
    "feature_hash",
    "features",
    "feature_names",
    "contributions",
    "reasons_lowering",
    "reasons_raising",
    "scored_at",
)


class PublishError(RuntimeError):
    """A publication that cannot proceed (no champion, no features)."""


class ReplayError(LookupError):
    """A stored score that cannot be replayed (unknown id, registry changed, bundle missing)."""


def score_group(subject_type: str) -> str:
    """``person`` or ``enterprise`` (every organisation type is scored by the enterprise model)."""
    if subject_type == "person":
        return "person"
    if subject_type in ORG_TYPES:
        return "enterprise"
    raise ValueError(f"unknown subject type {subject_type!r}")


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


@dataclass(frozen=True)
class Publication:
    snapshot_id: int
    subject_type: str
    as_of: dt.date
    known_at: dt.datetime
    model_version: str | None
    registry_version: str
    rows: int
    states: dict[str, int] = field(default_factory=dict)
    grades: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0


def _compatible(bundle: ServingBundle, reg: Registry, group: str) -> ServingBundle:
    """A champion is used only with the feature registry it was trained on: a changed registry
    may change what a feature means, and a score must be replayable from its registry version."""
    if bundle.feature_registry_version != reg.version:
        raise PublishError(
            f"the {group} champion (version {bundle.model_version}) was trained on feature registry"
            f" {bundle.feature_registry_version}, but this service has {reg.version}: train and promote a"
            " model on the current registry first"
        )
    return bundle


class BundleCache:
    """Verified bundles by (group, version), with their TreeSHAP pattern tables kept warm."""

    def __init__(self, bundle_dir: Path) -> None:
        self.bundle_dir = Path(bundle_dir)
        self._bundles: dict[tuple[str, str], ServingBundle] = {}
        self._explainers: dict[tuple[str, str], PatternTreeShap] = {}

    def champion(self, group: str) -> ServingBundle:
        return self.get(group, champion_version(self.bundle_dir, group))

    def get(self, group: str, version: str) -> ServingBundle:
        key = (group, str(version))
        if key not in self._bundles:
            self._bundles[key] = load_bundle(self.bundle_dir, group, str(version))
        return self._bundles[key]

    def explainer(self, bundle: ServingBundle, group: str) -> PatternTreeShap | None:
        if bundle.booster is None:
            return None
        key = (group, bundle.model_version)
        if key not in self._explainers:
            self._explainers[key] = PatternTreeShap(bundle.booster)
        return self._explainers[key]


# --- minors --------------------------------------------------------------------------------------


def _birth_dates(conn: Connection, vault: IdentityVault, ids: Sequence[int]) -> dict[int, dt.date]:
    """Exact birth dates (from the encrypted identity number) for the few persons who need one."""
    out: dict[int, dt.date] = {}
    for start in range(0, len(ids), 5000):
        part = [int(i) for i in ids[start : start + 5000]]
        if not part:
            continue
        marks = ",".join(str(i) for i in part)  # integers only: safe to inline
        rows = conn.execute(text(f"SELECT id, id_cipher FROM subjects WHERE id IN ({marks})")).all()
        for sid, cipher in rows:
            if not cipher:
                continue
            number = vault.decrypt(cipher)
            try:
                out[int(sid)] = dt.date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
            except ValueError:
                continue
    return out


def _minor_mask(
    conn: Connection, vault: IdentityVault | None, ids: np.ndarray, birth_years: np.ndarray, as_of: dt.date
) -> np.ndarray:
    """Persons under 18 on ``as_of``; the identity number settles the birth years that straddle it."""
    years = np.where(np.isnan(birth_years), -1, birth_years).astype(np.int64)
    age = as_of.year - years
    minor = (years >= 0) & (age < 18)
    borderline = np.flatnonzero((years >= 0) & (age == 18))
    if borderline.size:
        dates = _birth_dates(conn, vault, ids[borderline].tolist()) if vault is not None else {}
        for i in borderline:
            minor[i] = is_minor(dates.get(int(ids[i])), int(years[i]), as_of)
    return minor


# --- writing -------------------------------------------------------------------------------------


def _write_rows(conn: Connection, frame: pl.DataFrame) -> None:
    frame = frame.select(_COLUMNS)
    if conn.dialect.name == "postgresql":
        raw: Any = conn.connection.driver_connection
        buf = io.BytesIO()
        frame.write_csv(buf, include_header=False, datetime_format="%Y-%m-%d %H:%M:%S%.f", null_value="")
        sql = f"COPY scores ({', '.join(_COLUMNS)}) FROM STDIN WITH (FORMAT csv)"
        with raw.cursor() as cur, cur.copy(sql) as copy:
            view = buf.getbuffer()
            for start in range(0, len(view), 1 << 22):
                copy.write(view[start : start + (1 << 22)])
        return
    marks = ", ".join(f":{c}" for c in _COLUMNS)
    stmt = text(f"INSERT INTO scores ({', '.join(_COLUMNS)}) VALUES ({marks})")
    conn.execute(stmt, frame.to_dicts())


def _row_frame(scored: pl.DataFrame, extra: Mapping[str, Any]) -> pl.DataFrame:
    cols = [pl.lit(v).alias(k) for k, v in extra.items()]
    return scored.with_columns(cols)


def _switch(conn: Connection, group: str, snapshot_id: int, rows: int, when: dt.datetime) -> None:
    """Move the pointer: the one statement that makes a snapshot visible (inside a transaction)."""
    previous = conn.execute(
        text("SELECT snapshot_id FROM score_publications WHERE subject_type = :g"), {"g": group}
    ).scalar()
    if previous is None:
        conn.execute(
            text(
                "INSERT INTO score_publications (subject_type, snapshot_id, published_at) VALUES (:g, :s, :t)"
            ),
            {"g": group, "s": snapshot_id, "t": when},
        )
    else:
        conn.execute(
            text("UPDATE score_publications SET snapshot_id = :s, published_at = :t WHERE subject_type = :g"),
            {"g": group, "s": snapshot_id, "t": when},
        )
        conn.execute(text("UPDATE score_snapshots SET status = 'superseded' WHERE id = :p"), {"p": previous})
    conn.execute(
        text("UPDATE score_snapshots SET status = 'published', rows = :n, published_at = :t WHERE id = :s"),
        {"s": snapshot_id, "n": rows, "t": when},
    )


def publish_scores(
    engine: Engine,
    settings: Any,
    as_of: dt.date,
    *,
    known_at: dt.datetime | None = None,
    actor: str = "system",
    groups: Iterable[str] = GROUPS,
    feature_tables: Mapping[str, str | Path | pl.DataFrame] | None = None,
    registry: Registry | None = None,
    chunk_rows: int = 200_000,
    progress: Callable[[str, int, int], None] | None = None,
    after_chunk: Callable[[str, int], None] | None = None,
) -> list[Publication]:
    """Compute and publish a snapshot per subject group that has a champion model.

    ``feature_tables`` (group → Parquet path or frame) skips the feature build; otherwise the
    features are built as of ``as_of`` as known at ``known_at`` (default: now). Each group's rows
    are written in chunks, then switched in with one transaction. ``after_chunk(group, rows)``
    runs after each written chunk (tests use it to kill the job midway).
    """
    reg = registry or load_registry()
    known = known_at or _now()
    vault = IdentityVault.from_settings(settings)
    policy = ScoringPolicy.from_settings(settings)
    cache = BundleCache(settings.bundle_dir)
    wanted = [g for g in groups]
    with engine.begin() as conn:  # a job killed earlier left a snapshot nobody reads
        conn.execute(text("UPDATE score_snapshots SET status = 'failed' WHERE status = 'building'"))
    champions: dict[str, ServingBundle] = {}
    for g in wanted:
        try:
            champions[g] = _compatible(cache.champion(g), reg, g)
        except ModelUnavailable:
            logger.warning("no champion model for %s: not published", g)
    if not champions:
        raise PublishError("no champion model: train one first (credit train)")
    tables: dict[str, pl.DataFrame] = {}
    if feature_tables is None:
        out = Path(settings.var_dir) / "features" / f"scoring-{known:%Y%m%dT%H%M%S}"
        build = build_feature_tables(engine, as_of, out, known_at=known, registry=reg)
        feature_tables = dict(build.paths)
    for g in champions:
        source = feature_tables.get(g)
        if source is None:
            raise PublishError(f"no feature table for {g}")
        if isinstance(source, pl.DataFrame):
            tables[g] = source
        else:
            frame, meta = read_feature_table(source)
            if meta.get("registry_version") != reg.version:
                raise PublishError(
                    f"{source}: registry {meta.get('registry_version')}, expected {reg.version}"
                )
            tables[g] = frame
    results = []
    for g, bundle in champions.items():
        results.append(
            _publish_group(
                engine,
                g,
                tables[g],
                bundle,
                cache,
                reg,
                policy,
                vault,
                as_of,
                known,
                actor,
                chunk_rows,
                progress,
                after_chunk,
            )
        )
    return results


def _publish_group(
    engine: Engine,
    group: str,
    frame: pl.DataFrame,
    bundle: ServingBundle,
    cache: BundleCache,
    reg: Registry,
    policy: ScoringPolicy,
    vault: IdentityVault,
    as_of: dt.date,
    known: dt.datetime,
    actor: str,
    chunk_rows: int,
    progress: Callable[[str, int, int], None] | None,
    after_chunk: Callable[[str, int], None] | None,
) -> Publication:
    started = time.perf_counter()
    names = reg.names(group)
    now = _now()
    with engine.begin() as conn:
        snapshot_id = int(
            conn.execute(
                text(
                    "INSERT INTO score_snapshots (subject_type, as_of, known_at, model_name, model_version,"
                    " registry_version, feature_names, status, rows, actor, created_at)"
                    " VALUES (:g, :a, :k, :mn, :mv, :rv, :fn, 'building', 0, :actor, :c) RETURNING id"
                ),
                {
                    "g": group,
                    "a": as_of,
                    "k": known,
                    "mn": bundle.model_name,
                    "mv": bundle.model_version,
                    "rv": reg.version,
                    "fn": json.dumps(names),
                    "actor": actor,
                    "c": now,
                },
            ).scalar_one()
        )
    frame = frame.sort("subject_id")
    explainer = cache.explainer(bundle, group)
    states: dict[str, int] = {}
    grades: dict[str, int] = {}
    minors_all: np.ndarray | None = None
    if group == "person":
        with engine.connect() as conn:
            birth = conn.execute(
                text("SELECT id, birth_year FROM subjects WHERE subject_type = 'person'")
            ).all()
            years = pl.DataFrame(
                {"subject_id": [r[0] for r in birth], "birth_year": [r[1] for r in birth]},
                schema={"subject_id": pl.Int64, "birth_year": pl.Float64},
            )
            joined = frame.select("subject_id").join(years, on="subject_id", how="left")
            minors_all = _minor_mask(
                conn, vault, joined["subject_id"].to_numpy(), joined["birth_year"].to_numpy(), as_of
            )
    total = frame.height
    for start in range(0, total, chunk_rows):
        part = frame.slice(start, chunk_rows)
        minor = None if minors_all is None else minors_all[start : start + part.height]
        scored = compute_scores(part, group, bundle, reg, policy, minor=minor, explainer=explainer)
        rows = _row_frame(
            scored,
            {
                "snapshot_id": snapshot_id,
                "subject_type": group,
                "origin": "batch",
                "cause": None,
                "as_of": as_of,
                "known_at": known,
                "model_version": bundle.model_version,
                "registry_version": reg.version,
                "feature_names": None,
                "scored_at": now,
            },
        )
        with engine.begin() as conn:
            _write_rows(conn, rows)
        for k, v in scored["state"].value_counts().iter_rows():
            states[k] = states.get(k, 0) + int(v)
        for k, v in scored["grade"].drop_nulls().value_counts().iter_rows():
            grades[k] = grades.get(k, 0) + int(v)
        if progress is not None:
            progress(group, start + part.height, total)
        if after_chunk is not None:
            after_chunk(group, start + part.height)
    with engine.begin() as conn:
        _switch(conn, group, snapshot_id, total, _now())
    elapsed = time.perf_counter() - started
    logger.info("published %s snapshot %s: %s rows in %.1f s", group, snapshot_id, total, elapsed)
    return Publication(
        snapshot_id, group, as_of, known, bundle.model_version, reg.version, total, states, grades, elapsed
    )


# --- reading -------------------------------------------------------------------------------------

_SELECT = "SELECT s.* FROM scores s"


def _dict(row: Any) -> dict[str, Any]:
    out = dict(row._mapping)
    for key in ("as_of",):
        if isinstance(out.get(key), str):
            out[key] = dt.date.fromisoformat(out[key])
    for key in ("known_at", "scored_at"):
        if isinstance(out.get(key), str):
            out[key] = dt.datetime.fromisoformat(out[key])
    return out


def current_score(bind: Engine | Connection, subject_id: int) -> dict[str, Any] | None:
    """The subject's score in force: its latest row in the published snapshot (None if none)."""
    # Ordered like the (subject_id, snapshot_id, id) index, so the lookup is one index probe; an
    # ORDER BY id alone lets PostgreSQL walk the primary key backwards through the whole table.
    sql = text(
        f"{_SELECT} WHERE s.subject_id = :sid"
        " AND s.snapshot_id IN (SELECT snapshot_id FROM score_publications)"
        " ORDER BY s.snapshot_id DESC, s.id DESC LIMIT 1"
    )
    with _conn(bind) as conn:
        row = conn.execute(sql, {"sid": int(subject_id)}).first()
    return None if row is None else _dict(row)


def score_history(bind: Engine | Connection, subject_id: int) -> list[dict[str, Any]]:
    """Every score the subject has had in published (and since superseded) snapshots, oldest first."""
    sql = text(
        f"{_SELECT} JOIN score_snapshots n ON n.id = s.snapshot_id"
        " WHERE s.subject_id = :sid AND n.status IN ('published', 'superseded') ORDER BY s.snapshot_id, s.id"
    )
    with _conn(bind) as conn:
        return [_dict(r) for r in conn.execute(sql, {"sid": int(subject_id)})]


def score_row(bind: Engine | Connection, score_id: int) -> dict[str, Any] | None:
    with _conn(bind) as conn:
        row = conn.execute(text(f"{_SELECT} WHERE s.id = :i"), {"i": int(score_id)}).first()
    return None if row is None else _dict(row)


def feature_names_of(bind: Engine | Connection, row: Mapping[str, Any]) -> list[str]:
    if row.get("feature_names"):
        return list(json.loads(row["feature_names"]))
    with _conn(bind) as conn:
        names = conn.execute(
            text("SELECT feature_names FROM score_snapshots WHERE id = :i"), {"i": row["snapshot_id"]}
        ).scalar_one()
    return list(json.loads(names))


def feature_values(bind: Engine | Connection, row: Mapping[str, Any]) -> dict[str, float | None]:
    """The stored feature vector of a score row, by name."""
    names = feature_names_of(bind, row)
    values = str(row["features"]).split("|")
    return {n: (float(v) if v != "" else None) for n, v in zip(names, values, strict=True)}


class _conn:
    """``with _conn(engine_or_connection) as conn``: borrow a connection."""

    def __init__(self, bind: Engine | Connection) -> None:
        self.bind = bind
        self.own: Connection | None = None

    def __enter__(self) -> Connection:
        if isinstance(self.bind, Connection):
            return self.bind
        self.own = self.bind.connect()
        return self.own

    def __exit__(self, *exc: object) -> None:
        if self.own is not None:
            self.own.close()


# --- one subject: rescoring and replay -----------------------------------------------------------


def _subject_type(conn: Connection, subject_id: int) -> str:
    kind = conn.execute(text("SELECT subject_type FROM subjects WHERE id = :i"), {"i": subject_id}).scalar()
    if kind is None:
        raise SubjectNotFound(f"no subject {subject_id}")
    return str(kind)


def _score_one(
    engine: Engine,
    settings: Any,
    subject_id: int,
    group: str,
    as_of: dt.date,
    known: dt.datetime,
    bundle: ServingBundle,
    reg: Registry,
) -> pl.DataFrame:
    frame = subject_features(engine, subject_id, as_of, known_at=known, registry=reg)
    minor = None
    if group == "person":
        vault = IdentityVault.from_settings(settings)
        with engine.connect() as conn:
            year = conn.execute(
                text("SELECT birth_year FROM subjects WHERE id = :i"), {"i": subject_id}
            ).scalar()
            minor = _minor_mask(
                conn,
                vault,
                np.array([subject_id]),
                np.array([np.nan if year is None else float(year)]),
                as_of,
            )
    return compute_scores(frame, group, bundle, reg, ScoringPolicy.from_settings(settings), minor=minor)


@dataclass(frozen=True)
class Rescore:
    subject_id: int
    previous: dict[str, Any] | None
    current: dict[str, Any] | None
    changed: bool
    seconds: float


def rescore_subject(
    engine: Engine,
    settings: Any,
    subject_id: int,
    *,
    cause: str,
    cache: BundleCache | None = None,
    registry: Registry | None = None,
    known_at: dt.datetime | None = None,
) -> Rescore:
    """Rescore one subject against the snapshot in force; publish a new row if anything changed."""
    started = time.perf_counter()
    reg = registry or load_registry()
    cache = cache or BundleCache(settings.bundle_dir)
    with engine.connect() as conn:
        group = score_group(_subject_type(conn, subject_id))
        pointer = conn.execute(
            text(
                "SELECT n.id, n.as_of FROM score_publications p"
                " JOIN score_snapshots n ON n.id = p.snapshot_id WHERE p.subject_type = :g"
            ),
            {"g": group},
        ).first()
    if pointer is None:
        raise PublishError(f"no published {group} snapshot to rescore against")
    snapshot_id = int(pointer[0])
    as_of = pointer[1] if isinstance(pointer[1], dt.date) else dt.date.fromisoformat(str(pointer[1]))
    previous = current_score(engine, subject_id)
    bundle = _compatible(cache.champion(group), reg, group)
    known = known_at or _now()
    scored = _score_one(engine, settings, subject_id, group, as_of, known, bundle, reg)
    new = scored.row(0, named=True)
    same = (
        previous is not None
        and all(
            previous.get(k) == new.get(k)
            for k in ("state", "score", "grade", "feature_hash", "reasons_lowering")
        )
        and previous.get("model_version") == bundle.model_version
    )
    if same:
        return Rescore(subject_id, previous, previous, False, time.perf_counter() - started)
    rows = _row_frame(
        scored,
        {
            "snapshot_id": snapshot_id,
            "subject_type": group,
            "origin": "rescore",
            "cause": cause[:200],
            "as_of": as_of,
            "known_at": known,
            "model_version": bundle.model_version,
            "registry_version": reg.version,
            "feature_names": json.dumps(reg.names(group)),
            "scored_at": _now(),
        },
    )
    with engine.begin() as conn:
        _write_rows(conn, rows)
    current = current_score(engine, subject_id)
    from scoring.benefits import reconcile_grants  # a local import: scoring.benefits imports this module

    reconcile_grants(engine, subject_id)  # suspend or reinstate the subject's benefit grants
    return Rescore(subject_id, previous, current, True, time.perf_counter() - started)


def changed_subjects(engine: Engine, since: dt.datetime) -> dict[int, dt.datetime]:
    """Subjects whose records or record events were recorded after ``since``, with the time of
    their latest change, and the organisations they represent (an organisation's features include
    its legal representative's), with their representative's latest change."""
    sql = text(
        "SELECT subject_id, MAX(recorded_at) FROM ("
        " SELECT subject_id, recorded_at FROM records WHERE recorded_at > :t"
        " UNION ALL SELECT subject_id, recorded_at FROM record_events WHERE recorded_at > :t"
        ") changed GROUP BY subject_id"
    )
    with engine.connect() as conn:
        latest = {int(sid): _ts(when) for sid, when in conn.execute(sql, {"t": since})}
        persons = sorted(latest)
        for start in range(0, len(persons), 5000):
            marks = ",".join(str(i) for i in persons[start : start + 5000])  # integers only
            links = conn.execute(
                text(
                    "SELECT org_subject_id, person_subject_id FROM subject_links"
                    f" WHERE person_subject_id IN ({marks})"
                )
            )
            for org, person in links:
                when = latest[int(person)]
                latest[int(org)] = max(latest.get(int(org), when), when)
    return dict(sorted(latest.items()))


def _ts(value: Any) -> dt.datetime:
    return value if isinstance(value, dt.datetime) else dt.datetime.fromisoformat(str(value))


def rescore_changed(
    engine: Engine,
    settings: Any,
    *,
    since: dt.datetime | None = None,
    cause: str = "records changed",
    cache: BundleCache | None = None,
    registry: Registry | None = None,
) -> list[Rescore]:
    """Rescore every subject whose file changed after ``since`` (default: when the published
    snapshots were computed) and whose score in force does not already know the change."""
    if since is None:
        with engine.connect() as conn:
            value = conn.execute(
                text(
                    "SELECT MIN(n.known_at) FROM score_snapshots n"
                    " JOIN score_publications p ON p.snapshot_id = n.id"
                )
            ).scalar()
        if value is None:
            raise PublishError("nothing published yet: run credit score first")
        since = _ts(value)
    cache = cache or BundleCache(settings.bundle_dir)
    reg = registry or load_registry()
    out = []
    for sid, when in changed_subjects(engine, since).items():
        row = current_score(engine, sid)
        if row is not None and row["known_at"] >= when:
            continue  # already rescored with this change
        out.append(rescore_subject(engine, settings, sid, cause=cause, cache=cache, registry=reg))
    return out


@dataclass(frozen=True)
class AfterChange:
    """What :func:`rescore_after_change` did."""

    published: bool  # a snapshot is in force (otherwise there is nothing to rescore)
    changed_subjects: int
    rescored: list[Rescore] = field(default_factory=list)
    skipped_over_limit: bool = False


def rescore_after_change(
    engine: Engine, settings: Any, since: dt.datetime, *, cause: str, limit: int = 5000
) -> AfterChange:
    """After new records or events (an ingestion, a department push, a decision): rescore the
    subjects they touched, unless nothing is published yet or more than ``limit`` subjects
    changed (then a new publication, ``credit score``, is the better tool)."""
    with engine.connect() as conn:
        published = conn.execute(text("SELECT COUNT(*) FROM score_publications")).scalar_one() > 0
    if not published:
        return AfterChange(False, 0)
    changed = changed_subjects(engine, since)
    if len(changed) > limit:
        return AfterChange(True, len(changed), skipped_over_limit=True)
    return AfterChange(True, len(changed), rescore_changed(engine, settings, since=since, cause=cause))


@dataclass(frozen=True)
class Replay:
    stored: dict[str, Any]
    replayed: dict[str, Any]
    hash_matches: bool
    same_result: bool

    @property
    def ok(self) -> bool:
        return self.hash_matches and self.same_result


def replay(engine: Engine, settings: Any, score_id: int, *, registry: Registry | None = None) -> Replay:
    """Rebuild a stored score from the records store as known when it was made and rescore it."""
    row = score_row(engine, score_id)
    if row is None:
        raise ReplayError(f"no score {score_id}")
    reg = registry or load_registry()
    if reg.version != row["registry_version"]:
        raise ReplayError(
            f"score {score_id} used feature registry {row['registry_version']};"
            f" this service has {reg.version}"
        )
    group = row["subject_type"]
    if row["model_version"] is None:
        raise ReplayError(f"score {score_id} has no model version")
    try:
        bundle = BundleCache(settings.bundle_dir).get(group, row["model_version"])
    except ModelUnavailable as exc:
        raise ReplayError(str(exc)) from exc
    scored = _score_one(
        engine, settings, int(row["subject_id"]), group, row["as_of"], row["known_at"], bundle, reg
    )
    new = scored.row(0, named=True)
    same = all(
        row.get(k) == new.get(k) for k in ("state", "score", "grade", "reasons_lowering", "reasons_raising")
    )
    pd_same = (row["pd"] is None and new["pd"] is None) or (
        row["pd"] is not None and new["pd"] is not None and abs(row["pd"] - new["pd"]) <= 1e-12
    )
    return Replay(row, new, row["feature_hash"] == new["feature_hash"], same and pd_same)
