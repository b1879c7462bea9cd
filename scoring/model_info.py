"""What reviewers read about models without MLflow: exported serving bundles (their manifests,
with metrics, fairness and the development distribution written at training), the promotions
table, and the model cards under ``<var_dir>/cards/<registered model>/<version>/``.

A version is listed when it was exported to the bundle folder (champions, and challengers once
promoted), recorded in the promotions table, or has a model card.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from sqlalchemy import Engine

from scoring.bundles import ModelUnavailable, champion_version
from scoring.promotions import list_promotions

__all__ = ["GROUPS", "card_path", "list_versions", "manifest", "registered_names", "version_detail"]

GROUPS = ("person", "enterprise")

_META_JSON = ("metrics", "fairness", "reference_distribution")


def manifest(bundle_dir: Path, group: str, version: str) -> dict[str, Any] | None:
    path = Path(bundle_dir) / group / str(version) / "manifest.json"
    if not path.is_file():
        return None
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


def card_path(var_dir: Path, model_name: str, version: str, fmt: str = "md") -> Path:
    return Path(var_dir) / "cards" / model_name / str(version) / f"model_card.{fmt}"


def registered_names(engine: Engine, bundle_dir: Path) -> dict[str, str]:
    """Registered model name per group: the exported bundles' manifests say it, else the
    promotions table, else the training flow's convention ``credit-<group>-pd``."""
    out: dict[str, str] = {}
    by_subject = {p["subject"]: p["registered_model"] for p in list_promotions(engine)}
    for group in GROUPS:
        name = None
        for v in _versions_on_disk(bundle_dir, group):
            name = (manifest(bundle_dir, group, v) or {}).get("model_name") or name
        out[group] = str(name or by_subject.get(group) or f"credit-{group}-pd")
    return out


def _versions_on_disk(bundle_dir: Path, group: str) -> list[str]:
    folder = Path(bundle_dir) / group
    if not folder.is_dir():
        return []
    return sorted(
        (p.name for p in folder.iterdir() if (p / "manifest.json").is_file()),
        key=lambda v: (len(v), v),
    )


def list_versions(
    engine: Engine, bundle_dir: Path, var_dir: Path, names: Mapping[str, str]
) -> dict[str, Any]:
    """Per subject group: the champion and every known version with where it is known from."""
    promotions = list_promotions(engine)
    out: dict[str, Any] = {}
    for group, name in names.items():
        try:
            champion: str | None = champion_version(bundle_dir, group)
        except ModelUnavailable:
            champion = None
        versions: dict[str, dict[str, Any]] = {}
        for v in _versions_on_disk(bundle_dir, group):
            m = manifest(bundle_dir, group, v) or {}
            versions[v] = {
                "version": v,
                "family": m.get("family"),
                "created_at": m.get("created_at"),
                "exported": True,
            }
        for p in promotions:
            if p["registered_model"] == name:
                versions.setdefault(
                    p["candidate_version"], {"version": p["candidate_version"], "exported": False}
                )
        cards = Path(var_dir) / "cards" / name
        if cards.is_dir():
            for d in cards.iterdir():
                if (d / "model_card.md").is_file():
                    versions.setdefault(d.name, {"version": d.name, "exported": False})
        for v, info in versions.items():
            info["champion"] = v == champion
            info["card"] = card_path(var_dir, name, v).is_file()
            info["decisions"] = [
                {k: p[k] for k in ("outcome", "actor", "reason", "decided_at", "previous_champion")}
                for p in promotions
                if p["registered_model"] == name and p["candidate_version"] == v
            ]
        out[group] = {
            "registered_model": name,
            "champion": champion,
            "versions": sorted(versions.values(), key=lambda i: (len(i["version"]), i["version"])),
        }
    return out


def version_detail(
    engine: Engine, bundle_dir: Path, var_dir: Path, group: str, name: str, version: str
) -> dict[str, Any] | None:
    """A version's manifest facts, metrics, fairness and promotion record (``None``: unknown)."""
    m = manifest(bundle_dir, group, version)
    decisions = [p for p in list_promotions(engine, name) if p["candidate_version"] == str(version)]
    has_card = card_path(var_dir, name, version).is_file()
    if m is None and not decisions and not has_card:
        return None
    meta: dict[str, Any] = dict((m or {}).get("metadata", {}))
    parsed = {k: json.loads(meta.pop(k)) for k in _META_JSON if k in meta}
    metrics = parsed.get("metrics")
    if metrics is None and decisions:
        metrics = decisions[-1]["evidence"].get("metrics")
    fairness = parsed.get("fairness")
    if fairness is None and decisions:
        gates = decisions[-1]["evidence"].get("gates")
        fairness = {f: {"passed": bool(p)} for f, p in (gates or {}).items()} or None
    out: dict[str, Any] = {
        "group": group,
        "registered_model": name,
        "version": str(version),
        "exported": m is not None,
        "card": has_card,
        "metrics": metrics,
        "fairness": fairness,
        "development_distribution": parsed.get("reference_distribution"),
        "decisions": [
            {k: p[k] for k in ("outcome", "actor", "reason", "decided_at", "previous_champion")}
            for p in decisions
        ],
    }
    if m is not None:
        out.update(
            family=m.get("family"),
            created_at=m.get("created_at"),
            features=m.get("features"),
            monotone=m.get("monotone"),
            feature_registry_version=m.get("feature_registry_version"),
            training_data_hash=m.get("training_data_hash"),
            metadata=meta,
        )
    return out
