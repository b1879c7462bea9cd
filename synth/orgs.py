"""The organisations of the synthetic city: static attributes, credit codes, and their years.

Every organisation has a subject type, sector, size, registration date, district and a legal
representative drawn from the adult residents. Its static weakness ``q`` is
``0.45 × (the representative's static risk) + 0.89 × noise``, so the representative's own risk
correlates with the organisation's. Its latent state ``y`` is a monthly AR(1) like a person's.
Outcomes per yearly block use ``risk.org_probability`` on the state at the block start; an
outcome becomes one serious negative event inside the block (see ``EVENT_TYPES``).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np

from features.ids import org_check_char, uscc_check_char
from synth import names
from synth.people import People
from synth.risk import ORG_TYPE_OFFSET, org_probability
from synth.timeline import Timeline, age_years

__all__ = ["EVENT_TYPES", "OrgLives", "Orgs", "april_day", "draw_orgs", "live_orgs"]

ORG_TYPES = (
    "enterprise",
    "individual_business",
    "social_organization",
    "public_institution",
    "government_body",
)
_TYPE_SHARE = (0.58, 0.27, 0.07, 0.05, 0.03)
_BUSINESS_SECTORS = {
    "manufacturing": 0.14,
    "construction": 0.10,
    "retail": 0.20,
    "catering": 0.12,
    "transport": 0.07,
    "food": 0.06,
    "pharma": 0.03,
    "chemicals": 0.04,
    "services": 0.14,
    "technology": 0.07,
    "agriculture": 0.03,
}
SECTOR_HAZARD = {
    "manufacturing": 0.25,
    "construction": 0.45,
    "retail": 0.0,
    "catering": 0.2,
    "transport": 0.3,
    "food": 0.2,
    "pharma": 0.1,
    "chemicals": 0.55,
    "services": -0.1,
    "technology": -0.25,
    "agriculture": 0.1,
    "public": -0.4,
}
ENV_SECTORS = frozenset({"manufacturing", "chemicals", "construction", "agriculture", "food", "pharma"})
SAFETY_SECTORS = frozenset({"manufacturing", "construction", "transport", "chemicals", "catering"})
SIZES = ("micro", "small", "medium", "large")
_SIZE_SHARE = {
    "enterprise": (0.55, 0.30, 0.12, 0.03),
    "individual_business": (0.95, 0.05, 0.0, 0.0),
    "social_organization": (0.5, 0.4, 0.1, 0.0),
    "public_institution": (0.0, 0.3, 0.5, 0.2),
    "government_body": (0.0, 0.0, 0.6, 0.4),
}
_CODE_PREFIX = {
    "enterprise": ("91",),
    "individual_business": ("92",),
    "social_organization": ("51", "52", "53"),
    "public_institution": ("12",),
    "government_body": ("11",),
}
# Outcome events: abnormal-operation listing, tax credit level D, a serious administrative penalty,
# a serious environmental violation, a larger-or-worse safety incident.
EVENT_TYPES = (
    "abnormal_operation",
    "tax_level_d",
    "serious_penalty",
    "serious_environment",
    "major_incident",
)


@dataclass
class Orgs:
    ids: np.ndarray
    subject_type: np.ndarray  # str
    sector: np.ndarray
    size: np.ndarray
    registered_day: np.ndarray  # day number
    district: np.ndarray
    rep: np.ndarray  # person number of the legal representative
    q: np.ndarray  # static weakness
    name: np.ndarray

    @property
    def n(self) -> int:
        return len(self.ids)

    @property
    def business(self) -> np.ndarray:
        return np.isin(self.subject_type, ("enterprise", "individual_business"))


def _credit_codes(rng: np.random.Generator, subject_type: np.ndarray, district: np.ndarray) -> np.ndarray:
    out = []
    idx = np.arange(len(subject_type), dtype=np.int64)
    body = (idx * 61_803_397 + 27_182_818) % 100_000_000  # one-to-one on 8 digits
    pick = rng.integers(0, 3, size=len(subject_type))
    for st, d, b, k in zip(subject_type, district, body, pick, strict=True):
        prefixes = _CODE_PREFIX[str(st)]
        org8 = f"{b:08d}"
        org9 = org8 + org_check_char(org8)
        head = prefixes[k % len(prefixes)] + str(d) + org9
        out.append(head + uscc_check_char(head))
    return np.array(out)


def _names(
    rng: np.random.Generator, subject_type: np.ndarray, sector: np.ndarray, size: np.ndarray
) -> np.ndarray:
    trade = rng.integers(0, len(names.TRADE_NAMES), size=len(subject_type))
    trade2 = rng.integers(0, len(names.TRADE_NAMES), size=len(subject_type))
    pick = rng.integers(0, 6, size=len(subject_type))
    out = []
    for i, (st, sec, sz) in enumerate(zip(subject_type, sector, size, strict=True)):
        t = names.TRADE_NAMES[trade[i]]
        words = names.SECTOR_WORDS[str(sec)]
        if st == "enterprise":
            suffix = "股份有限公司" if sz == "large" else "有限公司"
            out.append(f"{names.CITY}{t}{names.TRADE_NAMES[trade2[i]]}{words[0]}{suffix}")
        elif st == "individual_business":
            out.append(f"{names.CITY}市{t}{words[1]}")
        elif st == "social_organization":
            out.append(f"{names.CITY}市{t}{names.SOCIAL_WORDS[pick[i]]}")
        elif st == "public_institution":
            out.append(f"{names.CITY}市{t}{names.INSTITUTION_WORDS[pick[i]]}")
        else:
            out.append(f"{names.CITY}市{names.GOVERNMENT_WORDS[pick[i]]}")
    return np.array(out)


def draw_orgs(rng: np.random.Generator, m: int, people: People, timeline: Timeline) -> Orgs:
    """Draw ``m`` organisations with their legal representatives among the adult residents."""
    subject_type = np.array(ORG_TYPES)[rng.choice(len(ORG_TYPES), size=m, p=_TYPE_SHARE)]
    if m >= len(ORG_TYPES):
        subject_type[: len(ORG_TYPES)] = ORG_TYPES  # every type present, even in a small city
    sectors = np.array(list(_BUSINESS_SECTORS))
    sector_p = np.array(list(_BUSINESS_SECTORS.values()))
    sector = sectors[rng.choice(len(sectors), size=m, p=sector_p / sector_p.sum())]
    social = subject_type == "social_organization"
    sector = np.where(social, np.where(rng.random(m) < 0.6, "services", "public"), sector)
    sector = np.where(np.isin(subject_type, ("public_institution", "government_body")), "public", sector)
    size = np.empty(m, dtype=object)
    for st, share in _SIZE_SHARE.items():
        sel = subject_type == st
        size[sel] = np.array(SIZES)[rng.choice(4, size=int(sel.sum()), p=share)]
    size = size.astype(str)
    # Registration: a fifth of businesses register during the window, the rest earlier.
    first, last = timeline.first_day, timeline.last_day
    business = np.isin(subject_type, ("enterprise", "individual_business"))
    new = business & (rng.random(m) < 0.2)
    years_before = np.where(
        np.isin(subject_type, ("public_institution", "government_body")),
        rng.uniform(10, 45, size=m),
        rng.exponential(7.0, size=m) + 0.2,
    )
    registered = np.where(
        new,
        first + (rng.random(m) * (last - first - 90)).astype(np.int64),
        first - 1 - (np.minimum(years_before, 45) * 365.25).astype(np.int64),
    ).astype(np.int64)
    codes = np.array(list(names.CITY_DISTRICTS))
    shares = np.array(list(names.CITY_DISTRICTS.values()))
    district = codes[rng.choice(len(codes), size=m, p=shares / shares.sum())]
    # Legal representatives: residents aged 25–70 at the start of the window.
    age0 = age_years(people.birth_day, np.asarray(first))
    pool = np.flatnonzero((people.arrive == 0) & (age0 >= 25) & (age0 <= 70))
    if len(pool) == 0:
        pool = np.flatnonzero(age0 >= 18)
    if len(pool) == 0:
        raise ValueError("no adult resident can be a legal representative: add people")
    rep = pool[rng.integers(0, len(pool), size=m)]
    q = 0.45 * people.static_risk()[rep] + np.sqrt(1 - 0.45**2) * rng.standard_normal(m)
    return Orgs(
        ids=_credit_codes(rng, subject_type, district),
        subject_type=subject_type,
        sector=sector,
        size=size,
        registered_day=registered,
        district=district,
        rep=rep,
        q=q,
        name=_names(rng, subject_type, sector, size),
    )


@dataclass
class OrgLives:
    lo: int
    orgs: Orgs
    reg_month: np.ndarray  # first window month with records (0 for older organisations)
    present: np.ndarray  # (m, T)
    y0: np.ndarray
    y: np.ndarray  # (m, T)
    rep_risk: np.ndarray
    p: np.ndarray  # (m, B)
    scored: np.ndarray  # (m, B) registered by the block start
    outcome: np.ndarray  # (m, B)
    event_type: np.ndarray  # (m, B) index into EVENT_TYPES, -1 without outcome
    event_day: np.ndarray  # (m, B) day of the outcome event (tax level D: set by the records)
    drivers: dict[str, np.ndarray]  # the dynamic drivers at each block start, (m, B) each

    @property
    def n(self) -> int:
        return len(self.y0)

    @property
    def in_city(self) -> np.ndarray:
        """Registered by the block start: the truth rows (every one of them is scored)."""
        return self.scored

    def attr(self, name: str) -> np.ndarray:
        arr: np.ndarray = getattr(self.orgs, name)[self.lo : self.lo + self.n]
        return arr

    def risk(self) -> np.ndarray:
        """Monthly behavioural risk (m, T)."""
        hazard = np.array([SECTOR_HAZARD[s] for s in self.attr("sector")])
        out: np.ndarray = 0.65 * self.attr("q")[:, None] + 0.85 * self.y + 0.5 * hazard[:, None]
        return out


def live_orgs(
    rng: np.random.Generator, orgs: Orgs, people: People, lo: int, hi: int, timeline: Timeline, coverage: bool
) -> OrgLives:
    """Simulate organisations ``lo … hi-1``; with ``coverage`` make every event type appear if possible."""
    sl = slice(lo, hi)
    m, t, nb = hi - lo, timeline.n_months, timeline.n_blocks
    month_first = timeline.month_first
    reg = orgs.registered_day[sl]
    reg_month = np.searchsorted(month_first, reg, side="right") - 1
    reg_month = np.maximum(reg_month, 0)
    present = np.arange(t)[None, :] >= reg_month[:, None]
    y0 = rng.standard_normal(m)
    y = np.empty((m, t))
    prev = y0
    for k in range(t):
        prev = 0.93 * prev + np.sqrt(1 - 0.93**2) * rng.standard_normal(m)
        y[:, k] = prev
    rep_risk = people.static_risk()[orgs.rep[sl]]
    st, sector, size = orgs.subject_type[sl], orgs.sector[sl], orgs.size[sl]
    hazard = np.array([SECTOR_HAZARD[s] for s in sector])
    offset = np.array([ORG_TYPE_OFFSET[s] for s in st])
    business = np.isin(st, ("enterprise", "individual_business"))
    env, safety = np.isin(sector, list(ENV_SECTORS)), np.isin(sector, list(SAFETY_SECTORS))
    block_first = timeline.block_first_day
    p = np.zeros((m, nb))
    scored = np.zeros((m, nb), dtype=bool)
    outcome = np.zeros((m, nb), dtype=bool)
    event_type = np.full((m, nb), -1, dtype=np.int64)
    event_day = np.full((m, nb), -1, dtype=np.int64)
    drivers = {"state": np.zeros((m, nb)), "young": np.zeros((m, nb), dtype=bool)}
    weights = np.stack(
        [
            np.where(business, np.where(size == "micro", 0.45, 0.25), 0.0),
            np.where(business, 0.2, 0.0),
            np.where(business, 0.3, 0.7),
            np.where(env, 0.12, 0.0),
            np.where(safety, 0.12, 0.0),
        ],
        axis=1,
    )
    for b in range(nb):
        s = 12 * b
        as_of = block_first[b] - 1
        scored[:, b] = reg <= as_of
        young = (as_of - reg) < 3 * 365
        pb = org_probability(
            quality=orgs.q[sl],
            state=y0 if b == 0 else y[:, s - 1],
            sector_hazard=hazard,
            micro=size == "micro",
            young=young,
            rep_risk=rep_risk,
            type_offset=offset,
        )
        p[:, b] = np.where(scored[:, b], pb, 0.0)
        outcome[:, b] = rng.random(m) < p[:, b]
        drivers["state"][:, b] = y0 if b == 0 else y[:, s - 1]
        drivers["young"][:, b] = young
        # Tax level D needs a full level row in this block's April: registered before the evaluated year.
        april = s + int(np.flatnonzero(timeline.month_of_year[s : s + 12] == 4)[0])
        evaluated = timeline.ordinal(dt.date(int(timeline.year_of[april]) - 1, 1, 1))
        w = weights.copy()
        w[:, 1] = np.where(reg < evaluated, w[:, 1], 0.0)
        cum = np.cumsum(w, axis=1)
        u = rng.random(m) * cum[:, -1]
        kind = (u[:, None] >= cum).sum(axis=1)
        event_type[:, b] = np.where(outcome[:, b], kind, -1)
        span = block_first[b + 1] - block_first[b]
        day = block_first[b] + (rng.random(m) * span).astype(np.int64)
        day = np.where(kind == 1, april_day(timeline, april, rng.random(m)), day)
        event_day[:, b] = np.where(outcome[:, b], day, -1)
    if coverage:
        _cover(event_type, w_all=weights)
    return OrgLives(
        lo, orgs, reg_month, present, y0, y, rep_risk, p, scored, outcome, event_type, event_day, drivers
    )


def april_day(timeline: Timeline, april: int, u: np.ndarray) -> np.ndarray:
    """Publication day of the yearly tax credit levels: 1st–25th of the block's April."""
    out: np.ndarray = timeline.month_first[april] + (u * 25).astype(np.int64)
    return out


def _cover(event_type: np.ndarray, w_all: np.ndarray) -> None:
    """Switch a few outcome events to missing types so that a small city shows every event type.

    Tax level D is left alone (its feasibility depends on the block)."""
    for k in (0, 2, 3, 4):
        if (event_type == k).any():
            continue
        counts = np.bincount(event_type[event_type >= 0], minlength=len(EVENT_TYPES))
        rows, cols = np.nonzero((event_type >= 0) & (w_all[:, k] > 0)[:, None])
        for r, c in zip(rows, cols, strict=True):
            cur = event_type[r, c]
            if counts[cur] >= 2 and cur != 1:
                event_type[r, c] = k
                break
