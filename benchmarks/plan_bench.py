"""Random inspection plan benchmark: the published draw (``sha256-rank-v1``) over a sector of
``--enterprises`` organisations and ``--inspectors`` inspectors, with ``--conflicts`` declared
conflicts of interest, at the default ratios (A 3 %, B 10 %, C 30 %, D 80 %).

Timed, each the median of ``--repeats`` runs:

1. the draw (``scoring.inspections.draw``): one SHA-256 per enterprise, the ranking per class,
   inspectors by counter-mode SHA-256 skipping conflicts;
2. publication bytes: the canonical population, roster, conflicts and selection files, their
   SHA-256 digests and gzip compression (what ``generate_plan`` stores);
3. verification from the files (``verify_export``'s checks: digests and a full recomputation).

The database reads and writes of ``generate_plan`` are not included.

    .venv/bin/python benchmarks/plan_bench.py --enterprises 1000000 --inspectors 5000
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from scoring.inspections import _csv_bytes, _verify, draw, load_supervision, selection_bytes


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--enterprises", type=int, default=1_000_000)
    ap.add_argument("--inspectors", type=int, default=5_000)
    ap.add_argument("--conflicts", type=int, default=20_000)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--seed", default="bench-seed-2026")
    args = ap.parse_args()
    rng = np.random.default_rng(7)
    codes = sorted(f"91350102MA{i:08d}" for i in range(args.enterprises))
    classes = rng.choice(np.array(list("ABCD")), size=len(codes), p=[0.40, 0.35, 0.17, 0.08])
    population = list(zip(codes, classes.tolist(), strict=True))
    roster = sorted(f"INSP{i:06d}" for i in range(args.inspectors))
    pairs = {
        (codes[int(e)], roster[int(i)])
        for e, i in zip(
            rng.integers(0, len(codes), args.conflicts),
            rng.integers(0, len(roster), args.conflicts),
            strict=True,
        )
    }
    conflicts = sorted(pairs)
    ratios = load_supervision().default
    draws, packs, checks, cpu = [], [], [], []
    for _ in range(args.repeats):
        t0 = time.perf_counter()
        c0 = time.process_time()
        d = draw(args.seed, population, ratios, roster, conflicts, 2)
        cpu.append(time.process_time() - c0)
        t1 = time.perf_counter()
        files = [
            _csv_bytes(population),
            _csv_bytes((c,) for c in roster),
            _csv_bytes(conflicts),
            selection_bytes(d),
        ]
        blobs = [gzip.compress(f, compresslevel=6, mtime=0) for f in files]
        digests = [hashlib.sha256(f).hexdigest() for f in files]
        t2 = time.perf_counter()
        header = {
            "algorithm": "sha256-rank-v1",
            "seed": args.seed,
            "ratios": {c: f"{bp / 10000:.4f}" for c, bp in ratios.items()},
            "inspectors_per_check": 2,
            **{
                f"{n}_sha256": h
                for n, h in zip(("population", "roster", "conflicts", "selection"), digests, strict=True)
            },
        }
        problems = _verify(header, *files)
        t3 = time.perf_counter()
        assert not problems, problems
        draws.append(t1 - t0)
        packs.append(t2 - t1)
        checks.append(t3 - t2)
    drawn = {c: k for c, (_, k) in d.counts.items()}
    assigned = [i for row in d.inspectors for i in row]
    load = np.bincount(np.searchsorted(roster, assigned), minlength=len(roster))
    print(f"enterprises {args.enterprises:,}, inspectors {args.inspectors:,}, conflicts {len(conflicts):,}")
    print(f"drawn {len(d.codes):,} ({drawn}); inspections per inspector min {load.min()} median"
          f" {int(np.median(load))} max {load.max()}")  # fmt: skip
    print(f"gzip sizes (bytes): {[len(b) for b in blobs]}")
    print(
        f"draw: median {statistics.median(draws):.2f} s wall (runs {', '.join(f'{x:.2f}' for x in draws)}),"
        f" {statistics.median(cpu):.2f} s CPU"
    )
    print(f"publication bytes (canonical CSV, SHA-256, gzip): median {statistics.median(packs):.2f} s")
    print(f"verification from the files (digests + recomputation): median {statistics.median(checks):.2f} s")
    print(f"load average {os.getloadavg()[0]:.2f}, {os.cpu_count()} CPUs")


if __name__ == "__main__":
    main()
