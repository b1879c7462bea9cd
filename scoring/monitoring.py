"""What supervisors and reviewers see of the published population: enterprise classes with
filters and distributions, and drift.

**Drift** (:func:`drift`): the population stability index of the live published population —
each subject's current row in the snapshot in force, scored rows only; person scores
(350–950), enterprise PDs — against

1. the development distribution stored with the champion model (``reference_distribution`` in
   its serving bundle's metadata: decile edges and shares of the development sample, written
   at training), when the bundle has one;
2. otherwise the previous (superseded) snapshot's scored rows.

The answer says which reference it used. Readings: < 0.10 stable, 0.10–0.25 moderate shift,
≥ 0.25 significant (``models.metrics.psi_band``).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from sqlalchemy import Connection, text

from models.metrics import psi, psi_band

__all__ = [
    "class_distribution",
    "current_values",
    "drift",
    "enterprise_classes",
    "psi_against",
    "reference_distribution",
]

_EPS = 1e-4


def _latest_rows(snapshot: str) -> str:
    """SQL of the current rows (latest per subject) of one snapshot, ``:snap`` or a subquery."""
    return (
        "SELECT s.* FROM scores s WHERE s.id IN"
        f" (SELECT MAX(id) FROM scores WHERE snapshot_id = {snapshot} GROUP BY subject_id)"
    )


def _published(conn: Connection, group: str) -> int | None:
    value = conn.execute(
        text("SELECT snapshot_id FROM score_publications WHERE subject_type = :g"), {"g": group}
    ).scalar()
    return None if value is None else int(value)


def _filters(sector: str | None, district: str | None, grade: str | None) -> tuple[str, dict[str, Any]]:
    where, params = [], {}
    if sector:
        where.append("j.sector = :sector")
        params["sector"] = sector
    if district:
        where.append("j.district_code = :district")
        params["district"] = district
    if grade:
        where.append("c.grade = :grade")
        params["grade"] = grade
    return (" AND " + " AND ".join(where) if where else ""), params


def enterprise_classes(
    conn: Connection,
    *,
    sector: str | None = None,
    district: str | None = None,
    grade: str | None = None,
    limit: int = 100,
    offset: int = 0,
) -> tuple[int, list[dict[str, Any]]]:
    """(total matching, one page) of organisations with their current class, by credit code."""
    snap = _published(conn, "enterprise")
    if snap is None:
        return 0, []
    cond, params = _filters(sector, district, grade)
    base = f"FROM ({_latest_rows(':snap')}) c JOIN subjects j ON j.id = c.subject_id WHERE 1 = 1{cond}"
    params["snap"] = snap
    total = int(conn.execute(text(f"SELECT COUNT(*) {base}"), params).scalar_one())
    rows = conn.execute(
        text(
            "SELECT c.id AS score_id, c.subject_id, j.subject_key AS code, j.name,"
            " j.subject_type AS org_type, j.sector, j.district_code, c.state, c.pd, c.grade,"
            " c.model_grade, c.downgrades, c.flags,"
            f" c.as_of, c.model_version {base} ORDER BY j.subject_key LIMIT :limit OFFSET :offset"
        ),
        {**params, "limit": int(limit), "offset": int(offset)},
    ).mappings()
    return total, [dict(r) for r in rows]


def class_distribution(
    conn: Connection, *, sector: str | None = None, district: str | None = None
) -> dict[str, Any]:
    """Counts of current enterprise classes overall, by sector and by district (organisations
    without a class — a thin file and no listing — count under ``none``)."""
    snap = _published(conn, "enterprise")
    out: dict[str, Any] = {"total": 0, "by_class": {}, "by_sector": {}, "by_district": {}}
    if snap is None:
        return out
    cond, params = _filters(sector, district, None)
    params["snap"] = snap
    rows = conn.execute(
        text(
            "SELECT COALESCE(c.grade, 'none') AS grade, j.sector, j.district_code, COUNT(*) AS n"
            f" FROM ({_latest_rows(':snap')}) c JOIN subjects j ON j.id = c.subject_id WHERE 1 = 1{cond}"
            " GROUP BY COALESCE(c.grade, 'none'), j.sector, j.district_code"
        ),
        params,
    ).all()
    for grade, sector_, district_, n in rows:
        n = int(n)
        out["total"] += n
        out["by_class"][grade] = out["by_class"].get(grade, 0) + n
        for key, value in (("by_sector", sector_ or "unknown"), ("by_district", district_ or "unknown")):
            cell = out[key].setdefault(value, {})
            cell[grade] = cell.get(grade, 0) + n
    total = out["total"]
    out["shares"] = {g: round(n / total, 6) for g, n in sorted(out["by_class"].items())} if total else {}
    return out


# --- drift ---------------------------------------------------------------------------------------


def reference_distribution(values: Sequence[float] | np.ndarray, n_bins: int = 10) -> dict[str, Any]:
    """Decile edges and shares of a sample: what :func:`psi_against` compares with (the same
    binning as ``models.metrics.psi``)."""
    ref = np.asarray(values, dtype=np.float64).ravel()
    ref = ref[~np.isnan(ref)]
    if ref.size == 0:
        raise ValueError("empty sample")
    inner = np.unique(np.quantile(ref, np.linspace(0.0, 1.0, n_bins + 1)[1:-1]))
    shares = np.bincount(np.searchsorted(inner, ref, side="right"), minlength=inner.size + 1) / ref.size
    return {"edges": [float(e) for e in inner], "shares": [float(s) for s in shares], "n": int(ref.size)}


def psi_against(reference: Mapping[str, Any], values: Sequence[float] | np.ndarray) -> float:
    """PSI of ``values`` against a stored :func:`reference_distribution`."""
    cur = np.asarray(values, dtype=np.float64).ravel()
    cur = cur[~np.isnan(cur)]
    if cur.size == 0:
        raise ValueError("empty sample")
    inner = np.asarray(reference["edges"], dtype=np.float64)
    r = np.clip(np.asarray(reference["shares"], dtype=np.float64), _EPS, None)
    c = np.bincount(np.searchsorted(inner, cur, side="right"), minlength=inner.size + 1) / cur.size
    c = np.clip(c, _EPS, None)
    return float(np.sum((c - r) * np.log(c / r)))


def current_values(conn: Connection, group: str, snapshot_id: int | None = None) -> np.ndarray:
    """Scores (persons) or PDs (enterprises) of the scored current rows of a snapshot (default:
    the one in force)."""
    snap = snapshot_id if snapshot_id is not None else _published(conn, group)
    if snap is None:
        return np.empty(0)
    column = "score" if group == "person" else "pd"
    rows = conn.execute(
        text(f"SELECT c.{column} FROM ({_latest_rows(':snap')}) c WHERE c.state = 'scored'"),
        {"snap": int(snap)},
    ).all()
    return np.array([float(r[0]) for r in rows if r[0] is not None], dtype=np.float64)


def drift(conn: Connection, group: str, metadata: Mapping[str, str] | None) -> dict[str, Any]:
    """PSI of the live published population of ``group`` and the reference it was measured against."""
    variable = "score" if group == "person" else "pd"
    snap = _published(conn, group)
    out: dict[str, Any] = {"group": group, "variable": variable, "snapshot_id": snap, "psi": None}
    if snap is None:
        out["status"] = "nothing published"
        return out
    live = current_values(conn, group, snap)
    out["live_n"] = int(live.size)
    stored = (
        json.loads(metadata["reference_distribution"])
        if metadata and metadata.get("reference_distribution")
        else {}
    )
    if live.size and variable in stored:
        value = psi_against(stored[variable], live)
        out.update(reference="development", reference_n=stored[variable].get("n"))
    else:
        previous = conn.execute(
            text(
                "SELECT id FROM score_snapshots WHERE subject_type = :g AND status = 'superseded'"
                " AND id < :s ORDER BY id DESC LIMIT 1"
            ),
            {"g": group, "s": snap},
        ).scalar()
        ref = current_values(conn, group, int(previous)) if previous is not None else np.empty(0)
        if previous is None or not live.size or not ref.size:
            out.update(
                reference=None, status="no reference: no development distribution or previous snapshot"
            )
            return out
        value = psi(ref, live)
        out.update(reference="previous_snapshot", reference_snapshot_id=int(previous))
        out["reference_n"] = int(ref.size)
    out.update(psi=round(value, 6), band=psi_band(value), status="ok")
    return out
