"""Partner eligibility checks per second (信易+), library path.

A scratch PostgreSQL database is migrated and filled with ``--subjects`` persons, each with a
published score, a citizen-card token for the partner, and a few listing records for one in ten.
Then ``--checks`` eligibility checks by card token (``scoring.benefits.partner_eligibility``:
token lookup, score in force, listings in force, overdue obligations, the rule) run

* registered: each check is a read in the query register plus an audit-log entry, committed
  (what the service does);
* unregistered: the same checks without the register (the cost of the eligibility itself);

each on ``--threads`` threads with their own sessions. The HTTP route adds request handling and
authentication on top; this measures the library path.

    .venv/bin/python benchmarks/eligibility_bench.py \\
        --pg-url postgresql://postgres@127.0.0.1:5432/credit_eligibility_bench
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import random
import threading
import time

import sqlalchemy as sa
from sqlalchemy.orm import Session

from scoring.audit import AuditLog
from scoring.benefits import card_token, load_benefits, partner_eligibility
from scoring.db import incentive_tables, score_tables
from scoring.db.engine import make_engine
from scoring.db.migrate import upgrade
from scoring.db.tables import Record, Subject
from scoring.settings import Settings

NOW = dt.datetime(2026, 7, 1, 10)
PARTNER, BENEFIT = "city-library", "library_deposit_waiver"


def _fill(engine: sa.Engine, settings: Settings, n: int) -> list[str]:
    rng = random.Random(7)
    with engine.begin() as c:
        c.execute(sa.text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
    upgrade(str(engine.url.render_as_string(hide_password=False)).replace("+psycopg", ""))
    subjects = [
        {"id": i, "subject_type": "person", "subject_key": f"{i:064x}", "birth_year": 1980, "created_at": NOW}
        for i in range(1, n + 1)
    ]
    tokens = [card_token(settings, PARTNER, s["subject_key"]) for s in subjects]
    with engine.begin() as c:
        c.execute(sa.insert(Subject), subjects)
        snap = c.execute(
            sa.insert(score_tables.ScoreSnapshot)
            .values(
                subject_type="person",
                as_of=NOW.date(),
                known_at=NOW,
                registry_version="bench",
                feature_names="[]",
                status="published",
                rows=n,
                actor="bench",
                created_at=NOW,
                published_at=NOW,
            )
            .returning(score_tables.ScoreSnapshot.id)
        ).scalar_one()
        c.execute(
            sa.insert(score_tables.ScorePublication).values(
                subject_type="person", snapshot_id=snap, published_at=NOW
            )
        )
        c.execute(
            sa.insert(score_tables.ScoreRow),
            [
                {
                    "snapshot_id": snap,
                    "subject_id": i,
                    "subject_type": "person",
                    "origin": "batch",
                    "state": "scored",
                    "score": rng.randint(450, 850),
                    "grade": "good",
                    "as_of": NOW.date(),
                    "known_at": NOW,
                    "registry_version": "bench",
                    "feature_hash": "x",
                    "features": "",
                    "scored_at": NOW,
                }
                for i in range(1, n + 1)
            ],
        )
        c.execute(
            sa.insert(incentive_tables.CardToken),
            [
                {
                    "token_hash": hashlib.sha256(t.encode()).hexdigest(),
                    "partner": PARTNER,
                    "subject_id": i + 1,
                    "key_version": "v1",
                    "issued_at": NOW,
                }
                for i, t in enumerate(tokens)
            ],
        )
        c.execute(
            sa.insert(Record),
            [
                {
                    "record_uid": f"r{i:031d}",
                    "version": 1,
                    "subject_id": i,
                    "kind": "judgment_defaulter",
                    "department": "court",
                    "event_date": dt.date(2026, 1, 1),
                    "publicity_end": dt.date(2028, 1, 1),
                    "severity": "serious",
                    "recorded_at": NOW,
                    "content_hash": "x",
                    "payload": '{"doc_no":"x"}',
                }
                for i in range(1, n + 1, 10)
            ],
        )
    return tokens


def _run(
    engine: sa.Engine, tokens: list[str], checks: int, threads: int, register: bool
) -> tuple[float, int]:
    audit = AuditLog(b"bench-anchor-key")
    cat = load_benefits()
    per = checks // threads
    barrier = threading.Barrier(threads + 1)
    eligible = [0] * threads

    def work(t: int) -> None:
        rng = random.Random(t)
        with Session(engine) as session:
            barrier.wait()
            for _ in range(per):
                out = partner_eligibility(
                    session,
                    audit,
                    partner=PARTNER,
                    token=tokens[rng.randrange(len(tokens))],
                    benefit_code=BENEFIT,
                    route="bench",
                    today=NOW.date(),
                    catalogue=cat,
                    register=register,
                )
                session.commit()
                eligible[t] += bool(out["eligible"])

    pool = [threading.Thread(target=work, args=(t,)) for t in range(threads)]
    for th in pool:
        th.start()
    barrier.wait()
    start = time.perf_counter()
    for th in pool:
        th.join()
    return per * threads / (time.perf_counter() - start), sum(eligible)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--pg-url", required=True)
    ap.add_argument("--subjects", type=int, default=20_000)
    ap.add_argument("--checks", type=int, default=8_000)
    ap.add_argument("--threads", type=int, default=8)
    args = ap.parse_args()
    settings = Settings(environment="test")
    engine = make_engine(args.pg_url, pool_size=args.threads + 2)
    started = time.perf_counter()
    tokens = _fill(engine, settings, args.subjects)
    print(f"filled {args.subjects} subjects in {time.perf_counter() - started:.1f}s")
    for register in (False, True):
        for threads in (1, args.threads):
            rate, ok = _run(engine, tokens, args.checks, threads, register)
            label = "registered" if register else "unregistered"
            print(f"{label:>12} threads={threads:<2} {rate:8.0f} checks/s ({ok} eligible)")
    engine.dispose()


if __name__ == "__main__":
    main()
