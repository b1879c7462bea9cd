"""HTTP benchmark of the bank credit-loan assessment, against ``mlflow models serve`` on the same model.

Setup (not timed), in a scratch PostgreSQL database:

* ``--persons`` persons are written directly (subjects with their pseudonym and encrypted
  identity number, one consent each to the bank ``benchbank`` for ``credit_loan``), not by
  running the whole city; their published score rows come from the real publication
  (``scoring.publish.publish_scores``: PD, score, tier, TreeSHAP reasons, canonical features)
  on a person feature table resampled to that many rows (``credit features build`` writes one;
  its champion bundle is ``--bundle-dir``).
* ``credit serve`` (uvicorn, ``--workers``) on loopback, access log included (to a file).

Load: ``wrk`` (``-t2 -c64 -d30s`` by default), every request ``POST /v1/bank/assessments`` for a
random person with that person's consent — API key check, consent check, snapshot read, stored
assessment, query-register row and hash-chained audit entry, committed. Then the same with
``mlflow models serve --env-manager local`` on the same champion (the bundle as an MLflow pyfunc:
one row in, PD and score out, no reasons, no checks). Prints requests/s, latency percentiles, the
ratio, and ``uptime``'s load average; checks every answered call left its rows and the audit
chain verifies.

    .venv/bin/python benchmarks/api_bench.py --features var/features/person-features-....parquet \\
        --bundle-dir var/bundles --pg-url postgresql://postgres@127.0.0.1:5432/credit_api_bench
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import numpy as np
import polars as pl
import sqlalchemy as sa

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from features.ids import person_check_char  # noqa: E402
from scoring.audit import AuditLog  # noqa: E402
from scoring.auth import issue_api_key  # noqa: E402
from scoring.bundles import load_champion  # noqa: E402
from scoring.db.engine import make_engine, make_sessionmaker  # noqa: E402
from scoring.db.migrate import upgrade  # noqa: E402
from scoring.features import read_feature_table  # noqa: E402
from scoring.identity import IdentityVault  # noqa: E402
from scoring.publish import publish_scores  # noqa: E402
from scoring.settings import Settings  # noqa: E402

BIN = Path(sys.executable).parent
AS_OF = dt.date(2025, 6, 30)

ASSESS_LUA = """
local rows = {}
local function load()
  for line in io.lines("%(data)s") do
    local number, consent = line:match("(%%S+) (%%S+)")
    rows[#rows + 1] = {number, consent}
  end
end
init = function(args) load(); math.randomseed(os.time() + math.floor(os.clock() * 1e6)) end
request = function()
  local r = rows[math.random(#rows)]
  local body = '{"subject":{"type":"person","identifier":"' .. r[1] .. '"},"consent_id":' .. r[2]
    .. ',"purpose":"credit_loan","amount":50000}'
  return wrk.format("POST", "/v1/bank/assessments",
    {["Content-Type"] = "application/json", ["Authorization"] = "Bearer %(key)s"}, body)
end
"""

MLFLOW_LUA = """
local bodies = {}
init = function(args)
  for line in io.lines("%(data)s") do bodies[#bodies + 1] = line end
  math.randomseed(os.time() + math.floor(os.clock() * 1e6))
end
request = function()
  return wrk.format("POST", "/invocations", {["Content-Type"] = "application/json"},
    bodies[math.random(#bodies)])
end
"""


def _numbers(n: int, seed: int) -> list[str]:
    rng = np.random.default_rng(seed)
    out, seen = [], set()
    while len(out) < n:
        born = dt.date(1955, 1, 1) + dt.timedelta(days=int(rng.integers(0, 45 * 365)))
        body = f"370102{born:%Y%m%d}{int(rng.integers(0, 1000)):03d}"
        if body in seen:
            continue
        seen.add(body)
        out.append(body + person_check_char(body))
    return out


def _copy(engine: sa.Engine, table: str, frame: pl.DataFrame) -> None:
    with engine.begin() as conn:
        raw = conn.connection.driver_connection
        buf = io.BytesIO()
        frame.write_csv(buf, include_header=False, datetime_format="%Y-%m-%d %H:%M:%S%.f", null_value="")
        cols = ", ".join(frame.columns)
        with raw.cursor() as cur, cur.copy(f"COPY {table} ({cols}) FROM STDIN WITH (FORMAT csv)") as copy:
            copy.write(buf.getvalue())


def setup(args: argparse.Namespace, settings: Settings, workdir: Path) -> tuple[str, Path, list[str]]:
    engine = make_engine(args.pg_url)
    with engine.begin() as c:
        c.execute(sa.text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
    upgrade(args.pg_url)
    vault = IdentityVault.from_settings(settings)
    n = args.persons
    t0 = time.perf_counter()
    numbers = _numbers(n, args.seed)
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    subjects = pl.DataFrame(
        {
            "id": np.arange(1, n + 1),
            "subject_type": ["person"] * n,
            "subject_key": [vault.lookup_key(x) for x in numbers],
            "id_cipher": [vault.encrypt(x) for x in numbers],
            "key_version": ["1"] * n,
            "birth_year": [int(x[6:10]) for x in numbers],
            "district_code": ["370102"] * n,
            "created_at": [now] * n,
        }
    )
    _copy(engine, "subjects", subjects)
    frame, _ = read_feature_table(args.features)
    idx = np.random.default_rng(args.seed).integers(0, frame.height, n)
    frame = frame[idx].with_columns(pl.Series("subject_id", np.arange(1, n + 1), dtype=pl.Int64))
    pubs = publish_scores(
        engine, settings, AS_OF, feature_tables={"person": frame}, groups=["person"], actor="bench"
    )
    consents = pl.DataFrame(
        {
            "id": np.arange(1, n + 1),
            "subject_id": np.arange(1, n + 1),
            "bank": ["benchbank"] * n,
            "purpose": ["credit_loan"] * n,
            "valid_from": [now - dt.timedelta(days=1)] * n,
            "valid_to": [now + dt.timedelta(days=30)] * n,
            "granted_at": [now - dt.timedelta(days=1)] * n,
            "granted_by": ["citizen"] * n,
        }
    )
    _copy(engine, "consents", consents)
    with engine.begin() as c:
        c.execute(sa.text("SELECT setval('subjects_id_seq', :n)"), {"n": n})
        c.execute(sa.text("SELECT setval('consents_id_seq', :n)"), {"n": n})
        c.execute(sa.text("ANALYZE"))
    with make_sessionmaker(engine)() as session:
        key, _ = issue_api_key(session, role="bank", name="benchbank", created_by="bench")
        session.commit()
    data = workdir / "persons.txt"
    data.write_text("".join(f"{x} {i + 1}\n" for i, x in enumerate(numbers)), encoding="ascii")
    states = pubs[0].states
    print(f"setup: {n:,} persons, consents and published rows {states} in {time.perf_counter() - t0:.0f} s")
    engine.dispose()
    return key, data, numbers


def _wait(url: str, timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2) as r:
                if r.status < 500:
                    return
        except Exception:
            time.sleep(0.5)
    raise RuntimeError(f"{url} did not come up")


def wrk(url: str, script: Path, args: argparse.Namespace, duration: int) -> dict[str, float]:
    cmd = [
        "wrk",
        f"-t{args.threads}",
        f"-c{args.connections}",
        f"-d{duration}s",
        "--latency",
        "-s",
        str(script),
        url,
    ]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    res: dict[str, float] = {"rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))}  # type: ignore[union-attr]
    for pct in ("50", "90", "99"):
        m = re.search(rf"\s{pct}%\s+([\d.]+)(us|ms|s)\b", out)
        if m:
            scale = {"us": 0.001, "ms": 1.0, "s": 1000.0}[m.group(2)]
            res[f"p{pct}_ms"] = float(m.group(1)) * scale
    m = re.search(r"(\d+) requests in", out)
    res["requests"] = float(m.group(1)) if m else 0.0
    m = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    res["non_2xx"] = float(m.group(1)) if m else 0.0
    m = re.search(r"Socket errors: (.*)", out)
    res["socket_errors"] = 1.0 if m else 0.0
    return res


def _stop(proc: subprocess.Popen[bytes]) -> None:
    proc.send_signal(signal.SIGINT)
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def bench_service(args: argparse.Namespace, settings: Settings, key: str, data: Path, workdir: Path) -> dict:
    env = {
        **os.environ,
        "CREDIT_ENVIRONMENT": "development",
        "CREDIT_DATABASE_URL": args.pg_url,
        "CREDIT_BUNDLE_DIR": str(args.bundle_dir),
        "CREDIT_VAR_DIR": str(workdir),
        "CREDIT_RATE_LIMIT_PER_MINUTE": "1e12",
        "CREDIT_RATE_LIMIT_BURST": "1000000000",
    }
    log = (workdir / "service.log").open("wb")
    proc = subprocess.Popen(
        [str(BIN / "credit"), "serve", "--port", str(args.port), "--workers", str(args.workers)],
        env=env,
        stdout=log,
        stderr=log,
        cwd=ROOT,
    )
    try:
        _wait(f"http://127.0.0.1:{args.port}/readyz")
        script = workdir / "assess.lua"
        script.write_text(ASSESS_LUA % {"data": data, "key": key}, encoding="utf-8")
        url = f"http://127.0.0.1:{args.port}"
        wrk(url, script, args, 5)  # warm-up: connections, caches, statement plans
        result = wrk(url, script, args, args.duration)
    finally:
        _stop(proc)
        log.close()
    engine = make_engine(args.pg_url)
    with engine.connect() as c:
        result["assessments"] = c.execute(sa.text("SELECT COUNT(*) FROM bank_assessments")).scalar_one()
        result["register_rows"] = c.execute(sa.text("SELECT COUNT(*) FROM query_register")).scalar_one()
    with make_sessionmaker(engine)() as session:
        check = AuditLog.from_settings(settings).verify(session)
    result["audit_entries"], result["audit_ok"] = check.entries, check.ok
    engine.dispose()
    return result


def bench_mlflow(args: argparse.Namespace, workdir: Path) -> dict:
    import mlflow
    import mlflow.pyfunc

    from experiments.pyfunc import BundlePyfunc

    bundle = load_champion(args.bundle_dir, "person")
    src = Path(args.bundle_dir) / "person" / bundle.model_version
    mlflow.set_tracking_uri(f"sqlite:///{workdir}/mlflow.db")
    with mlflow.start_run() as run:
        mlflow.pyfunc.log_model(name="model", python_model=BundlePyfunc(), artifacts={"bundle": str(src)})
    uri = f"runs:/{run.info.run_id}/model"
    frame, _ = read_feature_table(args.features)
    rows = frame.select(bundle.features).head(2000).to_pandas()
    lines = [
        json.dumps({"dataframe_split": {"columns": list(bundle.features), "data": [list(map(_jsonable, r))]}})
        for r in rows.itertuples(index=False)
    ]
    data = workdir / "mlflow_rows.txt"
    data.write_text("\n".join(lines) + "\n", encoding="utf-8")
    env = {  # mlflow starts `uvicorn` from PATH: this environment's
        **os.environ,
        "MLFLOW_TRACKING_URI": f"sqlite:///{workdir}/mlflow.db",
        "PATH": f"{BIN}:{os.environ.get('PATH', '')}",
    }
    log = (workdir / "mlflow.log").open("wb")
    proc = subprocess.Popen(
        [str(BIN / "mlflow"), "models", "serve", "-m", uri, "--env-manager", "local",
         "-p", str(args.mlflow_port), "-h", "127.0.0.1"],
        env=env, stdout=log, stderr=log, cwd=workdir,
    )  # fmt: skip
    try:
        _wait(f"http://127.0.0.1:{args.mlflow_port}/ping", timeout=180)
        script = workdir / "mlflow.lua"
        script.write_text(MLFLOW_LUA % {"data": data}, encoding="utf-8")
        url = f"http://127.0.0.1:{args.mlflow_port}"
        wrk(url, script, args, 5)
        return wrk(url, script, args, args.duration)
    finally:
        _stop(proc)
        log.close()


def _jsonable(v: object) -> object:
    if v is None or (isinstance(v, float) and np.isnan(v)):
        return None
    return v.item() if hasattr(v, "item") else v


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--features", type=Path, required=True, help="person feature table (Parquet)")
    p.add_argument("--bundle-dir", type=Path, required=True, help="serving bundles with a person champion")
    p.add_argument("--pg-url", required=True, help="scratch PostgreSQL database (its schema is dropped)")
    p.add_argument("--persons", type=int, default=100_000)
    p.add_argument("--connections", type=int, default=64)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--duration", type=int, default=30)
    p.add_argument("--workers", type=int, default=2, help="uvicorn worker processes of the service")
    p.add_argument("--port", type=int, default=8311)
    p.add_argument("--mlflow-port", type=int, default=8312)
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--skip-setup", action="store_true", help="reuse the database of a previous run")
    p.add_argument("--skip-mlflow", action="store_true")
    args = p.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("wrk is needed: apt-get install wrk")
    workdir = Path(tempfile.mkdtemp(prefix="api-bench-"))
    settings = Settings(
        environment="development", database_url=args.pg_url, bundle_dir=args.bundle_dir, var_dir=workdir
    )
    if args.skip_setup:
        engine = make_engine(args.pg_url)
        with engine.begin() as c:
            c.execute(sa.text("DELETE FROM api_keys"))
        with make_sessionmaker(engine)() as session:
            key, _ = issue_api_key(session, role="bank", name="benchbank", created_by="bench")
            session.commit()
        engine.dispose()
        data = workdir / "persons.txt"
        numbers = _numbers(args.persons, args.seed)
        data.write_text("".join(f"{x} {i + 1}\n" for i, x in enumerate(numbers)), encoding="ascii")
    else:
        key, data, _ = setup(args, settings, workdir)
    load_before = Path("/proc/loadavg").read_text().split()[:3]
    svc = bench_service(args, settings, key, data, workdir)
    print(
        f"service  ({args.workers} workers): {svc['rps']:.0f} req/s, p50 {svc.get('p50_ms', 0):.1f} ms,"
        f" p90 {svc.get('p90_ms', 0):.1f} ms, p99 {svc.get('p99_ms', 0):.1f} ms;"
        f" {svc['requests']:.0f} requests, non-2xx {svc['non_2xx']:.0f}"
    )
    print(
        f"         stored assessments {svc['assessments']}, register rows {svc['register_rows']},"
        f" audit entries {svc['audit_entries']} (chain verifies: {svc['audit_ok']})"
    )
    if not args.skip_mlflow:
        ml = bench_mlflow(args, workdir)
        print(
            f"mlflow models serve: {ml['rps']:.0f} req/s, p50 {ml.get('p50_ms', 0):.1f} ms,"
            f" p99 {ml.get('p99_ms', 0):.1f} ms; non-2xx {ml['non_2xx']:.0f}"
        )
        print(f"ratio service / mlflow: {svc['rps'] / ml['rps']:.1f}x")
    after = subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()
    print(f"load average before: {' '.join(load_before)}; after: {after}")
    print(f"logs and scripts: {workdir}")


if __name__ == "__main__":
    main()
