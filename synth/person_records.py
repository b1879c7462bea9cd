"""Department rows about the people of one chunk, driven by their simulated lives.

Monthly: pension, unemployment and work-injury insurance and employee medical insurance while
employed (arrears when the employer falls behind), a self-paid pension for half of the
unemployed, individual income tax above the threshold, utility bills (electricity monthly, water
every other month, gas, heating November–March) and loan instalments. Yearly: resident medical
insurance for children, students and the unemployed (in January). Events at Poisson rates:
traffic violations, small administrative penalties, volunteering, blood donations, awards, red
lists, commitments, tax arrears, rare serious-dishonesty listings. Court rows and 90+ days overdue
loan rows only come from outcome events (``synth.lives``).
"""

from __future__ import annotations

import numpy as np

from synth.batch import Batch, Codes
from synth.draws import cells, choice, fmt, in_month, poisson_cells, status3, year_of
from synth.lives import CREDITORS, Lives
from synth.names import COURT_PREFIX
from synth.risk import sigmoid

__all__ = ["person_rows"]

_BANKS = ("ICBC", "CCB", "ABC", "BOC", "BCM", "QLBK", "JNRC")
_STATUS = ("on_time", "late", "arrears")
_INSURANCE = (("pension", 0.24), ("unemployment", 0.015), ("work_injury", 0.004))
_UTILITIES = (
    # utility, department, account prefix, holder flag
    ("electricity", "power", "0531", "elec"),
    ("water", "water", "SW", "water"),
    ("gas", "gas", "RQ", "gas"),
    ("heating", "heating", "RL", "heat"),
)


def _lateness(rng: np.random.Generator, status: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Days late: 0 on time, a few days to two months when late, one to twelve months in arrears."""
    late = np.minimum(1 + rng.geometric(1.0 / np.exp(1.6 + 0.5 * np.clip(x, -3, 3))), 89)
    arrears = 30 + np.minimum(rng.geometric(1 / 60.0, size=len(status)), 330)
    out: np.ndarray = np.where(status == 2, arrears, np.where(status == 1, late, 0))
    return out


def person_rows(batch: Batch, lives: Lives, rng: np.random.Generator) -> None:
    tl = batch.timeline
    mf = tl.month_first
    moy = tl.month_of_year
    ids = np.arange(lives.n) + batch.register(lives.trait("ids"))
    gidx = lives.lo + np.arange(lives.n)
    present, age, emp, x = lives.present, lives.age, lives.emp, lives.stress
    c = lives.trait("c")[:, None]
    adult = present & (age >= 18)
    risk = lives.risk()
    n, t_all = x.shape

    # -- social and medical insurance while employed ----------------------------------------------
    i, t = cells(present & (emp == 1))
    base = np.clip(lives.wage[i], 4000.0, 24000.0)
    arrears = rng.random(len(i)) < sigmoid(-5.2 + 0.6 * x[i, t])
    day = in_month(rng, mf, t, 10, 25)
    period = batch.month(t)
    paid = Codes.where(arrears, "arrears", "paid")
    for insurance, rate in _INSURANCE:
        batch.add(
            "social_insurance_contribution",
            ids[i],
            day,
            "hrss",
            {
                "period": period,
                "insurance": insurance,
                "amount": np.round(base * rate, 2),
                "status": paid,
            },
        )
    batch.add(
        "medical_insurance_contribution",
        ids[i],
        day,
        "medical_insurance",
        {"period": period, "amount": np.round(base * 0.08, 2), "status": paid},
    )
    # Individual income tax withheld by the employer.
    taxable = lives.wage[i] - 5000.0
    owes = taxable > 0
    ti, tt, tw = i[owes], t[owes], taxable[owes]
    tax = 0.03 * np.minimum(tw, 3000) + 0.1 * np.clip(tw - 3000, 0, 9000) + 0.2 * np.clip(tw - 12000, 0, None)
    st = status3(rng, sigmoid(-5.0 + 0.6 * x[ti, tt] - 0.3 * c[ti, 0]), np.zeros(len(ti)))
    batch.add(
        "tax_payment",
        ids[ti],
        in_month(rng, mf, tt, 10, 15),
        "tax",
        {
            "tax_type": "individual_income",
            "period": batch.month(tt),
            "amount": np.round(tax, 2),
            "days_late": np.where(st == 1, rng.integers(1, 31, size=len(ti)), 0),
            "status": Codes(_STATUS, st),
        },
    )
    # Self-paid (flexible employment) pension of some of the unemployed.
    flexible = (gidx % 2 == 0)[:, None]
    i, t = cells(present & (emp == 2) & flexible)
    arrears = rng.random(len(i)) < sigmoid(-1.8 + 0.9 * x[i, t])
    batch.add(
        "social_insurance_contribution",
        ids[i],
        in_month(rng, mf, t),
        "hrss",
        {
            "period": batch.month(t),
            "insurance": "pension",
            "amount": 880.0,
            "status": Codes.where(arrears, "arrears", "paid"),
        },
    )
    # Resident medical insurance, paid once a year by children, students and the unemployed
    # (retired employees keep their employee insurance without contributions).
    i, t = cells(present & ((emp == 0) | (emp == 2)) & (moy == 1)[None, :])
    child = age[i, t] < 18
    p_arrears = np.where(child, 0.03, sigmoid(-3.0 + 0.8 * x[i, t] - 0.4 * c[i, 0]))
    arrears = rng.random(len(i)) < p_arrears
    batch.add(
        "medical_insurance_contribution",
        ids[i],
        in_month(rng, mf, t, 5, 28),
        "medical_insurance",
        {
            "period": batch.month(t),
            "amount": np.where(tl.year_of[t] <= 2023, 380.0, 400.0),
            "status": Codes.where(arrears, "arrears", "paid"),
        },
    )

    # -- utility bills -----------------------------------------------------------------------------
    season = {
        "electricity": np.ones(t_all, dtype=bool),
        "water": moy % 2 == 0,
        "gas": np.ones(t_all, dtype=bool),
        "heating": np.isin(moy, (11, 12, 1, 2, 3)),
    }
    scale = {"electricity": 110.0, "water": 70.0, "gas": 60.0, "heating": 420.0}
    factor = {
        "electricity": np.where(np.isin(moy, (7, 8)), 1.6, np.where(np.isin(moy, (12, 1, 2)), 1.3, 1.0)),
        "water": np.ones(t_all),
        "gas": np.where(np.isin(moy, (11, 12, 1, 2, 3)), 1.8, 1.0),
        "heating": np.ones(t_all),
    }
    household = np.exp(0.35 * rng.standard_normal(n) + 0.1 * lives.trait("wage_z"))
    for utility, dept, prefix, flag in _UTILITIES:
        holder = lives.trait(flag)[:, None]
        i, t = cells(adult & holder & season[utility][None, :])
        xi, ci = x[i, t], c[i, 0]
        st = status3(
            rng,
            sigmoid(-2.0 + 1.0 * -ci + 0.7 * xi),
            sigmoid(-5.0 + 1.5 * xi + 0.5 * (emp[i, t] == 2)),
        )
        amount = (
            scale[utility] * household[i] * factor[utility][t] * np.exp(0.15 * rng.standard_normal(len(i)))
        )
        batch.add(
            "utility_bill",
            ids[i],
            in_month(rng, mf, t, 5, 25),
            dept,
            {
                "utility": utility,
                "account_no": fmt("{}{}", prefix, gidx + 10_000_000).gather(i),
                "period": batch.month(t),
                "amount": np.round(amount, 2),
                "days_late": _lateness(rng, st, xi),
                "status": Codes(_STATUS, st),
            },
        )

    _loan_rows(batch, lives, rng, ids)
    _event_rows(batch, lives, rng, ids, adult, risk)
    _court_rows(batch, lives, rng, ids)


def _loan_rows(batch: Batch, lives: Lives, rng: np.random.Generator, ids: np.ndarray) -> None:
    loans, t_all = lives.loans, lives.x.shape[1]
    lo = np.maximum(loans.start, 0)
    hi = np.minimum(loans.stop, t_all)
    length = np.maximum(hi - lo, 0)
    k = np.repeat(np.arange(loans.n), length)
    if len(k) == 0:
        return
    offsets = np.repeat(np.cumsum(length) - length, length)
    t = lo[k] + np.arange(len(k)) - offsets
    i = loans.owner[k]
    x = lives.stress[i, t]
    late = rng.random(len(k)) < sigmoid(-3.2 + 1.5 * x)
    u = rng.random(len(k))
    days = np.where(
        u < 0.7,
        rng.integers(1, 16, size=len(k)),
        np.where(u < 0.92, rng.integers(16, 46, size=len(k)), rng.integers(46, 90, size=len(k))),
    )
    days = np.where(late, days, 0)
    # The escalation of an outcome default: about 30, 60, then 90+ days, then the loan stops.
    to_default = np.where(loans.default_at[k] >= 0, loans.default_at[k] - t, -1)
    escalation = (to_default >= 0) & (to_default <= 2)
    days = np.where(to_default == 2, rng.integers(30, 46, size=len(k)), days)
    days = np.where(to_default == 1, rng.integers(60, 76, size=len(k)), days)
    days = np.where(to_default == 0, rng.integers(90, 131, size=len(k)), days)
    last = t == loans.start[k] + loans.term[k] - 1
    status = Codes(("on_time", "overdue", "settled"), np.where(days > 0, 1, np.where(last, 2, 0)))
    due_day = loans.serial[k] % 28 + 1
    loan_id = fmt("{}{}", Codes(_BANKS, loans.serial % len(_BANKS)), loans.serial + 100_000_000_000).gather(k)
    batch.add(
        "loan_repayment",
        ids[i],
        batch.timeline.month_first[t] + due_day - 1,
        "bank",
        {
            "loan_id": loan_id,
            "period": batch.month(t),
            "amount_due": loans.instalment[k],
            "days_overdue": days,
            "status": status,
        },
        protect=escalation,
    )


def _event_rows(
    batch: Batch, lives: Lives, rng: np.random.Generator, ids: np.ndarray, adult: np.ndarray, risk: np.ndarray
) -> None:
    mf = batch.timeline.month_first
    x = lives.stress
    c = lives.trait("c")[:, None]
    age = lives.age
    # Traffic violations of drivers.
    driver = adult & lives.trait("driver")[:, None]
    young = age < 30
    for cls, lam, points, fines in (
        ("minor", 0.045 * np.exp(0.45 * -c + 0.25 * x + 0.3 * young), (0, 1, 2, 3), (50, 100, 150, 200)),
        ("general", 0.008 * np.exp(0.5 * -c + 0.3 * x), (6,), (200, 500, 1000, 2000)),
        ("serious", 0.0012 * np.exp(0.7 * -c + 0.5 * x), (12,), (1000, 2000, 5000)),
    ):
        i, t = poisson_cells(rng, lam, driver, force=batch.chunk == 0)
        day = in_month(rng, mf, t)
        batch.add(
            "traffic_violation",
            ids[i],
            day,
            "traffic_police",
            {
                "doc_no": fmt("3701{}{}", year_of(day), batch.serials("traffic", len(i)) + 1_000_000_000),
                "offence_class": cls,
                "points": np.asarray(points)[rng.integers(0, len(points), size=len(i))],
                "fine": np.asarray(fines, dtype=np.float64)[rng.integers(0, len(fines), size=len(i))],
            },
        )
    # Small administrative penalties (public order, illegal building).
    i, t = poisson_cells(rng, 0.0015 * np.exp(0.6 * risk), adult, force=batch.chunk == 0)
    day = in_month(rng, mf, t)
    dept = choice(rng, ("public_security", "housing"), [0.7, 0.3], len(i))
    ptype = choice(rng, ("warning", "fine_low", "fine_mid"), [0.4, 0.45, 0.15], len(i))
    amount = np.where(
        ptype.eq("warning"),
        np.nan,
        np.where(ptype.eq("fine_low"), 200.0, 2000.0) * rng.integers(1, 6, size=len(i)),
    )
    batch.add(
        "administrative_penalty",
        ids[i],
        day,
        dept,
        {
            "doc_no": fmt(
                "济{}罚决字〔{}〕{}号",
                dept.map({"housing": "建", "public_security": "公"}),
                year_of(day),
                batch.serials("pp", len(i)),
            ),
            "penalty_type": ptype,
            "amount": amount,
            "matter": dept.map({"housing": "违法搭建", "public_security": "违反治安管理"}),
        },
    )
    # Volunteering, blood donation, awards, red lists.
    volunteer = lives.present & (age >= 12) & lives.trait("volunteer")[:, None]
    i, t = poisson_cells(rng, 0.5 * np.exp(0.3 * c), volunteer, force=batch.chunk == 0)
    day = in_month(rng, mf, t)
    batch.add(
        "volunteer_service",
        ids[i],
        day,
        "civilization_office",
        {
            "activity_no": fmt("ZYFW{}{}", year_of(day), batch.serials("vol", len(i))),
            "hours": 0.5 * rng.integers(2, 17, size=len(i)),
        },
    )
    donor = adult & (age <= 55) & lives.trait("donor")[:, None]
    i, t = poisson_cells(rng, np.full(x.shape, 0.1), donor, force=batch.chunk == 0)
    day = in_month(rng, mf, t)
    batch.add(
        "blood_donation",
        ids[i],
        day,
        "health_commission",
        {
            "donation_no": fmt("XZ{}{}", year_of(day), batch.serials("blood", len(i))),
            "volume_ml": np.array([200, 300, 400])[rng.choice(3, size=len(i), p=[0.3, 0.3, 0.4])],
        },
    )
    i, t = poisson_cells(rng, 0.0006 * np.exp(0.6 * c), adult, force=batch.chunk == 0)
    day = in_month(rng, mf, t)
    batch.add(
        "award",
        ids[i],
        day,
        choice(rng, ("civilization_office", "credit_office"), [0.7, 0.3], len(i)),
        {
            "doc_no": fmt("BZ{}{}", year_of(day), batch.serials("award", len(i))),
            "level": choice(
                rng, ("district", "city", "province", "national"), [0.55, 0.3, 0.12, 0.03], len(i)
            ),
            "title": choice(
                rng, ("优秀志愿者", "见义勇为先进个人", "文明家庭", "道德模范", "劳动模范"), None, len(i)
            ),
        },
    )
    i, t = poisson_cells(
        rng,
        np.where(lives.trait("volunteer")[:, None], 0.01, 0.0003) * np.exp(0.5 * c),
        adult,
        force=batch.chunk == 0,
    )
    day = in_month(rng, mf, t)
    by_office = lives.trait("volunteer")[i]
    batch.add(
        "red_list",
        ids[i],
        day,
        Codes.where(by_office, "civilization_office", "credit_office"),
        {
            "doc_no": fmt("HMD{}{}", year_of(day), batch.serials("red", len(i))),
            "list_name": Codes.where(by_office, "五星志愿者", "诚信市民"),
        },
    )
    # Commitments, tax arrears, rare serious-dishonesty listings.
    i, t = poisson_cells(rng, np.full(x.shape, 0.008), adult, force=batch.chunk == 0)
    day = in_month(rng, mf, t)
    u = rng.random(len(i))
    broken = u < sigmoid(-2.8 + 0.6 * x[i, t] + 0.6 * -c[i, 0])
    batch.add(
        "credit_commitment",
        ids[i],
        day,
        choice(rng, ("housing", "credit_office"), [0.5, 0.5], len(i)),
        {
            "commitment_no": fmt("CN{}{}", year_of(day), batch.serials("commit", len(i))),
            "item": choice(
                rng, ("住房保障资格申请", "行政许可告知承诺", "职业资格申报", "社会救助申请"), None, len(i)
            ),
            "status": Codes(("signed", "fulfilled", "broken"), np.where(broken, 2, rng.random(len(i)) < 0.5)),
        },
    )
    i, t = poisson_cells(rng, 0.0004 * np.exp(0.9 * risk), adult, force=batch.chunk == 0)
    day = in_month(rng, mf, t)
    batch.add(
        "tax_arrears",
        ids[i],
        day,
        "tax",
        {
            "notice_no": fmt("QSGG{}{}", year_of(day), batch.serials("tax_arrears", len(i))),
            "tax_type": choice(rng, ("individual_income", "other"), [0.7, 0.3], len(i)),
            "amount": np.round(np.exp(rng.normal(8.5, 1.0, size=len(i))), 2),
        },
    )
    i, t = poisson_cells(rng, 0.00008 * np.exp(0.8 * risk), adult, force=batch.chunk == 0)
    day = in_month(rng, mf, t)
    batch.add(
        "serious_dishonesty_list",
        ids[i],
        day,
        "credit_office",
        {
            "doc_no": fmt("YZSX{}{}", year_of(day), batch.serials("sdl", len(i))),
            "area": choice(rng, ("社会保险", "医疗保障", "公共资源交易", "统计"), None, len(i)),
        },
    )


def _court_rows(batch: Batch, lives: Lives, rng: np.random.Generator, ids: np.ndarray) -> None:
    ev = lives.court
    n = len(ev.owner)
    if n == 0:
        return
    serial = batch.serials("court", n)
    batch.add(
        "enforcement_case",
        ids[ev.owner],
        ev.day,
        "court",
        {
            "case_no": fmt("({}){}执{}号", year_of(ev.day), COURT_PREFIX, serial),
            "creditor_type": Codes(CREDITORS, ev.creditor),
            "amount": ev.amount,
        },
        protect=True,
    )
    j = np.flatnonzero(ev.judgment_day >= 0)
    batch.add(
        "judgment_defaulter",
        ids[ev.owner[j]],
        ev.judgment_day[j],
        "court",
        {
            "doc_no": fmt("({}){}执{}号之一", year_of(ev.day[j]), COURT_PREFIX, serial[j]),
            "amount": ev.amount[j],
        },
        protect=True,
    )
    r = np.flatnonzero(ev.restriction_day >= 0)
    batch.add(
        "high_consumption_restriction",
        ids[ev.owner[r]],
        ev.restriction_day[r],
        "court",
        {"doc_no": fmt("({}){}执限{}号", year_of(ev.day[r]), COURT_PREFIX, serial[r])},
        protect=True,
    )
    del rng
