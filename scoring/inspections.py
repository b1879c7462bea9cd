"""Random inspection plans (双随机、一公开) drawn by enterprise class, published and verifiable.

For a department, a sector and a period, :func:`generate_plan` takes every organisation of the
sector in the enterprise snapshot in force with its class (``grade``), draws a share of each
class (``scoring/supervision.yaml``) and sends inspectors drawn from the department's roster to
each, never one with a conflict of interest (``inspector_exclusions``, or a link in
``subject_links`` between the inspector as a person and the organisation). The draw is the
published algorithm ``sha256-rank-v1`` (``docs/rights-and-supervision.md``) from a published
seed: :func:`draw` is a direct transcription of it. The plan stores its inputs (population,
roster, conflicts), its selection and their SHA-256 digests, so :func:`verify_plan` (``credit plan
verify``) and anyone holding the exported files (:func:`verify_export`) can recompute it.
Inspection results come back with :func:`record_result` as ``inspection_result`` records that
feed the next scoring.

* ``PlanError`` (a ``ValueError``): a plan that cannot be drawn or stored (bad ratio or period,
  no snapshot, too few inspectors without conflict, a duplicate plan).
"""

from __future__ import annotations

import csv
import datetime as dt
import gzip
import hashlib
import json
import re
import secrets
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import sqlalchemy as sa
import yaml
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

from features.catalogue import load_catalogue
from scoring.audit import AuditLog
from scoring.db.rights_tables import InspectionPlan, InspectionResult, Inspector, InspectorExclusion
from scoring.dedup import blake
from scoring.department import PushRefused, push_batch, records_to_jsonl
from scoring.identity import IdentityVault
from scoring.rights import RightsFiles, utcnow

__all__ = [
    "ALGORITHM",
    "CLASSES",
    "Drawn",
    "PlanError",
    "SupervisionPolicy",
    "Verification",
    "draw",
    "export_plan",
    "generate_plan",
    "load_supervision",
    "record_result",
    "safe_cell",
    "verify_export",
    "verify_plan",
]

ALGORITHM = "sha256-rank-v1"
CLASSES = ("A", "B", "C", "D")
DEFAULT_SUPERVISION_FILE = Path(__file__).with_name("supervision.yaml")
_PERIOD = re.compile(r"^\d{4}(-(0[1-9]|1[0-2])|Q[1-4]|H[12])?$")
_RESULTS = ("compliant", "issues_corrected", "non_compliant", "not_found")
# A seed is text without the separator; printable ASCII keeps it unambiguous when published.
_SEED = re.compile(r"^[\x21-\x7b\x7d\x7e]{8,128}$")


class PlanError(ValueError):
    """A plan that cannot be drawn, stored or verified."""


# --- policy ---------------------------------------------------------------------------------------


def _basis_points(value: Any, where: str) -> int:
    """A ratio as an integer number of 1/10000 (exact: no float rounding in the draw)."""
    try:
        d = Decimal(str(value))
    except InvalidOperation:
        raise PlanError(f"{where}: not a number: {value!r}") from None
    bp = d * 10000
    if bp != bp.to_integral_value() or not 0 <= bp <= 10000:
        raise PlanError(f"{where}: a ratio between 0 and 1 with at most 4 decimals, got {value!r}")
    return int(bp)


@dataclass(frozen=True)
class SupervisionPolicy:
    """Ratios (basis points) per sector and class, their legal ranges, and the draw's settings."""

    default: dict[str, int]
    sectors: dict[str, dict[str, int]]
    ranges: dict[str, tuple[int, int]]
    frequency: dict[str, str] = field(default_factory=dict)
    unclassified_as: str = "B"
    inspectors_per_check: int = 2
    version: str = ""

    def ratios(self, sector: str) -> dict[str, int]:
        return dict(self.sectors.get(sector, self.default))


def load_supervision(path: str | Path | None = None) -> SupervisionPolicy:
    raw = yaml.safe_load(Path(path or DEFAULT_SUPERVISION_FILE).read_text(encoding="utf-8"))
    ranges = {
        c: (_basis_points(lo, f"range {c}"), _basis_points(hi, f"range {c}"))
        for c, (lo, hi) in raw["ranges"].items()
    }
    if set(ranges) != set(CLASSES):
        raise PlanError(f"ranges are needed for exactly {CLASSES}")

    def ratios(spec: Mapping[str, Any], where: str) -> dict[str, int]:
        out = {c: _basis_points(v, f"{where} {c}") for c, v in spec.items()}
        if set(out) != set(CLASSES):
            raise PlanError(f"{where}: ratios are needed for exactly {CLASSES}")
        for c, bp in out.items():
            lo, hi = ranges[c]
            if not lo <= bp <= hi:
                raise PlanError(
                    f"{where}: ratio of class {c} ({bp / 100:g} %) outside {lo / 100:g}–{hi / 100:g} %"
                )
        return out

    default = ratios(raw["default"]["ratios"], "default")
    sectors = {str(s): ratios(v["ratios"], f"sector {s}") for s, v in (raw.get("sectors") or {}).items()}
    unclassified = str(raw.get("unclassified_as", "B"))
    per_check = int(raw.get("inspectors_per_check", 2))
    if unclassified not in CLASSES or per_check < 1:
        raise PlanError("unclassified_as is a class and inspectors_per_check at least 1")
    return SupervisionPolicy(
        default,
        sectors,
        ranges,
        {str(k): str(v) for k, v in (raw["default"].get("frequency") or {}).items()},
        unclassified,
        per_check,
        str(raw.get("version", "")),
    )


@lru_cache
def default_supervision() -> SupervisionPolicy:
    return load_supervision(RightsFiles().supervision_file)


# --- the published algorithm ---------------------------------------------------------------------


@dataclass(frozen=True)
class Drawn:
    """The selection: per drawn enterprise (in position order) its code, class and inspectors."""

    codes: list[str]
    classes: list[str]
    inspectors: list[tuple[str, ...]]
    counts: dict[str, tuple[int, int]]  # class -> (population, drawn)


def _digests(prefix: bytes, items: Iterable[bytes]) -> np.ndarray:
    """SHA-256 of prefix + item for every item, as an (n, 4) array of big-endian uint64 words."""
    base = hashlib.sha256(prefix)
    out = bytearray()
    for item in items:
        h = base.copy()
        h.update(item)
        out += h.digest()
    return np.frombuffer(bytes(out), dtype=">u8").reshape(-1, 4).astype(np.uint64)


def _rank(words: np.ndarray) -> np.ndarray:
    """Indices ordered by the full digest (ties impossible in practice; then by index = by code)."""
    order = np.argsort(words[:, 0], kind="stable")
    first = words[order, 0]
    if first.size > 1 and bool(np.any(first[1:] == first[:-1])):
        order = np.lexsort((np.arange(len(words)), words[:, 3], words[:, 2], words[:, 1], words[:, 0]))
    return order


def draw(
    seed: str,
    population: Sequence[tuple[str, str]],
    ratios: Mapping[str, int],
    roster: Sequence[str],
    conflicts: Iterable[tuple[str, str]],
    per_check: int,
) -> Drawn:
    """``sha256-rank-v1``. ``population``: (credit code, class) sorted by code; ``ratios``: class ->
    basis points; ``roster``: inspector codes sorted; ``conflicts``: (credit code, inspector code)."""
    sep = b"|"
    seed_b = seed.encode()
    codes = [c for c, _ in population]
    classes = np.array([k for _, k in population], dtype="U1")
    words = _digests(seed_b + sep, (c.encode() for c in codes)) if codes else np.zeros((0, 4), np.uint64)
    chosen: list[np.ndarray] = []
    counts: dict[str, tuple[int, int]] = {}
    for c in CLASSES:
        idx = np.flatnonzero(classes == c)
        k = (ratios.get(c, 0) * idx.size + 9999) // 10000  # ceil(ratio * n), exactly
        counts[c] = (int(idx.size), int(k))
        if k:
            chosen.append(idx[_rank(words[idx])[:k]])
    picked = np.concatenate(chosen) if chosen else np.zeros(0, np.int64)
    picked = picked[_rank(words[picked])]  # positions: all drawn enterprises by digest
    drawn_codes = [codes[i] for i in picked]
    drawn_classes = [str(classes[i]) for i in picked]
    m = len(roster)
    if drawn_codes and m < per_check:
        raise PlanError(f"{per_check} inspectors per enterprise, but the roster has {m}")
    position = {code: i for i, code in enumerate(drawn_codes)}
    roster_index = {code: i for i, code in enumerate(roster)}
    barred = np.array(
        sorted(
            {position[e] * m + roster_index[i] for e, i in conflicts if e in position and i in roster_index}
        ),
        dtype=np.int64,
    )
    if barred.size:
        per_enterprise = np.bincount(barred // m, minlength=len(drawn_codes))
        short = np.flatnonzero(m - per_enterprise < per_check)
        if short.size:
            raise PlanError(
                f"enterprise {drawn_codes[int(short[0])]} has fewer than {per_check} inspectors"
                " without a conflict"
            )
    n = len(drawn_codes)
    assigned = np.full((n, per_check), -1, dtype=np.int64)
    filled = np.zeros(n, dtype=np.int64)
    prefixes = [seed_b + sep + c.encode() + sep for c in drawn_codes]
    j = 0
    pending = np.arange(n)
    while pending.size:
        suffix = str(j).encode()
        words_j = np.frombuffer(
            b"".join(hashlib.sha256(prefixes[i] + suffix).digest()[:8] for i in pending.tolist()), dtype=">u8"
        ).astype(np.uint64)
        cand = (words_j % np.uint64(m)).astype(np.int64)
        ok = ~np.any(assigned[pending] == cand[:, None], axis=1)
        if barred.size:
            ok &= ~np.isin(pending * m + cand, barred, assume_unique=False)
        rows = pending[ok]
        assigned[rows, filled[rows]] = cand[ok]
        filled[rows] += 1
        pending = pending[filled[pending] < per_check]
        j += 1
    inspectors = [tuple(roster[int(i)] for i in row) for row in assigned]
    return Drawn(drawn_codes, drawn_classes, inspectors, counts)


# --- canonical files -----------------------------------------------------------------------------


def _csv_bytes(rows: Iterable[Sequence[Any]]) -> bytes:
    return "".join(",".join(str(v) for v in row) + "\n" for row in rows).encode()


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _rows(data: bytes) -> list[list[str]]:
    return [line.split(",") for line in data.decode().splitlines() if line]


def selection_bytes(d: Drawn) -> bytes:
    return _csv_bytes(
        (pos, code, cls, ";".join(insp))
        for pos, (code, cls, insp) in enumerate(zip(d.codes, d.classes, d.inspectors, strict=True), start=1)
    )


def safe_cell(value: Any) -> str:
    """A CSV cell that a spreadsheet will not run as a formula (OWASP CSV injection)."""
    s = "" if value is None else str(value)
    if s and s[0] in ("=", "+", "-", "@", "\t", "\r", "\n", "|", "%"):
        return "'" + s
    return s


# --- population, roster and conflicts from the store ----------------------------------------------


def _population(
    conn: sa.Connection, sector: str, policy: SupervisionPolicy, snapshot_id: int, max_score_id: int
) -> list[tuple[str, str]]:
    rows = conn.execute(
        text(
            "SELECT s.subject_key, sc.grade FROM scores sc"
            " JOIN (SELECT subject_id, MAX(id) AS id FROM scores WHERE snapshot_id = :snap AND id <= :mx"
            " GROUP BY subject_id) last ON last.id = sc.id"
            " JOIN subjects s ON s.id = sc.subject_id WHERE s.sector = :sector"
        ),
        {"snap": snapshot_id, "mx": max_score_id, "sector": sector},
    ).all()
    out = [(str(code), str(grade) if grade in CLASSES else policy.unclassified_as) for code, grade in rows]
    return sorted(out)


def _roster(session: Session, department: str, sector: str) -> list[Inspector]:
    rows = session.execute(
        sa.select(Inspector).where(Inspector.department == department, Inspector.active.is_(True))
    ).scalars()
    keep = [
        i for i in rows if i.sectors.strip() == "*" or sector in {s.strip() for s in i.sectors.split(",")}
    ]
    return sorted(keep, key=lambda i: i.code.encode())


def _conflicts(
    session: Session, roster: Sequence[Inspector], codes: set[str], on: dt.date
) -> list[tuple[str, str]]:
    by_id = {i.id: i.code for i in roster}
    pairs: set[tuple[str, str]] = set()
    if not by_id:
        return []
    for insp, org in session.execute(
        sa.select(InspectorExclusion.inspector_id, InspectorExclusion.org_code).where(
            InspectorExclusion.inspector_id.in_(list(by_id)),
            InspectorExclusion.valid_from <= on,
            sa.or_(InspectorExclusion.valid_to.is_(None), InspectorExclusion.valid_to > on),
        )
    ):
        if org in codes:
            pairs.add((str(org), by_id[int(insp)]))
    persons = {i.person_key: i.code for i in roster if i.person_key}
    if persons:
        links = session.execute(
            text(
                "SELECT p.subject_key, o.subject_key FROM subject_links l"
                " JOIN subjects p ON p.id = l.person_subject_id JOIN subjects o ON o.id = l.org_subject_id"
                " WHERE l.valid_from <= :d AND (l.valid_to IS NULL OR l.valid_to > :d)"
                " AND p.subject_key IN :keys"
            ).bindparams(sa.bindparam("keys", expanding=True)),
            {"d": on, "keys": list(persons)},
        )
        for person_key, org in links:
            if org in codes:
                pairs.add((str(org), persons[str(person_key)]))
    return sorted(pairs)


def _snapshot(conn: sa.Connection) -> tuple[int, int]:
    snap = conn.execute(
        text("SELECT snapshot_id FROM score_publications WHERE subject_type = 'enterprise'")
    ).scalar()
    if snap is None:
        raise PlanError("no published enterprise snapshot: run credit score first")
    max_id = conn.execute(text("SELECT MAX(id) FROM scores WHERE snapshot_id = :s"), {"s": snap}).scalar()
    return int(snap), int(max_id or 0)


# --- generate, verify, export --------------------------------------------------------------------


def generate_plan(
    engine: Engine,
    audit: AuditLog,
    *,
    sector: str,
    period: str,
    actor: str,
    department: str = "market_regulation",
    seed: str | None = None,
    seed_source: str | None = None,
    policy: SupervisionPolicy | None = None,
    plan_date: dt.date | None = None,
    now: dt.datetime | None = None,
) -> InspectionPlan:
    """Draw and publish a plan for a sector and period (a random seed unless one is given)."""
    pol = policy or default_supervision()
    when = now or utcnow()
    day = plan_date or when.date()
    if not _PERIOD.match(period):
        raise PlanError("period: YYYY, YYYY-MM, YYYYQn or YYYYHn")
    seed = seed if seed is not None else secrets.token_hex(16)
    if not _SEED.match(seed):
        raise PlanError("seed: 8-128 printable ASCII characters without spaces or |")
    ratios = pol.ratios(sector)
    plan_no = f"{sector}-{period}-{_sha(seed.encode())[:8]}"
    with Session(engine, expire_on_commit=False) as session, session.begin():
        if session.execute(sa.select(InspectionPlan.id).where(InspectionPlan.plan_no == plan_no)).first():
            raise PlanError(f"plan {plan_no} exists (same sector, period and seed)")
        conn = session.connection()
        snapshot_id, max_score_id = _snapshot(conn)
        population = _population(conn, sector, pol, snapshot_id, max_score_id)
        if not population:
            raise PlanError(f"no organisation of sector {sector!r} in the enterprise snapshot")
        inspectors = _roster(session, department, sector)
        roster = [i.code for i in inspectors]
        conflicts = _conflicts(session, inspectors, {c for c, _ in population}, day)
        drawn = draw(seed, population, ratios, roster, conflicts, pol.inspectors_per_check)
        pop_b, roster_b = _csv_bytes(population), _csv_bytes((c,) for c in roster)
        conf_b, sel_b = _csv_bytes(conflicts), selection_bytes(drawn)
        plan = InspectionPlan(
            plan_no=plan_no,
            department=department,
            sector=sector,
            period=period,
            plan_date=day,
            algorithm=ALGORITHM,
            seed=seed,
            seed_source=seed_source,
            ratios=json.dumps({c: f"{ratios[c] / 10000:.4f}" for c in CLASSES}),
            inspectors_per_check=pol.inspectors_per_check,
            snapshot_id=snapshot_id,
            max_score_id=max_score_id,
            population=gzip.compress(pop_b, compresslevel=6, mtime=0),
            roster=gzip.compress(roster_b, compresslevel=6, mtime=0),
            conflicts=gzip.compress(conf_b, compresslevel=6, mtime=0),
            selection=gzip.compress(sel_b, compresslevel=6, mtime=0),
            population_digest=_sha(pop_b),
            roster_digest=_sha(roster_b),
            conflicts_digest=_sha(conf_b),
            selection_digest=_sha(sel_b),
            counts=json.dumps({c: list(v) for c, v in drawn.counts.items()}),
            created_by=actor[:128],
            published_at=when,
        )
        session.add(plan)
        session.flush()
        audit.append(
            session,
            actor=actor,
            action="inspection.plan",
            details={"plan_no": plan_no, "seed": seed, "selection_digest": plan.selection_digest},
            now=when,
        )
    return plan


def get_plan(session: Session, plan_no: str) -> InspectionPlan:
    plan = session.execute(
        sa.select(InspectionPlan).where(InspectionPlan.plan_no == plan_no)
    ).scalar_one_or_none()
    if plan is None:
        raise PlanError(f"no plan {plan_no}")
    return plan


def plan_header(plan: InspectionPlan) -> dict[str, Any]:
    return {
        "plan_no": plan.plan_no,
        "algorithm": plan.algorithm,
        "department": plan.department,
        "sector": plan.sector,
        "period": plan.period,
        "plan_date": plan.plan_date.isoformat(),
        "seed": plan.seed,
        "seed_source": plan.seed_source,
        "ratios": json.loads(plan.ratios),
        "inspectors_per_check": plan.inspectors_per_check,
        "snapshot_id": plan.snapshot_id,
        "counts": json.loads(plan.counts),
        "population_sha256": plan.population_digest,
        "roster_sha256": plan.roster_digest,
        "conflicts_sha256": plan.conflicts_digest,
        "selection_sha256": plan.selection_digest,
        "published_at": plan.published_at.isoformat(),
    }


@dataclass
class Verification:
    plan_no: str
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def _verify(
    header: Mapping[str, Any], pop_b: bytes, roster_b: bytes, conf_b: bytes, sel_b: bytes
) -> list[str]:
    problems = []
    for name, data in (
        ("population", pop_b),
        ("roster", roster_b),
        ("conflicts", conf_b),
        ("selection", sel_b),
    ):
        if _sha(data) != header[f"{name}_sha256"]:
            problems.append(f"{name}: SHA-256 differs from the published digest")
    if header["algorithm"] != ALGORITHM:
        return [*problems, f"unknown algorithm {header['algorithm']}"]
    population = [(r[0], r[1]) for r in _rows(pop_b)]
    ratios = {c: _basis_points(v, c) for c, v in header["ratios"].items()}
    again = draw(
        str(header["seed"]),
        population,
        ratios,
        [r[0] for r in _rows(roster_b)],
        [(r[0], r[1]) for r in _rows(conf_b)],
        int(header["inspectors_per_check"]),
    )
    if selection_bytes(again) != sel_b:
        problems.append("selection: recomputing the draw from the seed gives another selection")
    return problems


def verify_plan(engine: Engine, plan_no: str, *, check_store: bool = True) -> Verification:
    """Recompute a stored plan from its seed and inputs; with ``check_store``, also rebuild its
    population from the score rows it was drawn from."""
    with Session(engine) as session:
        plan = get_plan(session, plan_no)
        header = plan_header(plan)
        blobs = [gzip.decompress(b) for b in (plan.population, plan.roster, plan.conflicts, plan.selection)]
        result = Verification(plan_no, _verify(header, *blobs))
        if check_store and plan.snapshot_id is not None and plan.max_score_id is not None:
            pol = default_supervision()
            stored = _population(session.connection(), plan.sector, pol, plan.snapshot_id, plan.max_score_id)
            if _csv_bytes(stored) != blobs[0]:
                result.problems.append("population: differs from the score rows of the snapshot it names")
    return result


def _write_csv(path: Path, header: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(header)
        for row in rows:
            w.writerow([safe_cell(v) for v in row])


def export_plan(engine: Engine, plan_no: str, directory: str | Path) -> list[Path]:
    """Write the plan for publication: ``plan.json`` (header with digests), the four canonical
    files the draw reads and writes (byte-exact, so their digests can be checked), and
    ``plan.csv`` for people (names, inspectors, results; cells safe against formula injection)."""
    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    with Session(engine) as session:
        plan = get_plan(session, plan_no)
        header = plan_header(plan)
        blobs = {
            "population.csv": plan.population,
            "roster.csv": plan.roster,
            "conflicts.csv": plan.conflicts,
            "selection.csv": plan.selection,
        }
        selection = _rows(gzip.decompress(plan.selection))
        codes = [r[1] for r in selection]
        names: dict[str, str | None] = {}
        for start in range(0, len(codes), 5000):
            part = codes[start : start + 5000]
            q = text("SELECT subject_key, name FROM subjects WHERE subject_key IN :k").bindparams(
                sa.bindparam("k", expanding=True)
            )
            names.update({str(k): n for k, n in session.execute(q, {"k": part})})
        inspector_names = dict(session.execute(sa.select(Inspector.code, Inspector.name)).all())
        results = dict(
            session.execute(
                sa.select(InspectionResult.org_code, InspectionResult.result).where(
                    InspectionResult.plan_id == plan.id
                )
            ).all()
        )
    paths = []
    (out / "plan.json").write_text(json.dumps(header, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    paths.append(out / "plan.json")
    for name, blob in blobs.items():
        (out / name).write_bytes(gzip.decompress(blob))
        paths.append(out / name)
    _write_csv(
        out / "plan.csv",
        ["position", "credit_code", "name", "class", "inspectors", "result"],
        (
            [
                r[0],
                r[1],
                names.get(r[1]) or "",
                r[2],
                "; ".join(f"{c} {inspector_names.get(c, '')}".strip() for c in r[3].split(";") if c),
                results.get(r[1], ""),
            ]
            for r in selection
        ),
    )
    paths.append(out / "plan.csv")
    return paths


def verify_export(directory: str | Path) -> Verification:
    """Verify an exported plan from its files alone."""
    d = Path(directory)
    header = json.loads((d / "plan.json").read_text(encoding="utf-8"))
    files = [(d / f"{n}.csv").read_bytes() for n in ("population", "roster", "conflicts", "selection")]
    return Verification(str(header["plan_no"]), _verify(header, *files))


# --- inspectors and results ----------------------------------------------------------------------


def add_inspector(
    session: Session,
    *,
    code: str,
    name: str,
    department: str,
    sectors: Sequence[str] | str = "*",
    person_key: str | None = None,
    now: dt.datetime | None = None,
) -> Inspector:
    row = Inspector(
        code=code,
        name=name,
        department=department,
        sectors=sectors if isinstance(sectors, str) else ",".join(sectors),
        person_key=person_key,
        active=True,
        created_at=now or utcnow(),
    )
    session.add(row)
    session.flush()
    return row


def add_exclusion(
    session: Session,
    *,
    inspector_code: str,
    org_code: str,
    relation: str,
    recorded_by: str,
    note: str | None = None,
    valid_from: dt.date = dt.date(1900, 1, 1),
    valid_to: dt.date | None = None,
    now: dt.datetime | None = None,
) -> InspectorExclusion:
    inspector = session.execute(
        sa.select(Inspector).where(Inspector.code == inspector_code)
    ).scalar_one_or_none()
    if inspector is None:
        raise PlanError(f"no inspector {inspector_code}")
    row = InspectorExclusion(
        inspector_id=inspector.id,
        org_code=org_code,
        relation=relation,
        note=note,
        valid_from=valid_from,
        valid_to=valid_to,
        recorded_at=now or utcnow(),
        recorded_by=recorded_by[:128],
    )
    session.add(row)
    session.flush()
    return row


def plan_selection(plan: InspectionPlan) -> list[dict[str, Any]]:
    return [
        {"position": int(r[0]), "credit_code": r[1], "class": r[2], "inspectors": r[3].split(";")}
        for r in _rows(gzip.decompress(plan.selection))
    ]


def record_result(
    engine: Engine,
    settings: Any,
    audit: AuditLog,
    *,
    plan_no: str,
    org_code: str,
    result: str,
    inspected_on: dt.date,
    department: str,
    actor: str,
    now: dt.datetime | None = None,
) -> InspectionResult:
    """Record the result of a drawn inspection as an ``inspection_result`` record (ingested like
    any department push, so it is validated and feeds the next scoring) and on the plan."""
    if result not in _RESULTS:
        raise PlanError(f"result: one of {', '.join(_RESULTS)}")
    when = now or utcnow()
    with Session(engine) as session:
        plan = get_plan(session, plan_no)
        if department != plan.department:
            raise PlanError(f"plan {plan_no} belongs to {plan.department}")
        if org_code not in {r[1] for r in _rows(gzip.decompress(plan.selection))}:
            raise PlanError(f"{org_code} was not drawn in plan {plan_no}")
        plan_id = plan.id
    record = {
        "kind": "inspection_result",
        "subject_id": org_code,
        "event_date": inspected_on.isoformat(),
        "department": department,
        "plan_no": plan_no,
        "result": result,
    }
    try:
        batch = push_batch(
            engine,
            records_to_jsonl([record], department),
            f"inspection-{plan_no}-{org_code}.jsonl",
            department=department,
            catalogue=load_catalogue(),
            vault=IdentityVault.from_settings(settings),
        )
    except PushRefused as exc:
        raise PlanError(str(exc)) from None
    if batch.quarantined:
        raise PlanError("the result was refused by record validation (see the batch's quarantine)")
    with Session(engine, expire_on_commit=False) as session, session.begin():
        uid = blake([f"inspection_result|{org_code}|{plan_no}"])[0]
        if session.execute(text("SELECT 1 FROM records WHERE record_uid = :u"), {"u": uid}).first() is None:
            raise PlanError("the result record was not stored")
        row = session.execute(
            sa.select(InspectionResult).where(
                InspectionResult.plan_id == plan_id, InspectionResult.org_code == org_code
            )
        ).scalar_one_or_none()
        if row is None:
            row = InspectionResult(plan_id=plan_id, org_code=org_code)
            session.add(row)
        row.result, row.inspected_on, row.record_uid = result, inspected_on, uid
        row.reported_by, row.recorded_at = actor[:128], when
        session.flush()
        audit.append(
            session,
            actor=actor,
            action="inspection.result",
            subject_ref=org_code,
            details={"plan_no": plan_no, "result": result, "record_uid": uid},
            now=when,
        )
    return row
