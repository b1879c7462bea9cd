"""Person tiers and enterprise classes: what citizens, banks and supervisors see.

A person's score maps to a tier by configurable lower bounds (defaults from the brief:
350–549 较差, 550–599 中等, 600–649 良好, 650–699 优秀, 700–950 极好). Two states are never a
number: ``insufficient_record`` (信用记录不足) and ``minor`` (persons under 18 are not scored).

An enterprise's class comes from its probability of default (A low risk … D high risk), and then
from explicit policy on top of the model: departmental listings downgrade directly (a model never
places anyone on a list; a list never waits for a model):

* serious-dishonesty list (严重失信主体名单) → D;
* judgment defaulter (失信被执行人) → no better than C;
* abnormal-operation list (经营异常名录) → no better than B.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

__all__ = [
    "CLASS_ORDER",
    "DEFAULT_CLASS_PD_BOUNDS",
    "DEFAULT_TIERS",
    "LISTING_CAPS",
    "ClassDecision",
    "Tier",
    "enterprise_class",
    "person_tier",
]


@dataclass(frozen=True, slots=True)
class Tier:
    code: str
    zh: str
    en: str
    lower: int


DEFAULT_TIERS: tuple[Tier, ...] = (
    Tier("poor", "较差", "poor", 350),
    Tier("fair", "中等", "fair", 550),
    Tier("good", "良好", "good", 600),
    Tier("very_good", "优秀", "very good", 650),
    Tier("excellent", "极好", "excellent", 700),
)
INSUFFICIENT = Tier("insufficient_record", "信用记录不足", "insufficient record", -1)
MINOR = Tier("minor", "未成年人不评分", "minor (not scored)", -1)

CLASS_ORDER = ("A", "B", "C", "D")
# Upper PD bounds of classes A, B, C; anything above is D.
DEFAULT_CLASS_PD_BOUNDS: tuple[float, float, float] = (0.03, 0.10, 0.25)
LISTING_CAPS: Mapping[str, str] = {
    "serious_dishonesty_list": "D",
    "judgment_defaulter": "C",
    "abnormal_operation": "B",
}


def person_tier(score: int | None, *, minor: bool = False, tiers: Sequence[Tier] = DEFAULT_TIERS) -> Tier:
    """Tier of a score; ``None`` means insufficient record. Minors are never tiered."""
    if minor:
        return MINOR
    if score is None:
        return INSUFFICIENT
    if not tiers[0].lower <= score <= 950:
        raise ValueError(f"score {score} outside {tiers[0].lower}-950")
    chosen = tiers[0]
    for t in tiers:
        if score >= t.lower:
            chosen = t
    return chosen


@dataclass(frozen=True, slots=True)
class ClassDecision:
    model_class: str
    final_class: str
    downgrades: tuple[str, ...]  # listing kinds that lowered the class


def enterprise_class(
    pd: float,
    active_listings: Iterable[str] = (),
    *,
    bounds: Sequence[float] = DEFAULT_CLASS_PD_BOUNDS,
    caps: Mapping[str, str] = LISTING_CAPS,
) -> ClassDecision:
    """Class from PD, then the listing caps. Returns which listings changed it."""
    if not 0.0 <= pd <= 1.0:
        raise ValueError(f"probability {pd} outside [0, 1]")
    if list(bounds) != sorted(bounds) or len(bounds) != 3:
        raise ValueError("class bounds must be three increasing PD limits")
    model = next((c for c, b in zip(CLASS_ORDER, bounds, strict=False) if pd < b), "D")
    final = model
    applied: list[str] = []
    for kind in sorted(set(active_listings)):
        cap = caps.get(kind)
        if cap is not None and CLASS_ORDER.index(cap) > CLASS_ORDER.index(final):
            final = cap
            applied.append(kind)
    return ClassDecision(model, final, tuple(applied))
