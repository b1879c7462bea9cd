"""A small store for the incentive tests: subjects and published scores written directly."""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa

from scoring.audit import AuditLog
from scoring.db import incentive_tables, score_tables  # noqa: F401  (the engine fixture empties them)
from scoring.db.tables import Record, Subject
from scoring.dedup import blake
from scoring.identity import IdentityVault

TODAY = dt.date(2026, 7, 1)
NOW = dt.datetime(2026, 7, 1, 10)
ORG_A = "91320100MA1W2X3Y6A"
ORG_B = "91320100MA2AB3CD0T"
ADULT = "110105198001010016"  # born 1980
ADULT2 = "110105199003150025"
ADULT3 = "320102198507070040"
CHILD = "110105201206010030"  # born 2012: a minor
AUDIT = AuditLog(b"test-anchor-key")


def add_person(engine: sa.Engine, vault: IdentityVault, sid: int, number: str) -> str:
    key = vault.lookup_key(number)
    with engine.begin() as c:
        c.execute(
            sa.insert(Subject).values(
                id=sid,
                subject_type="person",
                subject_key=key,
                id_cipher=vault.encrypt(number),
                key_version=vault.key_version,
                birth_year=int(number[6:10]),
                created_at=dt.datetime(2020, 1, 1),
            )
        )
    return key


def add_org(engine: sa.Engine, sid: int, code: str) -> str:
    with engine.begin() as c:
        c.execute(
            sa.insert(Subject).values(
                id=sid,
                subject_type="enterprise",
                subject_key=code,
                name=f"org {sid}",
                created_at=dt.datetime(2020, 1, 1),
            )
        )
    return code


def set_score(
    bind: sa.Engine | sa.Connection,
    sid: int,
    *,
    score: int | None = None,
    grade: str | None = None,
    state: str = "scored",
    group: str = "person",
) -> None:
    """Publish a score row for the subject (creating the group's snapshot the first time)."""
    eng_ctx: Any = bind.begin() if isinstance(bind, sa.Engine) else _nullctx(bind)
    with eng_ctx as c:
        snap = c.execute(
            sa.text("SELECT snapshot_id FROM score_publications WHERE subject_type = :g"), {"g": group}
        ).scalar()
        if snap is None:
            snap = c.execute(
                sa.insert(score_tables.ScoreSnapshot)
                .values(
                    subject_type=group,
                    as_of=TODAY,
                    known_at=NOW,
                    registry_version="test",
                    feature_names="[]",
                    status="published",
                    rows=0,
                    actor="test",
                    created_at=NOW,
                    published_at=NOW,
                )
                .returning(score_tables.ScoreSnapshot.id)
            ).scalar_one()
            c.execute(
                sa.insert(score_tables.ScorePublication).values(
                    subject_type=group, snapshot_id=snap, published_at=NOW
                )
            )
        if grade is None and group == "person" and score is not None:
            grade = "excellent" if score >= 700 else "good"
        c.execute(
            sa.insert(score_tables.ScoreRow).values(
                snapshot_id=snap,
                subject_id=sid,
                subject_type=group,
                origin="batch",
                state=state,
                pd=None,
                score=score,
                grade=grade,
                as_of=TODAY,
                known_at=NOW,
                registry_version="test",
                feature_hash="x",
                features="",
                scored_at=NOW,
            )
        )


class _nullctx:
    def __init__(self, conn: sa.Connection) -> None:
        self.conn = conn

    def __enter__(self) -> sa.Connection:
        return self.conn

    def __exit__(self, *exc: object) -> None:
        return None


def add_listing_record(
    engine: sa.Engine,
    sid: int,
    subject_key: str,
    kind: str,
    doc_no: str,
    *,
    department: str = "court",
    event_date: dt.date = dt.date(2026, 1, 10),
    publicity_end: dt.date = dt.date(2028, 1, 10),
) -> str:
    """A listing record as a department's file would bring it."""
    uid = blake([f"{kind}|{subject_key}|{doc_no}"])[0]
    with engine.begin() as c:
        c.execute(
            sa.insert(Record).values(
                record_uid=uid,
                version=1,
                subject_id=sid,
                kind=kind,
                department=department,
                event_date=event_date,
                publicity_end=publicity_end,
                severity="serious",
                recorded_at=dt.datetime(2026, 1, 11),
                content_hash=uid,
                outcome=None,
                payload=f'{{"doc_no":"{doc_no}"}}',
            )
        )
    return uid
