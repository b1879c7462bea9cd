"""The people of the synthetic city: static traits and identity numbers, drawn once for everybody.

Traits are standard normal unless said otherwise: conscientiousness ``c`` (higher is better),
financial fragility ``f`` (higher is worse, correlated −0.3 with ``c``) and income potential
``wage_z`` (from both plus noise). Newcomers arrive during the window; until then they have no
records. Everything dynamic (latent state, jobs, loans, outcomes) lives in ``synth.lives``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from features.ids import person_check_char
from synth.names import CITY_DISTRICTS, OTHER_DISTRICTS
from synth.timeline import Timeline, age_years

__all__ = ["People", "draw_people"]

# Relative number of people born in each decade-ish span (a population pyramid of the 2020s).
_BIRTH_SPANS = (
    (1940, 1949, 0.4),
    (1950, 1959, 0.8),
    (1960, 1975, 1.3),
    (1976, 1984, 1.0),
    (1985, 1995, 1.3),
    (1996, 2004, 0.9),
    (2005, 2010, 0.8),
)
NEWCOMER_SHARE = 0.07
NONLOCAL_RESIDENT_SHARE = 0.10
NONLOCAL_NEWCOMER_SHARE = 0.80


@dataclass
class People:
    """Static attributes of every person, as arrays indexed by person number."""

    ids: np.ndarray  # str, identity numbers
    birth_day: np.ndarray  # int64 day number
    male: np.ndarray  # bool
    district: np.ndarray  # str, 6-digit code in the identity number
    local: np.ndarray  # bool, identity number issued in the city
    arrive: np.ndarray  # int64, first window month the person lives in the city (0 for residents)
    c: np.ndarray
    f: np.ndarray
    wage_z: np.ndarray
    study_until: np.ndarray  # age at which full-time study ends (18 or 22)
    driver: np.ndarray
    elec: np.ndarray
    water: np.ndarray
    gas: np.ndarray
    heat: np.ndarray
    volunteer: np.ndarray
    donor: np.ndarray

    @property
    def n(self) -> int:
        return len(self.ids)

    @property
    def newcomer(self) -> np.ndarray:
        return self.arrive > 0

    @property
    def birth_year(self) -> np.ndarray:
        return (
            np.asarray(self.birth_day).astype("datetime64[D]").astype("datetime64[Y]").astype(np.int64) + 1970
        )

    def age_on(self, day: np.ndarray | int) -> np.ndarray:
        """Age in completed years on a day number."""
        return age_years(self.birth_day, np.asarray(day))

    def static_risk(self) -> np.ndarray:
        """The static part of a person's risk (used to match legal representatives to firms)."""
        return (0.55 * self.f - 0.45 * self.c) / 0.81


def _birth_days(rng: np.random.Generator, n: int) -> np.ndarray:
    years = np.concatenate([np.arange(a, b + 1) for a, b, _ in _BIRTH_SPANS])
    weights = np.concatenate([np.full(b - a + 1, w) for a, b, w in _BIRTH_SPANS])
    year = rng.choice(years, size=n, p=weights / weights.sum())
    start = (year - 1970).astype("datetime64[Y]").astype("datetime64[D]").astype(np.int64)
    length = np.where((year % 4 == 0) & ((year % 100 != 0) | (year % 400 == 0)), 366, 365)
    return start + (rng.random(n) * length).astype(np.int64)


def _identity_numbers(district: np.ndarray, birth_day: np.ndarray, male: np.ndarray) -> np.ndarray:
    """Unique identity numbers: the sequence number counts people sharing district, birth date and sex."""
    frame = pl.DataFrame({"d": district, "b": birth_day, "m": male})
    k = frame.select(pl.int_range(pl.len()).over(["d", "b", "m"]).alias("k"))["k"].to_numpy()
    if k.max(initial=0) >= 500:
        raise ValueError("too many people share a birth date and district for 3-digit sequence numbers")
    # Within one (district, date, sex) group k -> (97k + offset) mod 500 is one-to-one.
    offset = (birth_day * 13 + np.char.str_len(district.astype(str))) % 500
    seq = 2 * ((97 * k + offset) % 500) + male.astype(np.int64)
    dates = birth_day.astype("datetime64[D]").astype(str)
    bodies = [f"{d}{b[:4]}{b[5:7]}{b[8:10]}{s:03d}" for d, b, s in zip(district, dates, seq, strict=True)]
    return np.array([body + person_check_char(body) for body in bodies])


def draw_people(rng: np.random.Generator, n: int, timeline: Timeline) -> People:
    """Draw ``n`` people: birth dates 1940–2010, sexes, districts, newcomers, traits and habits."""
    birth_day = _birth_days(rng, n)
    male = rng.random(n) < 0.5
    start_age = age_years(birth_day, np.asarray(timeline.first_day))
    n_months = timeline.n_months
    newcomer = (rng.random(n) < NEWCOMER_SHARE) & (start_age >= 18) & (start_age <= 55)
    arrive = np.where(newcomer, rng.integers(1, n_months, size=n), 0)
    nonlocal_share = np.where(newcomer, NONLOCAL_NEWCOMER_SHARE, NONLOCAL_RESIDENT_SHARE)
    local = rng.random(n) >= nonlocal_share
    codes = np.array(list(CITY_DISTRICTS))
    shares = np.array(list(CITY_DISTRICTS.values()))
    district = np.where(
        local,
        codes[rng.choice(len(codes), size=n, p=shares / shares.sum())],
        np.array(OTHER_DISTRICTS)[rng.integers(0, len(OTHER_DISTRICTS), size=n)],
    )
    c = rng.standard_normal(n)
    f = -0.3 * c + np.sqrt(1 - 0.09) * rng.standard_normal(n)
    wage_z = 0.45 * c - 0.35 * f + 0.8 * rng.standard_normal(n)
    study_until = np.where(rng.random(n) < 0.55, 22, 18)
    adult_later = start_age >= 14
    young = start_age < 23
    holder = np.where(young | newcomer, 0.3, 1.0)
    return People(
        ids=_identity_numbers(district, birth_day, male),
        birth_day=birth_day,
        male=male,
        district=district,
        local=local,
        arrive=arrive.astype(np.int64),
        c=c,
        f=f,
        wage_z=wage_z,
        study_until=study_until,
        driver=adult_later & (rng.random(n) < 0.62),
        elec=rng.random(n) < 0.75 * holder,
        water=rng.random(n) < 0.68 * holder,
        gas=rng.random(n) < 0.5 * holder,
        heat=rng.random(n) < 0.6 * holder,
        volunteer=rng.random(n) < 1.0 / (1.0 + np.exp(2.0 - 0.7 * c)),
        donor=(start_age >= 18) & (start_age <= 52) & (rng.random(n) < 0.07),
    )
