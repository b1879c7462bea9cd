"""From feature rows to what people see: states, probabilities, scores, tiers, classes, reasons.

:func:`compute_scores` is the one implementation for a million rows and for one: the batch
publication, the single-subject rescore and the replay all call it.

* **States.** A person under 18 on the as-of date is ``minor`` and a subject with a thin file
  (``models.thinfile``: fewer than 3 records or under 6 months of history) is
  ``insufficient_record``; neither gets a probability, a score or reasons — never a number.
  Everyone else is ``scored``.
* **Person score** 350–950 from the champion's calibrated PD (``models.scaling``: 600 points at
  good:bad odds 19:1, 50 points to double the odds, parameters stored in the bundle), and its
  tier from configurable lower bounds (``scoring.tiers``).
* **Enterprise class** A–D from the PD (configurable bounds), then the listing caps of
  ``scoring.tiers`` as explicit policy on top (serious dishonesty → D, judgment defaulter → C,
  abnormal operation → B). A listed organisation with a thin file still gets the capped class: a
  list never waits for a model.
* **Reasons**: contributions to the log-odds of default (exact TreeSHAP or scorecard points),
  converted to score points, up to four lowering and four raising factors per subject.
* **Canonical features**: float features rounded to 6 decimals before anything uses them, and the
  row written as ``v1|v2|...`` in registry order; its sha256 (with the registry version and the
  names) is the feature hash a replay must reproduce.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import polars as pl

from features.registry import Registry
from models.bundle import ServingBundle
from models.calibration import sigmoid
from models.explain import PatternTreeShap, contributions, principal_reasons, score_points
from models.thinfile import thin_file_mask
from scoring.settings import Settings
from scoring.tiers import (
    CLASS_ORDER,
    DEFAULT_CLASS_PD_BOUNDS,
    DEFAULT_TIERS,
    INSUFFICIENT,
    LISTING_CAPS,
    MINOR,
    Tier,
)

__all__ = [
    "FEATURE_DECIMALS",
    "MINOR_AGE",
    "SCORE_COLUMNS",
    "ScoringPolicy",
    "canonical_features",
    "class_codes",
    "compute_scores",
    "feature_hash",
    "feature_hashes",
    "is_minor",
    "listing_flags",
    "parse_reasons",
    "round_features",
    "tier_codes",
]

FEATURE_DECIMALS = 6
MINOR_AGE = 18
SCORED, INSUFFICIENT_STATE, MINOR_STATE = "scored", INSUFFICIENT.code, MINOR.code
SCORE_COLUMNS = (
    "subject_id",
    "state",
    "pd",
    "score",
    "grade",
    "model_grade",
    "downgrades",
    "flags",
    "feature_hash",
    "features",
    "contributions",
    "reasons_lowering",
    "reasons_raising",
)
_SMALL_BATCH = 256  # below this, LightGBM's own TreeSHAP is faster than building pattern tables


@dataclass(frozen=True)
class ScoringPolicy:
    """The configurable policy: tier bounds, class bounds, listing caps, thin files, reasons."""

    tiers: tuple[Tier, ...] = DEFAULT_TIERS
    class_pd_bounds: tuple[float, float, float] = DEFAULT_CLASS_PD_BOUNDS
    listing_caps: Mapping[str, str] = field(default_factory=lambda: dict(LISTING_CAPS))
    thin_file_min_records: int = 3
    thin_file_min_tenure_months: int = 6
    top_reasons: int = 4
    min_reason_points: float = 0.5

    def __post_init__(self) -> None:
        lowers = [t.lower for t in self.tiers]
        if lowers != sorted(lowers) or len(set(lowers)) != len(lowers):
            raise ValueError("tier lower bounds must increase")
        b = list(self.class_pd_bounds)
        if len(b) != 3 or b != sorted(b) or not (b[0] > 0 and b[-1] < 1):
            raise ValueError("class bounds must be three increasing PD limits in (0, 1)")

    @classmethod
    def from_settings(cls, settings: Settings) -> ScoringPolicy:
        """Policy from settings: tier bounds, class PD bounds and the thin-file rule."""
        bounds = settings.tier_bounds
        if len(bounds) != len(DEFAULT_TIERS) - 1:
            raise ValueError(f"tier_bounds needs {len(DEFAULT_TIERS) - 1} lower bounds")
        tiers = (
            DEFAULT_TIERS[0],
            *(Tier(t.code, t.zh, t.en, int(b)) for t, b in zip(DEFAULT_TIERS[1:], bounds, strict=True)),
        )
        return cls(
            tiers=tiers,
            class_pd_bounds=settings.class_pd_bounds,
            thin_file_min_records=settings.thin_file_min_records,
            thin_file_min_tenure_months=settings.thin_file_min_tenure_months,
        )

    def tier(self, code: str) -> Tier:
        for t in (*self.tiers, INSUFFICIENT, MINOR):
            if t.code == code:
                return t
        raise KeyError(code)


def listing_flags(registry: Registry, subject_type: str) -> dict[str, str]:
    """Feature → listing kind, for the subject's own ``*_active`` listing flags in the registry."""
    out: dict[str, str] = {}
    for spec in registry.for_subject(subject_type):
        if (
            spec.unit == "flag"
            and spec.name.endswith("_active")
            and spec.via is None
            and len(spec.kinds) == 1
        ):
            out[spec.name] = spec.kinds[0]
    return out


def is_minor(birth_date: dt.date | None, birth_year: int | None, as_of: dt.date) -> bool:
    """Under 18 on ``as_of``. With only the birth year, a person who may still be 17 counts as a
    minor (never score someone who might be a child)."""
    if birth_date is not None:
        eighteenth = _add_years(birth_date, MINOR_AGE)
        return as_of < eighteenth
    if birth_year is None:
        return False
    age_this_year = as_of.year - birth_year  # the age reached by 31 December
    if age_this_year != MINOR_AGE:
        return age_this_year < MINOR_AGE
    return (as_of.month, as_of.day) != (12, 31)


def _add_years(d: dt.date, years: int) -> dt.date:
    try:
        return d.replace(year=d.year + years)
    except ValueError:  # 29 February
        return d.replace(year=d.year + years, day=28)


def round_features(frame: pl.DataFrame, names: Sequence[str]) -> pl.DataFrame:
    """Float features rounded to :data:`FEATURE_DECIMALS`: the values the models see and the hash covers."""
    floats = [n for n in names if frame.schema[n].is_float()]
    return frame.with_columns(pl.col(floats).round(FEATURE_DECIMALS)) if floats else frame


def canonical_features(frame: pl.DataFrame, names: Sequence[str]) -> pl.Series:
    """``v1|v2|...`` per row (values as float64 text, empty when missing)."""
    if frame.height == 0:
        return pl.Series("features", [], dtype=pl.Utf8)
    exprs = [pl.col(n).cast(pl.Float64).cast(pl.Utf8).fill_null("") for n in names]
    return round_features(frame, names).select(pl.concat_str(exprs, separator="|").alias("features"))[
        "features"
    ]


def feature_hash(canonical: str, names: Sequence[str], registry_version: str) -> str:
    """sha256 of the registry version, the feature names and the canonical values."""
    return feature_hashes([canonical], names, registry_version)[0]


def feature_hashes(canonical: Sequence[str], names: Sequence[str], registry_version: str) -> list[str]:
    """:func:`feature_hash` of many rows (the common prefix is hashed once)."""
    head = hashlib.sha256(f"{registry_version}\n{','.join(names)}\n".encode())
    out = []
    for text in canonical:
        h = head.copy()
        h.update(text.encode())
        out.append(h.hexdigest())
    return out


def parse_reasons(text: str | None) -> list[tuple[str, float]]:
    """``"feature:-12.5,other:-3.25"`` → ``[("feature", -12.5), ("other", -3.25)]``."""
    if not text:
        return []
    out = []
    for item in text.split(","):
        name, _, pts = item.rpartition(":")
        out.append((name, float(pts)))
    return out


def _reason_strings(idx: np.ndarray, pts: np.ndarray, names: Sequence[str]) -> pl.Series:
    """One ``name:points`` list per row, vectorised with polars."""
    lookup = np.array([*names, ""], dtype=object)
    cols = []
    for k in range(idx.shape[1]):
        name = pl.Series(lookup[np.where(idx[:, k] >= 0, idx[:, k], len(names))].astype(str))
        points = pl.Series(np.round(pts[:, k], 2))
        cols.append(
            pl.when(name != "")
            .then(pl.format("{}:{}", pl.lit(name), pl.lit(points)))
            .otherwise(None)
            .alias(str(k))
        )
    if not cols:
        return pl.Series([None] * idx.shape[0], dtype=pl.Utf8)
    out = pl.select(pl.concat_str(cols, separator=",", ignore_nulls=True).alias("r"))["r"]
    return out.replace("", None)


def _contribution_strings(contrib: np.ndarray) -> pl.Series:
    frame = pl.DataFrame(
        np.round(contrib, FEATURE_DECIMALS), schema=[f"c{i}" for i in range(contrib.shape[1])]
    )
    return frame.select(
        pl.concat_str([pl.col(c).cast(pl.Utf8) for c in frame.columns], separator="|").alias("c")
    )["c"]


def tier_codes(scores: np.ndarray, policy: ScoringPolicy) -> np.ndarray:
    """Tier code of each score (350–950) under the policy's lower bounds."""
    scores = np.asarray(scores)
    if scores.size and (scores.min() < policy.tiers[0].lower or scores.max() > 950):
        raise ValueError(f"scores must lie in {policy.tiers[0].lower}-950")
    lowers = np.array([t.lower for t in policy.tiers])
    codes = np.array([t.code for t in policy.tiers], dtype=object)
    return np.asarray(codes[np.searchsorted(lowers, scores, side="right") - 1])


def class_codes(pd_values: np.ndarray, policy: ScoringPolicy) -> np.ndarray:
    """Enterprise class of each PD before listing caps: A below the first bound … D above the last."""
    cls = np.array(CLASS_ORDER, dtype=object)
    return np.asarray(cls[np.searchsorted(np.array(policy.class_pd_bounds), pd_values, side="right")])


def _matrix(bundle: ServingBundle, frame: pl.DataFrame) -> np.ndarray:
    if bundle.encoding.categories:
        return bundle.encode(frame.select(bundle.features).to_pandas())
    return frame.select(pl.col(f).cast(pl.Float64) for f in bundle.features).to_numpy()


def compute_scores(
    frame: pl.DataFrame,
    subject_type: str,
    bundle: ServingBundle | None,
    registry: Registry,
    policy: ScoringPolicy,
    *,
    minor: np.ndarray | None = None,
    explainer: PatternTreeShap | None = None,
) -> pl.DataFrame:
    """Score every row of a feature frame (``subject_id`` plus the registry's columns).

    Returns :data:`SCORE_COLUMNS`. ``minor`` marks persons under 18 (persons only). Without a
    bundle nobody is ``scored`` (states, flags and listing caps still apply).
    """
    names = registry.names(subject_type)
    missing = [n for n in names if n not in frame.columns]
    if missing:
        raise ValueError(f"feature frame lacks registry columns {missing}")
    n = frame.height
    frame = round_features(frame, names)
    canonical = canonical_features(frame, names)
    hashes = feature_hashes(canonical.to_list(), names, registry.version)
    thin = thin_file_mask(
        frame["record_count"].to_numpy(),
        frame["record_tenure_months"].to_numpy(),
        policy.thin_file_min_records,
        policy.thin_file_min_tenure_months,
    )
    minors = np.zeros(n, dtype=bool) if minor is None else np.asarray(minor, dtype=bool)
    if subject_type != "person":
        minors[:] = False
    eligible = ~thin & ~minors & (bundle is not None)
    state = np.where(minors, MINOR_STATE, np.where(thin, INSUFFICIENT_STATE, SCORED)).astype(object)
    if bundle is None:
        state[state == SCORED] = INSUFFICIENT_STATE

    flags_map = listing_flags(registry, subject_type)
    flag_cols = {kind: frame[f].fill_null(0).to_numpy() > 0 for f, kind in flags_map.items()}
    flag_exprs = [pl.when(pl.lit(pl.Series(flag_cols[k]))).then(pl.lit(k)) for k in sorted(flag_cols)]
    flags = (
        pl.select(pl.concat_str(flag_exprs, separator=",", ignore_nulls=True).alias("f"))["f"].replace(
            "", None
        )
        if flag_exprs and n
        else pl.Series([None] * n, dtype=pl.Utf8)
    )

    pd_all = np.full(n, np.nan)
    score_all = np.full(n, np.nan)
    grade = np.full(n, None, dtype=object)
    model_grade = np.full(n, None, dtype=object)
    downgrades = np.full(n, None, dtype=object)
    contrib_text = pl.Series([None] * n, dtype=pl.Utf8)
    low_text = pl.Series([None] * n, dtype=pl.Utf8)
    up_text = pl.Series([None] * n, dtype=pl.Utf8)

    rows = np.flatnonzero(eligible)
    if rows.size and bundle is not None:
        X = _matrix(bundle, frame[rows])
        if bundle.family == "lgbm" and rows.size < _SMALL_BATCH:
            contrib = bundle.raw_contributions(X)
        else:
            contrib = contributions(bundle, X, explainer)
        # The contributions add up to the model's raw log-odds (TreeSHAP's local accuracy), so the
        # probability comes from them: one pass over the trees, not two.
        pd_rows = sigmoid(bundle.calibration.transform(contrib.sum(axis=1)))
        pd_all[rows] = pd_rows
        reasons = principal_reasons(
            score_points(bundle, contrib), top=policy.top_reasons, min_points=policy.min_reason_points
        )
        feats = list(bundle.features)
        contrib_text = contrib_text.scatter(rows, _contribution_strings(contrib))
        low_text = low_text.scatter(rows, _reason_strings(reasons.lowering, reasons.lowering_points, feats))
        up_text = up_text.scatter(rows, _reason_strings(reasons.raising, reasons.raising_points, feats))
        if subject_type == "person":
            scores = np.rint(bundle.score(pd_rows)).astype(np.int64)
            score_all[rows] = scores
            grade[rows] = tier_codes(scores, policy)
        else:
            model_grade[rows] = class_codes(pd_rows, policy)
            grade[rows] = model_grade[rows]

    if subject_type != "person":  # listing caps on top of the model, also for thin files
        for kind, cap in policy.listing_caps.items():
            active = flag_cols.get(kind)
            if active is None:
                continue
            for i in np.flatnonzero(active):
                if grade[i] is None or CLASS_ORDER.index(cap) > CLASS_ORDER.index(grade[i]):
                    grade[i] = cap
                    downgrades[i] = kind if downgrades[i] is None else f"{downgrades[i]},{kind}"

    return pl.DataFrame(
        {
            "subject_id": frame["subject_id"].cast(pl.Int64),
            "state": pl.Series(state.tolist(), dtype=pl.Utf8),
            "pd": pl.Series(pd_all).fill_nan(None),
            "score": pl.Series(score_all).fill_nan(None).cast(pl.Int64),
            "grade": pl.Series(grade.tolist(), dtype=pl.Utf8),
            "model_grade": pl.Series(model_grade.tolist(), dtype=pl.Utf8),
            "downgrades": pl.Series(downgrades.tolist(), dtype=pl.Utf8),
            "flags": flags,
            "feature_hash": pl.Series(hashes, dtype=pl.Utf8),
            "features": canonical,
            "contributions": contrib_text,
            "reasons_lowering": low_text,
            "reasons_raising": up_text,
        }
    )
