"""Partner eligibility checks per second (信易+): the library path, then over HTTP.

A scratch PostgreSQL database is migrated and filled with ``--subjects`` persons, each with a
published score, a citizen-card token for the partner, and a few listing records for one in ten.
Then ``--checks`` eligibility checks by card token (``scoring.benefits.partner_eligibility``:
token lookup, score in force, listings in force, overdue obligations, the rule) run

* registered: each check is a read in the query register plus an audit-log entry, committed
  (what the service does);
* unregistered: the same checks without the register (the cost of the eligibility itself);

each on ``--threads`` threads with their own sessions. Then over HTTP: ``credit serve``
(``--workers``) on loopback, the partner's API key, and ``wrk`` (``-t2 -c64 -d30s`` after a 5 s
warm-up) asking ``GET /v1/partner/eligibility?token=...&benefit=...`` for random card holders —
key check, one read, the check registered (register row and audit entry, committed through the
group commit). The baseline, in the same run: the registered library path on ``--threads``
threads (what the service did per request before), and ``/healthz`` on the same server (the
HTTP stack alone, a ceiling). Prints checks/s, latency percentiles, the ratios and the load
average; checks that every answered check left its register row and the audit chain verifies.

    .venv/bin/python benchmarks/eligibility_bench.py \\
        --pg-url postgresql://postgres@127.0.0.1:5432/credit_eligibility_bench
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from scoring.audit import AuditLog
from scoring.auth import issue_api_key
from scoring.benefits import card_token, load_benefits, partner_eligibility
from scoring.db import incentive_tables, score_tables
from scoring.db.engine import make_engine
from scoring.db.migrate import upgrade
from scoring.db.tables import Record, Subject
from scoring.settings import Settings

NOW = dt.datetime(2026, 7, 1, 10)
PARTNER, BENEFIT = "city-library", "library_deposit_waiver"
BIN = Path(sys.executable).parent
ROOT = Path(__file__).resolve().parents[1]

CHECK_LUA = """
local tokens = {}
init = function(args)
  for line in io.lines("%(data)s") do tokens[#tokens + 1] = line end
  math.randomseed(os.time() + math.floor(os.clock() * 1e6))
end
request = function()
  local path = "/v1/partner/eligibility?benefit=%(benefit)s&token=" .. tokens[math.random(#tokens)]
  return wrk.format("GET", path, {["Authorization"] = "Bearer %(key)s"})
end
"""


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


def _wrk(url: str, args: argparse.Namespace, duration: int, script: Path | None = None) -> dict[str, float]:
    cmd = ["wrk", "-t2", f"-c{args.connections}", f"-d{duration}s", "--latency"]
    cmd += ["-s", str(script)] if script is not None else []
    out = subprocess.run([*cmd, url], capture_output=True, text=True, check=True).stdout
    res: dict[str, float] = {"rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))}  # type: ignore[union-attr]
    for pct in ("50", "90", "99"):
        m = re.search(rf"\s{pct}%\s+([\d.]+)(us|ms|s)\b", out)
        if m:
            res[f"p{pct}_ms"] = float(m.group(1)) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[m.group(2)]
    m = re.search(r"(\d+) requests in", out)
    res["requests"] = float(m.group(1)) if m else 0.0
    m = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    res["non_2xx"] = float(m.group(1)) if m else 0.0
    return res


def _http(
    args: argparse.Namespace, engine: sa.Engine, tokens: list[str]
) -> tuple[dict[str, float], dict[str, float], dict[str, Any]]:
    """The service under wrk: eligibility checks, then /healthz. With the rows checked."""
    workdir = Path(tempfile.mkdtemp(prefix="eligibility-bench-"))
    with Session(engine) as session:
        key, _ = issue_api_key(session, role="partner", name=PARTNER, created_by="bench")
        session.commit()
    with engine.connect() as c:
        before = c.execute(sa.text("SELECT COUNT(*) FROM query_register")).scalar_one()
    data = workdir / "tokens.txt"
    data.write_text("".join(t + "\n" for t in tokens), encoding="ascii")
    script = workdir / "check.lua"
    script.write_text(CHECK_LUA % {"data": data, "key": key, "benefit": BENEFIT}, encoding="utf-8")
    env = {
        **os.environ,
        "CREDIT_ENVIRONMENT": "development",
        "CREDIT_DATABASE_URL": args.pg_url,
        "CREDIT_VAR_DIR": str(workdir),
        "CREDIT_BUNDLE_DIR": str(workdir / "bundles"),
        "CREDIT_RATE_LIMIT_PER_MINUTE": "1e12",
        "CREDIT_RATE_LIMIT_BURST": "1000000000",
    }
    log = (workdir / "service.log").open("wb")
    proc = subprocess.Popen(
        [str(BIN / "credit"), "serve", "--port", str(args.port), "--workers", str(args.workers)],
        env=env, stdout=log, stderr=log, cwd=ROOT,
    )  # fmt: skip
    url = f"http://127.0.0.1:{args.port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                with urllib.request.urlopen(url + "/healthz", timeout=2):
                    break
            except Exception:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.5)
        _wrk(url, args, 5, script)  # warm-up: connections, caches, prepared statements
        checks = _wrk(url, args, args.duration, script)
        load = Path("/proc/loadavg").read_text().split()[:3]
        _wrk(url + "/healthz", args, 5)
        health = _wrk(url + "/healthz", args, args.duration)
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()
    with engine.connect() as c:
        registered = c.execute(sa.text("SELECT COUNT(*) FROM query_register")).scalar_one() - before
    with Session(engine) as session:
        check = AuditLog.from_settings(Settings(environment="development")).verify(session)
    rows: dict[str, Any] = {"registered": registered, "audit_entries": check.entries, "audit_ok": check.ok}
    rows["load_during"] = " ".join(load)
    rows["logs"] = str(workdir)
    return checks, health, rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--pg-url", required=True)
    ap.add_argument("--subjects", type=int, default=20_000)
    ap.add_argument("--checks", type=int, default=8_000)
    ap.add_argument("--threads", type=int, default=8)
    ap.add_argument("--workers", type=int, default=2, help="uvicorn worker processes of the service")
    ap.add_argument("--connections", type=int, default=64, help="wrk connections")
    ap.add_argument("--duration", type=int, default=30, help="wrk seconds")
    ap.add_argument("--port", type=int, default=8313)
    ap.add_argument("--skip-http", action="store_true")
    args = ap.parse_args()
    if not args.skip_http and shutil.which("wrk") is None:
        sys.exit("wrk is needed: apt-get install wrk")
    settings = Settings(environment="test")
    engine = make_engine(args.pg_url, pool_size=args.threads + 2)
    started = time.perf_counter()
    tokens = _fill(engine, settings, args.subjects)
    print(f"filled {args.subjects} subjects in {time.perf_counter() - started:.1f}s")
    library: dict[tuple[bool, int], float] = {}
    for register in (False, True):
        for threads in (1, args.threads):
            rate, ok = _run(engine, tokens, args.checks, threads, register)
            library[register, threads] = rate
            label = "registered" if register else "unregistered"
            print(f"{label:>12} threads={threads:<2} {rate:8.0f} checks/s ({ok} eligible)")
    if not args.skip_http:
        load_before = " ".join(Path("/proc/loadavg").read_text().split()[:3])
        checks, health, rows = _http(args, engine, tokens)
        baseline = library[True, args.threads]
        print(
            f"HTTP ({args.workers} workers, {args.connections} connections, {args.duration} s):"
            f" {checks['rps']:.0f} checks/s, p50 {checks.get('p50_ms', 0):.1f} ms,"
            f" p90 {checks.get('p90_ms', 0):.1f} ms, p99 {checks.get('p99_ms', 0):.1f} ms;"
            f" {checks['requests']:.0f} requests, non-2xx {checks['non_2xx']:.0f}"
        )
        print(
            f"     registered checks {rows['registered']} (warm-up included), audit entries"
            f" {rows['audit_entries']} (chain verifies: {rows['audit_ok']})"
        )
        print(
            f"/healthz on the same service: {health['rps']:.0f} req/s, p99 {health.get('p99_ms', 0):.1f} ms"
        )
        print(
            f"ratio HTTP / registered library path on {args.threads} threads (baseline,"
            f" {baseline:.0f}/s): {checks['rps'] / baseline:.1f}x;"
            f" HTTP / /healthz: {checks['rps'] / health['rps']:.2f}"
        )
        after = subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()
        print(f"load average before: {load_before}; during: {rows['load_during']}; after: {after}")
        print(f"logs and scripts: {rows['logs']}")
    engine.dispose()


if __name__ == "__main__":
    main()
