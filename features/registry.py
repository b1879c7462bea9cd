"""The feature registry: every column the pipelines produce, with its meaning. Data, validated when loaded.

* ``RegistryError`` (a ``ValueError``): the registry file breaks a rule; the message names the
  feature and the rule, e.g. ``"feature 'utility_late_12m' (person): unknown record kind 'utility'"``.

``load_registry()`` reads ``features/registry.yaml`` (or a given path), checks it against the
record catalogue and returns a frozen ``Registry``. ``Registry.version`` is the declared version
plus a hash of the file and the catalogue, so it changes whenever either does.
``Registry.conform`` turns a pipeline's output into exactly the registry's columns, in order,
with the declared types.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl
import yaml

from features.catalogue import Catalogue, load_catalogue

__all__ = [
    "DTYPES",
    "FEATURE_SUBJECTS",
    "UNITS",
    "FeatureSpec",
    "Registry",
    "RegistryError",
    "load_registry",
]

DEFAULT_PATH = Path(__file__).with_name("registry.yaml")
FEATURE_SUBJECTS = ("person", "enterprise")
UNITS = ("month", "day", "year", "count", "weighted_count", "yuan", "hour", "share", "flag", "level")
DTYPES: dict[str, type[pl.DataType]] = {"int": pl.Int64, "float": pl.Float64}
VIA = ("legal_representative",)
MAX_WINDOW_MONTHS = 120
_NAME = re.compile(r"^[a-z][a-z0-9_]{0,62}$")
_REQUIRED = ("name", "subject", "kinds", "window", "unit", "dtype", "actionable", "monotone", "zh", "en")
_OPTIONAL = ("nullable", "via", "model_input")
_PARAMETERS = (
    "decay_half_life_days",
    "months_since_cap",
    "legal_representative_role",
    "tax_level_points",
    "size_levels",
    "environment_sectors",
    "safety_sectors",
    "public_body_types",
)
_ORG_TYPES = frozenset(
    {"enterprise", "individual_business", "social_organization", "public_institution", "government_body"}
)


class RegistryError(ValueError):
    """The feature registry breaks one of its rules."""


@dataclass(frozen=True, slots=True)
class FeatureSpec:
    name: str
    subject: str
    kinds: tuple[str, ...]
    window: int | None
    unit: str
    dtype: str
    actionable: bool
    monotone: int
    zh: str
    en: str
    nullable: bool = False
    via: str | None = None
    model_input: bool = True  # false: shown in the credit file and used for rules, not by models

    @property
    def polars_dtype(self) -> type[pl.DataType]:
        return DTYPES[self.dtype]


@dataclass(frozen=True)
class Registry:
    declared_version: str
    digest: str
    catalogue_version: str
    parameters: Mapping[str, Any]
    features: tuple[FeatureSpec, ...]

    @property
    def version(self) -> str:
        """Declared version and content hash, e.g. ``2026.11.1-3f9a0c21d4e5``."""
        return f"{self.declared_version}-{self.digest}"

    def for_subject(self, subject: str) -> tuple[FeatureSpec, ...]:
        if subject not in FEATURE_SUBJECTS:
            raise KeyError(f"subject must be one of {FEATURE_SUBJECTS}, got {subject!r}")
        return tuple(f for f in self.features if f.subject == subject)

    def names(self, subject: str) -> list[str]:
        return [f.name for f in self.for_subject(subject)]

    def feature(self, subject: str, name: str) -> FeatureSpec:
        for f in self.for_subject(subject):
            if f.name == name:
                return f
        raise KeyError(f"no {subject} feature {name!r} in registry {self.version}")

    def schema(self, subject: str) -> dict[str, type[pl.DataType]]:
        """Output schema: ``subject_id`` then every feature of the subject type, in registry order."""
        return {"subject_id": pl.Int64, **{f.name: f.polars_dtype for f in self.for_subject(subject)}}

    def monotone(self, subject: str) -> dict[str, int]:
        return {f.name: f.monotone for f in self.for_subject(subject)}

    def model_inputs(self, subject: str) -> list[str]:
        """The features models are trained on (``model_input: false`` ones are left out)."""
        return [f.name for f in self.for_subject(subject) if f.model_input]

    def conform(self, frame: pl.DataFrame, subject: str) -> pl.DataFrame:
        """Exactly the registry's columns, in order and with the declared types.

        Raises ``RegistryError`` if a column is missing or unregistered, or if a feature that is
        not nullable holds a null.
        """
        schema = self.schema(subject)
        names = list(schema)
        columns = frame.columns
        if columns != names:
            missing = [c for c in schema if c not in columns]
            if missing:
                raise RegistryError(
                    f"{subject} features do not match registry {self.version}: missing {missing}"
                )
            extra = [c for c in columns if c not in schema and not c.startswith("_")]
            if extra:
                raise RegistryError(
                    f"{subject} features do not match registry {self.version}: unregistered {extra}"
                )
            frame = frame.select(names)
        if frame.dtypes != list(schema.values()):
            frame = frame.cast(schema)  # type: ignore[arg-type]
        # One pass for every column's null count (subject_id first, then the features in order).
        nulls = frame.null_count().row(0)[1:] if frame.height else ()
        specs = self.for_subject(subject)
        bad = [f.name for f, n in zip(specs, nulls, strict=False) if n and not f.nullable]
        if bad:
            raise RegistryError(f"{subject} features hold nulls in non-nullable columns: {bad}")
        return frame


def _feature(raw: Any, index: int, catalogue: Catalogue) -> FeatureSpec:
    if not isinstance(raw, Mapping):
        raise RegistryError(f"feature #{index + 1}: must be a mapping, got {type(raw).__name__}")
    name = raw.get("name")
    if not isinstance(name, str) or not _NAME.match(name):
        raise RegistryError(f"feature #{index + 1}: name must be snake_case (a-z, 0-9, _), got {name!r}")
    subject = raw.get("subject")
    where = f"feature {name!r} ({subject})"
    if subject not in FEATURE_SUBJECTS:
        raise RegistryError(f"feature {name!r}: subject must be one of {FEATURE_SUBJECTS}, got {subject!r}")
    missing = [k for k in _REQUIRED if k not in raw]
    if missing:
        raise RegistryError(f"{where}: missing {missing}")
    unknown = sorted(set(raw) - set(_REQUIRED) - set(_OPTIONAL))
    if unknown:
        raise RegistryError(f"{where}: unknown attributes {unknown}")
    via = raw.get("via")
    if via is not None and via not in VIA:
        raise RegistryError(f"{where}: via must be one of {VIA}, got {via!r}")
    if via is not None and subject != "enterprise":
        raise RegistryError(f"{where}: via {via} only applies to enterprise features")
    kinds = raw["kinds"]
    if not isinstance(kinds, list) or not all(isinstance(k, str) for k in kinds):
        raise RegistryError(f"{where}: kinds must be a list of record kind codes")
    if not kinds and via is None:
        raise RegistryError(f"{where}: kinds must name at least one record kind")
    if len(set(kinds)) != len(kinds):
        raise RegistryError(f"{where}: a record kind is listed twice")
    # Whose records: the organisation's own, or (via) its legal representative's.
    source_types = frozenset({"person"}) if via or subject == "person" else _ORG_TYPES
    for k in kinds:
        if k not in catalogue.kinds:
            raise RegistryError(f"{where}: unknown record kind {k!r} (catalogue {catalogue.version})")
        if not catalogue.kinds[k].subject_types & source_types:
            who = "persons" if "person" in source_types else "organisations"
            raise RegistryError(f"{where}: record kind {k!r} does not apply to {who}")
    window = raw["window"]
    if window is not None and (
        isinstance(window, bool) or not isinstance(window, int) or not 1 <= window <= MAX_WINDOW_MONTHS
    ):
        raise RegistryError(
            f"{where}: window must be a whole number of months in 1..{MAX_WINDOW_MONTHS} or null,"
            f" got {window!r}"
        )
    if raw["unit"] not in UNITS:
        raise RegistryError(f"{where}: unit must be one of {UNITS}, got {raw['unit']!r}")
    if raw["dtype"] not in DTYPES:
        raise RegistryError(f"{where}: dtype must be one of {tuple(DTYPES)}, got {raw['dtype']!r}")
    for flag in ("actionable", "nullable", "model_input"):
        if flag in raw and not isinstance(raw[flag], bool):
            raise RegistryError(f"{where}: {flag} must be true or false, got {raw[flag]!r}")
    monotone = raw["monotone"]
    if isinstance(monotone, bool) or monotone not in (-1, 0, 1):
        raise RegistryError(f"{where}: monotone must be -1, 0 or 1, got {monotone!r}")
    if raw["unit"] == "flag" and raw["dtype"] != "int":
        raise RegistryError(f"{where}: a flag must have dtype int")
    for lang in ("zh", "en"):
        text = raw[lang]
        if not isinstance(text, str) or not text.strip():
            raise RegistryError(f"{where}: {lang} description must be non-empty text")
        if text != text.strip() or text.endswith((".", "。")):
            raise RegistryError(
                f"{where}: {lang} description is a phrase for sentences: no surrounding spaces or final stop"
            )
    if re.search(r"[A-Za-z]{3,}", raw["zh"]) and not re.search(r"[\u4e00-\u9fff]", raw["zh"]):
        raise RegistryError(f"{where}: zh description must be in Chinese")
    return FeatureSpec(
        name=name,
        subject=subject,
        kinds=tuple(kinds),
        window=window,
        unit=raw["unit"],
        dtype=raw["dtype"],
        actionable=raw["actionable"],
        monotone=int(monotone),
        zh=raw["zh"],
        en=raw["en"],
        nullable=bool(raw.get("nullable", False)),
        via=via,
        model_input=bool(raw.get("model_input", True)),
    )


def _parameters(raw: Any, catalogue: Catalogue) -> dict[str, Any]:
    if not isinstance(raw, Mapping):
        raise RegistryError("registry: parameters must be a mapping")
    missing = [k for k in _PARAMETERS if k not in raw]
    unknown = sorted(set(raw) - set(_PARAMETERS))
    if missing or unknown:
        raise RegistryError(f"registry parameters: missing {missing}, unknown {unknown}")
    half_life = raw["decay_half_life_days"]
    if isinstance(half_life, bool) or not isinstance(half_life, int | float) or half_life <= 0:
        raise RegistryError(f"registry parameters: decay_half_life_days must be positive, got {half_life!r}")
    cap = raw["months_since_cap"]
    if isinstance(cap, bool) or not isinstance(cap, int) or cap < 1:
        raise RegistryError(f"registry parameters: months_since_cap must be a positive integer, got {cap!r}")
    role = raw["legal_representative_role"]
    if not isinstance(role, str) or not role:
        raise RegistryError("registry parameters: legal_representative_role must be non-empty text")
    points = raw["tax_level_points"]
    levels = set(catalogue.kinds["tax_credit_level"].fields["level"].values)
    if not isinstance(points, Mapping) or set(points) != levels:
        raise RegistryError(
            f"registry parameters: tax_level_points must map exactly the levels {sorted(levels)}"
        )
    if not all(isinstance(v, int) and not isinstance(v, bool) for v in points.values()):
        raise RegistryError("registry parameters: tax_level_points must be integers")
    registration = catalogue.kinds["org_registration"].fields
    sizes = raw["size_levels"]
    if not isinstance(sizes, Mapping) or set(sizes) != set(registration["size"].values):
        known = sorted(registration["size"].values)
        raise RegistryError(f"registry parameters: size_levels must map exactly the sizes {known}")
    if not all(isinstance(v, int) and not isinstance(v, bool) for v in sizes.values()):
        raise RegistryError("registry parameters: size_levels must be integers")
    groups: dict[str, list[str]] = {}
    for key, allowed in (
        ("environment_sectors", registration["sector"].values),
        ("safety_sectors", registration["sector"].values),
        ("public_body_types", tuple(sorted(_ORG_TYPES))),
    ):
        values = raw[key]
        if not isinstance(values, list) or not values or not set(values) <= set(allowed):
            raise RegistryError(f"registry parameters: {key} must be a non-empty list of {sorted(allowed)}")
        groups[key] = list(values)
    return {
        "decay_half_life_days": float(half_life),
        "months_since_cap": cap,
        "legal_representative_role": role,
        "tax_level_points": dict(points),
        "size_levels": dict(sizes),
        **groups,
    }


def parse_registry(raw: Any, digest: str, catalogue: Catalogue) -> Registry:
    """Validate a parsed registry document against a catalogue."""
    if not isinstance(raw, Mapping):
        raise RegistryError("registry: top level must be a mapping")
    unknown = sorted(set(raw) - {"version", "parameters", "features"})
    if unknown:
        raise RegistryError(f"registry: unknown top-level keys {unknown}")
    version = raw.get("version")
    if not isinstance(version, str) or not version.strip():
        raise RegistryError("registry: version must be non-empty text")
    params = _parameters(raw.get("parameters"), catalogue)
    items = raw.get("features")
    if not isinstance(items, Sequence) or isinstance(items, str) or not items:
        raise RegistryError("registry: features must be a non-empty list")
    features: list[FeatureSpec] = []
    seen: set[tuple[str, str]] = set()
    for i, item in enumerate(items):
        f = _feature(item, i, catalogue)
        if (f.subject, f.name) in seen:
            raise RegistryError(f"feature {f.name!r} ({f.subject}): defined twice")
        if f.name == "subject_id":
            raise RegistryError("feature 'subject_id': the name is reserved for the key column")
        seen.add((f.subject, f.name))
        features.append(f)
    for subject in FEATURE_SUBJECTS:
        if not any(f.subject == subject for f in features):
            raise RegistryError(f"registry: no {subject} features")
    return Registry(version.strip(), digest, catalogue.version, params, tuple(features))


def load_registry(path: str | Path | None = None, catalogue: Catalogue | None = None) -> Registry:
    """Load and validate a registry file (the packaged one by default)."""
    p = Path(path) if path is not None else DEFAULT_PATH
    cat = catalogue if catalogue is not None else load_catalogue()
    data = p.read_bytes()
    key = (hashlib.sha256(data).hexdigest(), cat.digest)
    if key not in _CACHE:
        try:
            raw = yaml.safe_load(data)
        except yaml.YAMLError as exc:
            raise RegistryError(f"registry: not valid YAML: {exc}") from None
        # The identifier covers the catalogue too: a feature's meaning depends on its kinds.
        digest = hashlib.sha256(data + cat.digest.encode()).hexdigest()[:12]
        _CACHE[key] = parse_registry(raw, digest, cat)
    return _CACHE[key]


_CACHE: dict[tuple[str, str], Registry] = {}
