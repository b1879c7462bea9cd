"""What happens to the people of one chunk, month by month: latent state, jobs, loans, outcomes.

* latent state ``x``: monthly AR(1), ``x_t = 0.97 x_{t-1} + 0.24 e_t`` (stationary N(0, 1));
  ``x0`` is the state at the start of the window (the start of block 0).
* employment: 0 not in the labour force (minor, student), 1 employed, 2 unemployed, 3 retired;
  job loss and re-employment hazards depend on the traits and on ``x``.
* loans: about a third of working-age adults hold one or two (consumer, car, mortgage).
* outcomes: for every yearly block, ``p = person_probability(state at the block start)`` and
  ``outcome ~ Bernoulli(p)``. An outcome is a loan going 90+ days overdue (three escalating rows,
  the loan stops) or a court enforcement case, sometimes followed by a judgment-defaulter listing
  and a high-consumption restriction, all inside the block.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from synth.people import People
from synth.risk import person_probability, sigmoid
from synth.timeline import Timeline, age_years

__all__ = ["CourtEvents", "Lives", "Loans", "live"]

RHO = 0.97
EMPTY = np.zeros(0, dtype=np.int64)


@dataclass
class Loans:
    owner: np.ndarray  # local person index
    serial: np.ndarray  # globally unique loan number
    kind: np.ndarray  # 0 consumer, 1 car, 2 mortgage
    start: np.ndarray  # first instalment month (may be before the window)
    term: np.ndarray
    instalment: np.ndarray
    default_at: np.ndarray  # month of the 90+ days row, -1 if none
    stop: np.ndarray  # one past the last month with a row

    @property
    def n(self) -> int:
        return len(self.owner)


@dataclass
class CourtEvents:
    owner: np.ndarray
    day: np.ndarray
    creditor: np.ndarray  # index into CREDITORS
    amount: np.ndarray
    judgment_day: np.ndarray  # -1: no judgment-defaulter listing
    restriction_day: np.ndarray  # -1: no high-consumption restriction


CREDITORS = ("bank", "utility", "tax", "private", "other")


@dataclass
class Lives:
    lo: int
    people: People
    present: np.ndarray  # (n, T) bool
    age: np.ndarray  # (n, T) age on the first day of the month
    x0: np.ndarray
    x: np.ndarray  # (n, T)
    emp0: np.ndarray
    emp: np.ndarray  # (n, T) int8
    wage: np.ndarray  # monthly wage, yuan
    loans: Loans
    p: np.ndarray  # (n, B) true probability per block (0 where not scored)
    in_city: np.ndarray  # (n, B) living in the city at the block start (truth rows)
    scored: np.ndarray  # (n, B) in the city and adult at the block start (p > 0 only for them)
    outcome: np.ndarray  # (n, B) bool
    court: CourtEvents
    drivers: dict[str, np.ndarray]  # the dynamic drivers at each block start, (n, B) each

    @property
    def n(self) -> int:
        return len(self.x0)

    def trait(self, name: str) -> np.ndarray:
        arr: np.ndarray = getattr(self.people, name)[self.lo : self.lo + self.n]
        return arr

    @property
    def stress(self) -> np.ndarray:
        """Financial stress: static fragility plus the monthly latent state, (n, T)."""
        out: np.ndarray = self.trait("f")[:, None] + self.x
        return out

    def risk(self) -> np.ndarray:
        """Monthly behavioural risk: stress, carelessness and unemployment, (n, T)."""
        out: np.ndarray = 0.6 * self.stress - 0.45 * self.trait("c")[:, None] + 0.5 * (self.emp == 2)
        return out


def _simulate_state(rng: np.random.Generator, n: int, t: int) -> tuple[np.ndarray, np.ndarray]:
    x0 = rng.standard_normal(n)
    x = np.empty((n, t), dtype=np.float64)
    prev = x0
    sd = np.sqrt(1 - RHO**2)
    for m in range(t):
        prev = RHO * prev + sd * rng.standard_normal(n)
        x[:, m] = prev
    return x0, x


def _simulate_jobs(
    rng: np.random.Generator,
    people: People,
    sl: slice,
    age0: np.ndarray,
    age: np.ndarray,
    x0: np.ndarray,
    x: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    n, t = x.shape
    f, c, arrive = people.f[sl], people.c[sl], people.arrive[sl]
    study, retire = people.study_until[sl], np.where(people.male[sl], 60, 55)
    emp0 = np.where(age0 < study, 0, np.where(age0 >= retire, 3, 1)).astype(np.int8)
    jobless0 = rng.random(n) < sigmoid(-2.6 + 0.6 * f - 0.4 * c + 0.5 * x0)
    emp0[(emp0 == 1) & jobless0] = 2
    emp = np.empty((n, t), dtype=np.int8)
    prev = emp0
    for m in range(t):
        a = age[:, m]
        u = np.asarray(rng.random(n))
        lose = u < 0.006 * np.exp(0.45 * f - 0.3 * c + 0.45 * x[:, m])
        find = u < 0.12 * np.exp(0.3 * c - 0.25 * f - 0.25 * x[:, m])
        cur = prev.copy()
        cur[(prev == 1) & lose] = 2
        cur[(prev == 2) & find] = 1
        entering = (prev == 0) & (a >= study)
        cur[entering] = np.where(u[entering] < 0.7, 1, 2)
        arriving = arrive == m
        cur[arriving & (cur != 0) & (cur != 3)] = np.where(u[arriving & (cur != 0) & (cur != 3)] < 0.85, 1, 2)
        cur[a < study] = 0
        cur[a >= retire] = 3
        emp[:, m] = cur
        prev = cur
    return emp0, emp


def _draw_loans(
    rng: np.random.Generator, people: People, sl: slice, age0: np.ndarray, wage: np.ndarray, t: int, lo: int
) -> Loans:
    f, wz, arrive = people.f[sl], people.wage_z[sl], people.arrive[sl]
    eligible = ((age0 >= 22) & (age0 <= 65)) | ((arrive > 0) & (arrive < t - 6))
    first = eligible & (rng.random(len(f)) < sigmoid(-1.05 + 0.5 * wz + 0.35 * f))
    second = first & (rng.random(len(f)) < 0.3)
    owner = np.concatenate([np.flatnonzero(first), np.flatnonzero(second)])
    owner.sort(kind="stable")
    k = len(owner)
    kind = rng.choice(3, size=k, p=[0.55, 0.2, 0.25])
    terms = np.array([[12, 24, 36, 36], [36, 60, 36, 60], [240, 360, 240, 360]])
    term = terms[kind, rng.integers(0, 4, size=k)]
    earliest = np.maximum(-term + 2, arrive[owner])
    latest = t - 4
    start = earliest + (rng.random(k) * np.maximum(latest - earliest, 1)).astype(np.int64)
    share = np.array([0.05, 0.15, 0.25])[kind] + rng.random(k) * np.array([0.2, 0.2, 0.25])[kind]
    instalment = np.round(np.maximum(wage[owner] * share, 200.0), 2)
    second_of_owner = np.zeros(k, dtype=np.int64)
    second_of_owner[1:] = owner[1:] == owner[:-1]
    serial = (lo + owner) * 4 + second_of_owner
    return Loans(
        owner=owner,
        serial=np.asarray(serial, dtype=np.int64),
        kind=kind,
        start=start,
        term=term,
        instalment=instalment,
        default_at=np.full(k, -1, dtype=np.int64),
        stop=start + term,
    )


def live(rng: np.random.Generator, people: People, lo: int, hi: int, timeline: Timeline) -> Lives:
    """Simulate people ``lo … hi-1`` over the window."""
    sl = slice(lo, hi)
    n, t, nb = hi - lo, timeline.n_months, timeline.n_blocks
    birth = people.birth_day[sl]
    month_first = timeline.month_first
    age = age_years(birth[:, None], month_first[None, :t])
    age0 = age_years(birth, np.asarray(timeline.first_day - 1))
    present = np.arange(t)[None, :] >= people.arrive[sl][:, None]
    x0, x = _simulate_state(rng, n, t)
    emp0, emp = _simulate_jobs(rng, people, sl, age0, age, x0, x)
    wage = np.exp(8.75 + 0.38 * people.wage_z[sl])
    loans = _draw_loans(rng, people, sl, age0, wage, t, lo)

    block_first = timeline.block_first_day
    p = np.zeros((n, nb))
    scored = np.zeros((n, nb), dtype=bool)
    in_city = np.zeros((n, nb), dtype=bool)
    outcome = np.zeros((n, nb), dtype=bool)
    court: list[tuple[np.ndarray, ...]] = []
    drivers = {
        "state": np.zeros((n, nb)),
        "unemployed": np.zeros((n, nb), dtype=bool),
        "indebted": np.zeros((n, nb), dtype=bool),
    }
    for b in range(nb):
        s = 12 * b
        x_start = x0 if b == 0 else x[:, s - 1]
        e_start = emp0 if b == 0 else emp[:, s - 1]
        as_of = block_first[b] - 1
        here = people.arrive[sl] == 0 if b == 0 else people.arrive[sl] < s
        adult = age_years(birth, np.asarray(as_of)) >= 18
        scored[:, b] = here & adult
        in_city[:, b] = here
        active = (loans.start <= s) & (s < loans.stop)
        indebted = np.bincount(loans.owner[active], minlength=n) > 0
        pb = person_probability(
            stress=people.f[sl] + x_start,
            conscientiousness=people.c[sl],
            unemployed=e_start == 2,
            indebted=indebted,
            income=people.wage_z[sl],
        )
        p[:, b] = np.where(scored[:, b], pb, 0.0)
        outcome[:, b] = rng.random(n) < p[:, b]
        drivers["state"][:, b] = x_start
        drivers["unemployed"][:, b] = e_start == 2
        drivers["indebted"][:, b] = indebted
        court.append(
            _block_events(rng, loans, outcome[:, b], s, block_first[b], block_first[b + 1] - 1, month_first)
        )

    events = CourtEvents(*(np.concatenate([c[i] for c in court]) for i in range(6)))
    return Lives(
        lo, people, present, age, x0, x, emp0, emp, wage, loans, p, in_city, scored, outcome, events, drivers
    )


def _block_events(
    rng: np.random.Generator,
    loans: Loans,
    outcome: np.ndarray,
    s: int,
    first_day: int,
    last_day: int,
    month_first: np.ndarray,
) -> tuple[np.ndarray, ...]:
    """Turn the outcomes of one block into loan defaults (mutating ``loans``) and court events."""
    n = len(outcome)
    lo = np.maximum(s, loans.start)
    hi = np.minimum(s + 9, loans.stop - 3)
    feasible = outcome[loans.owner] & (loans.default_at < 0) & (lo <= hi)
    key = np.where(feasible, rng.random(loans.n), -1.0)
    order = np.lexsort((-key, loans.owner))
    firsts = order[np.r_[True, np.diff(loans.owner[order]) != 0]] if loans.n else EMPTY
    chosen = firsts[feasible[firsts]]
    use_loan = rng.random(len(chosen)) < 0.65
    chosen = chosen[use_loan]
    d = lo[chosen] + (rng.random(len(chosen)) * (hi[chosen] - lo[chosen] + 1)).astype(np.int64)
    loans.default_at[chosen] = d + 2
    loans.stop[chosen] = d + 3
    by_loan = np.zeros(n, dtype=bool)
    by_loan[loans.owner[chosen]] = True

    # Court route for the others; a bank sometimes also sues a defaulted borrower.
    court_owner = np.flatnonzero(outcome & ~by_loan)
    sued = chosen[rng.random(len(chosen)) < 0.25]
    after = month_first[loans.default_at[sued] + 1]  # first day after the 90+ days month
    sued = sued[after <= last_day]
    after = after[after <= last_day]
    owner = np.concatenate([court_owner, loans.owner[sued]])
    lo_day = np.concatenate([np.full(len(court_owner), first_day), after])
    day = lo_day + (rng.random(len(owner)) * (last_day - lo_day + 1)).astype(np.int64)
    creditor = np.concatenate(
        [
            rng.choice(5, size=len(court_owner), p=[0.2, 0.1, 0.05, 0.45, 0.2]),
            np.zeros(len(sued), dtype=np.int64),
        ]
    )
    amount = np.round(np.exp(rng.normal(10.3, 1.1, size=len(owner))), 2)
    judged = rng.random(len(owner)) < 0.4
    jday = day + rng.integers(30, 151, size=len(owner))
    judged &= jday <= last_day
    judgment_day = np.where(judged, jday, -1)
    restricted = judged & (rng.random(len(owner)) < 0.75)
    restriction_day = np.where(
        restricted, np.minimum(jday + rng.integers(0, 11, size=len(owner)), last_day), -1
    )
    return owner, day, creditor, amount, judgment_day, restriction_day
