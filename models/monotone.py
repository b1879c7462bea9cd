"""Monotone directions: one mapping, read the same way by both model families.

A direction says how the *credit quality* moves with a feature:

* ``+1`` — more is better: the probability of default (PD) must not increase as the feature grows
  (optbinning event-rate trend ``"descending"``, LightGBM constraint ``-1`` on the PD);
* ``-1`` — more is worse: PD must not decrease as the feature grows (``"ascending"``, LightGBM ``+1``);
* ``0`` — no constraint declared: the scorecard lets the binning pick a monotone direction from the
  data, LightGBM leaves the feature unconstrained.

Categorical features have no order, so they only accept ``0``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

__all__ = ["binning_trend", "lgbm_constraint", "validate_monotone"]

_TRENDS = {1: "descending", -1: "ascending"}


def validate_monotone(
    monotone: Mapping[str, int] | None, features: Sequence[str], categorical: Sequence[str] = ()
) -> dict[str, int]:
    """Check a direction mapping against the feature list and fill in the zeros.

    Parameters
    ----------
    monotone : mapping of str to int, or None
        ``{feature: +1 | -1 | 0}``; features left out mean ``0``.
    features : sequence of str
        The model's features, in order.
    categorical : sequence of str
        Features without an order; a non-zero direction for one of them is an error.

    Returns
    -------
    dict of str to int
        A direction for every feature, in ``features`` order.

    Raises
    ------
    ValueError
        On an unknown feature, a direction outside {-1, 0, 1}, or a direction on a categorical feature.
    """
    given = dict(monotone or {})
    unknown = sorted(set(given) - set(features))
    if unknown:
        raise ValueError(f"monotone directions for unknown features: {unknown}")
    cats = set(categorical)
    out: dict[str, int] = {}
    for name in features:
        direction = given.get(name, 0)
        if direction not in (-1, 0, 1) or isinstance(direction, bool):
            raise ValueError(f"monotone direction of {name!r} must be -1, 0 or +1, got {direction!r}")
        if direction and name in cats:
            raise ValueError(f"categorical feature {name!r} cannot carry a monotone direction")
        out[name] = int(direction)
    return out


def binning_trend(direction: int, auto: str = "auto_asc_desc") -> str:
    """The optbinning ``monotonic_trend`` (on the event rate) for a direction."""
    return _TRENDS.get(direction, auto)


def lgbm_constraint(direction: int) -> int:
    """The LightGBM ``monotone_constraints`` entry (on the PD) for a direction: the sign flips."""
    return -direction
