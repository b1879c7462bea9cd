"""What a score means to the person scored: reasons in plain words with the records behind them,
and recourse — the few changes that would raise the score most, each rescored by the real model.

**Reasons** (:func:`explain`). The stored principal reasons (feature and score points) are
rendered from the feature registry's Chinese and English descriptions, with the feature's value
and the records behind it: the subject's records of the feature's source kinds, usable on the
score's as-of date as known when it was scored, within the feature's window ("2 records, latest
2026-03"). Removing the cited records changes the feature the reason names.

**Recourse** (:func:`recourse`, persons with a score). Two kinds of change, each rescored with
the bundle of the model version that made the score:

* *actions*: the actionable features (the registry's ``actionable``; never anything else) of one
  source moved together to the value good conduct reaches — debts and late payments to zero,
  contribution months to the whole window, on-time shares to 100 % (when there are records), a
  few more volunteering hours or kept commitments;
* *time*: negative records that leave their publicity period on a known date; the subject's
  features are rebuilt by the real pipelines without them.

Only changes that raise the score by at least one point are offered, best first.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import polars as pl
from sqlalchemy import Engine

from features.catalogue import Catalogue, add_months, load_catalogue
from features.pipelines import PAYLOAD_KINDS, RECORD_INPUT_COLUMNS, person_features
from features.pointintime import usable_records
from features.registry import FeatureSpec, Registry, load_registry
from models.bundle import ServingBundle
from scoring.publish import BundleCache, feature_values
from scoring.scores import ScoringPolicy, compute_scores, parse_reasons
from scoring.store import StoreSnapshot, read_subject

__all__ = ["Action", "Reason", "explain", "recourse"]

_UNIT_ZH = {
    "month": "个月",
    "count": "次",
    "day": "天",
    "yuan": "元",
    "hour": "小时",
    "share": "",
    "flag": "",
    "year": "年",
    "weighted_count": "",
    "level": "",
}


def _value_text(spec: FeatureSpec, value: float | None, lang: str) -> str:
    if value is None:
        return "无记录" if lang == "zh" else "none"
    if spec.unit == "flag":
        yes = value > 0
        return ("是" if yes else "否") if lang == "zh" else ("yes" if yes else "no")
    if spec.unit == "share":
        return f"{value:.0%}"
    number = f"{value:,.0f}" if float(value).is_integer() else f"{value:,.2f}"
    if lang == "zh":
        return f"{number}{_UNIT_ZH.get(spec.unit, '')}"
    unit = _UNIT_EN.get(spec.unit, "")
    if not unit:
        return number
    plural = unit if value == 1 or unit == "yuan" else unit + "s"
    return f"{number} {plural}"


_UNIT_EN = {"month": "month", "day": "day", "yuan": "yuan", "hour": "hour", "year": "year"}


@dataclass(frozen=True)
class Reason:
    feature: str
    direction: str  # lowering | raising
    points: float
    value: float | None
    zh: str
    en: str
    records: tuple[str, ...] = ()
    latest: dt.date | None = None


def _snapshot(engine: Engine, row: Mapping[str, Any], registry: Registry) -> StoreSnapshot:
    return read_subject(
        engine,
        int(row["subject_id"]),
        known_at=row["known_at"],
        in_force_on=row["as_of"],
        role=str(registry.parameters["legal_representative_role"]),
        payload=PAYLOAD_KINDS,
        columns=RECORD_INPUT_COLUMNS,
    )


def _usable(snap: StoreSnapshot, row: Mapping[str, Any], catalogue: Catalogue) -> pl.DataFrame:
    return usable_records(
        snap.records, snap.events, as_of=row["as_of"], known_at=row["known_at"], catalogue=catalogue
    )


def _cited(usable: pl.DataFrame, spec: FeatureSpec, subject_id: int, as_of: dt.date) -> pl.DataFrame:
    if spec.via is not None or not spec.kinds:
        return usable.clear()
    keep = (pl.col("subject_id") == subject_id) & pl.col("kind").is_in(list(spec.kinds))
    if spec.window is not None:
        keep &= pl.col("event_date") > add_months(as_of, -spec.window)
    return usable.filter(keep).sort("event_date", "record_uid")


def explain(
    engine: Engine,
    row: Mapping[str, Any],
    *,
    registry: Registry | None = None,
    catalogue: Catalogue | None = None,
) -> list[Reason]:
    """The stored reasons of a score row in plain words, citing the records behind each."""
    reg = registry or load_registry()
    cat = catalogue or load_catalogue()
    lowering = parse_reasons(row.get("reasons_lowering"))
    raising = parse_reasons(row.get("reasons_raising"))
    if not lowering and not raising:
        return []
    values = feature_values(engine, row)
    group = str(row["subject_type"])
    usable = _usable(_snapshot(engine, row, reg), row, cat)
    out = []
    for direction, items in (("lowering", lowering), ("raising", raising)):
        for name, points in items:
            spec = reg.feature(group, name)
            cited = _cited(usable, spec, int(row["subject_id"]), row["as_of"])
            n = cited.height
            latest: dt.date | None = cited["event_date"].max() if n else None  # type: ignore[assignment]
            value = values.get(name)
            zh = f"{spec.zh}：{_value_text(spec, value, 'zh')}"
            en = f"{spec.en[0].upper()}{spec.en[1:]}: {_value_text(spec, value, 'en')}"
            if latest is not None:
                zh += f"（{n}条记录，最近一条{latest:%Y-%m}）"
                en += f" ({n} record{'s' if n > 1 else ''}, latest {latest:%Y-%m})"
            elif spec.via == "legal_representative":
                zh += "（法定代表人的记录）"
                en += " (the legal representative's records)"
            out.append(
                Reason(
                    name,
                    direction,
                    points,
                    value,
                    zh,
                    en,
                    tuple(cited["record_uid"].to_list()),
                    latest,
                )
            )
    return out


# --- recourse ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Action:
    kind: str  # action | time
    zh: str
    en: str
    changes: dict[str, tuple[float | None, float | None]]  # feature -> (now, after)
    projected_score: int
    gain: int
    on: dt.date | None = None  # for time: the date the records leave publicity
    records: tuple[str, ...] = field(default_factory=tuple)


def _target(spec: FeatureSpec, value: float | None) -> float | None:
    """The value good conduct reaches for an actionable feature (None: no target)."""
    v = 0.0 if value is None else float(value)
    if spec.monotone < 0:
        return 0.0 if v > 0 else None
    if spec.monotone > 0:
        if spec.unit == "month" and spec.window:
            return float(spec.window) if v < spec.window else None
        if spec.unit == "share":  # no records is not a share to improve
            return 1.0 if value is not None and v < 1.0 else None
        if spec.unit == "hour":
            return v + 20.0
        if spec.unit == "count":
            return v + 1.0
    return None


def _rescore(
    frame: pl.DataFrame, group: str, bundle: ServingBundle, reg: Registry, policy: ScoringPolicy
) -> int | None:
    out = compute_scores(frame, group, bundle, reg, policy)
    return None if out["score"][0] is None else int(out["score"][0])


def recourse(
    engine: Engine,
    settings: Any,
    row: Mapping[str, Any],
    *,
    top: int = 3,
    horizon_months: int = 36,
    registry: Registry | None = None,
    catalogue: Catalogue | None = None,
    cache: BundleCache | None = None,
) -> list[Action]:
    """The changes that would raise a person's score most (empty unless the row is a score)."""
    if row.get("state") != "scored" or row.get("score") is None or row["subject_type"] != "person":
        return []
    reg = registry or load_registry()
    cat = catalogue or load_catalogue()
    if reg.version != row["registry_version"]:
        return []
    group = "person"
    bundle = (cache or BundleCache(settings.bundle_dir)).get(group, str(row["model_version"]))
    policy = ScoringPolicy.from_settings(settings)
    values = feature_values(engine, row)
    base = pl.DataFrame([{"subject_id": int(row["subject_id"]), **values}]).with_columns(
        pl.col(s.name).cast(s.polars_dtype()) for s in reg.for_subject(group)
    )
    now_score = int(row["score"])
    actions: list[Action] = []
    # One action per source: the conduct that moves all of its actionable features together
    # (paying utility bills on time clears late payments, arrears and days late at once).
    groups: dict[tuple[str, ...], list[tuple[FeatureSpec, float | None, float]]] = {}
    for spec in reg.for_subject(group):
        if not spec.actionable or spec.name not in bundle.features:
            continue
        target = _target(spec, values.get(spec.name))
        if target is not None:
            groups.setdefault(spec.kinds, []).append((spec, values.get(spec.name), target))
    for moves in groups.values():
        changed = base.with_columns(pl.lit(t).cast(sp.polars_dtype()).alias(sp.name) for sp, _, t in moves)
        projected = _rescore(changed, group, bundle, reg, policy)
        if projected is None or projected - now_score < 1:
            continue
        actions.append(
            Action(
                "action",
                "；".join(
                    f"将「{sp.zh}」从{_value_text(sp, v, 'zh')}变为{_value_text(sp, t, 'zh')}"
                    for sp, v, t in moves
                ),
                "; ".join(
                    f"bring {sp.en} from {_value_text(sp, v, 'en')} to {_value_text(sp, t, 'en')}"
                    for sp, v, t in moves
                ).capitalize(),
                {sp.name: (v, t) for sp, v, t in moves},
                projected,
                projected - now_score,
            )
        )
    actions += _expiries(engine, row, reg, cat, bundle, policy, now_score, values, horizon_months)
    actions.sort(key=lambda a: (-a.gain, a.kind, a.en))
    return actions[:top]


def _expiries(
    engine: Engine,
    row: Mapping[str, Any],
    reg: Registry,
    cat: Catalogue,
    bundle: ServingBundle,
    policy: ScoringPolicy,
    now_score: int,
    values: Mapping[str, float | None],
    horizon_months: int,
) -> list[Action]:
    """Negative records leaving their publicity period: the two earliest dates within the horizon."""
    snap = _snapshot(engine, row, reg)
    usable = _usable(snap, row, cat)
    as_of: dt.date = row["as_of"]
    negative = [k for k, spec in cat.kinds.items() if spec.polarity == "negative"]
    ending = usable.filter(
        (pl.col("subject_id") == int(row["subject_id"]))
        & pl.col("kind").is_in(negative)
        & (pl.col("publicity_end") <= add_months(as_of, horizon_months))
    )
    dates: Sequence[dt.date] = sorted(set(ending["publicity_end"].to_list()))[:2]
    out = []
    for day in dates:
        gone = ending.filter(pl.col("publicity_end") <= day)["record_uid"].to_list()
        records = snap.records.filter(~pl.col("record_uid").is_in(gone))
        frame = person_features(
            records,
            snap.events,
            snap.subjects,
            as_of=as_of,
            known_at=row["known_at"],
            catalogue=cat,
            registry=reg,
        )
        projected = _rescore(frame, "person", bundle, reg, policy)
        if projected is None or projected - now_score < 1:
            continue
        after = frame.row(0, named=True)
        changes = {
            n: (values.get(n), after[n])
            for n in reg.names("person")
            if values.get(n) != after[n] and n in after
        }
        kinds = sorted(set(ending.filter(pl.col("record_uid").is_in(gone))["kind"].to_list()))
        zh_kinds = "、".join(cat.kind(k).zh for k in kinds)
        en_kinds = ", ".join(cat.kind(k).en for k in kinds)
        out.append(
            Action(
                "time",
                f"{day:%Y-%m-%d}起，{len(gone)}条负面记录（{zh_kinds}）公示期届满，不再使用",
                f"From {day:%Y-%m-%d}, {len(gone)} negative record{'s' if len(gone) > 1 else ''}"
                f" ({en_kinds}) leave{'s' if len(gone) == 1 else ''} the publicity period",
                changes,
                projected,
                projected - now_score,
                on=day,
                records=tuple(gone),
            )
        )
    return out
