"""Synthetic-city generator speed and memory: ``credit synth`` in a child process.

Prints wall seconds, CPU seconds, rows, rows per second and the child's peak resident memory
(``getrusage(RUSAGE_CHILDREN)``: the largest child so far, so each size runs in its own process,
smallest first). The load average before each run is printed too: this machine is shared, and
other jobs stretch wall time, not the work done.

    .venv/bin/python benchmarks/synth_bench.py                 # 100,000 people, 10,000 organisations
    .venv/bin/python benchmarks/synth_bench.py --million       # and 1,000,000 / 100,000 after it
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def run(people: int, enterprises: int, out: Path, seed: int) -> dict[str, float]:
    if out.exists():
        shutil.rmtree(out)
    cmd = [
        str(Path(sys.executable).parent / "credit"),
        "synth",
        "--people",
        str(people),
        "--enterprises",
        str(enterprises),
        "--seed",
        str(seed),
        "--out",
        str(out),
    ]
    load = os.getloadavg()[0]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    volumes = json.loads((out / "volumes.json").read_text(encoding="utf-8"))
    size = sum(p.stat().st_size for p in (out / "files").rglob("*") if p.is_file())
    return {
        "people": people,
        "enterprises": enterprises,
        "load": load,
        "wall_s": wall,
        "cpu_s": cpu,
        "rows": volumes["rows"],
        "rows_per_s": volumes["rows"] / wall,
        "peak_rss_mib": after.ru_maxrss / 1024,  # KiB on Linux
        "files_gib": size / 2**30,
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--million", action="store_true", help="also run 1,000,000 people / 100,000 organisations"
    )
    parser.add_argument("--out", type=Path, default=None, help="scratch folder (default: a temporary one)")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    root = args.out or Path(tempfile.mkdtemp(prefix="synth-bench-"))
    sizes = [(100_000, 10_000)] + ([(1_000_000, 100_000)] if args.million else [])
    print(
        f"{'people':>9} {'orgs':>7} {'load':>5} {'wall s':>7} {'cpu s':>7} {'rows':>12} {'rows/s':>10} "
        f"{'peak RSS MiB':>12} {'files GiB':>9}"
    )
    try:
        for people, enterprises in sizes:
            r = run(people, enterprises, root / f"city-{people}", args.seed)
            print(
                f"{people:>9,} {enterprises:>7,} {r['load']:>5.1f} {r['wall_s']:>7.1f} "
                f"{r['cpu_s']:>7.1f} {r['rows']:>12,} {r['rows_per_s']:>10,.0f} "
                f"{r['peak_rss_mib']:>12,.0f} {r['files_gib']:>9.2f}",
                flush=True,
            )
            shutil.rmtree(root / f"city-{people}")
    finally:
        if args.out is None:
            shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
