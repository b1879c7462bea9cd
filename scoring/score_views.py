"""How published score rows are shown: to the subject, to a bank, to supervisors and reviewers.

Two states are never a number: ``insufficient_record`` (信用记录不足) and ``minor`` — they come
with their own message and no score, tier, PD or reasons. Reasons here are the stored principal
reasons rendered from the feature registry's words and the stored feature values
(:func:`brief_reasons`, cheap enough for a bank's request path); the subject's own routes use
``scoring.explanations.explain``, which also cites the records behind each reason.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from typing import Any

from sqlalchemy import Connection, text

from features.catalogue import Catalogue
from features.registry import Registry
from scoring.explanations import Action, Reason
from scoring.explanations import _value_text as value_text
from scoring.scores import ScoringPolicy, parse_reasons

__all__ = [
    "STATE_MESSAGES",
    "FeatureNames",
    "action_view",
    "brief_reasons",
    "grade_view",
    "history_view",
    "reason_view",
    "score_summary",
]

STATE_MESSAGES: dict[str, dict[str, str]] = {
    "insufficient_record": {
        "zh": "信用记录不足：记录太少或时间太短，暂不评分",
        "en": "Insufficient credit record: too few records or too short a history to be scored",
    },
    "minor": {
        "zh": "未成年人不评分",
        "en": "Persons under 18 are not scored",
    },
}


def _iso(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    return str(value)


def _split(value: str | None) -> list[str]:
    return [v for v in (value or "").split(",") if v]


def _listing(kind: str, catalogue: Catalogue) -> dict[str, str]:
    spec = catalogue.kinds.get(kind)
    return {"kind": kind, "zh": spec.zh if spec else kind, "en": spec.en if spec else kind}


def grade_view(row: Mapping[str, Any], policy: ScoringPolicy, catalogue: Catalogue) -> dict[str, Any]:
    """A person's tier (code, zh, en) or an organisation's class with its model class and the
    listings that downgraded it."""
    if row["subject_type"] == "person":
        code = row.get("grade") or row["state"]
        tier = policy.tier(str(code))
        return {"tier": {"code": tier.code, "zh": tier.zh, "en": tier.en}}
    return {
        "class": row.get("grade"),
        "model_class": row.get("model_grade"),
        "downgrades": [_listing(k, catalogue) for k in _split(row.get("downgrades"))],
    }


def score_summary(
    row: Mapping[str, Any],
    policy: ScoringPolicy,
    catalogue: Catalogue,
    *,
    with_pd: bool = False,
) -> dict[str, Any]:
    """What a published row says, without its reasons."""
    scored = row["state"] == "scored"
    out: dict[str, Any] = {
        "score_id": int(row["id"]),
        "subject_type": row["subject_type"],
        "state": row["state"],
        "message": STATE_MESSAGES.get(row["state"]),
    }
    if row["subject_type"] == "person":
        out["score"] = int(row["score"]) if scored and row.get("score") is not None else None
    if with_pd:
        out["pd"] = float(row["pd"]) if scored and row.get("pd") is not None else None
    out.update(grade_view(row, policy, catalogue))
    out["flags"] = [_listing(k, catalogue) for k in _split(row.get("flags"))]
    out.update(
        as_of=_iso(row.get("as_of")),
        scored_at=_iso(row.get("scored_at")),
        model_version=row.get("model_version"),
    )
    return out


def history_view(row: Mapping[str, Any], policy: ScoringPolicy, catalogue: Catalogue) -> dict[str, Any]:
    out = score_summary(row, policy, catalogue)
    out.update(origin=row.get("origin"), cause=row.get("cause"))
    return out


class FeatureNames:
    """Feature names of score rows (a row's own, or its snapshot's), snapshots cached: a
    snapshot's names never change."""

    def __init__(self) -> None:
        self._by_snapshot: dict[int, list[str]] = {}

    def of(self, conn: Connection, row: Mapping[str, Any]) -> list[str]:
        if row.get("feature_names"):
            return list(json.loads(row["feature_names"]))
        sid = int(row["snapshot_id"])
        names = self._by_snapshot.get(sid)
        if names is None:
            raw = conn.execute(
                text("SELECT feature_names FROM score_snapshots WHERE id = :i"), {"i": sid}
            ).scalar_one()
            names = self._by_snapshot[sid] = list(json.loads(raw))
        return names

    def values(self, conn: Connection, row: Mapping[str, Any]) -> dict[str, float | None]:
        names = self.of(conn, row)
        values = str(row["features"]).split("|")
        return {n: (float(v) if v != "" else None) for n, v in zip(names, values, strict=True)}


def brief_reasons(
    row: Mapping[str, Any], registry: Registry, values: Mapping[str, float | None]
) -> list[dict[str, Any]]:
    """The stored principal reasons with the registry's words and the stored values (no records
    read, no model run)."""
    out = []
    group = str(row["subject_type"])
    for direction, column in (("lowering", "reasons_lowering"), ("raising", "reasons_raising")):
        for name, points in parse_reasons(row.get(column)):
            try:
                spec = registry.feature(group, name)
            except KeyError:
                out.append(
                    {"feature": name, "direction": direction, "points": points, "zh": name, "en": name}
                )
                continue
            value = values.get(name)
            out.append(
                {
                    "feature": name,
                    "direction": direction,
                    "points": points,
                    "value": value,
                    "zh": f"{spec.zh}：{value_text(spec, value, 'zh')}",
                    "en": f"{spec.en[0].upper()}{spec.en[1:]}: {value_text(spec, value, 'en')}",
                }
            )
    return out


def reason_view(r: Reason) -> dict[str, Any]:
    return {
        "feature": r.feature,
        "direction": r.direction,
        "points": r.points,
        "value": r.value,
        "zh": r.zh,
        "en": r.en,
        "records": list(r.records),
        "latest": _iso(r.latest),
    }


def action_view(a: Action) -> dict[str, Any]:
    return {
        "kind": a.kind,
        "zh": a.zh,
        "en": a.en,
        "projected_score": a.projected_score,
        "gain": a.gain,
        "on": _iso(a.on),
        "changes": {k: {"now": v[0], "after": v[1]} for k, v in a.changes.items()},
        "records": list(a.records),
    }
