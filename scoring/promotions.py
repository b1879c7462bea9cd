"""The record of model decisions: who made which version champion, or refused it, and why."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from typing import Any

from sqlalchemy import Engine, insert, select

from scoring.db.tables import ModelPromotion

__all__ = ["list_promotions", "record_promotion"]


def record_promotion(
    engine: Engine,
    *,
    registered_model: str,
    subject: str,
    candidate_version: str,
    previous_champion: str | None,
    outcome: str,
    actor: str,
    reason: str,
    evidence: Mapping[str, Any],
    now: dt.datetime | None = None,
) -> int:
    if outcome not in ("initial", "promoted", "refused"):
        raise ValueError(f"unknown promotion outcome {outcome!r}")
    if not actor.strip() or not reason.strip():
        raise ValueError("a promotion needs who and why")
    when = (now or dt.datetime.now(dt.UTC)).replace(tzinfo=None)
    with engine.begin() as conn:
        result = conn.execute(
            insert(ModelPromotion).values(
                registered_model=registered_model,
                subject=subject,
                candidate_version=candidate_version,
                previous_champion=previous_champion,
                outcome=outcome,
                actor=actor,
                reason=reason,
                evidence=json.dumps(evidence, ensure_ascii=False, sort_keys=True, default=str),
                decided_at=when,
            )
        )
        key = result.inserted_primary_key
        assert key is not None
        return int(key[0])


def list_promotions(engine: Engine, registered_model: str | None = None) -> list[dict[str, Any]]:
    stmt = select(ModelPromotion).order_by(ModelPromotion.id)
    if registered_model is not None:
        stmt = stmt.where(ModelPromotion.registered_model == registered_model)
    with engine.connect() as conn:
        rows = conn.execute(stmt).mappings().all()
    return [{**dict(r), "evidence": json.loads(r["evidence"])} for r in rows]
