"""Department rows about the organisations of one chunk: registration (with the legal
representative), monthly VAT and quarterly income or other taxes, utility bills, the yearly tax
credit level (April, for businesses; D only as an outcome event) with the tax red list, and bank
loans. Everything else an organisation does is in ``synth.org_events``.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl

from synth.batch import Batch, Codes
from synth.draws import cells, fmt, in_month, lookup, status3, year_of
from synth.org_events import event_rows, outcome_rows
from synth.orgs import EVENT_TYPES, OrgLives, april_day
from synth.risk import sigmoid

__all__ = ["org_rows"]

_STATUS = ("on_time", "late", "arrears")
_SIZE_SCALE = {"micro": 1.0, "small": 4.0, "medium": 20.0, "large": 120.0}


def org_rows(batch: Batch, life: OrgLives, rep_ids: np.ndarray, rng: np.random.Generator) -> None:
    """Add the rows of one chunk of organisations; ``rep_ids`` are their legal representatives' numbers."""
    if life.n == 0:
        return
    tl = batch.timeline
    mf, moy = tl.month_first, tl.month_of_year
    ids = np.arange(life.n) + batch.register(life.attr("ids"))
    gidx = life.lo + np.arange(life.n)
    st, sector, size = life.attr("subject_type"), life.attr("sector"), life.attr("size")
    reg = life.attr("registered_day")
    business = np.isin(st, ("enterprise", "individual_business"))
    scale = lookup(_SIZE_SCALE, size).astype(np.float64)
    risk = life.risk()
    # Organisations registered during the window have records from the month after registration.
    later = np.arange(risk.shape[1])[None, :] > life.reg_month[:, None]
    present = life.present & ((reg < tl.first_day)[:, None] | later)

    # -- registration ----------------------------------------------------------------------------
    reg_event = np.maximum(reg, tl.first_day)
    batch.add(
        "org_registration",
        ids,
        reg_event,
        "market_regulation",
        {
            "name": life.attr("name"),
            "sector": sector,
            "size": size,
            "registered_on": pl.Series(reg.astype("datetime64[D]")).dt.strftime("%Y-%m-%d"),
            "legal_rep_id": rep_ids,
        },
        protect=True,
    )

    # -- taxes -----------------------------------------------------------------------------------
    quarter_end = np.isin(moy, (3, 6, 9, 12))[None, :]
    plans = (
        ("value_added", present & (st == "enterprise")[:, None], 9.5),
        ("corporate_income", present & (st == "enterprise")[:, None] & quarter_end, 9.8),
        ("value_added", present & (st == "individual_business")[:, None] & quarter_end, 7.6),
        (
            "other",
            present & np.isin(st, ("social_organization", "public_institution"))[:, None] & quarter_end,
            8.0,
        ),
    )
    for tax_type, mask, mu in plans:
        i, t = cells(mask)
        r = risk[i, t]
        status = status3(rng, sigmoid(-3.2 + 0.9 * r), sigmoid(-6.5 + 1.2 * r))
        days = np.where(
            status == 2,
            30 + rng.integers(0, 180, size=len(i)),
            np.where(status == 1, rng.integers(1, 30, size=len(i)), 0),
        )
        batch.add(
            "tax_payment",
            ids[i],
            in_month(rng, mf, t, 10, 20),
            "tax",
            {
                "tax_type": tax_type,
                "period": batch.month(t),
                "amount": np.round(np.exp(rng.normal(mu, 0.5, size=len(i))) * scale[i], 2),
                "days_late": days,
                "status": Codes(_STATUS, status),
            },
        )
    _tax_levels(batch, life, rng, ids, business, reg, risk)

    # -- utilities -------------------------------------------------------------------------------
    for utility, dept, prefix, months, base in (
        ("electricity", "power", "0531", np.ones(len(moy), dtype=bool), 900.0),
        ("water", "water", "SW", moy % 2 == 0, 300.0),
        ("gas", "gas", "RQ", np.ones(len(moy), dtype=bool), 500.0),
        ("heating", "heating", "RL", np.isin(moy, (11, 12, 1, 2, 3)), 1500.0),
    ):
        has = (
            np.isin(sector, ("catering", "food", "chemicals", "manufacturing"))
            if utility == "gas"
            else sector != "agriculture"
        )
        i, t = cells(present & has[:, None] & months[None, :])
        r = risk[i, t]
        status = status3(rng, sigmoid(-3.4 + 0.85 * r), sigmoid(-6.8 + 1.2 * r))
        days = np.where(
            status == 2,
            30 + rng.integers(0, 120, size=len(i)),
            np.where(status == 1, rng.integers(1, 45, size=len(i)), 0),
        )
        batch.add(
            "utility_bill",
            ids[i],
            in_month(rng, mf, t, 5, 25),
            dept,
            {
                "utility": utility,
                "account_no": fmt("{}{}", prefix, gidx + 90_000_000).gather(i),
                "period": batch.month(t),
                "amount": np.round(base * scale[i] * np.exp(0.25 * rng.standard_normal(len(i))), 2),
                "days_late": days,
                "status": Codes(_STATUS, status),
            },
        )

    # -- bank loans of a quarter of the larger enterprises ---------------------------------------
    borrower = (st == "enterprise") & (size != "micro") & (gidx % 4 == 1)
    i, t = cells(present & borrower[:, None])
    r = risk[i, t]
    late = rng.random(len(i)) < sigmoid(-3.5 + 0.9 * r)
    days = np.where(late, rng.integers(1, 60, size=len(i)), 0)
    batch.add(
        "loan_repayment",
        ids[i],
        mf[t] + gidx[i] % 20 + 5,
        "bank",
        {
            "loan_id": fmt("QLBK{}", gidx[i] + 500_000_000_000),
            "period": batch.month(t),
            "amount_due": np.round(20000.0 * scale[i] * (1 + 0.1 * (gidx[i] % 7)), 2),
            "days_overdue": days,
            "status": Codes.where(days > 0, "overdue", "on_time"),
        },
    )
    event_rows(batch, life, rng, ids, present, risk, business, scale)
    outcome_rows(batch, life, rng, ids)


def _tax_levels(
    batch: Batch,
    life: OrgLives,
    rng: np.random.Generator,
    ids: np.ndarray,
    business: np.ndarray,
    reg: np.ndarray,
    risk: np.ndarray,
) -> None:
    """Yearly tax credit levels in April: M in the first year, A/B/C from the past year's risk, D only
    as an outcome event."""
    tl = batch.timeline
    for april in np.flatnonzero(tl.month_of_year == 4):
        b = april // 12
        year = int(tl.year_of[april])
        evaluated = tl.ordinal(dt.date(year - 1, 1, 1))
        ended = tl.ordinal(dt.date(year, 1, 1))
        full = business & (reg < evaluated)
        first_year = business & (reg >= evaluated) & (reg < ended)
        past = risk[:, max(april - 12, 0) : max(april, 1)].mean(axis=1) + 0.3 * rng.standard_normal(life.n)
        d = life.event_type[:, b] == EVENT_TYPES.index("tax_level_d")
        code = np.where(past < -0.7, 0, np.where(past < 0.7, 1, 3))
        code = np.where(d, 4, np.where(first_year, 2, code))
        level = Codes(("A", "B", "M", "C", "D"), code)
        sel = np.flatnonzero(full | first_year)
        day = np.where(d, life.event_day[:, b], april_day(tl, int(april), rng.random(life.n)))
        batch.add(
            "tax_credit_level",
            ids[sel],
            day[sel],
            "tax",
            {"year": year - 1, "level": level[sel]},
            protect=d[sel],
        )
        # Level A taxpayers are put on the tax red list in May.
        a = sel[level[sel].eq("A") & (rng.random(len(sel)) < 0.5)]
        if april + 1 < risk.shape[1]:
            red_day = in_month(rng, tl.month_first, np.full(len(a), april + 1))
            batch.add(
                "red_list",
                ids[a],
                red_day,
                "tax",
                {
                    "doc_no": fmt("SWHMD{}{}", year_of(red_day), batch.serials("org_red", len(a))),
                    "list_name": "纳税信用A级纳税人",
                },
            )
