"""Helpers of the score-route tests: small champion bundles, a hand-built records store with
real pseudonyms and credit codes, and its publication (the approach of tests/scoring)."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import sqlalchemy as sa
from api_service import org_code, pid

from features.registry import Registry
from models.bundle import ServingBundle
from models.gbm import MonotoneLgbm
from scoring.bundles import bundle_path, set_champion
from scoring.db.tables import Record, Subject
from scoring.identity import IdentityVault
from scoring.monitoring import reference_distribution
from scoring.publish import publish_scores
from scoring.settings import Settings

NOT_INPUTS = ("record_count", "record_tenure_months")
D = dt.date(2026, 6, 15)
KNOWN = dt.datetime(2026, 7, 1, 12)

SCORED = pid("19800101", "011")  # scored, late utility bills and a traffic violation
THIN = pid("19900202", "021")  # insufficient record
MINOR = pid("20100303", "031")  # under 18
UNKNOWN = pid("19700404", "041")  # has no credit file
LISTED = org_code("MA0000A1")  # on the serious-dishonesty list: class D
CLEAN = org_code("MA0000B2")
IDS = {SCORED: 1, THIN: 2, MINOR: 3, LISTED: 10, CLEAN: 11}


def feature_frame(registry: Registry, group: str, n: int, seed: int) -> tuple[pd.DataFrame, np.ndarray]:
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(index=range(n))
    for spec in registry.for_subject(group):
        if spec.unit == "flag":
            frame[spec.name] = (rng.random(n) < 0.05).astype(float)
        elif spec.unit == "share":
            frame[spec.name] = rng.random(n).round(3)
        elif spec.unit == "month" and spec.window:
            frame[spec.name] = rng.integers(0, spec.window + 1, n).astype(float)
        else:
            frame[spec.name] = rng.poisson(1.0, n).astype(float)
    logit = -2.0 * np.ones(n)
    bumps = {
        "utility_late_12m": 0.8,
        "tax_arrears_amount": 0.6,
        "negative_serious_decayed": 0.9,
        "negative_general_decayed": 0.9,
        "pension_paid_months_12m": -0.15,
        "tax_late_share_12m": 1.5,
        "penalty_serious_decayed": 0.9,
    }
    for name, w in bumps.items():
        if name in frame:
            logit += w * frame[name].to_numpy()
    y = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int)
    return frame, y


def train_bundles(registry: Registry, root: Path) -> Path:
    """lgbm champions (version 1) for both groups; the person one carries its development
    distribution and metrics, as ``credit train`` writes them."""
    for group in ("person", "enterprise"):
        frame, y = feature_frame(registry, group, 3000, seed=5 if group == "person" else 6)
        names = [n for n in registry.names(group) if n not in NOT_INPUTS]
        monotone = {k: v for k, v in registry.monotone(group).items() if k in names}
        model = MonotoneLgbm(monotone=monotone, n_estimators=40, num_leaves=7, min_child_samples=50)
        model.fit(frame[names], y)
        metadata: dict[str, str] = {}
        if group == "person":
            p = model.predict_pd(frame[names])
            probe = ServingBundle.from_estimator(
                model, model_name="x", model_version="0", feature_registry_version="x", training_data_hash="x"
            )
            metadata = {
                "metrics": json.dumps({"dev_auc": 0.7, "oot_auc": 0.69}),
                "fairness": json.dumps(
                    {"gender": {"passed": True, "reasons": [], "notes": [], "by_group": []}}
                ),
                "reference_distribution": json.dumps(
                    {"pd": reference_distribution(p), "score": reference_distribution(probe.score(p))}
                ),
            }
        ServingBundle.from_estimator(
            model,
            model_name=f"credit-{group}-pd",
            model_version="1",
            feature_registry_version=registry.version,
            training_data_hash="test",
            metadata=metadata,
        ).save(bundle_path(root, group, "1"))
        set_champion(root, group, "1")
    return root


def _month(k: int) -> dt.date:
    y, m = divmod(D.year * 12 + D.month - 1 - k, 12)
    return dt.date(y, m + 1, 10)


def _rec(uid: str, sid: int, kind: str, day: dt.date, **kw: Any) -> dict[str, Any]:
    return {
        "record_uid": uid,
        "version": 1,
        "subject_id": sid,
        "kind": kind,
        "department": kw.get("department", "hrss"),
        "event_date": day,
        "publicity_end": kw.get("publicity_end", dt.date(day.year + 5, 1, 1)),
        "severity": kw.get("severity", "minor"),
        "recorded_at": dt.datetime.combine(day, dt.time(20)),
        "content_hash": uid,
        "amount": kw.get("amount"),
        "quantity": kw.get("quantity"),
        "outcome": kw.get("outcome"),
        "payload": kw.get("payload", "{}"),
    }


def _pension(uid: str, sid: int, k: int) -> dict[str, Any]:
    day = _month(k)
    payload = f'{{"amount":800.0,"insurance":"pension","period":"{day:%Y-%m}","status":"paid"}}'
    return _rec(uid, sid, "social_insurance_contribution", day, outcome="paid", payload=payload)


def build_city(engine: sa.Engine, vault: IdentityVault) -> None:
    def person(number: str, year: int) -> dict[str, Any]:
        return {"id": IDS[number], "subject_type": "person", "subject_key": vault.lookup_key(number),
                "id_cipher": vault.encrypt(number), "key_version": "1", "birth_year": year,
                "district_code": number[:6]}  # fmt: skip

    def org(code: str, sector: str) -> dict[str, Any]:
        return {"id": IDS[code], "subject_type": "enterprise", "subject_key": code,
                "name": f"Org {code[-4:]}", "sector": sector, "district_code": code[2:8],
                "registered_on": dt.date(2015, 3, 1)}  # fmt: skip

    subjects = [person(SCORED, 1980), person(THIN, 1990), person(MINOR, 2010), org(LISTED, "retail"),
                org(CLEAN, "technology")]  # fmt: skip
    for s in subjects:
        s.setdefault("created_at", dt.datetime(2020, 1, 1))
        for key in ("birth_year", "id_cipher", "registered_on", "name", "sector", "key_version"):
            s.setdefault(key, None)
    records = [_pension(f"p1-{k}", 1, k) for k in range(12)]
    records += [
        _rec(f"u1-{k}", 1, "utility_bill", _month(k), outcome="late", quantity=20.0, department="utility")
        for k in (1, 2, 4, 7)
    ]
    records += [
        _rec("t1", 1, "traffic_violation", _month(10), severity="general", publicity_end=dt.date(2026, 12, 1),
             department="police"),
        _pension("p2-0", 2, 0),
    ]  # fmt: skip
    records += [_pension(f"p3-{k}", 3, k) for k in range(8)]
    for sid in (10, 11):
        records.append(
            _rec(f"o{sid}-reg", sid, "org_registration", dt.date(2015, 3, 1), department="amr",
                 payload='{"registered_on":"2015-03-01"}', publicity_end=dt.date(2115, 1, 1))
        )  # fmt: skip
        records.append(_rec(f"o{sid}-tax", sid, "tax_credit_level", _month(2), outcome="A", department="tax"))
    records.append(
        _rec("o10-sd", 10, "serious_dishonesty_list", _month(3), severity="serious", department="ndrc")
    )
    with engine.begin() as c:
        c.execute(sa.insert(Subject), subjects)
        c.execute(sa.insert(Record), records)


def publish(engine: sa.Engine, settings: Settings) -> dict[str, int]:
    pubs = publish_scores(engine, settings, D, known_at=KNOWN, actor="tester")
    return {p.subject_type: p.snapshot_id for p in pubs}
