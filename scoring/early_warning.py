"""Early warning (监测预警) for supervisors: organisations that deteriorated sharply in a period.

An organisation is on the list for the period ``[start, end]`` when at least one of these holds:

* **class**: its class in force at ``end`` is at least ``class_drop`` steps worse than the one in
  force at ``start`` (A → C, B → D, ...), or it reached D from a better class;
* **probability**: its probability of default at ``end`` is at least ``pd_ratio`` times the one
  at ``start`` *and* at least ``pd_increase`` higher (both, so that 0.1 % → 0.3 % does not ring);
* **serious records**: the records store learnt of new serious records about it in the period
  (recorded in ``[start, end]``), whatever their effect on the score so far.

"In force at T" is the organisation's latest score row (batch or rescore) of a published or
since superseded snapshot scored at or before T. Each entry lists its reasons in Chinese and
English.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine, text

from features.catalogue import load_catalogue
from scoring.tiers import CLASS_ORDER

__all__ = ["EarlyWarning", "WarningPolicy", "early_warnings"]


@dataclass(frozen=True)
class WarningPolicy:
    class_drop: int = 2
    pd_ratio: float = 2.0
    pd_increase: float = 0.05


@dataclass(frozen=True)
class EarlyWarning:
    subject_id: int
    code: str
    name: str | None
    sector: str | None
    district: str | None
    class_before: str | None
    class_after: str | None
    pd_before: float | None
    pd_after: float | None
    serious_records: list[dict[str, Any]] = field(default_factory=list)
    reasons_zh: list[str] = field(default_factory=list)
    reasons_en: list[str] = field(default_factory=list)


def _ts(value: Any) -> dt.datetime:
    return value if isinstance(value, dt.datetime) else dt.datetime.fromisoformat(str(value))


def _in_force(engine: Engine, at: dt.datetime) -> dict[int, tuple[str | None, float | None]]:
    sql = text(
        "SELECT s.subject_id, s.grade, s.pd, s.scored_at, s.id FROM scores s"
        " JOIN score_snapshots n ON n.id = s.snapshot_id"
        " WHERE s.subject_type = 'enterprise' AND n.status IN ('published', 'superseded')"
        " AND s.scored_at <= :t ORDER BY s.subject_id, s.scored_at, s.id"
    )
    out: dict[int, tuple[str | None, float | None]] = {}
    with engine.connect() as conn:
        for sid, grade, pd, _, _ in conn.execute(sql, {"t": at}):
            out[int(sid)] = (grade, None if pd is None else float(pd))  # later rows overwrite
    return out


def early_warnings(
    engine: Engine, start: dt.datetime, end: dt.datetime, policy: WarningPolicy | None = None
) -> list[EarlyWarning]:
    """The organisations that deteriorated in ``[start, end]``, worst class first."""
    if end < start:
        raise ValueError("the period ends before it starts")
    p = policy or WarningPolicy()
    cat = load_catalogue()
    before = _in_force(engine, start)
    after = _in_force(engine, end)
    serious: dict[int, list[dict[str, Any]]] = {}
    sql = text(
        "SELECT r.subject_id, r.record_uid, r.kind, r.event_date FROM records r"
        " JOIN subjects j ON j.id = r.subject_id"
        " WHERE j.subject_type <> 'person' AND r.severity = 'serious' AND r.version = 1"
        " AND r.recorded_at >= :a AND r.recorded_at <= :b ORDER BY r.event_date, r.record_uid"
    )
    with engine.connect() as conn:
        for sid, uid, kind, day in conn.execute(sql, {"a": start, "b": end}):
            serious.setdefault(int(sid), []).append({"record_uid": uid, "kind": kind, "event_date": str(day)})
        info = {
            int(r[0]): r[1:]
            for r in conn.execute(
                text(
                    "SELECT id, subject_key, name, sector, district_code FROM subjects"
                    " WHERE subject_type <> 'person'"
                )
            )
        }
    out = []
    for sid in sorted(set(after) | set(serious)):
        g0, p0 = before.get(sid, (None, None))
        g1, p1 = after.get(sid, (g0, p0))
        zh: list[str] = []
        en: list[str] = []
        if g0 in CLASS_ORDER and g1 in CLASS_ORDER:
            drop = CLASS_ORDER.index(g1) - CLASS_ORDER.index(g0)
            if drop >= p.class_drop or (drop > 0 and g1 == "D"):
                zh.append(f"信用等级由{g0}级降至{g1}级")
                en.append(f"class fell from {g0} to {g1}")
        if p0 is not None and p1 is not None and p1 >= p.pd_ratio * p0 and p1 - p0 >= p.pd_increase - 1e-12:
            zh.append(f"违约概率由{p0:.1%}升至{p1:.1%}")
            en.append(f"probability of default rose from {p0:.1%} to {p1:.1%} (×{p1 / p0:.1f})")
        new = serious.get(sid, [])
        if new:
            kinds = sorted({r["kind"] for r in new})
            zh_kinds = "、".join(cat.kinds[k].zh if k in cat.kinds else k for k in kinds)
            en_kinds = ", ".join(cat.kinds[k].en.lower() if k in cat.kinds else k for k in kinds)
            zh.append(f"新增{len(new)}条严重失信记录（{zh_kinds}）")
            en.append(f"{len(new)} new serious record{'s' if len(new) > 1 else ''} ({en_kinds})")
        if not zh:
            continue
        code, name, sector, district = info.get(sid, (str(sid), None, None, None))
        out.append(EarlyWarning(sid, code, name, sector, district, g0, g1, p0, p1, new, zh, en))
    rank = {c: i for i, c in enumerate(CLASS_ORDER)}
    out.sort(key=lambda w: (-rank.get(w.class_after or "", -1), -(w.pd_after or 0.0), w.subject_id))
    return out
