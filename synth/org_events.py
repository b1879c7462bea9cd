"""Event rows of organisations: notices, penalties, licences, violations, incidents, inspections,
commitments, court rows and commendations at monthly Poisson rates driven by the organisation's
risk; and the rows of outcome events (serious penalties, serious environmental violations, larger
safety incidents, abnormal-operation listings) with their serious-dishonesty follow-ups.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from synth.batch import Batch, Codes
from synth.draws import choice, fmt, in_month, lookup, poisson_cells, year_of
from synth.names import COURT_PREFIX
from synth.orgs import ENV_SECTORS, EVENT_TYPES, SAFETY_SECTORS, OrgLives
from synth.risk import sigmoid

__all__ = ["event_rows", "outcome_rows"]

_PENALTY_DEPTS = ("market_regulation", "environment", "emergency", "housing", "tax")
_EMPLOYEES_LOW = {"micro": 1, "small": 10, "medium": 100, "large": 300}
_LICENCES = {
    "market_regulation": ("营业执照（分支机构）", "食品经营许可证", "药品经营许可证", "特种设备使用登记"),
    "environment": ("排污许可证",),
    "emergency": ("安全生产许可证", "危险化学品经营许可证"),
    "housing": ("建筑业企业资质证书", "建筑工程施工许可证"),
    "health_commission": ("公共场所卫生许可证", "医疗机构执业许可证"),
}


def _licence_dept(rng: np.random.Generator, sector: np.ndarray) -> Codes:
    code = np.zeros(len(sector), dtype=np.int64)
    u = rng.random(len(sector))
    code[np.isin(sector, list(ENV_SECTORS)) & (u < 0.3)] = 1
    code[np.isin(sector, list(SAFETY_SECTORS)) & (u >= 0.3) & (u < 0.5)] = 2
    code[(sector == "construction") & (u >= 0.5) & (u < 0.8)] = 3
    code[np.isin(sector, ("catering", "services", "public")) & (u >= 0.7)] = 4
    return Codes(tuple(_LICENCES), code)


def event_rows(
    batch: Batch,
    life: OrgLives,
    rng: np.random.Generator,
    ids: np.ndarray,
    present: np.ndarray,
    risk: np.ndarray,
    business: np.ndarray,
    scale: np.ndarray,
) -> None:
    tl = batch.timeline
    mf = tl.month_first
    st, sector, size = life.attr("subject_type"), life.attr("sector"), life.attr("size")
    env = np.isin(sector, list(ENV_SECTORS))[:, None]
    safety = np.isin(sector, list(SAFETY_SECTORS))[:, None]
    employer = (st != "individual_business")[:, None]

    # Employer social-insurance arrears notices.
    i, t = poisson_cells(rng, 0.004 * np.exp(1.1 * risk), present & employer, force=batch.chunk == 0)
    day = in_month(rng, mf, t)
    low = lookup(_EMPLOYEES_LOW, size[i])
    employees = rng.integers(low, 10 * low + 1).astype(np.int64)
    months = rng.integers(1, 7, size=len(i))
    batch.add(
        "employer_social_insurance_arrears",
        ids[i],
        day,
        "hrss",
        {
            "notice_no": fmt("SBQJ{}{}", year_of(day), batch.serials("si_arrears", len(i))),
            "months": months,
            "employees": employees,
            "amount": np.round(employees * months * rng.uniform(900, 1500, size=len(i)), 2),
        },
    )
    # Minor and general administrative penalties.
    i, t = poisson_cells(rng, 0.006 * np.exp(0.8 * risk), present, force=batch.chunk == 0)
    day = in_month(rng, mf, t)
    sec = sector[i]
    u = rng.random(len(i))
    code = np.zeros(len(i), dtype=np.int64)
    code[np.isin(sec, list(ENV_SECTORS)) & (u < 0.35)] = 1
    code[np.isin(sec, list(SAFETY_SECTORS)) & (u >= 0.35) & (u < 0.6)] = 2
    code[(sec == "construction") & (u >= 0.6) & (u < 0.8)] = 3
    code[u >= 0.9] = 4
    dept = Codes(_PENALTY_DEPTS, code)
    ptype = choice(rng, ("warning", "fine_low", "fine_mid", "confiscation"), [0.35, 0.35, 0.2, 0.1], len(i))
    amount = np.where(
        ptype.eq("warning"),
        np.nan,
        np.where(ptype.eq("fine_low"), 2000.0, 20000.0) * rng.integers(1, 10, size=len(i)),
    )
    batch.add(
        "administrative_penalty",
        ids[i],
        day,
        dept,
        {
            "doc_no": _penalty_no(day, dept, batch.serials("org_penalty", len(i))),
            "penalty_type": ptype,
            "amount": amount,
            "matter": choice(
                rng,
                ("未按规定公示信息", "标签标识不规范", "未按规定开展自查", "超范围经营", "消防设施不合格"),
                None,
                len(i),
            ),
        },
    )
    # Licences: at registration during the window and renewals.
    new = np.flatnonzero(life.reg_month > 0)
    i, t = poisson_cells(rng, np.full(risk.shape, 0.008), present, force=batch.chunk == 0)
    i = np.concatenate([new, i])
    day = np.concatenate(
        [
            np.minimum(life.attr("registered_day")[new] + rng.integers(3, 40, size=len(new)), tl.last_day),
            in_month(rng, mf, t),
        ]
    )
    dept = _licence_dept(rng, sector[i])
    pick = rng.integers(0, 4, size=len(i))
    all_types = tuple(t for types in _LICENCES.values() for t in types)
    lic_code = np.zeros(len(i), dtype=np.int64)
    for d, types in _LICENCES.items():
        sel = dept.eq(d)
        lic_code[sel] = all_types.index(types[0]) + pick[sel] % len(types)
    batch.add(
        "administrative_licence",
        ids[i],
        day,
        dept,
        {
            "licence_no": fmt("XK{}{}", year_of(day), batch.serials("licence", len(i))),
            "licence_type": Codes(all_types, lic_code),
        },
    )
    # Environmental violations (minor, general) and general safety incidents.
    i, t = poisson_cells(rng, 0.004 * np.exp(0.8 * risk), present & env, force=batch.chunk == 0)
    day = in_month(rng, mf, t)
    level = choice(rng, ("minor", "general"), [0.6, 0.4], len(i))
    batch.add(
        "environmental_violation",
        ids[i],
        day,
        "environment",
        {
            "doc_no": fmt("济环罚〔{}〕{}号", year_of(day), batch.serials("env", len(i))),
            "level": level,
            "fine": np.round(
                np.where(level.eq("minor"), 5000.0, 50000.0) * rng.uniform(0.5, 2, size=len(i)), 2
            ),
        },
    )
    i, t = poisson_cells(rng, 0.0015 * np.exp(0.7 * risk), present & safety, force=batch.chunk == 0)
    day = in_month(rng, mf, t)
    batch.add(
        "safety_incident",
        ids[i],
        day,
        "emergency",
        {
            "doc_no": fmt("济应急事故〔{}〕{}号", year_of(day), batch.serials("incident", len(i))),
            "level": "general",
            "deaths": rng.choice(3, size=len(i), p=[0.7, 0.2, 0.1]),
            "fine": np.round(rng.uniform(10000, 300000, size=len(i)), 2),
        },
    )
    # Random inspections.
    i, t = poisson_cells(rng, np.full(risk.shape, 0.025), present, force=batch.chunk == 0)
    day = in_month(rng, mf, t)
    r = risk[i, t]
    u = rng.random(len(i))
    p_nc = sigmoid(-2.6 + 0.9 * r)
    p_nf = np.where(size[i] == "micro", sigmoid(-3.5 + 0.9 * r), 0.0)
    p_ic = sigmoid(-1.6 + 0.5 * r)
    code = np.where(u < p_nf, 3, np.where(u < p_nf + p_nc, 2, np.where(u < p_nf + p_nc + p_ic, 1, 0)))
    result = Codes(("compliant", "issues_corrected", "non_compliant", "not_found"), code)
    batch.add(
        "inspection_result",
        ids[i],
        day,
        choice(
            rng,
            ("market_regulation", "environment", "emergency", "health_commission"),
            [0.55, 0.15, 0.15, 0.15],
            len(i),
        ),
        {"plan_no": fmt("SSJ{}{}", year_of(day), batch.serials("inspection", len(i))), "result": result},
    )
    # Commitments.
    i, t = poisson_cells(rng, np.full(risk.shape, 0.015), present, force=batch.chunk == 0)
    day = in_month(rng, mf, t)
    broken = rng.random(len(i)) < sigmoid(-3.0 + 0.9 * risk[i, t])
    batch.add(
        "credit_commitment",
        ids[i],
        day,
        choice(rng, ("market_regulation", "tax", "housing", "credit_office"), [0.4, 0.3, 0.15, 0.15], len(i)),
        {
            "commitment_no": fmt("QYCN{}{}", year_of(day), batch.serials("org_commit", len(i))),
            "item": choice(
                rng, ("告知承诺制审批", "涉税事项承诺", "招投标信用承诺", "信用修复承诺"), None, len(i)
            ),
            "status": Codes(("signed", "fulfilled", "broken"), np.where(broken, 2, rng.random(len(i)) < 0.6)),
        },
    )
    # Tax arrears notices, court cases, judgment defaulters (not outcome events for organisations).
    i, t = poisson_cells(
        rng, 0.002 * np.exp(1.0 * risk), present & (st != "government_body")[:, None], force=batch.chunk == 0
    )
    day = in_month(rng, mf, t)
    batch.add(
        "tax_arrears",
        ids[i],
        day,
        "tax",
        {
            "notice_no": fmt("QSGG{}{}", year_of(day), batch.serials("org_tax_arrears", len(i))),
            "tax_type": choice(rng, ("value_added", "corporate_income", "other"), [0.6, 0.3, 0.1], len(i)),
            "amount": np.round(np.exp(rng.normal(10.5, 1.2, size=len(i))) * np.sqrt(scale[i]), 2),
        },
    )
    i, t = poisson_cells(
        rng, 0.0015 * np.exp(1.0 * risk), present & business[:, None], force=batch.chunk == 0
    )
    day = in_month(rng, mf, t)
    serial = batch.serials("org_court", len(i))
    amount = np.round(np.exp(rng.normal(11.5, 1.2, size=len(i))), 2)
    batch.add(
        "enforcement_case",
        ids[i],
        day,
        "court",
        {
            "case_no": fmt("({}){}执{}号", year_of(day), COURT_PREFIX, serial),
            "creditor_type": choice(rng, ("bank", "private", "other"), [0.3, 0.5, 0.2], len(i)),
            "amount": amount,
        },
    )
    listed = rng.random(len(i)) < 0.3
    jday = np.minimum(day + rng.integers(30, 120, size=len(i)), tl.last_day)
    batch.add(
        "judgment_defaulter",
        ids[i[listed]],
        jday[listed],
        "court",
        {
            "doc_no": fmt("({}){}执{}号之一", year_of(day[listed]), COURT_PREFIX, serial[listed]),
            "amount": amount[listed],
        },
    )
    restricted = listed & (rng.random(len(i)) < 0.6)
    batch.add(
        "high_consumption_restriction",
        ids[i[restricted]],
        jday[restricted],
        "court",
        {"doc_no": fmt("({}){}执限{}号", year_of(day[restricted]), COURT_PREFIX, serial[restricted])},
    )
    # Awards and the market regulator's "keeps contracts" red list for the best.
    i, t = poisson_cells(rng, 0.0015 * np.exp(-0.8 * risk), present, force=batch.chunk == 0)
    day = in_month(rng, mf, t)
    batch.add(
        "award",
        ids[i],
        day,
        choice(rng, ("market_regulation", "credit_office"), [0.6, 0.4], len(i)),
        {
            "doc_no": fmt("QYBZ{}{}", year_of(day), batch.serials("org_award", len(i))),
            "level": choice(
                rng, ("district", "city", "province", "national"), [0.5, 0.35, 0.12, 0.03], len(i)
            ),
            "title": choice(
                rng, ("诚信经营示范单位", "优秀民营企业", "安全生产先进单位", "文明单位"), None, len(i)
            ),
        },
    )
    i, t = poisson_cells(
        rng, 0.001 * np.exp(-1.0 * risk), present & business[:, None], force=batch.chunk == 0
    )
    day = in_month(rng, mf, t)
    batch.add(
        "red_list",
        ids[i],
        day,
        choice(rng, ("market_regulation", "credit_office"), [0.6, 0.4], len(i)),
        {
            "doc_no": fmt("SXHMD{}{}", year_of(day), batch.serials("org_red2", len(i))),
            "list_name": "守合同重信用企业",
        },
    )


def _penalty_no(day: np.ndarray, dept: Codes, serial: np.ndarray) -> pl.Series:
    short = {
        "market_regulation": "市监",
        "environment": "环",
        "emergency": "应急",
        "housing": "建",
        "tax": "税",
    }
    return fmt("济{}罚〔{}〕{}号", dept.map(short), year_of(day), serial)


def outcome_rows(batch: Batch, life: OrgLives, rng: np.random.Generator, ids: np.ndarray) -> None:
    """Rows of outcome events (tax level D is written with the yearly levels) and their follow-ups."""
    tl = batch.timeline
    i, b = np.nonzero(life.event_type >= 0)
    kind = life.event_type[i, b]
    day = life.event_day[i, b]
    sector = life.attr("sector")

    sel = kind == EVENT_TYPES.index("abnormal_operation")
    batch.add(
        "abnormal_operation",
        ids[i[sel]],
        day[sel],
        "market_regulation",
        {
            "doc_no": fmt("济市监异〔{}〕{}号", year_of(day[sel]), batch.serials("abnormal", int(sel.sum()))),
            "reason": choice(
                rng,
                ("no_annual_report", "unreachable_address", "false_information", "other"),
                [0.6, 0.3, 0.05, 0.05],
                int(sel.sum()),
            ),
        },
        protect=True,
    )
    sel = kind == EVENT_TYPES.index("serious_penalty")
    k = int(sel.sum())
    code = np.where(np.isin(sector[i[sel]], list(ENV_SECTORS)) & (rng.random(k) < 0.3), 1, 0)
    code = np.where(np.isin(sector[i[sel]], list(SAFETY_SECTORS)) & (rng.random(k) < 0.3), 2, code)
    dept = Codes(_PENALTY_DEPTS, code)
    ptype = choice(rng, ("fine_high", "licence_suspension", "licence_revocation"), [0.7, 0.2, 0.1], k)
    batch.add(
        "administrative_penalty",
        ids[i[sel]],
        day[sel],
        dept,
        {
            "doc_no": _penalty_no(day[sel], dept, batch.serials("org_penalty", k)),
            "penalty_type": ptype,
            "amount": np.where(ptype.eq("fine_high"), np.round(rng.uniform(2e5, 5e6, size=k), 2), np.nan),
            "matter": choice(
                rng, ("生产销售不合格产品", "无证经营", "虚假宣传", "重大安全隐患拒不整改"), None, k
            ),
        },
        protect=True,
    )
    sel = kind == EVENT_TYPES.index("serious_environment")
    k = int(sel.sum())
    batch.add(
        "environmental_violation",
        ids[i[sel]],
        day[sel],
        "environment",
        {
            "doc_no": fmt("济环罚〔{}〕{}号", year_of(day[sel]), batch.serials("env", k)),
            "level": "serious",
            "fine": np.round(rng.uniform(2e5, 2e6, size=k), 2),
        },
        protect=True,
    )
    sel = kind == EVENT_TYPES.index("major_incident")
    k = int(sel.sum())
    level = choice(rng, ("larger", "major", "extraordinary"), [0.85, 0.13, 0.02], k)
    deaths = np.where(
        level.eq("larger"),
        rng.integers(3, 10, size=k),
        np.where(level.eq("major"), rng.integers(10, 30, size=k), rng.integers(30, 40, size=k)),
    )
    batch.add(
        "safety_incident",
        ids[i[sel]],
        day[sel],
        "emergency",
        {
            "doc_no": fmt("济应急事故〔{}〕{}号", year_of(day[sel]), batch.serials("incident", k)),
            "level": level,
            "deaths": deaths,
            "fine": np.round(rng.uniform(5e5, 5e6, size=k), 2),
        },
        protect=True,
    )
    # A serious event is sometimes followed by a serious-dishonesty listing (not an outcome kind).
    serious = kind != EVENT_TYPES.index("abnormal_operation")
    follow = serious & (rng.random(len(i)) < 0.2)
    fday = np.minimum(day[follow] + rng.integers(30, 180, size=int(follow.sum())), tl.last_day)
    area = Codes(("市场监管", "税收", "市场监管", "生态环境", "安全生产"), kind[follow])
    dept = Codes(("market_regulation", "tax", "market_regulation", "environment", "emergency"), kind[follow])
    batch.add(
        "serious_dishonesty_list",
        ids[i[follow]],
        fday,
        dept,
        {"doc_no": fmt("YZSX{}{}", year_of(fday), batch.serials("org_sdl", len(fday))), "area": area},
    )
