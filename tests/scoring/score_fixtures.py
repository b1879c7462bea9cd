"""Helpers for scoring tests (imported by conftest and tests): registry-shaped synthetic feature
frames, and hand-built store rows around the as-of date ``D``."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from features.registry import Registry


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


D = dt.date(2026, 6, 15)


def month(k: int) -> dt.date:
    """The 10th of the k-th month before D's month."""
    y, m = divmod(D.year * 12 + D.month - 1 - k, 12)
    return dt.date(y, m + 1, 10)


def record(uid: str, sid: int, kind: str, day: dt.date, **kw: object) -> dict:
    """A ``records`` row (version 1) recorded on the evening of its event date."""
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


def pension(uid: str, sid: int, k: int) -> dict:
    """A paid pension contribution in month k before D."""
    day = month(k)
    payload = f'{{"amount":800.0,"insurance":"pension","period":"{day:%Y-%m}","status":"paid"}}'
    return record(uid, sid, "social_insurance_contribution", day, outcome="paid", payload=payload)


def late_bill(uid: str, sid: int, k: int, department: str = "utility") -> dict:
    """A utility bill paid 20 days late in month k before D."""
    return record(uid, sid, "utility_bill", month(k), outcome="late", quantity=20.0, department=department)
