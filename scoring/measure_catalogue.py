"""The joint reward and punishment catalogue (``scoring/measures.yaml``), validated when loaded.

Four lists: scenarios (scope), list types (catalogue), objects and measures. See the YAML's
header for the meaning of every field.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from features.catalogue import load_catalogue
from scoring.tiers import CLASS_ORDER

__all__ = [
    "DEFAULT_MEASURES_FILE",
    "ListType",
    "Measure",
    "MeasureCatalogue",
    "MeasureCatalogueError",
    "load_measures",
    "parse_measures",
]

DEFAULT_MEASURES_FILE = Path(__file__).with_name("measures.yaml")
MEASURE_TYPES = ("reward", "punishment")
SUBJECT_TYPES = ("person", "org")


class MeasureCatalogueError(ValueError):
    """The measures catalogue is invalid."""


@dataclass(frozen=True)
class ListType:
    code: str
    zh: str
    en: str
    polarity: str  # positive | negative
    kind: str | None  # record-catalogue kind a published listing becomes
    exit_requires_commitment: bool


@dataclass(frozen=True)
class Measure:
    code: str
    type: str
    zh: str
    en: str
    memo_title: str
    memo_doc_no: str
    legal_basis: str
    lists: tuple[str, ...]
    record_kinds: tuple[str, ...]
    min_score: int | None
    classes: tuple[str, ...]
    subject_types: tuple[str, ...]
    scenarios: tuple[str, ...]
    mandatory: bool

    @property
    def basis(self) -> str:
        return f"《{self.memo_title}》（{self.memo_doc_no}）；{self.legal_basis}"


@dataclass(frozen=True)
class MeasureCatalogue:
    version: str
    digest: str
    list_types: Mapping[str, ListType]
    scenarios: Mapping[str, Mapping[str, str]]
    measures: tuple[Measure, ...]
    rewards_blocked_lists: tuple[str, ...]
    rewards_blocked_kinds: tuple[str, ...]

    def list_type(self, code: str) -> ListType:
        if code not in self.list_types:
            raise MeasureCatalogueError(
                f"unknown list type {code!r}; expected one of {', '.join(self.list_types)}"
            )
        return self.list_types[code]

    def kind_to_list_type(self) -> dict[str, str]:
        return {t.kind: t.code for t in self.list_types.values() if t.kind}


def _strs(value: Any, where: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise MeasureCatalogueError(f"{where}: expected a list of strings")
    return tuple(value)


def _req(d: Mapping[str, Any], key: str, where: str) -> Any:
    if not isinstance(d, Mapping) or d.get(key) in (None, ""):
        raise MeasureCatalogueError(f"{where}: {key} is required")
    return d[key]


def _parse(raw: Any, digest: str) -> MeasureCatalogue:
    if not isinstance(raw, Mapping):
        raise MeasureCatalogueError("the measures catalogue must be a mapping")
    version = str(_req(raw, "version", "catalogue"))
    kinds = load_catalogue().kinds
    list_types: dict[str, ListType] = {}
    for code, spec in dict(_req(raw, "list_types", "catalogue")).items():
        where = f"list type {code}"
        polarity = _req(spec, "polarity", where)
        if polarity not in ("positive", "negative"):
            raise MeasureCatalogueError(f"{where}: polarity must be positive or negative")
        kind = spec.get("kind")
        if kind is not None and (kind not in kinds or not kinds[kind].listing):
            raise MeasureCatalogueError(
                f"{where}: kind {kind!r} is not a listing kind of the record catalogue"
            )
        list_types[code] = ListType(
            code,
            str(_req(spec, "zh", where)),
            str(_req(spec, "en", where)),
            polarity,
            kind,
            bool(spec.get("exit_requires_commitment", polarity == "negative")),
        )
    scenarios = {str(k): dict(v) for k, v in dict(_req(raw, "scenarios", "catalogue")).items()}
    for code, s in scenarios.items():
        _req(s, "zh", f"scenario {code}")
        _req(s, "en", f"scenario {code}")
    memos = dict(_req(raw, "memoranda", "catalogue"))
    measures: list[Measure] = []
    seen: set[str] = set()
    for m in _req(raw, "measures", "catalogue"):
        code = str(_req(m, "code", "measure"))
        where = f"measure {code}"
        if code in seen:
            raise MeasureCatalogueError(f"{where}: duplicate code")
        seen.add(code)
        mtype = _req(m, "type", where)
        if mtype not in MEASURE_TYPES:
            raise MeasureCatalogueError(f"{where}: type must be reward or punishment")
        memo = memos.get(_req(m, "memo", where))
        if memo is None:
            raise MeasureCatalogueError(f"{where}: unknown memorandum {m['memo']!r}")
        objects = m.get("objects") or {}
        lists = _strs(objects.get("lists"), where)
        record_kinds = _strs(objects.get("record_kinds"), where)
        classes = _strs(objects.get("classes"), where)
        min_score = objects.get("min_score")
        for lt in lists:
            if lt not in list_types:
                raise MeasureCatalogueError(f"{where}: unknown list type {lt!r}")
        for k in record_kinds:
            if k not in kinds or not kinds[k].listing:
                raise MeasureCatalogueError(f"{where}: {k!r} is not a listing kind of the record catalogue")
        for c in classes:
            if c not in CLASS_ORDER:
                raise MeasureCatalogueError(f"{where}: unknown class {c!r}")
        if min_score is not None and not (isinstance(min_score, int) and 350 <= min_score <= 950):
            raise MeasureCatalogueError(f"{where}: min_score must be an integer in 350-950")
        if mtype == "punishment" and (min_score is not None or classes):
            raise MeasureCatalogueError(
                f"{where}: a punishment applies to listings only (a model never punishes anyone)"
            )
        if not (lists or record_kinds or classes or min_score is not None):
            raise MeasureCatalogueError(f"{where}: no objects")
        subject_types = _strs(_req(m, "subject_types", where), where)
        if not subject_types or set(subject_types) - set(SUBJECT_TYPES):
            raise MeasureCatalogueError(f"{where}: subject_types must be person and/or org")
        scen = _strs(_req(m, "scenarios", where), where)
        for sc in scen:
            if sc not in scenarios:
                raise MeasureCatalogueError(f"{where}: unknown scenario {sc!r}")
        measures.append(
            Measure(
                code=code,
                type=mtype,
                zh=str(_req(m, "zh", where)),
                en=str(_req(m, "en", where)),
                memo_title=str(_req(memo, "title", where)),
                memo_doc_no=str(_req(memo, "doc_no", where)),
                legal_basis=str(_req(m, "legal_basis", where)),
                lists=lists,
                record_kinds=record_kinds,
                min_score=min_score,
                classes=classes,
                subject_types=subject_types,
                scenarios=scen,
                mandatory=bool(m.get("mandatory", False)),
            )
        )
    blocked = raw.get("rewards_blocked_by") or {}
    blocked_lists = _strs(blocked.get("list_types"), "rewards_blocked_by")
    for lt in blocked_lists:
        if lt not in list_types:
            raise MeasureCatalogueError(f"rewards_blocked_by: unknown list type {lt!r}")
    return MeasureCatalogue(
        version=version,
        digest=digest,
        list_types=list_types,
        scenarios=scenarios,
        measures=tuple(measures),
        rewards_blocked_lists=blocked_lists,
        rewards_blocked_kinds=_strs(blocked.get("record_kinds"), "rewards_blocked_by"),
    )


def load_measures(path: str | Path | None = None) -> MeasureCatalogue:
    """The catalogue at ``path`` (default ``scoring/measures.yaml``), validated; cached per path."""
    return _load_cached(str(Path(path or DEFAULT_MEASURES_FILE).resolve()))


@functools.lru_cache(maxsize=8)
def _load_cached(path: str) -> MeasureCatalogue:
    text = Path(path).read_text(encoding="utf-8")
    return _parse(yaml.safe_load(text), hashlib.sha256(text.encode()).hexdigest())


def parse_measures(text: str) -> MeasureCatalogue:
    """Parse catalogue text (tests and tools)."""
    return _parse(yaml.safe_load(text), hashlib.sha256(text.encode()).hexdigest())
