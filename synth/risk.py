"""The true outcome probabilities of the synthetic city: ``p_block = f(state at the block start)``.

Both functions are nonlinear with interactions but monotone in every driver, in the direction
documented next to it (``softplus`` terms are increasing; each interaction multiplies two terms
that are non-negative and move the same way as their drivers). ``docs/synthetic-city.md`` repeats
the formulas.
"""

from __future__ import annotations

import numpy as np

__all__ = ["org_probability", "person_probability", "sigmoid", "softplus"]

# Person: an intercept that puts the adult base rate near 6–7 % and a common scale.
PERSON_INTERCEPT = -3.9
PERSON_SCALE = 0.9


def sigmoid(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-z))


def softplus(z: np.ndarray) -> np.ndarray:
    return np.logaddexp(0.0, z)


def person_probability(
    *,
    stress: np.ndarray,
    conscientiousness: np.ndarray,
    unemployed: np.ndarray,
    indebted: np.ndarray,
    income: np.ndarray,
) -> np.ndarray:
    """Probability that a person has a serious default event in the next 12 months.

    Drivers (direction): financial stress at the block start (+; static fragility plus the
    monthly latent state), conscientiousness (−), unemployed at the block start (+), an active
    bank loan at the block start (+), standardised log income (−).
    """
    s, c = stress, conscientiousness
    u = unemployed.astype(np.float64)
    d = indebted.astype(np.float64)
    linear = 0.5 * s - 0.45 * c + 0.4 * u - 0.15 * income
    # Sharp interactions (an AND of two conditions) that a sum of main effects cannot mimic:
    # a loan with no job, a loan held by a careless person, a stressed person out of work; plus
    # stress that hurts much more past a threshold.
    nonlinear = (
        3.0 * u * d
        + 3.0 * d * sigmoid(5.0 * (-c - 0.8))
        + 2.0 * u * sigmoid(4.0 * (s - 0.8))
        + 0.5 * softplus(2.0 * (s - 1.5))
    )
    return sigmoid(PERSON_INTERCEPT + PERSON_SCALE * (linear + nonlinear))


# Organisation type offsets (a government body almost never has a serious negative event).
ORG_TYPE_OFFSET = {
    "enterprise": 0.0,
    "individual_business": 0.15,
    "social_organization": -0.6,
    "public_institution": -1.6,
    "government_body": -2.6,
}
ORG_INTERCEPT = -3.45


def org_probability(
    *,
    quality: np.ndarray,
    state: np.ndarray,
    sector_hazard: np.ndarray,
    micro: np.ndarray,
    young: np.ndarray,
    rep_risk: np.ndarray,
    type_offset: np.ndarray,
) -> np.ndarray:
    """Probability that an organisation has a serious negative event in the next 12 months.

    Drivers (direction): static weakness ``quality`` (+, higher is worse), the current latent state
    (+), the sector hazard (+), micro size (+), registered less than three years ago (+), the legal
    representative's own static risk (+), the subject-type offset (+).
    """
    q, y = quality, state
    m = micro.astype(np.float64)
    g = young.astype(np.float64)
    linear = 0.65 * q + 0.75 * y + sector_hazard + 0.45 * m + 0.4 * g + 0.3 * rep_risk + type_offset
    nonlinear = 0.9 * softplus(2.0 * (y - 0.8)) / 2.0 * softplus(q) + 0.6 * m * g * softplus(q)
    return sigmoid(ORG_INTERCEPT + linear + nonlinear)
